/* Stride-1 convolution of one image as GEMMs over shifted rows of the
 * zero-padded image (see conv.h): row k = (c, ky, kx) of the im2col matrix
 * is xp + (c*hp + ky)*wp + kx, read in place through a table of row
 * offsets, so no im2col matrix is written. */
#include <string.h>

#include "engine/layers/conv.h"

/* Up to this many im2col rows (c*kh*kw), the weight gradient is taken as
 * dot products rather than through the tiled GEMM. */
#ifndef CONV1_DOT_ROWS
#define CONV1_DOT_ROWS 32
#endif

/* A stride-1 convolution of an already padded input [c, hp, wp] with a
 * kh x kw kernel into f channels of oh x ow; its GEMM output uses the
 * padded width: ncols = (oh-1)*wp + ow columns. */
typedef struct {
  int c, hp, wp, kh, kw, f, oh, ow;
  int ncols;
} shifted;

static shifted shifted_of(int c, int hp, int wp, int kh, int kw, int f) {
  shifted s = {c, hp, wp, kh, kw, f, hp - kh + 1, wp - kw + 1, 0};
  s.ncols = (s.oh - 1) * wp + s.ow;
  return s;
}

/* The forward convolution of layer geometry g. */
static shifted forward_of(const cn_conv_geo *g) {
  return shifted_of(g->c, g->oh + g->kh - 1, g->ow + g->kw - 1, g->kh, g->kw, g->f);
}

/* The convolution that maps dy [f, oh, ow] to dx [c, h, w]. */
static shifted backward_of(const cn_conv_geo *g) {
  return shifted_of(g->f, g->h + g->kh - 1, g->w + g->kw - 1, g->kh, g->kw, g->c);
}

/* x [c, h, w] -> xp [c, hp, wp] with pt rows above and pl columns left of
 * the image and zeros around it: the planes zeroed at once, then the rows
 * copied in. */
static void pad(const float *x, int c, int h, int w, int pt, int pl, int hp, int wp, float *xp) {
  memset(xp, 0, sizeof(float) * (size_t)c * hp * wp);
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      memcpy(xp + ((size_t)ch * hp + pt + y) * wp + pl, x + ((size_t)ch * h + y) * w, sizeof(float) * (size_t)w);
}

/* off[k] = (c*hp + ky)*wp + kx for k = (c, ky, kx): where row k of the
 * im2col matrix starts in the padded input. */
static void shifted_rows(const shifted *s, ptrdiff_t *off) {
  for (int c = 0, k = 0; c < s->c; c++)
    for (int ky = 0; ky < s->kh; ky++)
      for (int kx = 0; kx < s->kw; kx++) off[k++] = ((ptrdiff_t)c * s->hp + ky) * s->wp + kx;
}

/* out [f, oh, ow] = act(W [f, c*kh*kw] . (shifted rows of xp, offsets off)
 * + bias); ywide [f, ncols] holds a padded-width result. */
static void conv_padded(const shifted *s, const float *w, const float *bias, int relu, const float *xp,
                        const ptrdiff_t *off, float *out, float *ywide, float *scratch, cn_gemm_fn *gemm) {
  const int k = s->c * s->kh * s->kw;
  const cn_matrix rows = {xp, 0, 1, off};
  const cn_epilogue ep = {bias, NULL, relu};
  if (s->wp == s->ow) { /* no unused columns: the GEMM writes the output */
    gemm(s->f, s->ncols, k, cn_mat(w, k, 1), rows, out, s->ncols, 0, &ep, scratch);
    return;
  }
  gemm(s->f, s->ncols, k, cn_mat(w, k, 1), rows, ywide, s->ncols, 0, &ep, scratch);
  for (int f = 0; f < s->f; f++)
    for (int oy = 0; oy < s->oh; oy++)
      memcpy(out + ((size_t)f * s->oh + oy) * s->ow, ywide + (size_t)f * s->ncols + (size_t)oy * s->wp,
             sizeof(float) * (size_t)s->ow);
}

/* Per-thread scratch, in this order: the padded input, the padded-width
 * output (or output gradient), the row offsets into the padded input, GEMM
 * scratch, then for the input gradient the padded output gradient, the row
 * offsets into it and the padded-width input gradient. */
typedef struct {
  float *xp, *ywide, *scratch, *dyp, *dxwide;
  ptrdiff_t *offsets, *dy_offsets;
} buffers;

static size_t offsets_floats(int rows) { return cn_round_floats((size_t)rows * sizeof(ptrdiff_t) / sizeof(float)); }

/* Offsets of those buffers in floats; [7] is the end. */
static void layout(const cn_conv_geo *g, size_t off[8]) {
  const shifted s = forward_of(g), t = backward_of(g);
  off[0] = 0;
  off[1] = off[0] + cn_round_floats((size_t)s.c * s.hp * s.wp);
  off[2] = off[1] + cn_round_floats((size_t)s.f * s.ncols);
  off[3] = off[2] + offsets_floats(g->k);
  off[4] = off[3] + cn_round_floats(cn_gemm_scratch_floats());
  off[5] = off[4] + cn_round_floats((size_t)t.c * t.hp * t.wp);
  off[6] = off[5] + offsets_floats(t.c * t.kh * t.kw);
  off[7] = off[6] + cn_round_floats((size_t)t.f * t.ncols);
}

static buffers carve(const cn_conv_geo *g, float *work) {
  size_t off[8];
  layout(g, off);
  buffers b = {work + off[0], work + off[1], work + off[3], work + off[4], work + off[6],
               (ptrdiff_t *)(void *)(work + off[2]), (ptrdiff_t *)(void *)(work + off[5])};
  return b;
}

size_t cn_conv1_work_floats(const cn_conv_geo *g, int need_dx) {
  size_t off[8];
  layout(g, off);
  return need_dx ? off[7] : off[4];
}

size_t cn_conv1_flipped_floats(const cn_conv_geo *g) { return (size_t)g->f * g->k; }

/* xp, or x itself when the convolution has no padding. */
static const float *padded_input(const cn_conv_geo *g, const shifted *s, const float *x, float *xp) {
  if (s->hp == g->h && s->wp == g->w) return x;
  pad(x, g->c, g->h, g->w, g->pt, g->pl, s->hp, s->wp, xp);
  return xp;
}

void cn_conv1_forward(const cn_conv_geo *g, const float *w, const float *bias, cn_act act, const float *x, float *y,
                      float *work, cn_gemm_fn *gemm) {
  const shifted s = forward_of(g);
  const buffers b = carve(g, work);
  shifted_rows(&s, b.offsets);
  conv_padded(&s, w, bias, act == CN_ACT_RELU, padded_input(g, &s, x, b.xp), b.offsets, y, b.ywide, b.scratch, gemm);
}

void cn_conv1_flip(const cn_conv_geo *g, const float *w, float *wf) {
  const int kk = g->kh * g->kw;
  for (int f = 0; f < g->f; f++)
    for (int c = 0; c < g->c; c++)
      for (int q = 0; q < kk; q++) wf[((size_t)c * g->f + f) * kk + (kk - 1 - q)] = w[((size_t)f * g->c + c) * kk + q];
}

/* dy in the padded-width layout, zero in the unused columns: dy itself
 * when there are none, else a copy in ywide. */
static const float *padded_width_dy(const cn_conv_geo *g, const shifted *s, const float *dy, float *ywide) {
  if (s->wp == s->ow) return dy;
  for (int f = 0; f < g->f; f++)
    for (int oy = 0; oy < g->oh; oy++) {
      float *row = ywide + (size_t)f * s->ncols + (size_t)oy * s->wp;
      memcpy(row, dy + ((size_t)f * g->oh + oy) * g->ow, sizeof(float) * (size_t)g->ow);
      if (oy + 1 < g->oh)
        for (int q = g->ow; q < s->wp; q++) row[q] = 0.0f;
    }
  return ywide;
}

void cn_conv1_backward(const cn_conv_geo *g, const float *wf, const float *x, const float *dy, float *dwt,
                       int accumulate, float *dx, float *work, cn_gemm_fn *gemm) {
  const shifted s = forward_of(g);
  const buffers b = carve(g, work);
  const float *xp = padded_input(g, &s, x, b.xp);
  const float *dyw = padded_width_dy(g, &s, dy, b.ywide);
  /* dWt [k, f] (+)= shifted rows of xp [k, ncols] . dyw^T [ncols, f]; with
   * few rows (a first layer's c = 1) as dot products, which need no
   * transposed copy of dy and waste no tile rows */
  shifted_rows(&s, b.offsets);
  if (g->k <= CONV1_DOT_ROWS) {
    cn_gemm_dot_rows(g->k, g->f, s.ncols, xp, b.offsets, dyw, s.ncols, dwt, g->f, accumulate);
  } else {
    cn_matrix rows = {xp, 0, 1, b.offsets};
    gemm(g->k, g->f, s.ncols, rows, cn_mat(dyw, 1, s.ncols), dwt, g->f, accumulate, NULL, b.scratch);
  }
  if (dx) {
    const shifted t = backward_of(g);
    pad(dy, g->f, g->oh, g->ow, g->kh - 1 - g->pt, g->kw - 1 - g->pl, t.hp, t.wp, b.dyp);
    shifted_rows(&t, b.dy_offsets);
    conv_padded(&t, wf, NULL, 0, b.dyp, b.dy_offsets, dx, b.dxwide, b.scratch, gemm);
  }
}

size_t cn_conv1_columns_floats(const cn_conv_geo *g) { return (size_t)g->k * forward_of(g).ncols; }

void cn_conv1_backward_dx_by_columns(const cn_conv_geo *g, const float *w, const float *dy, float *dx, float *work,
                                     float *dcol, cn_gemm_fn *gemm) {
  const shifted s = forward_of(g);
  const buffers b = carve(g, work);
  /* dcol [k, ncols] = W^T [k, f] . dy [f, ncols], in the padded-width
   * layout: its unused columns are W^T . 0 = +-0 */
  const float *dyw = padded_width_dy(g, &s, dy, b.ywide);
  gemm(g->k, s.ncols, g->f, cn_mat(w, 1, g->k), cn_mat(dyw, s.ncols, 1), dcol, s.ncols, 0, NULL, b.scratch);
  /* the adjoint of reading row k at xp + off[k]: add it back there, as one
   * contiguous run of ncols (the unused columns add +-0, which changes no
   * sum: every sum starts from the memset's +0), into the padded input's
   * buffer, then crop. Each pixel still collects its terms in the order of
   * k. */
  const int unpadded = s.hp == g->h && s.wp == g->w;
  float *dxp = unpadded ? dx : b.xp;
  memset(dxp, 0, sizeof(float) * (size_t)s.c * s.hp * s.wp);
  shifted_rows(&s, b.offsets);
  for (int k = 0; k < g->k; k++) {
    float *restrict dst = dxp + b.offsets[k];
    const float *restrict src = dcol + (size_t)k * s.ncols;
    for (int q = 0; q < s.ncols; q++) dst[q] += src[q];
  }
  if (unpadded) return;
  for (int c = 0; c < g->c; c++)
    for (int y = 0; y < g->h; y++)
      memcpy(dx + ((size_t)c * g->h + y) * g->w, dxp + ((size_t)c * s.hp + g->pt + y) * s.wp + g->pl,
             sizeof(float) * (size_t)g->w);
}
