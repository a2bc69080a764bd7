/* cnist side of the benchmark against PyTorch (bench/torch_bench.py measures
 * the same things there): for each zoo model and thread count, training
 * throughput (batch 32: forward, loss, backward, Adam step, after warm-up),
 * inference throughput at batch 32, 100 and 1000, and the median
 * single-image latency; plus the machine's fp32 peak from a large sgemm.
 *
 * Output: one JSON object per line on stdout, in the same shape as the
 * PyTorch side, e.g.
 *   {"side":"cnist","setting":"t1","threads":1,"model":"lenet",
 *    "metric":"train_img_s","batch":32,"value":41234.5}
 * Inputs are seeded random pixels and labels: throughput does not depend on
 * the values.
 *
 * With --bf16, the same again with the bf16 option (records with
 * "precision":"bf16" and settings t1_bf16, t2_bf16).
 *
 * Usage: cnist_bench [--models mlp,lenet] [--threads 1,2] [--train-batches N]
 *                    [--train-only] [--no-peak] [--quick] [--bf16] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnist.h"

#define MAX_MODELS 16
#define MAX_THREAD_SETTINGS 8
#define TRAIN_BATCH 32
#define TRAIN_POOL 8 /* distinct training batches, cycled */
#define TRAIN_WINDOWS 3 /* timed windows of --train-batches; the best counts */
#define PEAK_N 2048
#define IMAGE_SIZE (28 * 28)

static const int infer_batches[] = {32, 100, 1000};
#define N_INFER_BATCHES (int)(sizeof infer_batches / sizeof infer_batches[0])

typedef struct {
  const char *models[MAX_MODELS];
  int n_models;
  int threads[MAX_THREAD_SETTINGS];
  int n_threads;
  int train_batches, warmup, latency_n;
  double min_seconds;
  int train_only, peak;
  int bf16; /* also measure the bf16 option */
} options;

static int fail(const char *what) {
  fprintf(stderr, "cnist_bench: error: %s: %s\n", what, cn_last_error());
  return 1;
}

static void fill_random(cn_rng *rng, float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = cn_rng_uniform(rng);
}

/* CPU seconds used by the whole process: against wall time, it shows whether
 * the threads ran or waited for cores that other work held. */
static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The 1-minute load average, or -1 where /proc/loadavg cannot be read. */
static double load_average(void) {
  double load = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &load) != 1) load = -1;
    fclose(f);
  }
  return load;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The best of several large sgemm calls, in GFLOP/s: what one BLAS can do on
 * this machine with `threads` threads. */
static double sgemm_peak(int threads) {
  const int n = PEAK_N;
  float *a = malloc((size_t)n * n * sizeof *a);
  float *b = malloc((size_t)n * n * sizeof *b);
  float *c = malloc((size_t)n * n * sizeof *c);
  double best = 0;
  if (a && b && c) {
    cn_rng rng;
    cn_rng_seed(&rng, 7, 0);
    fill_random(&rng, a, (size_t)n * n);
    fill_random(&rng, b, (size_t)n * n);
    openblas_set_num_threads(threads);
    double started = cn_now();
    for (int rep = 0; rep < 12 && (rep < 4 || cn_now() - started < 2.0); rep++) {
      double t0 = cn_now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      double secs = cn_now() - t0;
      double gflops = 2.0 * n * n * (double)n / secs * 1e-9;
      if (rep > 0 && gflops > best) best = gflops; /* rep 0 warms up */
    }
  }
  free(a);
  free(b);
  free(c);
  return best;
}

/* bf16 records carry "precision" and a setting name ending in _bf16;
 * fp32 ones keep the plain form. */
static void print_head(const char *model, int threads, cn_precision prec, const char *metric) {
  const int bf16 = prec == CN_PRECISION_BF16;
  printf("{\"side\":\"cnist\",\"setting\":\"t%d%s\",\"threads\":%d,%s\"model\":\"%s\",\"metric\":\"%s\"", threads,
         bf16 ? "_bf16" : "", threads, bf16 ? "\"precision\":\"bf16\"," : "", model, metric);
}

/* Training throughput on a fresh model, planned for batch 32 only. */
static int bench_train(const cn_spec *spec, int threads, cn_precision prec, const options *opt, const float *x,
                       const int *labels) {
  cn_model *m = NULL;
  cn_optim *o = NULL;
  int status = cn_model_new(spec, 42, &m);
  if (status == 0) status = cn_model_set_precision(m, prec);
  if (status == 0) status = cn_model_reserve(m, TRAIN_BATCH);
  if (status == 0) {
    int count = 0;
    cn_tensor_ref *params = cn_model_tensors(m, &count);
    status = cn_optim_new(&spec->train.optim, params, count, &o);
  }
  const int in = spec->in_c * spec->in_h * spec->in_w;
  double loss_sum = 0, t0 = 0, cpu0 = 0, best_secs = 0, best_cpu = 0;
  /* Warm-up, then TRAIN_WINDOWS windows of train_batches batches; the
   * fastest window counts (torch_bench.py does the same): on a shared
   * machine a window can lose a core to other work. */
  int total = opt->warmup + TRAIN_WINDOWS * opt->train_batches;
  for (int i = 0; status == 0 && i < total; i++) {
    if (i >= opt->warmup && (i - opt->warmup) % opt->train_batches == 0) {
      t0 = cn_now();
      cpu0 = cpu_seconds();
    }
    int k = i % TRAIN_POOL;
    float loss = 0;
    status = cn_model_train_batch(m, x + (size_t)k * TRAIN_BATCH * in, labels + k * TRAIN_BATCH, NULL,
                                  TRAIN_BATCH, &loss, NULL);
    if (status == 0) cn_optim_step(o);
    loss_sum += loss;
    if (i >= opt->warmup && (i - opt->warmup + 1) % opt->train_batches == 0) {
      double secs = cn_now() - t0;
      if (best_secs == 0 || secs < best_secs) {
        best_secs = secs;
        best_cpu = cpu_seconds() - cpu0;
      }
    }
  }
  if (status == 0) {
    print_head(spec->name, threads, prec, "train_img_s");
    printf(",\"batch\":%d,\"value\":%.6g,\"batches\":%d,\"seconds\":%.6g,\"cpu_s\":%.6g,\"windows\":%d,"
           "\"mean_loss\":%.6g}\n",
           TRAIN_BATCH, opt->train_batches * TRAIN_BATCH / best_secs, opt->train_batches, best_secs, best_cpu,
           TRAIN_WINDOWS, loss_sum / total);
    fflush(stdout);
  }
  cn_optim_free(o);
  cn_model_free(m);
  return status == 0 ? 0 : fail(spec->name);
}

/* Inference throughput per batch size and single-image latency. */
static int bench_infer(const cn_spec *spec, int threads, cn_precision prec, const options *opt, const float *x) {
  cn_model *m = NULL;
  int max_batch = infer_batches[N_INFER_BATCHES - 1];
  if (cn_model_new(spec, 42, &m) != 0 || cn_model_set_precision(m, prec) != 0 || cn_model_reserve(m, max_batch) != 0) {
    cn_model_free(m);
    return fail(spec->name);
  }
  double *times = malloc(((size_t)opt->latency_n + 1) * sizeof *times);
  float *out = malloc((size_t)max_batch * (size_t)cn_model_outputs(m) * sizeof *out);
  if (!times || !out) {
    free(times);
    free(out);
    cn_model_free(m);
    fprintf(stderr, "cnist_bench: error: %s: out of memory for outputs\n", spec->name);
    return 1;
  }
  int status = 0;
  for (int b = 0; status == 0 && b < N_INFER_BATCHES; b++) {
    int n = infer_batches[b];
    status = cn_model_predict(m, x, n, out); /* warm-up */
    int iters = 0;
    double t0 = cn_now(), secs = 0;
    while (status == 0 && (iters < 3 || secs < opt->min_seconds)) {
      status = cn_model_predict(m, x, n, out);
      iters++;
      secs = cn_now() - t0;
    }
    if (status == 0) {
      print_head(spec->name, threads, prec, "infer_img_s");
      printf(",\"batch\":%d,\"value\":%.6g,\"batches\":%d,\"seconds\":%.6g}\n", n, iters * (double)n / secs, iters,
             secs);
      fflush(stdout);
    }
  }
  for (int i = 0; status == 0 && i < 20; i++) status = cn_model_predict(m, x, 1, out);
  for (int i = 0; status == 0 && i < opt->latency_n; i++) {
    double t0 = cn_now();
    status = cn_model_predict(m, x, 1, out);
    times[i] = cn_now() - t0;
  }
  if (status == 0 && opt->latency_n > 0) {
    int n = opt->latency_n;
    qsort(times, (size_t)n, sizeof *times, compare_double);
    print_head(spec->name, threads, prec, "latency_us");
    printf(",\"batch\":1,\"value\":%.6g,\"samples\":%d,\"p10_us\":%.6g,\"p90_us\":%.6g}\n", times[n / 2] * 1e6, n,
           times[n / 10] * 1e6, times[n * 9 / 10] * 1e6);
    fflush(stdout);
  }
  free(out);
  free(times);
  cn_model_free(m);
  return status == 0 ? 0 : fail(spec->name);
}

static int bench_model(const char *name, const options *opt, const float *x, const int *labels) {
  cn_spec spec;
  cn_spec_stats stats;
  if (cn_spec_load(name, &spec) != 0) return fail(name);
  if (cn_spec_stats_compute(&spec, &stats) != 0) return fail(name);
  if (spec.in_c * spec.in_h * spec.in_w != IMAGE_SIZE) {
    fprintf(stderr, "cnist_bench: error: %s: input is %dx%dx%d; the benchmark feeds 28x28x1 images\n", name,
            spec.in_h, spec.in_w, spec.in_c);
    return 1;
  }
  printf("{\"side\":\"cnist\",\"model\":\"%s\",\"metric\":\"arch\",\"params\":%zu,\"macs_per_image\":%.0f,"
         "\"optimizer_lr\":%g,\"batch_in_file\":%d}\n",
         name, stats.trainable, stats.macs_per_image, spec.train.optim.lr, spec.train.batch);
  fflush(stdout);
  for (int bf16 = 0; bf16 <= opt->bf16; bf16++) {
    const cn_precision prec = bf16 ? CN_PRECISION_BF16 : CN_PRECISION_FP32;
    for (int t = 0; t < opt->n_threads; t++) {
      cn_set_threads(opt->threads[t]);
      if (bench_train(&spec, opt->threads[t], prec, opt, x, labels) != 0) return 1;
      if (!opt->train_only && bench_infer(&spec, opt->threads[t], prec, opt, x) != 0) return 1;
    }
  }
  return 0;
}

static int split_list(char *text, const char **items, int max) {
  int n = 0;
  for (char *tok = strtok(text, ","); tok && n < max; tok = strtok(NULL, ",")) items[n++] = tok;
  return n;
}

static int usage(void) {
  fprintf(stderr,
          "usage: cnist_bench [--models a,b,...] [--threads 1,2] [--train-batches N] [--warmup N]\n"
          "                   [--latency-n N] [--min-seconds S] [--train-only] [--no-peak] [--quick]\n"
          "                   [--bf16]  (also the bf16 option, where this build has it)\n");
  return 2;
}

int main(int argc, char **argv) {
  static char models_default[] = "mlp,lenet,custom1,custom2,cnn_bn";
  options opt = {.n_threads = 2, .threads = {1, 2}, .train_batches = 200, .warmup = 20, .latency_n = 1000,
                 .min_seconds = 1.0, .peak = 1};
  char *models_arg = models_default;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    if (!strcmp(a, "--models") && has_value) {
      models_arg = argv[++i];
    } else if (!strcmp(a, "--threads") && has_value) {
      const char *items[MAX_THREAD_SETTINGS];
      opt.n_threads = split_list(argv[++i], items, MAX_THREAD_SETTINGS);
      for (int t = 0; t < opt.n_threads; t++) {
        opt.threads[t] = atoi(items[t]);
        if (opt.threads[t] < 1) return usage();
      }
    } else if (!strcmp(a, "--train-batches") && has_value) {
      opt.train_batches = atoi(argv[++i]);
    } else if (!strcmp(a, "--warmup") && has_value) {
      opt.warmup = atoi(argv[++i]);
    } else if (!strcmp(a, "--latency-n") && has_value) {
      opt.latency_n = atoi(argv[++i]);
    } else if (!strcmp(a, "--min-seconds") && has_value) {
      opt.min_seconds = atof(argv[++i]);
    } else if (!strcmp(a, "--train-only")) {
      opt.train_only = 1;
    } else if (!strcmp(a, "--bf16")) {
      opt.bf16 = 1;
    } else if (!strcmp(a, "--no-peak")) {
      opt.peak = 0;
    } else if (!strcmp(a, "--quick")) {
      opt.train_batches = 20;
      opt.warmup = 3;
      opt.latency_n = 100;
      opt.min_seconds = 0.2;
    } else {
      return usage();
    }
  }
  if (opt.train_batches < 1 || opt.warmup < 0 || opt.latency_n < 0 || opt.n_threads < 1) return usage();
  opt.n_models = split_list(models_arg, opt.models, MAX_MODELS);
  if (opt.bf16) {
    cn_model *probe = NULL;
    cn_spec spec;
    if (cn_spec_load("mlp", &spec) || cn_model_new(&spec, 1, &probe) ||
        cn_model_set_precision(probe, CN_PRECISION_BF16)) {
      fprintf(stderr, "cnist_bench: note: bf16 skipped: %s\n", cn_last_error());
      opt.bf16 = 0;
    }
    cn_model_free(probe);
  }

  printf("{\"side\":\"cnist\",\"metric\":\"env\",\"cnist\":\"%s\",\"openblas\":\"%s\",\"loadavg\":%.2f}\n",
         CN_VERSION, openblas_get_config(), load_average());

  /* Seeded random inputs: enough for the largest inference batch and for
   * the pool of training batches. */
  int max_batch = infer_batches[N_INFER_BATCHES - 1];
  size_t n_images = (size_t)(max_batch > TRAIN_POOL * TRAIN_BATCH ? max_batch : TRAIN_POOL * TRAIN_BATCH);
  float *x = malloc(n_images * IMAGE_SIZE * sizeof *x);
  int *labels = malloc(n_images * sizeof *labels);
  int status = 0;
  if (!x || !labels) {
    fprintf(stderr, "cnist_bench: error: out of memory for %zu input images\n", n_images);
    status = 1;
  } else {
    cn_rng rng;
    cn_rng_seed(&rng, 1, 0);
    fill_random(&rng, x, n_images * IMAGE_SIZE);
    for (size_t i = 0; i < n_images; i++) labels[i] = (int)cn_rng_below(&rng, 10);
    for (int i = 0; status == 0 && i < opt.n_models; i++) status = bench_model(opt.models[i], &opt, x, labels);
  }
  free(x);
  free(labels);
  /* The peak last: OpenBLAS's worker threads, once started, keep spinning
   * (sched_yield) long after a call, and would share the cores with
   * everything measured after them. */
  if (status == 0 && opt.peak) {
    for (int t = 0; t < opt.n_threads; t++) {
      printf("{\"side\":\"cnist\",\"setting\":\"t%d\",\"threads\":%d,\"metric\":\"peak_gflops\",\"n\":%d,"
             "\"value\":%.6g}\n",
             opt.threads[t], opt.threads[t], PEAK_N, sgemm_peak(opt.threads[t]));
      fflush(stdout);
    }
  }
  return status;
}
