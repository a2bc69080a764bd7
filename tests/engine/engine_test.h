/* Shared by the engine tests: one layer run on its own, through the
 * model's internals (the layer interface in src/engine/layer.h), with
 * buffers owned by the test. */
#ifndef CN_ENGINE_TEST_H
#define CN_ENGINE_TEST_H

#include <stdlib.h>
#include <string.h>

#include "cnist.h"
#include "engine/model_impl.h"
#include "test.h"

/* One layer: spec line 0 of a model whose input is c x h x w; a trailing
 * flatten keeps a final softmax from being fused with the loss, so layer 0
 * runs exactly as written. */
typedef struct {
  cn_model *m;
  cn_layer *l;
  int n;
  float *x, *y, *dy, *dx; /* [n, in] / [n, out] */
  cn_pass pass;
} one_layer;

/* Opens the layer that `add` appended to a spec with input c x h x w. */
static inline int one_layer_open(one_layer *t, const cn_spec *spec, int n) {
  memset(t, 0, sizeof *t);
  cn_spec s = *spec;
  cn_spec_add_flatten(&s);
  int rc = cn_model_new(&s, 1, &t->m);
  if (rc) return rc;
  rc = cn_model_reserve(t->m, n);
  if (rc) return rc;
  t->l = &t->m->layers[0];
  t->n = n;
  t->x = calloc((size_t)n * t->l->in_size, sizeof(float));
  t->y = calloc((size_t)n * t->l->out_size, sizeof(float));
  t->dy = calloc((size_t)n * t->l->out_size, sizeof(float));
  t->dx = calloc((size_t)n * t->l->in_size, sizeof(float));
  t->pass = (cn_pass){t->m->planned_threads, t->m->work, cn_model_rng(t->m), t->m->precision, NULL};
  return 0;
}

static inline void one_layer_forward(one_layer *t, int training) {
  t->l->ops->forward(t->l, t->x, t->y, t->n, training, &t->pass);
}

static inline void one_layer_close(one_layer *t) {
  cn_model_free(t->m);
  free(t->x);
  free(t->y);
  free(t->dy);
  free(t->dx);
}

/* Uniform values in [lo, hi) from a test generator. */
static inline void fill_uniform(float *v, size_t n, float lo, float hi, cn_rng *rng) {
  for (size_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * cn_rng_uniform(rng);
}

#endif
