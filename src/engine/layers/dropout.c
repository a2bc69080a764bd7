/* Inverted dropout: in training each value is kept with probability
 * 1 - rate and scaled by 1/(1 - rate), so inference is the identity (the
 * model skips the layer then). The keep/drop draws come from the model's
 * dropout generator in order, whatever the thread count: each 64-bit draw
 * decides four values by its four 16-bit quarters (a value is kept when its
 * quarter is at least rate * 65536, so the rate is honoured to 1/65536).
 * A rank holding a slice of a split batch (layer.h) makes every draw of the
 * whole batch and keeps its slice's, so its mask is the one one process
 * draws for those images (a slice starts on a multiple of 4 images, so on
 * a whole draw). */
#include <string.h>

#include "engine/layer.h"

/* 64-bit draws made at a time (2 KiB on the stack). */
#define DRAW_BLOCK 256

/* The mask: 0 or 1/(1 - rate) per value. */
static size_t dropout_state(const cn_layer *l, int max_batch) { return (size_t)max_batch * l->in_size; }

static void skip_draws(cn_rng *rng, size_t n) {
  for (size_t i = 0; i < n; i++) (void)cn_rng_next(rng);
}

/* x [n, ...] -> y = x * mask */
static void dropout_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  const size_t len = (size_t)n * l->in_size;
  float *restrict mask = l->state;
  if (!training || l->s.rate <= 0.0f) {
    memcpy(y, x, sizeof(float) * len);
    for (size_t i = 0; i < len; i++) mask[i] = 1.0f;
    return;
  }
  const float scale = 1.0f / (1.0f - l->s.rate);
  const uint32_t threshold = (uint32_t)(l->s.rate * 65536.0f + 0.5f);
  /* draws in blocks, so the generator runs in a tight loop and the mask
   * loop vectorises */
  uint64_t draws[DRAW_BLOCK];
  const cn_slice *slice = p->slice;
  const size_t before = slice ? (size_t)slice->first * l->in_size : 0;
  const size_t all = slice ? (size_t)slice->total * l->in_size : len;
  skip_draws(p->rng, before / 4);
  for (size_t i = 0; i < len; i += 4 * DRAW_BLOCK) {
    const size_t values = len - i < 4 * DRAW_BLOCK ? len - i : 4 * DRAW_BLOCK;
    const size_t nd = (values + 3) / 4;
    cn_rng_fill(p->rng, draws, nd);
    float *restrict m = mask + i;
    const size_t whole = values / 4;
    for (size_t d = 0; d < whole; d++)
      for (int q = 0; q < 4; q++) m[4 * d + q] = (uint32_t)((draws[d] >> (16 * q)) & 0xffff) >= threshold ? scale : 0.0f;
    for (size_t v = 4 * whole; v < values; v++)
      m[v] = (uint32_t)((draws[v / 4] >> (16 * (v % 4))) & 0xffff) >= threshold ? scale : 0.0f;
  }
  skip_draws(p->rng, (all + 3) / 4 - (before + len + 3) / 4);
  for (size_t i = 0; i < len; i++) y[i] = x[i] * mask[i];
}

/* dx = dy * mask */
static void dropout_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                             const cn_pass *p) {
  (void)x;
  (void)y;
  (void)p;
  if (!dx) return;
  const size_t len = (size_t)n * l->in_size;
  const float *restrict mask = l->state;
  for (size_t i = 0; i < len; i++) dx[i] = dy[i] * mask[i];
}

const cn_layer_ops cn_dropout_ops = {cn_layer_no_params, dropout_state, cn_layer_no_work, cn_layer_no_init,
                                     dropout_forward, dropout_backward};
