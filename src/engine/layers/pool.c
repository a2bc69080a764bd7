/* Max and average pooling over each channel plane. Windows that hang over
 * the edge (`same` padding) use only the pixels inside: max ignores the
 * padding and the average divides by the number of real pixels, as
 * TensorFlow does. Max pooling's backward sends each gradient to the first
 * pixel of its window (row-major) that equals the output: the maximum,
 * found again instead of stored, so the forward loop stays branch-free. */
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

/* One plane: y [oh, ow] = the maximum of each window: max(r1, r0) down
 * each column, then of the right and left columns (_mm256_max_ps (a, b)
 * is a > b ? a : b, so NaNs go the same way in both forms). */
static void maxpool_2x2(const geometry *g, const float *restrict xp, float *restrict yp) {
  for (int oy = 0; oy < g->oh; oy++) {
    const float *restrict r0 = xp + (size_t)2 * oy * g->w, *restrict r1 = r0 + g->w;
    float *restrict yr = yp + (size_t)oy * g->ow;
#if CN_LANE_MASKS
    for (int ox = 0; ox < g->ow; ox += 8) {
      const int n = g->ow - ox < 8 ? g->ow - ox : 8;
      const window_pixels p = load_windows(r0 + 2 * ox, r1 + 2 * ox, n);
      const __m256 left = _mm256_max_ps(p.even1, p.even0), right = _mm256_max_ps(p.odd1, p.odd0);
      cn_store_lanes(yr + ox, cn_lanes(n), swap_middle(_mm256_max_ps(right, left)));
    }
#else
    for (int ox = 0; ox < g->ow; ox++) {
      const float left = r1[2 * ox] > r0[2 * ox] ? r1[2 * ox] : r0[2 * ox];
      const float right = r1[2 * ox + 1] > r0[2 * ox + 1] ? r1[2 * ox + 1] : r0[2 * ox + 1];
      yr[ox] = right > left ? right : left;
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

/* dx of one plane: each window's gradient to its first pixel (row-major)
 * equal to the maximum, zero elsewhere. Every pixel of a window is written
 * once, chosen by masks rather than branches (random data would
 * mispredict them); rows and columns no window covers are zeroed. */
static void maxpool_2x2_backward(const geometry *g, const float *restrict xp, const float *restrict yp,
                                 const float *restrict dyp, float *restrict dxp) {
  for (int oy = 0; oy < g->oh; oy++) {
    const float *restrict r0 = xp + (size_t)2 * oy * g->w, *restrict r1 = r0 + g->w;
    float *restrict d0 = dxp + (size_t)2 * oy * g->w, *restrict d1 = d0 + g->w;
    const float *restrict yr = yp + (size_t)oy * g->ow, *restrict dr = dyp + (size_t)oy * g->ow;
#if CN_LANE_MASKS
    for (int ox = 0; ox < g->ow; ox += 8) {
      const int n = g->ow - ox < 8 ? g->ow - ox : 8;
      const cn_lane_mask windows = cn_lanes(n), lo = cn_lanes(2 * n), hi = cn_lanes(2 * n - 8);
      const window_pixels p = load_windows(r0 + 2 * ox, r1 + 2 * ox, n);
      const __m256 m = swap_middle(cn_load_lanes(yr + ox, windows)), grad = swap_middle(cn_load_lanes(dr + ox, windows));
      const __m256 ia = _mm256_cmp_ps(p.even0, m, _CMP_EQ_OQ);
      const __m256 ib = _mm256_andnot_ps(ia, _mm256_cmp_ps(p.odd0, m, _CMP_EQ_OQ));
      const __m256 ab = _mm256_or_ps(ia, ib);
      const __m256 ic = _mm256_andnot_ps(ab, _mm256_cmp_ps(p.even1, m, _CMP_EQ_OQ));
      const __m256 ga = _mm256_and_ps(ia, grad), gb = _mm256_and_ps(ib, grad), gc = _mm256_and_ps(ic, grad);
      const __m256 gd = _mm256_andnot_ps(_mm256_or_ps(ab, ic), grad);
      /* unpacking the window order gives the pixel order back */
      cn_store_lanes(d0 + 2 * ox, lo, _mm256_unpacklo_ps(ga, gb));
      cn_store_lanes(d0 + 2 * ox + 8, hi, _mm256_unpackhi_ps(ga, gb));
      cn_store_lanes(d1 + 2 * ox, lo, _mm256_unpacklo_ps(gc, gd));
      cn_store_lanes(d1 + 2 * ox + 8, hi, _mm256_unpackhi_ps(gc, gd));
    }
#else
    for (int ox = 0; ox < g->ow; ox++) {
      const float m = yr[ox], grad = dr[ox];
      const int a = r0[2 * ox] == m, b = !a & (r0[2 * ox + 1] == m), c = !a & !b & (r1[2 * ox] == m);
      d0[2 * ox] = keep_if(a, grad);
      d0[2 * ox + 1] = keep_if(b, grad);
      d1[2 * ox] = keep_if(c, grad);
      d1[2 * ox + 1] = keep_if(!a & !b & !c, grad);
    }
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

/* x [n, c, h, w] -> y [n, c, oh, ow] */
static void maxpool_forward_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  int lo, hi;
  cn_split(j->n * j->l->in.c, t, nt, &lo, &hi);
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = j->x + (size_t)pl * in_plane;
    float *yp = j->y + (size_t)pl * out_plane;
    if (is_2x2(&g)) {
      maxpool_2x2(&g, xp, yp);
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

/* dy [n, c, oh, ow] -> dx [n, c, h, w] */
static void maxpool_backward_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  int lo, hi;
  cn_split(j->n * j->l->in.c, t, nt, &lo, &hi);
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = j->x + (size_t)pl * in_plane, *yp = j->y + (size_t)pl * out_plane;
    const float *dyp = j->dy + (size_t)pl * out_plane;
    float *dxp = j->dx + (size_t)pl * in_plane;
    if (is_2x2(&g)) {
      maxpool_2x2_backward(&g, xp, yp, dyp, dxp);
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
              dxp[iy * g.w + ix] += dyp[oy * g.ow + ox];
              found = 1;
            }
      }
  }
}

/* x [n, c, h, w] -> y [n, c, oh, ow] */
static void avgpool_forward_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  const float *x = j->x;
  float *y = j->y;
  int lo, hi;
  cn_split(j->n * j->l->in.c, t, nt, &lo, &hi);
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

/* dy [n, c, oh, ow] -> dx [n, c, h, w]: each gradient spread over its window. */
static void avgpool_backward_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  const geometry g = geo(j->l);
  const int in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  const float *dy = j->dy;
  float *dx = j->dx;
  int lo, hi;
  cn_split(j->n * j->l->in.c, t, nt, &lo, &hi);
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
  cn_parallel(pool_threads(l, n, p), maxpool_forward_part, &j);
}

static void maxpool_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                             const cn_pass *p) {
  if (!dx) return;
  cn_job j = {l, x, (float *)y, dy, dx, n, 1, p};
  cn_parallel(pool_threads(l, n, p), maxpool_backward_part, &j);
}

static void avgpool_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  cn_job j = {l, x, y, NULL, NULL, n, training, p};
  cn_parallel(pool_threads(l, n, p), avgpool_forward_part, &j);
}

static void avgpool_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                             const cn_pass *p) {
  if (!dx) return;
  cn_job j = {l, x, (float *)y, dy, dx, n, 1, p};
  cn_parallel(pool_threads(l, n, p), avgpool_backward_part, &j);
}

const cn_layer_ops cn_maxpool_ops = {cn_layer_no_params, cn_layer_no_state, cn_layer_no_work, cn_layer_no_init,
                                     maxpool_forward, maxpool_backward};
const cn_layer_ops cn_avgpool_ops = {cn_layer_no_params, cn_layer_no_state, cn_layer_no_work, cn_layer_no_init,
                                     avgpool_forward, avgpool_backward};
