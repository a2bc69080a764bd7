/* Max and average pooling over each channel plane. Windows that hang over
 * the edge (`same` padding) use only the pixels inside: max ignores the
 * padding and the average divides by the number of real pixels, as
 * TensorFlow does. Max pooling's backward sends each gradient to the first
 * pixel of its window (row-major) that equals the output. For the common
 * 2x2 window a training forward keeps that pixel (4 bits per window, as
 * lane masks), so the backward reads neither the input nor the output;
 * other windows find the maximum again.
 * When the layer before is a relu the model lets the pool apply relu's
 * derivative too (l->relu_below, model.c): the gradient goes on only where
 * the chosen pixel is positive, which is what that layer's own backward
 * would have done, one pass over its output earlier. */
#include <stdint.h>
#include <string.h>

#include "engine/layer.h"
#include "engine/lanes.h"

/* Below this many window reads a pass runs on one thread. */
#define POOL_PARALLEL_READS 65536.0

typedef struct {
  int h, w, oh, ow, kh, kw, sh, sw, pt, pl;
} geometry;

static geometry geo(const cn_layer *l) {
  return (geometry){l->in.h, l->in.w, l->out.h, l->out.w, l->s.kh, l->s.kw, l->s.sh, l->s.sw, l->pad_t, l->pad_l};
}

/* The part of the window of output (oy, ox) inside the image: rows
 * [*y0, *y1), columns [*x0, *x1). */
static void window(const geometry *g, int oy, int ox, int *y0, int *y1, int *x0, int *x1) {
  *y0 = oy * g->sh - g->pt;
  *x0 = ox * g->sw - g->pl;
  *y1 = *y0 + g->kh < g->h ? *y0 + g->kh : g->h;
  *x1 = *x0 + g->kw < g->w ? *x0 + g->kw : g->w;
  if (*y0 < 0) *y0 = 0;
  if (*x0 < 0) *x0 = 0;
}

static int pool_threads(const cn_layer *l, int n, const cn_pass *p) {
  double reads = (double)n * l->out_size * l->s.kh * l->s.kw;
  return reads < POOL_PARALLEL_READS ? 1 : p->threads;
}

/* The common 2x2 window with stride 2, every window inside the image:
 * branch-free loops the compiler vectorises. */
static int is_2x2(const geometry *g) {
  return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->pt == 0 && g->pl == 0 && 2 * g->oh <= g->h &&
         2 * g->ow <= g->w;
}

/* The kept picks of a 2x2 pass: one 32-bit word per 8 windows of a row,
 * byte q holding the 8 windows' bits for pixel q (0 1 on the top row, 2 3
 * below), bit k for the window in lane k of window_pixels' order. */
static int pick_words(const geometry *g) { return g->oh * ((g->ow + 7) / 8); }

static size_t maxpool_state(const cn_layer *l, int max_batch) {
  const geometry g = geo(l);
  return is_2x2(&g) ? (size_t)max_batch * l->in.c * pick_words(&g) : 0;
}

#if CN_LANE_MASKS
/* Windows [ox, ox+n) of a row pair (r0, r1 at column 2*ox), n <= 8: the
 * even and odd columns of both rows, in the window order 0 1 4 5 2 3 6 7
 * that deinterleaving leaves (swap_middle restores it). */
typedef struct {
  __m256 even0, odd0, even1, odd1;
} window_pixels;

static window_pixels load_windows(const float *r0, const float *r1, int n) {
  const cn_lane_mask lo = cn_lanes(2 * n), hi = cn_lanes(2 * n - 8);
  const __m256 t0 = cn_load_lanes(r0, lo), t1 = cn_load_lanes(r0 + 8, hi);
  const __m256 u0 = cn_load_lanes(r1, lo), u1 = cn_load_lanes(r1 + 8, hi);
  return (window_pixels){_mm256_shuffle_ps(t0, t1, 0x88), _mm256_shuffle_ps(t0, t1, 0xdd),
                         _mm256_shuffle_ps(u0, u1, 0x88), _mm256_shuffle_ps(u0, u1, 0xdd)};
}

/* Lane order 0 1 4 5 2 3 6 7 <-> 0 1 2 3 4 5 6 7 (its own inverse). */
static __m256 swap_middle(__m256 v) { return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8)); }
#endif

#if CN_LANE_MASKS
/* Lane masks from the 8 bits of one byte of a picks word. */
static __m256 lanes_of_bits(uint32_t bits) {
  const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), sel), sel));
}
#else
/* The lane of window k of 8 in window_pixels' order (its own inverse). */
static const int lane_of[8] = {0, 1, 4, 5, 2, 3, 6, 7};
#endif

/* One plane: y [oh, ow] = the maximum of each window: max(r1, r0) down
 * each column, then of the right and left columns (_mm256_max_ps (a, b)
 * is a > b ? a : b, so NaNs go the same way in both forms). With picks
 * (a training pass), also each window's first pixel equal to its maximum:
 * none when relu_below and that pixel is not positive. */
static void maxpool_2x2(const geometry *g, const float *restrict xp, float *restrict yp, uint32_t *restrict picks,
                        int relu_below) {
  for (int oy = 0; oy < g->oh; oy++) {
    const float *restrict r0 = xp + (size_t)2 * oy * g->w, *restrict r1 = r0 + g->w;
    float *restrict yr = yp + (size_t)oy * g->ow;
#if CN_LANE_MASKS
    for (int ox = 0; ox < g->ow; ox += 8) {
      const int n = g->ow - ox < 8 ? g->ow - ox : 8;
      const window_pixels p = load_windows(r0 + 2 * ox, r1 + 2 * ox, n);
      const __m256 left = _mm256_max_ps(p.even1, p.even0), right = _mm256_max_ps(p.odd1, p.odd0);
      const __m256 m = _mm256_max_ps(right, left);
      cn_store_lanes(yr + ox, cn_lanes(n), swap_middle(m));
      if (!picks) continue;
      __m256 a = _mm256_cmp_ps(p.even0, m, _CMP_EQ_OQ);
      __m256 b = _mm256_andnot_ps(a, _mm256_cmp_ps(p.odd0, m, _CMP_EQ_OQ));
      const __m256 ab = _mm256_or_ps(a, b);
      __m256 c = _mm256_andnot_ps(ab, _mm256_cmp_ps(p.even1, m, _CMP_EQ_OQ));
      __m256 d = _mm256_andnot_ps(_mm256_or_ps(ab, c), _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
      if (relu_below) { /* a, b and c equal m; d may not (NaNs) */
        const __m256 zero = _mm256_setzero_ps(), positive = _mm256_cmp_ps(m, zero, _CMP_GT_OQ);
        a = _mm256_and_ps(a, positive);
        b = _mm256_and_ps(b, positive);
        c = _mm256_and_ps(c, positive);
        d = _mm256_and_ps(d, _mm256_cmp_ps(p.odd1, zero, _CMP_GT_OQ));
      }
      *picks++ = (uint32_t)_mm256_movemask_ps(a) | (uint32_t)_mm256_movemask_ps(b) << 8 |
                 (uint32_t)_mm256_movemask_ps(c) << 16 | (uint32_t)_mm256_movemask_ps(d) << 24;
    }
#else
    uint32_t word = 0;
    for (int ox = 0; ox < g->ow; ox++) {
      const float px[4] = {r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]};
      const float left = px[2] > px[0] ? px[2] : px[0];
      const float right = px[3] > px[1] ? px[3] : px[1];
      const float m = right > left ? right : left;
      yr[ox] = m;
      if (!picks) continue;
      const int q = px[0] == m ? 0 : px[1] == m ? 1 : px[2] == m ? 2 : 3;
      if (!relu_below || px[q] > 0.0f) word |= 1u << (8 * q + lane_of[ox & 7]);
      if ((ox & 7) == 7 || ox == g->ow - 1) {
        *picks++ = word;
        word = 0;
      }
    }
#endif
  }
}

#if !CN_LANE_MASKS
/* g when cond is 1, +0 when it is 0, without a branch. */
static inline float keep_if(int cond, float g) {
  uint32_t bits;
  memcpy(&bits, &g, sizeof bits);
  bits &= 0u - (uint32_t)cond;
  memcpy(&g, &bits, sizeof g);
  return g;
}
#endif

/* dx of one plane: each window's gradient to the pixel its forward picked,
 * zero elsewhere. Every pixel of a window is written once, chosen by masks
 * rather than branches (random data would mispredict them); rows and
 * columns no window covers are zeroed. */
static void maxpool_2x2_backward(const geometry *g, const uint32_t *restrict picks, const float *restrict dyp,
                                 float *restrict dxp) {
  for (int oy = 0; oy < g->oh; oy++) {
    float *restrict d0 = dxp + (size_t)2 * oy * g->w, *restrict d1 = d0 + g->w;
    const float *restrict dr = dyp + (size_t)oy * g->ow;
#if CN_LANE_MASKS
    for (int ox = 0; ox < g->ow; ox += 8) {
      const int n = g->ow - ox < 8 ? g->ow - ox : 8;
      const cn_lane_mask lo = cn_lanes(2 * n), hi = cn_lanes(2 * n - 8);
      const __m256 grad = swap_middle(cn_load_lanes(dr + ox, cn_lanes(n)));
      const uint32_t word = *picks++;
      const __m256 ga = _mm256_and_ps(lanes_of_bits(word & 0xff), grad);
      const __m256 gb = _mm256_and_ps(lanes_of_bits(word >> 8 & 0xff), grad);
      const __m256 gc = _mm256_and_ps(lanes_of_bits(word >> 16 & 0xff), grad);
      const __m256 gd = _mm256_and_ps(lanes_of_bits(word >> 24), grad);
      /* unpacking the window order gives the pixel order back */
      cn_store_lanes(d0 + 2 * ox, lo, _mm256_unpacklo_ps(ga, gb));
      cn_store_lanes(d0 + 2 * ox + 8, hi, _mm256_unpackhi_ps(ga, gb));
      cn_store_lanes(d1 + 2 * ox, lo, _mm256_unpacklo_ps(gc, gd));
      cn_store_lanes(d1 + 2 * ox + 8, hi, _mm256_unpackhi_ps(gc, gd));
    }
#else
    for (int ox = 0; ox < g->ow; ox++) {
      const uint32_t word = picks[ox / 8] >> lane_of[ox & 7];
      const float grad = dr[ox];
      d0[2 * ox] = keep_if(word & 1, grad);
      d0[2 * ox + 1] = keep_if(word >> 8 & 1, grad);
      d1[2 * ox] = keep_if(word >> 16 & 1, grad);
      d1[2 * ox + 1] = keep_if(word >> 24 & 1, grad);
    }
    picks += (g->ow + 7) / 8;
#endif
    for (int x = 2 * g->ow; x < g->w; x++) d0[x] = d1[x] = 0.0f;
  }
  memset(dxp + (size_t)2 * g->oh * g->w, 0, sizeof(float) * (size_t)(g->h - 2 * g->oh) * g->w);
}

static void avgpool_2x2(const geometry *g, const float *restrict xp, float *restrict yp) {
  for (int oy = 0; oy < g->oh; oy++) {
    const float *restrict r0 = xp + (size_t)2 * oy * g->w, *restrict r1 = r0 + g->w;
    float *restrict yr = yp + (size_t)oy * g->ow;
    for (int ox = 0; ox < g->ow; ox++) yr[ox] = (r0[2 * ox] + r0[2 * ox + 1] + r1[2 * ox] + r1[2 * ox + 1]) * 0.25f;
  }
}

/* dx of one plane: zero, then each window's four pixels get a quarter of
 * its gradient. */
static void avgpool_2x2_backward(const geometry *g, const float *restrict dyp, float *restrict dxp) {
  memset(dxp, 0, sizeof(float) * (size_t)g->h * g->w);
  for (int oy = 0; oy < g->oh; oy++) {
    float *restrict r0 = dxp + (size_t)2 * oy * g->w, *restrict r1 = r0 + g->w;
    const float *restrict dr = dyp + (size_t)oy * g->ow;
    for (int ox = 0; ox < g->ow; ox++) {
      const float share = dr[ox] * 0.25f;
      r0[2 * ox] = r0[2 * ox + 1] = r1[2 * ox] = r1[2 * ox + 1] = share;
    }
  }
}

/* x [n, c, h, w] -> y [n, c, oh, ow], planes [lo, hi) of the n*c */
static void maxpool_forward_part(void *ctx, int t, int lo, int hi) {
  (void)t;
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = j->x + (size_t)pl * in_plane;
    float *yp = j->y + (size_t)pl * out_plane;
    if (is_2x2(&g)) {
      uint32_t *picks = j->training ? (uint32_t *)j->l->state + (size_t)pl * pick_words(&g) : NULL;
      maxpool_2x2(&g, xp, yp, picks, j->l->relu_below);
      continue;
    }
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        int y0, y1, x0, x1;
        window(&g, oy, ox, &y0, &y1, &x0, &x1);
        float mx = xp[y0 * g.w + x0];
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) mx = xp[iy * g.w + ix] > mx ? xp[iy * g.w + ix] : mx;
        yp[oy * g.ow + ox] = mx;
      }
  }
}

/* dy [n, c, oh, ow] -> dx [n, c, h, w], planes [lo, hi) */
static void maxpool_backward_part(void *ctx, int t, int lo, int hi) {
  (void)t;
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = j->x + (size_t)pl * in_plane, *yp = j->y + (size_t)pl * out_plane;
    const float *dyp = j->dy + (size_t)pl * out_plane;
    float *dxp = j->dx + (size_t)pl * in_plane;
    if (is_2x2(&g)) {
      maxpool_2x2_backward(&g, (const uint32_t *)j->l->state + (size_t)pl * pick_words(&g), dyp, dxp);
      continue;
    }
    memset(dxp, 0, sizeof(float) * (size_t)in_plane);
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        int y0, y1, x0, x1, found = 0;
        window(&g, oy, ox, &y0, &y1, &x0, &x1);
        for (int iy = y0; iy < y1 && !found; iy++)
          for (int ix = x0; ix < x1 && !found; ix++)
            if (xp[iy * g.w + ix] == yp[oy * g.ow + ox]) {
              if (!j->l->relu_below || xp[iy * g.w + ix] > 0.0f) dxp[iy * g.w + ix] += dyp[oy * g.ow + ox];
              found = 1;
            }
      }
  }
}

/* x [n, c, h, w] -> y [n, c, oh, ow], planes [lo, hi) */
static void avgpool_forward_part(void *ctx, int t, int lo, int hi) {
  (void)t;
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  const float *x = j->x;
  float *y = j->y;
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = x + (size_t)pl * in_plane;
    float *yp = y + (size_t)pl * out_plane;
    if (is_2x2(&g)) {
      avgpool_2x2(&g, xp, yp);
      continue;
    }
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        int y0, y1, x0, x1;
        window(&g, oy, ox, &y0, &y1, &x0, &x1);
        float s = 0.0f;
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) s += xp[iy * g.w + ix];
        yp[oy * g.ow + ox] = s / (float)((y1 - y0) * (x1 - x0));
      }
  }
}

/* dy [n, c, oh, ow] -> dx [n, c, h, w], planes [lo, hi): each gradient spread over its window. */
static void avgpool_backward_part(void *ctx, int t, int lo, int hi) {
  (void)t;
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  const float *dy = j->dy;
  float *dx = j->dx;
  for (int pl = lo; pl < hi; pl++) {
    float *dxp = dx + (size_t)pl * in_plane;
    const float *dyp = dy + (size_t)pl * out_plane;
    if (is_2x2(&g)) {
      avgpool_2x2_backward(&g, dyp, dxp);
      continue;
    }
    memset(dxp, 0, sizeof(float) * (size_t)in_plane);
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        int y0, y1, x0, x1;
        window(&g, oy, ox, &y0, &y1, &x0, &x1);
        float share = dyp[oy * g.ow + ox] / (float)((y1 - y0) * (x1 - x0));
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) dxp[iy * g.w + ix] += share;
      }
  }
}

static void maxpool_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  cn_job j = {l, x, y, NULL, NULL, n, training, p};
  cn_parallel_items(pool_threads(l, n, p), n * l->in.c, 1, maxpool_forward_part, &j);
}

static void maxpool_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                             const cn_pass *p) {
  if (!dx) return;
  cn_job j = {l, x, (float *)y, dy, dx, n, 1, p};
  cn_parallel_items(pool_threads(l, n, p), n * l->in.c, 1, maxpool_backward_part, &j);
}

static void avgpool_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  cn_job j = {l, x, y, NULL, NULL, n, training, p};
  cn_parallel_items(pool_threads(l, n, p), n * l->in.c, 1, avgpool_forward_part, &j);
}

static void avgpool_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                             const cn_pass *p) {
  if (!dx) return;
  cn_job j = {l, x, (float *)y, dy, dx, n, 1, p};
  cn_parallel_items(pool_threads(l, n, p), n * l->in.c, 1, avgpool_backward_part, &j);
}

const cn_layer_ops cn_maxpool_ops = {cn_layer_no_params, maxpool_state, cn_layer_no_work, cn_layer_no_init,
                                     maxpool_forward, maxpool_backward};
const cn_layer_ops cn_avgpool_ops = {cn_layer_no_params, cn_layer_no_state, cn_layer_no_work, cn_layer_no_init,
                                     avgpool_forward, avgpool_backward};
