/* 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2016): each 4x4 block of outputs ("tile") is
 *   Y = A^T [ U (.) V ] A,   U = G' g G'^T,   V = D (B^T d B) D
 * for its 6x6 input patch d and each 3x3 kernel g, so the products over
 * input channels become 36 independent GEMMs, one per position xi of the
 * 6x6 transformed tile:
 *   M_xi [tiles, cout] = V_xi [tiles, cin] . U_xi [cin, cout],
 * with 36 multiplies per tile and channel pair instead of 144: 4 times
 * fewer (3.06 on 14x14 and 7x7 maps, whose last tile is partly outside).
 * Lavin's G is split as D G', D = diag(1/4, -1/6, -1/6, 1/24, 1/24, 1),
 * and D moved onto V: then every transform multiplies by powers of two
 * only (exact), except V's last step, a multiply whose result is stored.
 *
 * Channels last: an image is transposed to [h, w, channels] on the way in
 * and its output back on the way out, so each transform takes 16 channels
 * of one tile side by side (the vector lanes are full whatever the map
 * size) and both GEMM operands are read in place.
 *
 * Used for the forward pass, the input gradient (the convolution of the
 * padded output gradient with the flipped, transposed kernels) and the
 * weight gradient, in the transformed domain: dU'_xi = dM_xi^T . V_xi over
 * the tiles, with dM = A dY A^T the adjoint of the output transform; since
 * V carries D, this is the gradient of U' = G' g G'^T, and dW = G'^T dU' G'.
 * Each output is one fixed sequence of operations (transform, one GEMM
 * chain per xi in order, transform), so results do not depend on the batch
 * size, the images grouped into one call or the thread. */
#include <string.h>

#include "engine/lanes.h"
#include "engine/layers/conv.h"

#define XI 36    /* positions of a transformed 6x6 tile */
#define LANES 16 /* channels transformed side by side */
/* Grouping images into one call makes the GEMMs taller (tiles of all its
 * images) for small maps; up to this many tiles, so that V and M stay
 * about the size of the L2 cache. */
#define WINO_TILES 64

static int round_up(int n, int m) { return (n + m - 1) / m * m; }
static int clamp8(int n) { return n < 0 ? 0 : n > 8 ? 8 : n; }

/* One Winograd convolution: input [cin, h, w] with pt rows above and pl
 * columns left of zeros, output [cout, oh, ow] in th x tw tiles; the
 * padded input is hp x wp pixels. Channels-last buffers hold cpad (input)
 * or fpad (output) floats a pixel: whole vectors, zeros past the channels. */
typedef struct {
  int cin, cout, h, w, pt, pl, oh, ow;
  int th, tw, hp, wp, cpad, fpad;
} wino;

static wino wino_of(int cin, int cout, int h, int w, int pt, int pl, int oh, int ow) {
  wino s = {cin, cout, h, w, pt, pl, oh, ow, (oh + 3) / 4, (ow + 3) / 4, 0, 0, round_up(cin, LANES),
            round_up(cout, LANES)};
  s.hp = 4 * s.th + 2;
  s.wp = 4 * s.tw + 2;
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

/* Forward U' [XI][c][fpad], input gradient U' [XI][f][cpad]. */
size_t cn_wino_weights_floats(const cn_conv_geo *g) {
  const size_t fwd = (size_t)g->c * round_up(g->f, LANES), bwd = (size_t)g->f * round_up(g->c, LANES);
  return XI * (fwd > bwd ? fwd : bwd);
}

size_t cn_wino_gradient_floats(const cn_conv_geo *g) { return (size_t)XI * g->f * round_up(g->c, LANES); }

static int tiles_of(const wino *s, int nimg) { return nimg * s->th * s->tw; }

/* Floats from one xi plane of V or M ([tiles][cpad] or [tiles][fpad]) to
 * the next: one cache line more than the plane, so that the 36 planes a
 * transform reads or writes at once do not fall in one set of the L1
 * cache (a plane is often a multiple of 4 KiB). */
static size_t plane_stride(int tiles, int channels) { return (size_t)tiles * channels + 16; }

/* Per-thread scratch: one image's padded channels-last input, V, M, one
 * image's channels-last output (or output gradient), GEMM scratch. */
static size_t work_of(const wino *s, int nimg, size_t off[5]) {
  const int tiles = tiles_of(s, nimg);
  off[0] = 0;
  off[1] = off[0] + cn_round_floats((size_t)s->hp * s->wp * s->cpad);
  off[2] = off[1] + cn_round_floats(XI * plane_stride(tiles, s->cpad));
  off[3] = off[2] + cn_round_floats(XI * plane_stride(tiles, s->fpad));
  off[4] = off[3] + cn_round_floats((size_t)16 * s->th * s->tw * s->fpad);
  return off[4] + cn_round_floats(cn_gemm_scratch_floats());
}

size_t cn_wino_work_floats(const cn_conv_geo *g) {
  size_t off[5];
  const wino f = forward_of(g), b = backward_of(g);
  const int n = cn_wino_images(g);
  size_t a = work_of(&f, n, off), c = work_of(&b, n, off);
  return a > c ? a : c;
}

/* ---- channels first <-> channels last ---- */

/* An up-to-8x8 block transposed: reads `rows` rows of `cols` floats (row r
 * at src + r*lds), writes `cols` rows of `width` floats (row k at
 * dst + k*ldd), element r of row k being src[r][k], zero for r >= rows. */
static void transpose_block(const float *src, ptrdiff_t lds, int rows, int cols, float *dst, ptrdiff_t ldd,
                            int width) {
#if CN_LANE_MASKS
  const cn_lane_mask in = cn_lanes(cols), out = cn_lanes(width);
  __m256 r[8];
  for (int q = 0; q < 8; q++) r[q] = q < rows ? cn_load_lanes(src + q * lds, in) : _mm256_setzero_ps();
  cn_transpose8(r);
  for (int k = 0; k < cols; k++)
    if (width == 8)
      _mm256_storeu_ps(dst + k * ldd, r[k]);
    else
      cn_store_lanes(dst + k * ldd, out, r[k]);
#else
  for (int k = 0; k < cols; k++)
    for (int q = 0; q < width; q++) dst[k * ldd + q] = q < rows ? src[q * lds + k] : 0.0f;
#endif
}

/* src [channels, h, w] -> dst [hp, wp, cstride]: the image at row pt,
 * column pl, zeros around it and in the channels past `channels`. Eight
 * channels at a time, row after row: eight streams the prefetcher
 * follows (all channels at once, it did not). */
static void to_channels_last(const float *src, int channels, int h, int w, int pt, int pl, int hp, int wp,
                             int cstride, float *dst) {
  const size_t row = (size_t)wp * cstride;
  memset(dst, 0, sizeof(float) * pt * row);
  memset(dst + (pt + h) * row, 0, sizeof(float) * (hp - pt - h) * row);
  for (int y = 0; y < h; y++) {
    float *line = dst + (pt + y) * row;
    memset(line, 0, sizeof(float) * (size_t)pl * cstride);
    memset(line + (size_t)(pl + w) * cstride, 0, sizeof(float) * (size_t)(wp - pl - w) * cstride);
  }
  for (int c0 = 0; c0 < cstride; c0 += 8) {
    const int rows = clamp8(channels - c0);
    for (int y = 0; y < h; y++)
      for (int x0 = 0; x0 < w; x0 += 8)
        transpose_block(src + ((size_t)(rows ? c0 : 0) * h + y) * w + x0, (ptrdiff_t)h * w, rows, clamp8(w - x0),
                        dst + ((size_t)(pt + y) * wp + pl + x0) * cstride + c0, cstride, 8);
  }
}

/* dst [channels, h, w] = the pixels (y, x), y < h, x < w, of src, whose
 * rows are row floats apart and pixels cstride floats apart; eight
 * channels at a time, as above. */
static void from_channels_last(const float *src, size_t row, int cstride, int channels, int h, int w, float *dst) {
  for (int c0 = 0; c0 < channels; c0 += 8)
    for (int y = 0; y < h; y++)
      for (int x0 = 0; x0 < w; x0 += 8) {
        const int pixels = clamp8(w - x0);
        transpose_block(src + y * row + (size_t)x0 * cstride + c0, cstride, pixels, clamp8(channels - c0),
                        dst + ((size_t)c0 * h + y) * w + x0, (ptrdiff_t)h * w, pixels);
      }
}

/* ---- the transforms, on LANES channels side by side ----
 * With AVX-512 in vectors, otherwise the same operations on arrays, in the
 * same order. Every multiply but V's scaling is by a power of two, so a
 * compiler that fuses a multiply and an add gives the same bits. */
#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 lanes;
static inline lanes add(lanes a, lanes b) { return _mm512_add_ps(a, b); }
static inline lanes sub(lanes a, lanes b) { return _mm512_sub_ps(a, b); }
/* a * k + b, k a power of two (so the product is exact) */
static inline lanes mul_add(lanes a, float k, lanes b) { return _mm512_fmadd_ps(a, _mm512_set1_ps(k), b); }
static inline lanes scale(lanes a, float k) { return _mm512_mul_ps(a, _mm512_set1_ps(k)); }
static inline lanes load(const float *p) { return _mm512_loadu_ps(p); }
static inline void store(float *p, lanes v) { _mm512_storeu_ps(p, v); }
static inline lanes zero(void) { return _mm512_setzero_ps(); }
static inline __mmask16 first(int n) { return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1); }
/* the first n floats of p, zeros after */
static inline lanes load_first(const float *p, int n) { return _mm512_maskz_loadu_ps(first(n), p); }
static inline lanes relu_of(lanes v) { return _mm512_max_ps(v, _mm512_setzero_ps()); }
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
static inline lanes mul_add(lanes a, float k, lanes b) {
  for (int q = 0; q < LANES; q++) a.v[q] = a.v[q] * k + b.v[q];
  return a;
}
static inline lanes scale(lanes a, float k) {
  for (int q = 0; q < LANES; q++) a.v[q] *= k;
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
static inline lanes load_first(const float *p, int n) {
  lanes r;
  for (int q = 0; q < LANES; q++) r.v[q] = q < n ? p[q] : 0.0f;
  return r;
}
/* max(x, 0) as the vector form: 0 for NaN and -0 */
static inline lanes relu_of(lanes a) {
  for (int q = 0; q < LANES; q++) a.v[q] = a.v[q] > 0.0f ? a.v[q] : 0.0f;
  return a;
}
static inline lanes gather(const float *p, int stride, int n) {
  lanes r;
  for (int q = 0; q < LANES; q++) r.v[q] = q < n ? p[(size_t)q * stride] : 0.0f;
  return r;
}
#endif

/* The one-dimensional transforms; the 2-D ones apply them to the columns
 * of a tile, then to the rows of the result. */

/* r = B^T d, B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *                   0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1] */
static inline void bt6(const lanes d[6], lanes r[6]) {
  const lanes a = mul_add(d[2], -4.0f, d[4]), b = mul_add(d[1], -4.0f, d[3]);
  const lanes c = sub(d[4], d[2]), e = sub(d[3], d[1]);
  r[0] = mul_add(sub(d[0], d[2]), 4.0f, c);
  r[1] = add(a, b);
  r[2] = sub(a, b);
  r[3] = mul_add(e, 2.0f, c);
  r[4] = mul_add(e, -2.0f, c);
  r[5] = mul_add(sub(d[1], d[3]), 4.0f, sub(d[5], d[3]));
}

/* y = A^T m, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] */
static inline void at6(const lanes m[6], lanes y[4]) {
  const lanes p = add(m[1], m[2]), q = sub(m[1], m[2]), r = add(m[3], m[4]), s = sub(m[3], m[4]);
  y[0] = add(add(m[0], p), r);
  y[1] = mul_add(s, 2.0f, q);
  y[2] = mul_add(r, 4.0f, p);
  y[3] = add(mul_add(s, 8.0f, q), m[5]);
}

/* m = A y, the adjoint of at6 */
static inline void a4(const lanes y[4], lanes m[6]) {
  const lanes e = add(y[0], y[2]), o = add(y[1], y[3]);
  const lanes e4 = mul_add(y[2], 4.0f, y[0]), o4 = mul_add(y[3], 4.0f, y[1]);
  m[0] = y[0];
  m[1] = add(e, o);
  m[2] = sub(e, o);
  m[3] = mul_add(o4, 2.0f, e4);
  m[4] = mul_add(o4, -2.0f, e4);
  m[5] = y[3];
}

/* h = G' g, G' = [1 0 0; 1 1 1; 1 -1 1; 1 2 4; 1 -2 4; 0 0 1] */
static inline void gp3(const lanes g[3], lanes h[6]) {
  const lanes e = add(g[0], g[2]), e4 = mul_add(g[2], 4.0f, g[0]);
  h[0] = g[0];
  h[1] = add(e, g[1]);
  h[2] = sub(e, g[1]);
  h[3] = mul_add(g[1], 2.0f, e4);
  h[4] = mul_add(g[1], -2.0f, e4);
  h[5] = g[2];
}

/* o = G'^T u, the adjoint of gp3 */
static inline void gpt6(const lanes u[6], lanes o[3]) {
  const lanes p = add(u[1], u[2]), q = sub(u[1], u[2]), r = add(u[3], u[4]), s = sub(u[3], u[4]);
  o[0] = add(add(u[0], p), r);
  o[1] = mul_add(s, 2.0f, q);
  o[2] = add(mul_add(r, 4.0f, p), u[5]);
}

/* D_i D_j, the scale of V's position xi = 6i + j */
#define D0 (1.0 / 4)
#define D1 (-1.0 / 6)
#define D3 (1.0 / 24)
#define ROW_OF(d) (float)((d) * D0), (float)((d) * D1), (float)((d) * D1), (float)((d) * D3), (float)((d) * D3), (float)(d)
static const float v_scale[XI] = {ROW_OF(D0), ROW_OF(D1), ROW_OF(D1), ROW_OF(D3), ROW_OF(D3), ROW_OF(1.0)};

/* U'_xi = (G' g G'^T)_xi for LANES 3x3 kernels g side by side (the first
 * n of them, stride floats apart, flipped when `flip`), written to
 * u + xi * plane, zeros in the lanes past n. */
static void kernel_transform(const float *k, int stride, int n, int flip, float *u, size_t plane) {
  lanes g[3][3], h[6][3], col[3], r[6];
  for (int e = 0; e < 9; e++) g[e / 3][e % 3] = gather(k + (flip ? 8 - e : e), stride, n);
  for (int j = 0; j < 3; j++) { /* G' g, column j */
    for (int i = 0; i < 3; i++) col[i] = g[i][j];
    gp3(col, r);
    for (int i = 0; i < 6; i++) h[i][j] = r[i];
  }
  for (int i = 0; i < 6; i++) { /* (G' g) G'^T, row i */
    gp3(h[i], r);
    for (int j = 0; j < 6; j++) store(u + (6 * i + j) * plane, r[j]);
  }
}

void cn_wino_weights(const cn_conv_geo *g, const float *w, int for_dx, int lo, int hi, float *u) {
  /* forward: U' [XI][c][fpad] of w [f, c], lanes over f; input gradient:
   * U' [XI][f][cpad] of the flipped kernels, lanes over c */
  const int cols = for_dx ? g->c : g->f, ld = round_up(cols, LANES);
  const int stride = for_dx ? 9 : g->c * 9; /* from one kernel of a row to the next */
  const size_t plane = (size_t)(for_dx ? g->f : g->c) * ld;
  for (int r = lo; r < hi; r++)
    for (int c0 = 0; c0 < cols; c0 += LANES) {
      const float *k = for_dx ? w + ((size_t)r * g->c + c0) * 9 : w + ((size_t)c0 * g->c + r) * 9;
      kernel_transform(k, stride, cols - c0, for_dx, u + (size_t)r * ld + c0, plane);
    }
}

/* V_xi [t, c] = D (B^T d B) D at xi for one tile t: patch is its 6x6
 * patch in the channels-last input, v its row in V_0, plane apart. */
static void input_transform(const wino *s, const float *restrict patch, float *restrict v, size_t plane) {
  for (int c0 = 0; c0 < s->cpad; c0 += LANES) {
    lanes bt[6][6], col[6], r[6];
    for (int j = 0; j < 6; j++) { /* B^T d, column j */
      for (int i = 0; i < 6; i++) col[i] = load(patch + ((size_t)i * s->wp + j) * s->cpad + c0);
      bt6(col, r);
      for (int i = 0; i < 6; i++) bt[i][j] = r[i];
    }
    for (int i = 0; i < 6; i++) { /* (B^T d) B, row i */
      bt6(bt[i], r);
      for (int j = 0; j < 6; j++) store(v + (6 * i + j) * plane + c0, scale(r[j], v_scale[6 * i + j]));
    }
  }
}

/* One tile's 4x4 outputs act(A^T m A + bias) into the channels-last
 * output out (rows row floats apart): m is the tile's row in M_0, plane
 * apart. */
static void output_transform(const wino *s, const float *restrict m, size_t plane, const float *bias, int relu,
                             float *restrict out, size_t row) {
  for (int f0 = 0; f0 < s->fpad; f0 += LANES) {
    const lanes b = bias ? load_first(bias + f0, s->cout - f0) : zero();
    lanes at[4][6], col[6], y[4];
    for (int j = 0; j < 6; j++) { /* A^T m, column j */
      for (int i = 0; i < 6; i++) col[i] = load(m + (6 * i + j) * plane + f0);
      at6(col, y);
      for (int i = 0; i < 4; i++) at[i][j] = y[i];
    }
    for (int i = 0; i < 4; i++) { /* (A^T m) A, row i */
      at6(at[i], y);
      for (int j = 0; j < 4; j++) {
        const lanes o = add(y[j], b);
        store(out + i * row + (size_t)j * s->fpad + f0, relu ? relu_of(o) : o);
      }
    }
  }
}

/* dM_xi [t, f] = (A dY A^T)_xi for one tile t, the adjoint of
 * output_transform: dy is the tile's first pixel in the channels-last
 * output gradient (rows row floats apart, zeros past the map), dm its row
 * in dM_0, plane apart. */
static void output_gradient_transform(const wino *s, const float *restrict dy, size_t row, float *restrict dm,
                                      size_t plane) {
  for (int f0 = 0; f0 < s->fpad; f0 += LANES) {
    lanes a[6][4], col[4], r[6];
    for (int j = 0; j < 4; j++) { /* A dY, column j */
      for (int i = 0; i < 4; i++) col[i] = load(dy + i * row + (size_t)j * s->fpad + f0);
      a4(col, r);
      for (int i = 0; i < 6; i++) a[i][j] = r[i];
    }
    for (int i = 0; i < 6; i++) { /* (A dY) A^T, row i */
      a4(a[i], r);
      for (int j = 0; j < 6; j++) store(dm + (6 * i + j) * plane + f0, r[j]);
    }
  }
}

/* V for the nimg images of src [nimg][cin, h, w], one image at a time
 * through the channels-last buffer xh. */
static void input_tiles(const wino *s, const float *src, int nimg, float *xh, float *v, size_t plane) {
  const size_t in_size = (size_t)s->cin * s->h * s->w;
  for (int i = 0; i < nimg; i++) {
    to_channels_last(src + i * in_size, s->cin, s->h, s->w, s->pt, s->pl, s->hp, s->wp, s->cpad, xh);
    for (int ty = 0; ty < s->th; ty++)
      for (int tx = 0; tx < s->tw; tx++) {
        const size_t t = ((size_t)i * s->th + ty) * s->tw + tx;
        input_transform(s, xh + ((size_t)4 * ty * s->wp + 4 * tx) * s->cpad, v + t * s->cpad, plane);
      }
  }
}

/* dst [nimg][cout, oh, ow] = act(conv(src [nimg][cin, h, w]) + bias) with
 * the transformed kernels u [XI][cin][fpad]; bias may be NULL. */
static void wino_conv(const wino *s, const float *u, const float *bias, int relu, const float *src, int nimg,
                      float *dst, float *work) {
  size_t off[5];
  work_of(s, nimg, off);
  float *xh = work + off[0], *v = work + off[1], *m = work + off[2], *yh = work + off[3], *scratch = work + off[4];
  const int tiles = tiles_of(s, nimg);
  const size_t v_plane = plane_stride(tiles, s->cpad), m_plane = plane_stride(tiles, s->fpad);
  const size_t out_size = (size_t)s->cout * s->oh * s->ow, row = (size_t)4 * s->tw * s->fpad;
  input_tiles(s, src, nimg, xh, v, v_plane);
  for (int xi = 0; xi < XI; xi++)
    cn_gemm(tiles, s->fpad, s->cin, cn_mat(v + xi * v_plane, s->cpad, 1),
            cn_mat(u + (size_t)xi * s->cin * s->fpad, s->fpad, 1), m + xi * m_plane, s->fpad, 0, NULL, scratch);
  for (int i = 0; i < nimg; i++) {
    for (int ty = 0; ty < s->th; ty++)
      for (int tx = 0; tx < s->tw; tx++) {
        const size_t t = ((size_t)i * s->th + ty) * s->tw + tx;
        output_transform(s, m + t * s->fpad, m_plane, bias, relu, yh + 4 * ty * row + (size_t)4 * tx * s->fpad, row);
      }
    from_channels_last(yh, row, s->fpad, s->cout, s->oh, s->ow, dst + i * out_size);
  }
}

void cn_wino_backward_dw(const cn_conv_geo *g, const float *x, const float *dy, int nimg, int accumulate, float *du,
                         float *work) {
  const wino s = forward_of(g);
  size_t off[5];
  work_of(&s, nimg, off);
  float *xh = work + off[0], *v = work + off[1], *dm = work + off[2], *dyh = work + off[3], *scratch = work + off[4];
  const int tiles = tiles_of(&s, nimg);
  const size_t v_plane = plane_stride(tiles, s.cpad), m_plane = plane_stride(tiles, s.fpad);
  const size_t out_size = (size_t)s.cout * s.oh * s.ow, row = (size_t)4 * s.tw * s.fpad;
  input_tiles(&s, x, nimg, xh, v, v_plane);
  for (int i = 0; i < nimg; i++) {
    to_channels_last(dy + i * out_size, s.cout, s.oh, s.ow, 0, 0, 4 * s.th, 4 * s.tw, s.fpad, dyh);
    for (int ty = 0; ty < s.th; ty++)
      for (int tx = 0; tx < s.tw; tx++) {
        const size_t t = ((size_t)i * s.th + ty) * s.tw + tx;
        output_gradient_transform(&s, dyh + 4 * ty * row + (size_t)4 * tx * s.fpad, row, dm + t * s.fpad, m_plane);
      }
  }
  /* dU'_xi [f, cpad] (+)= dM_xi [tiles, f]^T . V_xi [tiles, cpad] */
  for (int xi = 0; xi < XI; xi++)
    cn_gemm(s.cout, s.cpad, tiles, cn_mat(dm + xi * m_plane, 1, s.fpad), cn_mat(v + xi * v_plane, s.cpad, 1),
            du + (size_t)xi * s.cout * s.cpad, s.cpad, accumulate, NULL, scratch);
}

void cn_wino_weight_gradient(const cn_conv_geo *g, const float *du, int lo, int hi, float *dw) {
  /* dg = G'^T dU' G' for LANES input channels c side by side;
   * du [XI][f][cpad], dw [f, c*9 + ky*3 + kx] */
  const int cpad = round_up(g->c, LANES);
  const size_t plane = (size_t)g->f * cpad;
  for (int f = lo; f < hi; f++)
    for (int c0 = 0; c0 < g->c; c0 += LANES) {
      const int n = g->c - c0 < LANES ? g->c - c0 : LANES;
      lanes t[3][6], col[6], o[3];
      for (int j = 0; j < 6; j++) { /* G'^T dU', column j */
        for (int i = 0; i < 6; i++) col[i] = load(du + (6 * i + j) * plane + (size_t)f * cpad + c0);
        gpt6(col, o);
        for (int i = 0; i < 3; i++) t[i][j] = o[i];
      }
      for (int i = 0; i < 3; i++) { /* (G'^T dU') G', row i */
        float out[3][LANES];
        gpt6(t[i], o);
        for (int kx = 0; kx < 3; kx++) store(out[kx], o[kx]);
        float *restrict dst = dw + ((size_t)f * g->c + c0) * 9 + i * 3;
        for (int q = 0; q < n; q++)
          for (int kx = 0; kx < 3; kx++) dst[q * 9 + kx] = out[kx][q];
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
