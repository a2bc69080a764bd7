/* Weight averaging (include/cnist/ema.h): one block of shadow copies,
 * carved like the model's own tensors. */
#include "cnist/ema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct cn_ema {
  cn_model *model;
  double decay;
  int64_t updates;
  int count;
  cn_tensor_ref *shadow; /* count views into block */
  float *block;
};

int cn_ema_new(cn_model *m, double decay, cn_ema **out) {
  *out = NULL;
  if (!(decay >= 0 && decay < 1)) return cn_fail(CN_EINVAL, "weight averaging: decay=%g must be in [0, 1)", decay);
  int count;
  const cn_tensor_ref *t = cn_model_tensors(m, &count);
  size_t total = 0;
  for (int i = 0; i < count; i++) total += t[i].size;
  cn_ema *e = calloc(1, sizeof *e);
  if (e) {
    e->shadow = calloc(count > 0 ? (size_t)count : 1, sizeof *e->shadow);
    e->block = malloc(sizeof *e->block * (total ? total : 1));
  }
  if (!e || !e->shadow || !e->block) {
    cn_ema_free(e);
    return cn_fail(CN_ENOMEM, "weight averaging: out of memory for %zu values", total);
  }
  e->model = m, e->decay = decay, e->count = count;
  float *at = e->block;
  for (int i = 0; i < count; i++) {
    cn_tensor_ref *s = &e->shadow[i];
    *s = t[i];
    snprintf(s->name, sizeof s->name, "ema.%s", t[i].name);
    s->data = at, s->grad = NULL;
    memcpy(at, t[i].data, sizeof *at * t[i].size);
    at += t[i].size;
  }
  *out = e;
  return CN_OK;
}

void cn_ema_free(cn_ema *e) {
  if (!e) return;
  free(e->shadow);
  free(e->block);
  free(e);
}

void cn_ema_update(cn_ema *e) {
  double warm = (1.0 + (double)e->updates) / (10.0 + (double)e->updates);
  const float d = (float)(e->decay < warm ? e->decay : warm), keep = 1 - d;
  int count;
  const cn_tensor_ref *t = cn_model_tensors(e->model, &count);
  for (int i = 0; i < e->count; i++) {
    float *restrict s = e->shadow[i].data;
    const float *restrict w = t[i].data;
    for (size_t j = 0; j < t[i].size; j++) s[j] = d * s[j] + keep * w[j];
  }
  e->updates++;
}

void cn_ema_swap(cn_ema *e) {
  int count;
  const cn_tensor_ref *t = cn_model_tensors(e->model, &count);
  for (int i = 0; i < e->count; i++) {
    float *restrict s = e->shadow[i].data, *restrict w = t[i].data;
    for (size_t j = 0; j < t[i].size; j++) {
      float v = s[j];
      s[j] = w[j];
      w[j] = v;
    }
  }
}

int64_t cn_ema_updates(const cn_ema *e) { return e->updates; }
void cn_ema_set_updates(cn_ema *e, int64_t t) { e->updates = t; }

cn_tensor_ref *cn_ema_tensors(cn_ema *e, int *count) {
  *count = e->count;
  return e->shadow;
}
