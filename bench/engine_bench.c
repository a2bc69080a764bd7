/* The engine's own timings, layer by layer and for whole zoo models: the
 * forward pass (training mode), the backward pass and a plain SGD step
 * (w -= lr * g) for a batch of 32, at each thread count. Each figure is the
 * best of 5 rounds of at least --seconds/5 each: on a shared machine the
 * best round is the one least disturbed by other work.
 *
 * --cpu times with the process's CPU clock instead of the wall clock: on a
 * machine other work is using, single-thread figures then count only this
 * process's own time (with more threads, waiting threads spin and count).
 *
 * --per-layer adds, per model, each layer's forward and backward time
 * inside the model (where a model's time goes).
 *
 * Usage: engine_bench [--threads 1,2] [--batch 32] [--seconds 0.5]
 *                     [--models mlp,lenet,cnn_bn,custom1,custom2] [--no-layers] [--cpu]
 *                     [--per-layer] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnist.h"
#include "engine/model_impl.h"

#define ROUNDS 5
#define MAX_LIST 16

typedef struct {
  int threads[MAX_LIST], n_threads;
  const char *models[MAX_LIST];
  int n_models;
  int batch, layers, per_layer;
  double seconds;
  cn_precision precision;
} options;

static int use_cpu_clock;

static double now(void) {
  if (!use_cpu_clock) return cn_now();
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds per call of fn(ctx): the best of ROUNDS rounds. */
static double best_time(void (*fn)(void *), void *ctx, double seconds) {
  for (int i = 0; i < 3; i++) fn(ctx);
  double best = 1e30;
  for (int r = 0; r < ROUNDS; r++) {
    int calls = 0;
    double start = now(), t;
    do {
      fn(ctx);
      calls++;
      t = now() - start;
    } while (t < seconds / ROUNDS);
    if (t / calls < best) best = t / calls;
  }
  return best;
}

static void fill(float *v, size_t n, cn_rng *rng) {
  for (size_t i = 0; i < n; i++) v[i] = cn_rng_uniform(rng);
}

/* ---- one layer ---- */

typedef struct {
  cn_layer *l;
  float *x, *y, *dy, *dx;
  int n;
  cn_pass pass;
} layer_run;

static void layer_forward(void *ctx) {
  layer_run *r = ctx;
  r->l->ops->forward(r->l, r->x, r->y, r->n, 1, &r->pass);
}

/* The first layer of a model (1 input channel here) computes no input
 * gradient; the others do. */
static void layer_backward(void *ctx) {
  layer_run *r = ctx;
  r->l->ops->backward(r->l, r->x, r->y, r->dy, r->l->in.c == 1 ? NULL : r->dx, r->n, &r->pass);
}

/* Multiply-adds of one forward pass of layer l for one image. */
static double layer_macs(const cn_layer *l) {
  if (l->s.kind == CN_LAYER_DENSE) return (double)l->in_size * l->out_size;
  if (l->s.kind == CN_LAYER_CONV2D) return (double)l->out_size * l->in.c * l->s.kh * l->s.kw;
  return 0.0;
}

static int bench_layer(const char *name, const cn_spec *s, const options *o, int threads) {
  cn_model *m;
  if (cn_model_new(s, 1, &m) || cn_model_set_precision(m, o->precision) || cn_model_reserve(m, o->batch)) {
    fprintf(stderr, "engine_bench: %s: %s\n", name, cn_last_error());
    return 1;
  }
  layer_run r = {&m->layers[0], NULL, NULL, NULL, NULL, o->batch, {m->planned_threads, m->work, cn_model_rng(m), m->precision, NULL}};
  size_t in = (size_t)o->batch * r.l->in_size, out = (size_t)o->batch * r.l->out_size;
  r.x = malloc(sizeof(float) * in);
  r.dx = malloc(sizeof(float) * in);
  r.y = malloc(sizeof(float) * out);
  r.dy = malloc(sizeof(float) * out);
  cn_rng rng;
  cn_rng_seed(&rng, 1, 9);
  fill(r.x, in, &rng);
  fill(r.dy, out, &rng);
  layer_forward(&r);
  double tf = best_time(layer_forward, &r, o->seconds), tb = best_time(layer_backward, &r, o->seconds);
  double flops = 2.0 * layer_macs(r.l) * o->batch;
  printf("| %-34s | %d | %9.1f | %9.1f |", name, threads, tf * 1e6, tb * 1e6);
  if (flops > 0)
    printf(" %7.1f | %7.1f |\n", flops / tf * 1e-9, (r.l->in.c == 1 ? 1 : 2) * flops / tb * 1e-9);
  else
    printf("       - |       - |\n");
  free(r.x);
  free(r.dx);
  free(r.y);
  free(r.dy);
  cn_model_free(m);
  return 0;
}

static int bench_layers(const options *o, int threads) {
  struct {
    const char *name;
    int c, h, w;
  } in[] = {{"dense 784->128 relu", 784, 1, 1},
            {"conv 1->32 3x3 same relu 28x28", 1, 28, 28},
            {"conv 32->32 3x3 same relu 28x28", 32, 28, 28},
            {"conv 64->64 3x3 same relu 14x14", 64, 14, 14},
            {"conv 128->128 3x3 same relu 7x7", 128, 7, 7},
            {"conv 6->16 5x5 valid relu 14x14", 6, 14, 14},
            {"maxpool 2x2 on 32x28x28", 32, 28, 28},
            {"avgpool 2x2 on 32x28x28", 32, 28, 28},
            {"batchnorm 32x28x28", 32, 28, 28},
            {"dropout 0.3 on 32x14x14", 32, 14, 14},
            {"activation relu 32x28x28", 32, 28, 28}};
  int rc = 0;
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    cn_spec s;
    cn_spec_init(&s, in[i].c, in[i].h, in[i].w);
    switch (i) {
    case 0: cn_spec_add_dense(&s, 128, CN_ACT_RELU); break;
    case 1: cn_spec_add_conv2d(&s, 32, 3, 3, 1, 1, CN_ACT_RELU); break;
    case 2: cn_spec_add_conv2d(&s, 32, 3, 3, 1, 1, CN_ACT_RELU); break;
    case 3: cn_spec_add_conv2d(&s, 64, 3, 3, 1, 1, CN_ACT_RELU); break;
    case 4: cn_spec_add_conv2d(&s, 128, 3, 3, 1, 1, CN_ACT_RELU); break;
    case 5: cn_spec_add_conv2d(&s, 16, 5, 5, 1, 0, CN_ACT_RELU); break;
    case 6: cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, 2, 0); break;
    case 7: cn_spec_add_pool(&s, CN_LAYER_AVGPOOL, 2, 0); break;
    case 8: cn_spec_add_batchnorm(&s); break;
    case 9: cn_spec_add_dropout(&s, 0.3f); break;
    default: cn_spec_add_activation(&s, CN_ACT_RELU); break;
    }
    rc |= bench_layer(in[i].name, &s, o, threads);
  }
  return rc;
}

/* ---- a whole model ---- */

typedef struct {
  cn_model *m;
  float *x, *dlogits;
  int *labels, n;
} model_run;

static void model_forward(void *ctx) {
  model_run *r = ctx;
  cn_model_forward(r->m, r->x, r->n, 1);
}

static void model_backward(void *ctx) {
  model_run *r = ctx;
  memcpy(r->m->grad[0], r->dlogits, sizeof(float) * (size_t)r->n * cn_model_outputs(r->m));
  cn_model_backward(r->m, r->n);
}

static void sgd_step(void *ctx) {
  model_run *r = ctx;
  int count;
  cn_tensor_ref *t = cn_model_tensors(r->m, &count);
  for (int k = 0; k < count; k++) {
    if (!t[k].grad) continue;
    float *restrict w = t[k].data;
    const float *restrict g = t[k].grad;
    for (size_t i = 0; i < t[k].size; i++) w[i] -= 1e-6f * g[i];
  }
}

static void train_step(void *ctx) {
  model_run *r = ctx;
  cn_model_train_batch(r->m, r->x, r->labels, NULL, r->n, NULL, NULL);
  sgd_step(ctx);
}

/* Floating-point operations of one training step: 2 per multiply-add for
 * the forward, the weight gradient and, below the first layer with
 * parameters, the input gradient. */
static double train_flops(const cn_model *m, int n) {
  double f = 0.0;
  for (int i = 0; i < m->n_run; i++) {
    double macs = layer_macs(&m->layers[i]);
    f += 2.0 * macs * (m->needs_dx[i] ? 3 : 2);
  }
  return f * n;
}

/* One layer of a planned model, replayed on the buffers of the last pass. */
typedef struct {
  cn_model *m;
  int i, n;
} model_layer;

static void model_layer_forward(void *ctx) {
  model_layer *r = ctx;
  cn_layer *l = &r->m->layers[r->i];
  const cn_pass p = {r->m->planned_threads, r->m->work, &r->m->dropout_rng, r->m->precision, NULL};
  l->ops->forward(l, r->m->in_ptr[r->i], r->m->act[r->i], r->n, 1, &p);
}

static void model_layer_backward(void *ctx) {
  model_layer *r = ctx;
  cn_layer *l = &r->m->layers[r->i];
  const cn_pass p = {r->m->planned_threads, r->m->work, &r->m->dropout_rng, r->m->precision, NULL};
  l->ops->backward(l, r->m->in_ptr[r->i], r->m->out_ptr[r->i], r->m->grad[0], r->m->needs_dx[r->i] ? r->m->grad[1] : NULL,
                   r->n, &p);
}

/* Each layer's forward and backward time inside the model. */
static void bench_model_layers(cn_model *m, const options *o) {
  for (int i = 0; i < m->n_run; i++) {
    cn_layer *l = &m->layers[i];
    if (!l->ops) continue;
    model_layer r = {m, i, o->batch};
    double tf = best_time(model_layer_forward, &r, o->seconds / 4);
    double tb = m->needs_dx[i] || l->ops->param_floats(l) ? best_time(model_layer_backward, &r, o->seconds / 4) : 0.0;
    printf("|   layer %2d %-12s | %8.1f us | %8.1f us |\n", i, cn_layer_kind_name(l->s.kind), tf * 1e6, tb * 1e6);
  }
}

static int bench_model(const char *name, const options *o, int threads) {
  cn_spec s;
  cn_model *m;
  if (cn_spec_load(name, &s) || cn_model_new(&s, 1, &m) || cn_model_set_precision(m, o->precision) ||
      cn_model_reserve(m, o->batch)) {
    fprintf(stderr, "engine_bench: %s: %s\n", name, cn_last_error());
    return 1;
  }
  model_run r = {m, NULL, NULL, NULL, o->batch};
  r.x = malloc(sizeof(float) * (size_t)o->batch * cn_model_inputs(m));
  r.dlogits = malloc(sizeof(float) * (size_t)o->batch * cn_model_outputs(m));
  r.labels = malloc(sizeof(int) * (size_t)o->batch);
  cn_rng rng;
  cn_rng_seed(&rng, 2, 9);
  fill(r.x, (size_t)o->batch * cn_model_inputs(m), &rng);
  for (int i = 0; i < o->batch; i++) r.labels[i] = (int)cn_rng_below(&rng, (uint32_t)cn_model_outputs(m));
  cn_model_train_batch(m, r.x, r.labels, NULL, r.n, NULL, NULL);
  memcpy(r.dlogits, m->grad[0], sizeof(float) * (size_t)o->batch * cn_model_outputs(m));
  double tf = best_time(model_forward, &r, o->seconds), tb = best_time(model_backward, &r, o->seconds);
  double ts = best_time(sgd_step, &r, o->seconds), tt = best_time(train_step, &r, o->seconds);
  printf("| %-8s | %d | %8.3f | %8.3f | %8.3f | %8.3f | %9.0f | %7.1f |\n", name, threads, tf * 1e3, tb * 1e3, ts * 1e3,
         tt * 1e3, o->batch / tt, train_flops(m, o->batch) / tt * 1e-9);
  if (o->per_layer) bench_model_layers(m, o);
  free(r.x);
  free(r.dlogits);
  free(r.labels);
  cn_model_free(m);
  return 0;
}

/* "1,2" -> {1, 2}; returns the count. */
static int parse_ints(const char *s, int *out) {
  int n = 0;
  for (char *end; *s && n < MAX_LIST; s = *end ? end + 1 : end) {
    out[n] = (int)strtol(s, &end, 10);
    if (out[n] > 0) n++;
    if (end == s) break;
  }
  return n;
}

static int parse_names(char *s, const char **out) {
  int n = 0;
  for (char *tok = strtok(s, ","); tok && n < MAX_LIST; tok = strtok(NULL, ",")) out[n++] = tok;
  return n;
}

int main(int argc, char **argv) {
  static char models[256] = "mlp,lenet,cnn_bn,custom1,custom2";
  options o = {{1, 2}, 2, {0}, 0, 32, 1, 0, 0.5, CN_PRECISION_FP32};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--threads") && v) {
      o.n_threads = parse_ints(v, o.threads);
      i++;
    } else if (!strcmp(a, "--batch") && v) {
      o.batch = atoi(v);
      i++;
    } else if (!strcmp(a, "--seconds") && v) {
      o.seconds = atof(v);
      i++;
    } else if (!strcmp(a, "--models") && v) {
      snprintf(models, sizeof models, "%s", v);
      i++;
    } else if (!strcmp(a, "--no-layers")) {
      o.layers = 0;
    } else if (!strcmp(a, "--per-layer")) {
      o.per_layer = 1;
    } else if (!strcmp(a, "--precision") && v && cn_precision_parse(v, &o.precision) == 0) {
      i++;
    } else if (!strcmp(a, "--cpu")) {
      use_cpu_clock = 1;
    } else {
      fprintf(stderr, "usage: engine_bench [--threads 1,2] [--batch 32] [--seconds 0.5] [--models a,b] [--no-layers] [--cpu] [--per-layer] [--precision fp32|bf16]\n");
      return 2;
    }
  }
  o.n_models = parse_names(models, o.models);
  if (o.batch <= 0 || o.n_threads == 0) {
    fprintf(stderr, "engine_bench: the batch and thread counts must be positive\n");
    return 2;
  }
  int rc = 0;
  printf("engine_bench: batch %d, best of %d rounds, %.2f s per figure, %s clock, %s\n\n", o.batch, ROUNDS, o.seconds,
         use_cpu_clock ? "CPU" : "wall", cn_precision_name(o.precision));
  if (o.layers) {
    printf("| layer (batch %d)                   | threads | forward us | backward us | fwd GFLOP/s | bwd GFLOP/s |\n",
           o.batch);
    printf("|------------------------------------|---|-----------|-----------|---------|---------|\n");
    for (int t = 0; t < o.n_threads; t++) {
      cn_set_threads(o.threads[t]);
      rc |= bench_layers(&o, o.threads[t]);
    }
    printf("\n");
  }
  printf("| model    | threads | forward ms | backward ms | sgd ms | train step ms | train img/s | GFLOP/s |\n");
  printf("|----------|---|----------|----------|----------|----------|-----------|---------|\n");
  for (int t = 0; t < o.n_threads; t++) {
    cn_set_threads(o.threads[t]);
    for (int i = 0; i < o.n_models; i++) rc |= bench_model(o.models[i], &o, o.threads[t]);
  }
  return rc;
}
