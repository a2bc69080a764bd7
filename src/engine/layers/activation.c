/* Activations: relu, sigmoid, tanh and softmax, applied inline by dense and
 * conv2d (their `activation=` option) or as an `activation` layer. Backward
 * passes use only the output y, so no pre-activation copy is kept. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/layer.h"

/* exp(x) for sigmoid, branch-free so that the loop over it vectorises
 * (libm's expf is a call, one element at a time: with libm, sigmoid and
 * tanh cost lenet about 2.4 times relu's training step). x = n ln 2 + r with |r| <=
 * ln 2 / 2, e^r from Cephes' expf polynomial (about 1 ulp), 2^n put into
 * the exponent bits; x is clamped to [-87, 88], where e^x is a normal
 * float. Plain multiplies and adds (ISO C: no contraction into FMA), so the
 * vector and scalar paths, and every build, give the same bits. A NaN is
 * clamped too (the float-to-int conversion of a NaN is undefined) and then
 * given back, so that a diverged network still shows NaN. */
static inline float exp_approx(float x) {
  float nan_or_zero = x == x ? 0.0f : x;
  x = x > -87.0f ? x : -87.0f; /* NaN compares false: it becomes -87 */
  x = x < 88.0f ? x : 88.0f;
  /* n = x log2 e rounded to the nearest by adding and taking away 1.5 * 2^23
   * (floorf would keep the loop from vectorising) */
  float n = (x * 1.44269504089f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f; /* ln 2 in two parts: n * hi is exact */
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale + nan_or_zero;
}

/* tanh(x) as one rational function, x P(x^2) / Q(x^2), P and Q of degree 4,
 * fitted by cnist (bench/fit_tanh.py: minimax relative error 2e-8 on
 * [0, 9]); evaluated in float it is within 6 ulp of tanh over every float
 * (checked exhaustively, docs/benchmarks.md). One division and no exp: about
 * 1.6 times faster than 1 - 2/(e^2x + 1) with a polynomial near 0. Beyond
 * |x| = 9.01 tanh is 1 in float; x is clamped to 9.5, where the fit is
 * above 1, and the result to [-1, 1], so large inputs give exactly 1. The
 * comparisons are written so that a NaN falls through each and stays NaN. */
static inline float tanh_approx(float x) {
  x = x < -9.5f ? -9.5f : x;
  x = x > 9.5f ? 9.5f : x;
  float z = x * x;
  float p = (((1.33544082e-8f * z + 2.06089044e-5f) * z + 3.49557772e-3f) * z + 1.33810163e-1f) * z + 1.0f;
  float q = (((7.77645596e-7f * z + 3.28561728e-4f) * z + 2.58769430e-2f) * z + 4.67143327e-1f) * z + 1.0f;
  float y = x * p / q;
  y = y > 1.0f ? 1.0f : y;
  return y < -1.0f ? -1.0f : y;
}

void cn_act_forward_span(cn_act act, float *restrict y, size_t len) {
  switch (act) {
  case CN_ACT_RELU:
    for (size_t i = 0; i < len; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
    break;
  case CN_ACT_SIGMOID:
    for (size_t i = 0; i < len; i++) y[i] = 1.0f / (1.0f + exp_approx(-y[i]));
    break;
  case CN_ACT_TANH:
    for (size_t i = 0; i < len; i++) y[i] = tanh_approx(y[i]);
    break;
  case CN_ACT_NONE:
  case CN_ACT_SOFTMAX: /* needs a whole row: see cn_act_forward */
    break;
  }
}

void cn_act_backward_span(cn_act act, const float *restrict y, float *restrict dy, size_t len) {
  switch (act) {
  case CN_ACT_RELU:
    for (size_t i = 0; i < len; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    break;
  case CN_ACT_SIGMOID:
    for (size_t i = 0; i < len; i++) dy[i] *= y[i] * (1.0f - y[i]);
    break;
  case CN_ACT_TANH:
    for (size_t i = 0; i < len; i++) dy[i] *= 1.0f - y[i] * y[i];
    break;
  case CN_ACT_NONE:
  case CN_ACT_SOFTMAX:
    break;
  }
}

/* Softmax over the c channels of one image, at each of the hw positions:
 * y[ch*hw + j] for ch in [0, c). */
static void softmax_channels(float *y, int c, int hw) {
  for (int j = 0; j < hw; j++) {
    float mx = y[j];
    for (int ch = 1; ch < c; ch++) mx = fmaxf(mx, y[(size_t)ch * hw + j]);
    float sum = 0.0f;
    for (int ch = 0; ch < c; ch++) {
      float e = expf(y[(size_t)ch * hw + j] - mx);
      y[(size_t)ch * hw + j] = e;
      sum += e;
    }
    float inv = 1.0f / sum;
    for (int ch = 0; ch < c; ch++) y[(size_t)ch * hw + j] *= inv;
  }
}

/* Softmax Jacobian: dz_k = y_k (dy_k - sum_j dy_j y_j), per position. */
static void softmax_channels_backward(const float *y, float *dy, int c, int hw) {
  for (int j = 0; j < hw; j++) {
    float dot = 0.0f;
    for (int ch = 0; ch < c; ch++) dot += dy[(size_t)ch * hw + j] * y[(size_t)ch * hw + j];
    for (int ch = 0; ch < c; ch++) {
      size_t k = (size_t)ch * hw + j;
      dy[k] = y[k] * (dy[k] - dot);
    }
  }
}

void cn_act_forward(cn_act act, float *y, int n, cn_shape shape) {
  size_t len = (size_t)shape.c * shape.h * shape.w;
  if (act != CN_ACT_SOFTMAX) {
    cn_act_forward_span(act, y, len * (size_t)n);
    return;
  }
  for (int i = 0; i < n; i++) softmax_channels(y + i * len, shape.c, shape.h * shape.w);
}

void cn_act_backward(cn_act act, const float *y, float *dy, int n, cn_shape shape) {
  size_t len = (size_t)shape.c * shape.h * shape.w;
  if (act != CN_ACT_SOFTMAX) {
    cn_act_backward_span(act, y, dy, len * (size_t)n);
    return;
  }
  for (int i = 0; i < n; i++) softmax_channels_backward(y + i * len, dy + i * len, shape.c, shape.h * shape.w);
}

/* ---- the `activation` layer ---- */

/* y [n, c, h, w] = act(x) */
static void activation_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  (void)training;
  (void)p;
  memcpy(y, x, sizeof(float) * (size_t)n * l->out_size);
  cn_act_forward(l->act, y, n, l->out);
}

/* dx [n, c, h, w] = act'(y) * dy */
static void activation_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                                const cn_pass *p) {
  (void)x;
  (void)p;
  cn_act_backward(l->act, y, dy, n, l->out);
  if (dx) memcpy(dx, dy, sizeof(float) * (size_t)n * l->out_size);
}

const cn_layer_ops cn_activation_ops = {cn_layer_no_params, cn_layer_no_state, cn_layer_no_work, cn_layer_no_init,
                                        activation_forward, activation_backward};
