/* 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2016): each 2x2 block of outputs ("tile") is
 *   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
 * for its 4x4 input patch d and each 3x3 kernel g, so the products over
 * input channels become 16 independent GEMMs, one per position xi of the
 * 4x4 transformed tile:
 *   M_xi [cout, tiles] = U_xi [cout, cin] . V_xi [cin, tiles],
 * with 16 multiplies per tile and channel pair instead of 36: 2.25 times
 * fewer. The transforms are additions (and halvings for G), done in fp32.
 *
 * Used for the forward pass, the input gradient (the convolution of the
 * padded output gradient with the flipped, transposed kernels) and the
 * weight gradient (in the transformed domain: dU_xi = dM_xi . V_xi^T over
 * the tiles, with dM = A dY A^T the adjoint of the output transform, then
 * dW = G^T dU G). Each output is one fixed sequence of operations
 * (transform, one GEMM chain per xi in order, transform), so results do
 * not depend on the batch size, the images grouped into one call or the
 * thread. */
#include <string.h>

#include "engine/layers/conv.h"

#define XI 16   /* positions of a transformed 4x4 tile */
#define LANES 16 /* tiles of one tile row transformed side by side */
/* Grouping images into one call makes the GEMMs wide enough (tiles of all
 * its images side by side) for small maps; up to this many tiles. */
#define WINO_TILES 256

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

/* One Winograd convolution: input [cin, h, w] with pt rows above and pl
 * columns left of zeros, output [cout, oh, ow] in th x tw tiles; the
 * padded input plane is hp x wp, wide enough for whole groups of LANES
 * tiles. */
typedef struct {
  int cin, cout, h, w, pt, pl, oh, ow;
  int th, tw, hp, wp;
} wino;

static wino wino_of(int cin, int cout, int h, int w, int pt, int pl, int oh, int ow) {
  wino s = {cin, cout, h, w, pt, pl, oh, ow, (oh + 1) / 2, (ow + 1) / 2, 0, 0};
  s.hp = 2 * s.th + 2;
  s.wp = 2 * round_up(s.tw, LANES) + 2;
  return s;
}

static wino forward_of(const cn_conv_geo *g) { return wino_of(g->c, g->f, g->h, g->w, g->pt, g->pl, g->oh, g->ow); }

/* dx [c, h, w] from dy [f, oh, ow] padded by kh-1-pt above, kw-1-pl left. */
static wino backward_of(const cn_conv_geo *g) {
  return wino_of(g->f, g->c, g->oh, g->ow, 2 - g->pt, 2 - g->pl, g->h, g->w);
}

int cn_wino_fits(const cn_conv_geo *g) {
  return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->c >= CN_WINO_MIN_CHANNELS &&
         g->f >= CN_WINO_MIN_CHANNELS;
}

int cn_wino_images(const cn_conv_geo *g) {
  const wino s = forward_of(g);
  int n = WINO_TILES / (s.th * s.tw);
  return n < 1 ? 1 : n > CN_WINO_MAX_IMAGES ? CN_WINO_MAX_IMAGES : n;
}

size_t cn_wino_weights_floats(const cn_conv_geo *g) { return (size_t)XI * g->f * g->c; }

/* Tiles of nimg images, and the row of V and M that holds them: whole
 * 16-column panels of the GEMM (so rows start on cache lines and B is
 * read in place), with room for a whole group of LANES past the last tile
 * (the input transform stores whole groups: what a group writes past its
 * tile row is written again by the next). */
static int tiles_of(const wino *s, int nimg) { return nimg * s->th * s->tw; }
static int row_of(const wino *s, int nimg) { return round_up(tiles_of(s, nimg) + LANES - 1, CN_GEMM_NR); }

/* Floats from one xi plane of V or M (channels rows of row floats) to
 * the next: one cache line more than the plane, so that the 16 planes a
 * transform reads or writes at once do not fall in one set of the L1
 * cache (a plane is often a multiple of 4 KiB: they did, and the input
 * transform ran 3 times slower). */
static size_t plane_stride(int channels, int row) { return (size_t)channels * row + 16; }

/* Per-thread scratch: padded inputs, V, M, GEMM scratch. */
static size_t work_of(const wino *s, int nimg, size_t off[4]) {
  const int row = row_of(s, nimg);
  off[0] = 0;
  off[1] = off[0] + cn_round_floats((size_t)nimg * s->cin * s->hp * s->wp);
  off[2] = off[1] + cn_round_floats(XI * plane_stride(s->cin, row));
  off[3] = off[2] + cn_round_floats(XI * plane_stride(s->cout, row));
  return off[3] + cn_round_floats(cn_gemm_scratch_floats());
}

size_t cn_wino_work_floats(const cn_conv_geo *g) {
  size_t off[4];
  const wino f = forward_of(g), b = backward_of(g);
  const int n = cn_wino_images(g);
  size_t a = work_of(&f, n, off), c = work_of(&b, n, off);
  return a > c ? a : c;
}

/* src [cin, h, w] -> xp [cin, hp, wp], zeros around */
static void pad_input(const wino *s, const float *src, float *xp) {
  for (int c = 0; c < s->cin; c++) {
    float *plane = xp + (size_t)c * s->hp * s->wp;
    memset(plane, 0, sizeof(float) * (size_t)s->hp * s->wp);
    for (int y = 0; y < s->h; y++) {
      const int py = s->pt + y;
      if (py < 0 || py >= s->hp) continue;
      int x0 = 0, x1 = s->w; /* the columns that land inside the plane */
      if (s->pl < 0) x0 = -s->pl;
      if (s->pl + x1 > s->wp) x1 = s->wp - s->pl;
      if (x1 > x0)
        memcpy(plane + (size_t)py * s->wp + s->pl + x0, src + ((size_t)c * s->h + y) * s->w + x0,
               sizeof(float) * (size_t)(x1 - x0));
    }
  }
}

/* The transforms take LANES tiles of a tile row side by side. With
 * AVX-512 in vectors (a 4x4 patch's columns j of 16 tiles are the even or
 * odd floats of two 16-float loads); otherwise the same operations on
 * arrays, in the same order, so both give the same bits. */
#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 lanes;
static inline lanes add(lanes a, lanes b) { return _mm512_add_ps(a, b); }
static inline lanes sub(lanes a, lanes b) { return _mm512_sub_ps(a, b); }
static inline lanes load(const float *p) { return _mm512_loadu_ps(p); }
static inline void store(float *p, lanes v) { _mm512_storeu_ps(p, v); }
static inline lanes zero(void) { return _mm512_setzero_ps(); }
static inline __mmask16 first(int n) { return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1); }
static inline void store_first(float *p, int n, lanes v) { _mm512_mask_storeu_ps(p, first(n), v); }
/* the even and odd floats of a then b (32 floats) */
static inline void split_even_odd(lanes a, lanes b, lanes *even_out, lanes *odd_out) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  *even_out = _mm512_permutex2var_ps(a, even, b);
  *odd_out = _mm512_permutex2var_ps(a, odd, b);
}
/* floats 2q + j of p[0..2*LANES+1], q = 0..15, j = 0..3 */
static inline void columns_of(const float *p, lanes d[4]) {
  split_even_odd(load(p), load(p + 16), &d[0], &d[1]);
  split_even_odd(load(p + 2), load(p + 18), &d[2], &d[3]);
}
/* p[2q] and p[2q+1] for q = 0..15, of the first n floats (zeros after) */
static inline void deinterleave(const float *p, int n, lanes *even_out, lanes *odd_out) {
  split_even_odd(_mm512_maskz_loadu_ps(first(n), p), _mm512_maskz_loadu_ps(first(n - 16), p + 16), even_out, odd_out);
}
/* y0 [q] and y1 [q] -> p[2q], p[2q+1] for the first n floats */
static inline void store_interleaved(float *p, int n, lanes y0, lanes y1) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  store_first(p, n, _mm512_permutex2var_ps(y0, lo, y1));
  if (n > 16) store_first(p + 16, n - 16, _mm512_permutex2var_ps(y0, hi, y1));
}
static inline lanes broadcast(float v) { return _mm512_set1_ps(v); }
static inline lanes relu_of(lanes v) { return _mm512_max_ps(v, _mm512_setzero_ps()); }
static inline lanes half(lanes v) { return _mm512_mul_ps(v, _mm512_set1_ps(0.5f)); }
/* p[q * stride] for the first n lanes q, zeros after */
static inline lanes gather(const float *p, int stride, int n) {
  const __m512i at = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                        _mm512_set1_epi32(stride));
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), first(n), at, p, 4);
}
#else
typedef struct {
  float v[LANES];
} lanes;
static inline lanes add(lanes a, lanes b) {
  for (int q = 0; q < LANES; q++) a.v[q] += b.v[q];
  return a;
}
static inline lanes sub(lanes a, lanes b) {
  for (int q = 0; q < LANES; q++) a.v[q] -= b.v[q];
  return a;
}
static inline lanes load(const float *p) {
  lanes r;
  memcpy(r.v, p, sizeof r.v);
  return r;
}
static inline void store(float *p, lanes v) { memcpy(p, v.v, sizeof v.v); }
static inline lanes zero(void) {
  lanes r = {{0}};
  return r;
}
static inline void store_first(float *p, int n, lanes v) { memcpy(p, v.v, sizeof(float) * (size_t)(n < LANES ? n : LANES)); }
static inline void columns_of(const float *p, lanes d[4]) {
  for (int j = 0; j < 4; j++)
    for (int q = 0; q < LANES; q++) d[j].v[q] = p[2 * q + j];
}
static inline void deinterleave(const float *p, int n, lanes *even_out, lanes *odd_out) {
  for (int q = 0; q < LANES; q++) {
    even_out->v[q] = 2 * q < n ? p[2 * q] : 0.0f;
    odd_out->v[q] = 2 * q + 1 < n ? p[2 * q + 1] : 0.0f;
  }
}
static inline void store_interleaved(float *p, int n, lanes y0, lanes y1) {
  for (int q = 0; 2 * q < n; q++) {
    p[2 * q] = y0.v[q];
    if (2 * q + 1 < n) p[2 * q + 1] = y1.v[q];
  }
}
static inline lanes broadcast(float v) {
  lanes r;
  for (int q = 0; q < LANES; q++) r.v[q] = v;
  return r;
}
static inline lanes half(lanes a) {
  for (int q = 0; q < LANES; q++) a.v[q] *= 0.5f;
  return a;
}
static inline lanes gather(const float *p, int stride, int n) {
  lanes r;
  for (int q = 0; q < LANES; q++) r.v[q] = q < n ? p[(size_t)q * stride] : 0.0f;
  return r;
}
/* max(x, 0) as the vector form: 0 for NaN and -0 */
static inline lanes relu_of(lanes a) {
  for (int q = 0; q < LANES; q++) a.v[q] = a.v[q] > 0.0f ? a.v[q] : 0.0f;
  return a;
}
#endif

/* u_xi = (G g G^T)_xi for LANES 3x3 kernels g side by side (the first n
 * of them, stride floats apart, flipped when `flip`), written to
 * u + xi * plane; G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
static void kernel_transform(const float *k, int stride, int n, int flip, float *u, size_t plane) {
  lanes g[9], h[4][3];
  for (int e = 0; e < 9; e++) g[e] = gather(k + (flip ? 8 - e : e), stride, n);
  for (int j = 0; j < 3; j++) { /* G g, column j */
    h[0][j] = g[j];
    h[1][j] = half(add(add(g[j], g[3 + j]), g[6 + j]));
    h[2][j] = half(add(sub(g[j], g[3 + j]), g[6 + j]));
    h[3][j] = g[6 + j];
  }
  for (int i = 0; i < 4; i++) { /* (G g) G^T, row i */
    store_first(u + (4 * i + 0) * plane, n, h[i][0]);
    store_first(u + (4 * i + 1) * plane, n, half(add(add(h[i][0], h[i][1]), h[i][2])));
    store_first(u + (4 * i + 2) * plane, n, half(add(sub(h[i][0], h[i][1]), h[i][2])));
    store_first(u + (4 * i + 3) * plane, n, h[i][2]);
  }
}

void cn_wino_weights(const cn_conv_geo *g, const float *w, int for_dx, int lo, int hi, float *u) {
  /* forward: U_xi [f, c] of w [f, c], rows f; input gradient: U_xi [c, f]
   * of the flipped kernels, rows c */
  const int cols = for_dx ? g->f : g->c;
  const int stride = for_dx ? g->c * 9 : 9; /* from one kernel of a row to the next */
  const size_t plane = (size_t)g->f * g->c;
  for (int r = lo; r < hi; r++)
    for (int c0 = 0; c0 < cols; c0 += LANES) {
      const float *k = for_dx ? w + ((size_t)c0 * g->c + r) * 9 : w + ((size_t)r * g->c + c0) * 9;
      kernel_transform(k, stride, cols - c0 < LANES ? cols - c0 : LANES, for_dx, u + (size_t)r * cols + c0, plane);
    }
}

/* V_xi [c, t] = (B^T d B)_xi for the tiles t of one padded plane xp,
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; v points at tile 0 of
 * the plane's channel in V_0, xi_stride apart. A tile row's last two
 * input rows are the next one's first two: their columns are read once,
 * going down a column of LANES-tile groups. The groups go right to left:
 * what the last group of a tile row stores past the row (whole vectors,
 * see row_of) lands on the next row's first group, which comes later. */
static void input_transform(const wino *s, const float *restrict xp, float *restrict v, size_t xi_stride) {
  for (int t0 = (s->tw - 1) / LANES * LANES; t0 >= 0; t0 -= LANES) {
    lanes d[4][4], bt[4][4];
    for (int i = 0; i < 2; i++) columns_of(xp + (size_t)i * s->wp + 2 * t0, d[i]);
    for (int ty = 0; ty < s->th; ty++) {
      for (int i = 2; i < 4; i++) columns_of(xp + (size_t)(2 * ty + i) * s->wp + 2 * t0, d[i]);
      for (int j = 0; j < 4; j++) { /* B^T d, column j */
        bt[0][j] = sub(d[0][j], d[2][j]);
        bt[1][j] = add(d[1][j], d[2][j]);
        bt[2][j] = sub(d[2][j], d[1][j]);
        bt[3][j] = sub(d[1][j], d[3][j]);
      }
      float *restrict dst = v + (size_t)ty * s->tw + t0;
      for (int i = 0; i < 4; i++) { /* (B^T d) B, row i */
        store(dst + (4 * i + 0) * xi_stride, sub(bt[i][0], bt[i][2]));
        store(dst + (4 * i + 1) * xi_stride, add(bt[i][1], bt[i][2]));
        store(dst + (4 * i + 2) * xi_stride, sub(bt[i][2], bt[i][1]));
        store(dst + (4 * i + 3) * xi_stride, sub(bt[i][1], bt[i][3]));
      }
      for (int j = 0; j < 4; j++) {
        d[0][j] = d[2][j];
        d[1][j] = d[3][j];
      }
    }
  }
}

/* out [oh, ow] of one output channel = act((A^T m A) + bias) for the tiles
 * of one image, A^T = [1 1 1 0; 0 1 -1 -1]; m points at the channel's tile
 * 0 in M_0, xi_stride apart. */
static void output_transform(const wino *s, const float *restrict m, size_t xi_stride, float bias, int relu,
                             float *restrict out) {
  const lanes b = broadcast(bias);
  for (int ty = 0; ty < s->th; ty++)
    for (int t0 = 0; t0 < s->tw; t0 += LANES) {
      const int nl = s->tw - t0 < LANES ? s->tw - t0 : LANES;
      const float *restrict src = m + (size_t)ty * s->tw + t0;
      lanes r[2][4];
      for (int j = 0; j < 4; j++) { /* A^T m, column j */
        const lanes m0 = load(src + j * xi_stride), m1 = load(src + (4 + j) * xi_stride);
        const lanes m2 = load(src + (8 + j) * xi_stride), m3 = load(src + (12 + j) * xi_stride);
        r[0][j] = add(add(m0, m1), m2);
        r[1][j] = sub(sub(m1, m2), m3);
      }
      const int x0 = 2 * t0, cols = s->ow - x0 < 2 * nl ? s->ow - x0 : 2 * nl;
      for (int i = 0; i < 2 && 2 * ty + i < s->oh; i++) { /* (A^T m) A, row i */
        lanes y0 = add(add(add(r[i][0], r[i][1]), r[i][2]), b);
        lanes y1 = add(sub(sub(r[i][1], r[i][2]), r[i][3]), b);
        if (relu) {
          y0 = relu_of(y0);
          y1 = relu_of(y1);
        }
        store_interleaved(out + (size_t)(2 * ty + i) * s->ow + x0, cols, y0, y1);
      }
    }
}

/* V_xi for the nimg images of src [nimg][cin, h, w] (padded into xp) */
static void input_tiles(const wino *s, const float *src, int nimg, int row, float *xp, float *v) {
  const size_t in_size = (size_t)s->cin * s->h * s->w, plane = (size_t)s->hp * s->wp;
  for (int i = 0; i < nimg; i++) {
    float *xpi = xp + (size_t)i * s->cin * plane;
    pad_input(s, src + i * in_size, xpi);
    for (int c = 0; c < s->cin; c++)
      input_transform(s, xpi + c * plane, v + (size_t)c * row + (size_t)i * s->th * s->tw, plane_stride(s->cin, row));
  }
}

/* dst [nimg][cout, oh, ow] = act(conv(src [nimg][cin, h, w]) + bias) with
 * the transformed kernels u [XI][cout, cin]; bias may be NULL. */
static void wino_conv(const wino *s, const float *u, const float *bias, int relu, const float *src, int nimg,
                      float *dst, float *work) {
  size_t off[4];
  work_of(s, nimg, off);
  float *xp = work + off[0], *v = work + off[1], *m = work + off[2], *scratch = work + off[3];
  const int tiles = tiles_of(s, nimg), row = row_of(s, nimg), per_image = s->th * s->tw;
  const size_t out_size = (size_t)s->cout * s->oh * s->ow;
  const size_t v_stride = plane_stride(s->cin, row), m_stride = plane_stride(s->cout, row);
  input_tiles(s, src, nimg, row, xp, v);
  for (int xi = 0; xi < XI; xi++)
    cn_gemm(s->cout, tiles, s->cin, cn_mat(u + (size_t)xi * s->cout * s->cin, s->cin, 1),
            cn_mat(v + xi * v_stride, row, 1), m + xi * m_stride, row, 0, NULL, scratch);
  for (int i = 0; i < nimg; i++)
    for (int f = 0; f < s->cout; f++)
      output_transform(s, m + (size_t)f * row + (size_t)i * per_image, m_stride, bias ? bias[f] : 0.0f, relu,
                       dst + i * out_size + (size_t)f * s->oh * s->ow);
}

/* dM_xi [t] = (A dY A^T)_xi for the tiles t of one output channel of one
 * image, dy [oh, ow] (zero past its edges): the adjoint of
 * output_transform; dm points at the channel's tile 0 in dM_0. */
static void output_gradient_transform(const wino *s, const float *restrict dy, float *restrict dm, size_t xi_stride) {
  for (int ty = 0; ty < s->th; ty++)
    for (int t0 = 0; t0 < s->tw; t0 += LANES) {
      const int x0 = 2 * t0, cols = s->ow - x0;
      lanes y[2][2]; /* y[i][j]: dY (i, j) of each tile */
      for (int i = 0; i < 2; i++)
        if (2 * ty + i < s->oh)
          deinterleave(dy + (size_t)(2 * ty + i) * s->ow + x0, cols, &y[i][0], &y[i][1]);
        else
          y[i][0] = y[i][1] = zero();
      lanes r[4][2];
      for (int j = 0; j < 2; j++) { /* A dY, column j */
        const lanes a = y[0][j], b = y[1][j];
        r[0][j] = a;
        r[1][j] = add(a, b);
        r[2][j] = sub(a, b);
        r[3][j] = sub(zero(), b);
      }
      float *restrict dst = dm + (size_t)ty * s->tw + t0;
      for (int i = 0; i < 4; i++) { /* (A dY) A^T, row i */
        const lanes a = r[i][0], b = r[i][1];
        store(dst + (4 * i + 0) * xi_stride, a);
        store(dst + (4 * i + 1) * xi_stride, add(a, b));
        store(dst + (4 * i + 2) * xi_stride, sub(a, b));
        store(dst + (4 * i + 3) * xi_stride, sub(zero(), b));
      }
    }
}

void cn_wino_backward_dw(const cn_conv_geo *g, const float *x, const float *dy, int nimg, int accumulate, float *du,
                         float *work) {
  const wino s = forward_of(g);
  size_t off[4];
  work_of(&s, nimg, off);
  float *xp = work + off[0], *v = work + off[1], *dm = work + off[2], *scratch = work + off[3];
  const int tiles = tiles_of(&s, nimg), row = row_of(&s, nimg);
  const size_t v_stride = plane_stride(s.cin, row), m_stride = plane_stride(s.cout, row);
  const size_t out_size = (size_t)s.cout * s.oh * s.ow;
  input_tiles(&s, x, nimg, row, xp, v);
  for (int i = 0; i < nimg; i++)
    for (int f = 0; f < s.cout; f++)
      output_gradient_transform(&s, dy + i * out_size + (size_t)f * s.oh * s.ow,
                                dm + (size_t)f * row + (size_t)i * s.th * s.tw, m_stride);
  /* dU_xi [f, c] (+)= dM_xi [f, tiles] . V_xi [c, tiles]^T */
  for (int xi = 0; xi < XI; xi++) {
    const cn_matrix vt = cn_mat(v + xi * v_stride, 1, row);
    cn_gemm(s.cout, s.cin, tiles, cn_mat(dm + xi * m_stride, row, 1), vt, du + (size_t)xi * s.cout * s.cin, s.cin,
            accumulate, NULL, scratch);
  }
}

void cn_wino_weight_gradient(const cn_conv_geo *g, const float *du, int lo, int hi, float *dw) {
  /* dg = G^T dU G, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1], for
   * LANES input channels c side by side; dw [f, c*9 + ky*3 + kx] */
  const size_t plane = (size_t)g->f * g->c;
  for (int f = lo; f < hi; f++)
    for (int c0 = 0; c0 < g->c; c0 += LANES) {
      const int n = g->c - c0 < LANES ? g->c - c0 : LANES;
      lanes u[4][4], t[3][4];
      for (int xi = 0; xi < XI; xi++) u[xi / 4][xi % 4] = gather(du + xi * plane + (size_t)f * g->c + c0, 1, n);
      for (int j = 0; j < 4; j++) { /* G^T dU, column j */
        const lanes mid = half(add(u[1][j], u[2][j]));
        t[0][j] = add(u[0][j], mid);
        t[1][j] = half(sub(u[1][j], u[2][j]));
        t[2][j] = add(mid, u[3][j]);
      }
      for (int i = 0; i < 3; i++) { /* (G^T dU) G, row i */
        const lanes mid = half(add(t[i][1], t[i][2]));
        float out[3][LANES];
        store(out[0], add(t[i][0], mid));
        store(out[1], half(sub(t[i][1], t[i][2])));
        store(out[2], add(mid, t[i][3]));
        float *restrict row = dw + ((size_t)f * g->c + c0) * 9 + i * 3;
        for (int q = 0; q < n; q++)
          for (int kx = 0; kx < 3; kx++) row[q * 9 + kx] = out[kx][q];
      }
    }
}

void cn_wino_forward(const cn_conv_geo *g, const float *u, const float *bias, int relu, const float *x, int nimg,
                     float *y, float *work) {
  const wino s = forward_of(g);
  wino_conv(&s, u, bias, relu, x, nimg, y, work);
}

void cn_wino_backward_dx(const cn_conv_geo *g, const float *u_dx, const float *dy, int nimg, float *dx, float *work) {
  const wino s = backward_of(g);
  wino_conv(&s, u_dx, NULL, 0, dy, nimg, dx, work);
}
