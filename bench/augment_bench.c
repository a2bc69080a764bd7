/* What augmentation costs a training step: the batcher's time per batch,
 * plain (cn_batch_fill) and augmented (cn_batch_fill_augmented, with the
 * settings of the deotte recipe, then with elastic distortion and erasing
 * added), against one training step of a model at the same batch and
 * threads. Prints one JSON object per setting.
 *
 *   build/bench/augment_bench [MODEL] [BATCH]     (default custom2, 64)
 *
 * Needs the MNIST training images (data/mnist or $CNIST_DATA). */
#include <stdio.h>
#include <stdlib.h>

#include "cnist.h"

/* Seconds per call of fill (mean of the best of 5 rounds). */
typedef void (*batch_job)(void *ctx);

static double time_job(batch_job job, void *ctx, int calls) {
  double best = 1e30;
  for (int round = 0; round < 5; round++) {
    double t0 = cn_now();
    for (int i = 0; i < calls; i++) job(ctx);
    double t = (cn_now() - t0) / calls;
    best = t < best ? t : best;
  }
  return best;
}

typedef struct {
  const cn_imageset *set;
  int *idx, batch, epoch;
  float *x;
  int *labels;
  cn_augmenter *aug;
  cn_model *model;
} bench_ctx;

static void plain(void *p) {
  bench_ctx *c = p;
  cn_batch_fill(c->set, c->idx, c->batch, c->set->rows, c->set->cols, 1, c->x, c->labels);
}

static void augmented(void *p) {
  bench_ctx *c = p;
  cn_batch_fill_augmented(c->set, c->idx, c->batch, c->aug, 1, c->epoch++, c->x, c->labels);
}

static void train_step(void *p) {
  bench_ctx *c = p;
  cn_model_train_batch(c->model, c->x, c->labels, NULL, c->batch, NULL, NULL);
}

int main(int argc, char **argv) {
  const char *model_name = argc > 1 ? argv[1] : "custom2";
  int batch = argc > 2 ? atoi(argv[2]) : 64;
  cn_dataset ds;
  cn_spec spec;
  if (batch < 1 || batch > 4096) return fprintf(stderr, "augment_bench: batch must be 1..4096\n"), 2;
  if (cn_dataset_load("mnist", NULL, &ds) || cn_spec_load(model_name, &spec))
    return fprintf(stderr, "augment_bench: %s\n", cn_last_error()), 1;
  bench_ctx c = {.set = &ds.train, .batch = batch};
  c.idx = malloc(sizeof *c.idx * (size_t)batch);
  c.labels = malloc(sizeof *c.labels * (size_t)batch);
  c.x = malloc(sizeof *c.x * (size_t)batch * 784);
  if (!c.idx || !c.labels || !c.x) return fprintf(stderr, "augment_bench: out of memory\n"), 1;
  for (int i = 0; i < batch; i++) c.idx[i] = (i * 7919) % ds.train.n;
  const cn_augment deotte = {.rotation = 15, .zoom = 0.15f, .shift = 0.1f};
  const cn_augment full = {.rotation = 15, .zoom = 0.15f, .shift = 0.1f, .shear = 10, .elastic_alpha = 34,
                           .elastic_sigma = 4, .erase = 0.5f};
  const struct {
    const char *name;
    const cn_augment *a;
  } settings[] = {{"affine (deotte)", &deotte}, {"affine + elastic + erasing", &full}};
  for (int threads = 1; threads <= 2; threads++) {
    cn_set_threads(threads);
    if (cn_model_new(&spec, 1, &c.model) || cn_model_reserve(c.model, batch))
      return fprintf(stderr, "augment_bench: %s\n", cn_last_error()), 1;
    plain(&c);
    double step = time_job(train_step, &c, 10), fill = time_job(plain, &c, 50);
    for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
      if (cn_augmenter_new(settings[s].a, 28, 28, threads, &c.aug))
        return fprintf(stderr, "augment_bench: %s\n", cn_last_error()), 1;
      double aug = time_job(augmented, &c, 50);
      printf("{\"model\": \"%s\", \"batch\": %d, \"threads\": %d, \"augment\": \"%s\", \"train_step_ms\": %.3f, "
             "\"fill_ms\": %.4f, \"fill_augmented_ms\": %.4f, \"cost_of_step\": %.4f}\n",
             model_name, batch, threads, settings[s].name, step * 1e3, fill * 1e3, aug * 1e3,
             (aug - fill) / step);
      cn_augmenter_free(c.aug);
    }
    cn_model_free(c.model);
  }
  free(c.idx), free(c.labels), free(c.x);
  cn_dataset_free(&ds);
  return 0;
}
