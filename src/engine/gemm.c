/* The engine's matrix multiply (see gemm.h for why it is not BLAS).
 *
 * GotoBLAS structure without the packing of A: A is read in place through
 * its strides or row offsets (the tiles here are small enough for it to
 * stay in cache); B is read in place when its rows are contiguous (by row
 * offsets for shifted image rows), or packed one panel of NR columns at a
 * time; a micro-kernel multiplies MR rows of A by one B panel into an
 * MR x NR tile
 * of C held in registers. A block of k beyond the first continues each
 * element's chain from the value stored in C, which is exact, so the
 * blocking never changes a result. */
#include "engine/gemm.h"
#include "engine/lanes.h"

#include <stdint.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GEMM_SIMD 1
#else
#define GEMM_SIMD 0
#endif

/* Tile height: 8 rows of two 8-float vectors need 16 accumulators, which
 * fit in AVX-512's 32 vector registers; with 16 registers, 6 rows. */
#if defined(__AVX512VL__)
#define MR 8
#else
#define MR 6
#endif
#define NR CN_GEMM_NR
#define KC 256
/* The micro-kernel stays a function of its own: inlined into the driver's
 * loops, gcc no longer keeps all accumulators in registers. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* A packed panel, then two tables of KC row offsets; or what the bf16
 * multiply needs, when more. */
size_t cn_gemm_scratch_floats(void) {
  size_t fp32 = (size_t)KC * NR + 2 * KC * (sizeof(ptrdiff_t) / sizeof(float));
  size_t bf16 = cn_gemm_bf16_available() ? cn_gemm_bf16_scratch_floats() : 0;
  return fp32 > bf16 ? fp32 : bf16;
}

/* pack_b for a B whose columns are contiguous in k (rs = 1: a transposed
 * operand such as dy^T or V^T): whole 8x8 blocks through vector
 * transposes, which the scalar copy (one float per store) was several
 * times slower than; the rest one float at a time. */
static int pack_b_columns(const cn_matrix *b, int k0, int kc, int j0, int nc, float *restrict dst) {
  int c = 0;
#if GEMM_SIMD
  for (; c + 8 <= nc; c += 8) {
    const float *src = b->p + (ptrdiff_t)(j0 + c) * b->cs + k0;
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
      __m256 r[8];
      for (int q = 0; q < 8; q++) r[q] = _mm256_loadu_ps(src + q * b->cs + k);
      cn_transpose8(r);
      for (int q = 0; q < 8; q++) _mm256_storeu_ps(dst + (size_t)(k + q) * NR + c, r[q]);
    }
    for (; k < kc; k++)
      for (int q = 0; q < 8; q++) dst[(size_t)k * NR + c + q] = src[q * b->cs + k];
  }
#else
  (void)b, (void)k0, (void)kc, (void)j0, (void)nc, (void)dst;
#endif
  return c;
}

/* B rows [k0, k0+kc), columns [j0, j0+nc), nc <= NR -> one panel, k-major,
 * zero past nc. */
static void pack_b(const cn_matrix *b, int k0, int kc, int j0, int nc, float *restrict dst) {
  if (b->cs == 1) {
    for (int k = 0; k < kc; k++) {
      const float *restrict src = b->p + (b->row_off ? b->row_off[k0 + k] : (ptrdiff_t)(k0 + k) * b->rs) + j0;
      float *restrict row = dst + (size_t)k * NR;
      if (nc == NR) { /* a fixed-length copy the compiler turns into vector moves */
        for (int c = 0; c < NR; c++) row[c] = src[c];
      } else {
        for (int c = 0; c < nc; c++) row[c] = src[c];
        for (int c = nc; c < NR; c++) row[c] = 0.0f;
      }
    }
    return;
  }
  for (int c = b->rs == 1 ? pack_b_columns(b, k0, kc, j0, nc, dst) : 0; c < nc; c++) {
    const float *src = b->p + (ptrdiff_t)(j0 + c) * b->cs + (ptrdiff_t)k0 * b->rs;
    for (int k = 0; k < kc; k++) dst[(size_t)k * NR + c] = src[k * b->rs];
  }
  for (int c = nc; c < NR; c++)
    for (int k = 0; k < kc; k++) dst[(size_t)k * NR + c] = 0.0f;
}

/* Bias and relu (ep) on rows x cols of C starting at row i, column j:
 * what the SIMD kernel does in registers, for the other paths. */
static void epilogue(const cn_epilogue *ep, float *c, int ldc, int i, int j, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    float *restrict row = c + (size_t)r * ldc;
    if (ep->row_bias) {
      const float bias = ep->row_bias[i + r];
      for (int q = 0; q < cols; q++) row[q] += bias;
    }
    if (ep->col_bias) {
      const float *restrict bias = ep->col_bias + j;
      for (int q = 0; q < cols; q++) row[q] += bias[q];
    }
    if (ep->relu)
      for (int q = 0; q < cols; q++) row[q] = row[q] > 0.0f ? row[q] : 0.0f;
  }
}

/* C tile [rows, cols] (row stride ldc; rows <= MR, cols <= NR) =
 * (load ? C : 0) + A . B, then the epilogue ep (NULL: none) for the tile at
 * row i, column j of C, applied before the tile is stored. A (r, k) is at
 * ar[r][k*acs] and B row k at b + boff[k]. Rows past `rows` (ar[r] repeats
 * row 0) are dropped. */
#if GEMM_SIMD
/* The tile's code for tiles of up to mr rows (a constant in each
 * function below): a tile of fewer rows than MR (m = 6 filters, the end of
 * m) computes no rows it drops. */
#if defined(__AVX512F__)
/* With AVX-512 a tile row of NR = 16 floats is one register: 8 accumulators
 * for 8 rows, one load of B and 8 broadcasts of A per k. Where the CPU has
 * two 512-bit FMA units this does twice the ymm kernel's multiply-adds per
 * cycle. Each element is still one chain of FMAs over k in order, and the
 * epilogue the same additions and max, so the bits are the ymm kernel's. */
static inline __attribute__((always_inline)) void kernel_rows(int kc, const float *const *ar, ptrdiff_t acs,
                                                               const float *b, const ptrdiff_t *boff, float *restrict c,
                                                               ptrdiff_t ldc, int rows, int cols, int load,
                                                               const cn_epilogue *ep, int i, int j, const int mr) {
  const __mmask16 mask = (__mmask16)(cols >= 16 ? 0xffffu : (1u << cols) - 1u);
  __m512 acc[MR];
  UNROLL_ROWS for (int r = 0; r < mr; r++)
    acc[r] = load && r < rows ? _mm512_maskz_loadu_ps(mask, c + r * ldc) : _mm512_setzero_ps();
  for (int k = 0; k < kc; k++) {
    const __m512 bk = _mm512_loadu_ps(b + boff[k]);
    UNROLL_ROWS for (int r = 0; r < mr; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(ar[r][k * acs]), bk, acc[r]);
  }
  if (ep) { /* as the ymm kernel: adding -0 where there is no bias */
    const __m512 zero = _mm512_setzero_ps(), none = _mm512_set1_ps(-0.0f);
    const __m512 cb = ep->col_bias ? _mm512_maskz_loadu_ps(mask, ep->col_bias + j) : none;
    const float *rb = ep->row_bias ? ep->row_bias + i : NULL;
    UNROLL_ROWS for (int r = 0; r < mr; r++) {
      const __m512 bias = rb ? _mm512_set1_ps(rb[r < rows ? r : 0]) : none;
      acc[r] = _mm512_add_ps(_mm512_add_ps(acc[r], bias), cb);
    }
    if (ep->relu) UNROLL_ROWS for (int r = 0; r < mr; r++) acc[r] = _mm512_max_ps(acc[r], zero);
  }
  UNROLL_ROWS for (int r = 0; r < mr; r++)
    if (r < rows && cols == NR)
      _mm512_storeu_ps(c + r * ldc, acc[r]);
    else if (r < rows)
      _mm512_mask_storeu_ps(c + r * ldc, mask, acc[r]);
}
#else
static inline __attribute__((always_inline)) void kernel_rows(int kc, const float *const *ar, ptrdiff_t acs,
                                                               const float *b, const ptrdiff_t *boff, float *restrict c,
                                                               ptrdiff_t ldc, int rows, int cols, int load,
                                                               const cn_epilogue *ep, int i, int j, const int mr) {
  const cn_lane_mask m0 = cn_lanes(cols), m1 = cn_lanes(cols - 8);
  __m256 c0[MR], c1[MR];
  UNROLL_ROWS for (int r = 0; r < mr; r++) {
    c0[r] = load && r < rows ? cn_load_lanes(c + r * ldc, m0) : _mm256_setzero_ps();
    c1[r] = load && r < rows ? cn_load_lanes(c + r * ldc + 8, m1) : _mm256_setzero_ps();
  }
  for (int k = 0; k < kc; k++) {
    const float *bk = b + boff[k];
    const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
    UNROLL_ROWS for (int r = 0; r < mr; r++) {
      const __m256 av = _mm256_broadcast_ss(ar[r] + k * acs);
      c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
    }
  }
  if (ep) { /* epilogue's operations, in registers; adding -0
              * where there is no bias leaves every value as it is */
    const __m256 zero = _mm256_setzero_ps(), none = _mm256_set1_ps(-0.0f);
    const __m256 cb0 = ep->col_bias ? cn_load_lanes(ep->col_bias + j, m0) : none;
    const __m256 cb1 = ep->col_bias ? cn_load_lanes(ep->col_bias + j + 8, m1) : none;
    const float *rb = ep->row_bias ? ep->row_bias + i : NULL;
    UNROLL_ROWS for (int r = 0; r < mr; r++) {
      const __m256 b = rb ? _mm256_broadcast_ss(rb + (r < rows ? r : 0)) : none;
      c0[r] = _mm256_add_ps(_mm256_add_ps(c0[r], b), cb0);
      c1[r] = _mm256_add_ps(_mm256_add_ps(c1[r], b), cb1);
    }
    if (ep->relu) /* max(x, 0) is 0 for NaN and -0, as x > 0 ? x : 0 */
      UNROLL_ROWS for (int r = 0; r < mr; r++) {
        c0[r] = _mm256_max_ps(c0[r], zero);
        c1[r] = _mm256_max_ps(c1[r], zero);
      }
  }
  /* full tiles with plain stores, which later loads of C can forward from */
  UNROLL_ROWS for (int r = 0; r < mr; r++)
    if (r < rows && cols == NR) {
      _mm256_storeu_ps(c + r * ldc, c0[r]);
      _mm256_storeu_ps(c + r * ldc + 8, c1[r]);
    } else if (r < rows) {
      cn_store_lanes(c + r * ldc, m0, c0[r]);
      cn_store_lanes(c + r * ldc + 8, m1, c1[r]);
    }
}
#endif
#define KERNEL_OF(MROWS)                                                                                        \
  NOINLINE static void kernel_##MROWS(int kc, const float *const *ar, ptrdiff_t acs, const float *b,                \
                                      const ptrdiff_t *boff, float *restrict c, ptrdiff_t ldc, int rows, int cols,   \
                                      int load, const cn_epilogue *ep, int i, int j) {                               \
    kernel_rows(kc, ar, acs, b, boff, c, ldc, rows, cols, load, ep, i, j, MROWS);                                   \
  }
KERNEL_OF(2)
KERNEL_OF(4)
KERNEL_OF(6)
KERNEL_OF(MR)

static void kernel(int kc, const float *const *ar, ptrdiff_t acs, const float *b, const ptrdiff_t *boff,
                   float *restrict c, ptrdiff_t ldc, int rows, int cols, int load, const cn_epilogue *ep, int i,
                   int j) {
  if (rows > 6)
    kernel_MR(kc, ar, acs, b, boff, c, ldc, rows, cols, load, ep, i, j);
  else if (rows > 4)
    kernel_6(kc, ar, acs, b, boff, c, ldc, rows, cols, load, ep, i, j);
  else if (rows > 2)
    kernel_4(kc, ar, acs, b, boff, c, ldc, rows, cols, load, ep, i, j);
  else
    kernel_2(kc, ar, acs, b, boff, c, ldc, rows, cols, load, ep, i, j);
}
#else
static void kernel(int kc, const float *const *ar, ptrdiff_t acs, const float *b, const ptrdiff_t *boff,
                   float *restrict c, ptrdiff_t ldc, int rows, int cols, int load, const cn_epilogue *ep, int i,
                   int j) {
  float acc[MR][NR];
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < NR; q++) acc[r][q] = load && r < rows && q < cols ? c[r * ldc + q] : 0.0f;
  for (int k = 0; k < kc; k++)
    for (int r = 0; r < rows; r++)
      for (int q = 0; q < NR; q++) acc[r][q] += ar[r][k * acs] * b[boff[k] + q];
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < cols; q++) c[r * ldc + q] = acc[r][q];
  if (ep) epilogue(ep, c, ldc, i, j, rows, cols);
}
#endif

void cn_gemm(int m, int n, int k, cn_matrix a, cn_matrix b, float *c, int ldc, int accumulate,
             const cn_epilogue *ep, float *scratch) {
  if (k == 0) {
    if (!accumulate)
      for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, sizeof(float) * (size_t)n);
    if (ep) epilogue(ep, c, ldc, 0, 0, m, n);
    return;
  }
  float *panel = scratch;
  ptrdiff_t *panel_off = (ptrdiff_t *)(void *)(scratch + (size_t)KC * NR), *strided_off = panel_off + KC;
  for (int q = 0; q < KC; q++) panel_off[q] = (ptrdiff_t)q * NR;
  /* B is read in place when its rows are contiguous and either given by
   * offsets (shifted image rows) or start on cache lines; otherwise, and
   * for the last partial panel, it is packed one panel at a time. */
  const int in_place = b.cs == 1 && (b.row_off || ((b.rs % 16) == 0 && ((uintptr_t)b.p % 64) == 0));
  for (int pc = 0; pc < k; pc += KC) {
    int kc = k - pc < KC ? k - pc : KC;
    int load = accumulate || pc > 0, last = pc + kc == k;
    if (in_place && !b.row_off)
      for (int q = 0; q < kc; q++) strided_off[q] = (ptrdiff_t)(pc + q) * b.rs;
    const ptrdiff_t *in_place_off = b.row_off ? b.row_off + pc : strided_off;
    for (int jr = 0; jr < n; jr += NR) {
      int cols = n - jr < NR ? n - jr : NR;
      const float *bp = panel;
      const ptrdiff_t *boff = panel_off;
      if (in_place && cols == NR) {
        bp = b.p + jr;
        boff = in_place_off;
      } else {
        pack_b(&b, pc, kc, jr, cols, panel);
      }
      for (int ir = 0; ir < m; ir += MR) {
        int rows = m - ir < MR ? m - ir : MR;
        float *ct = c + (size_t)ir * ldc + jr;
        const float *ar[MR];
        for (int r = 0; r < MR; r++) {
          int i = ir + (r < rows ? r : 0);
          ar[r] = a.p + (a.row_off ? a.row_off[i] : i * a.rs) + pc * a.cs;
        }
        kernel(kc, ar, a.cs, bp, boff, ct, ldc, rows, cols, load, last ? ep : NULL, ir, jr);
      }
    }
  }
}

/* ---- dot-product form ---- */

#define DOT_LANES 16
/* A tile: 2 rows of A by DOT_NR rows of B, 16 lanes each: with AVX-512
 * one 16-float vector (16 accumulators of 32 registers), else two 8-float
 * vectors (16 of 16). Two rows waste little when a single image comes. */
#define DOT_MR 2
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define DOT_WIDE 1
#define DOT_NR 8
#else
#define DOT_WIDE 0
#define DOT_NR 4
#endif

/* The 16 partial sums of one element -> its value, in a fixed tree:
 * lane q += lane q+8, then q += q+4, q += q+2, q += q+1. */
#if GEMM_SIMD
static float lanes_total(__m256 lo, __m256 hi) {
  __m256 v = _mm256_add_ps(lo, hi);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  return _mm_cvtss_f32(h);
}

/* out[r][q] = a_r . b_q for A rows ar[] and B rows bq[] (missing ones
 * repeat the first): lane t sums k = t mod 16 in order, the tail through
 * masked loads (zeros add nothing). */
#if DOT_WIDE
/* The same lanes in one 16-float vector: lane t still sums k = t mod 16 in
 * order and the total takes the same tree, so results match the 8-float
 * form bit for bit. */
static inline __attribute__((always_inline)) void dot_tile_rows(int k, const float *const *ar, const float *const *bq,
                                                                float out[DOT_MR][DOT_NR], const int rows) {
  __m512 acc[DOT_MR][DOT_NR];
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < DOT_NR; q++) acc[r][q] = _mm512_setzero_ps();
  const int full = k - k % DOT_LANES;
  int kk = 0;
  for (; kk < full; kk += DOT_LANES) {
    __m512 a[DOT_MR];
    for (int r = 0; r < rows; r++) a[r] = _mm512_loadu_ps(ar[r] + kk);
    for (int q = 0; q < DOT_NR; q++) {
      const __m512 b = _mm512_loadu_ps(bq[q] + kk);
      for (int r = 0; r < rows; r++) acc[r][q] = _mm512_fmadd_ps(a[r], b, acc[r][q]);
    }
  }
  if (kk < k) {
    const __mmask16 mask = (__mmask16)((1u << (k - kk)) - 1);
    __m512 a[DOT_MR];
    for (int r = 0; r < rows; r++) a[r] = _mm512_maskz_loadu_ps(mask, ar[r] + kk);
    for (int q = 0; q < DOT_NR; q++) {
      const __m512 b = _mm512_maskz_loadu_ps(mask, bq[q] + kk);
      for (int r = 0; r < rows; r++) acc[r][q] = _mm512_fmadd_ps(a[r], b, acc[r][q]);
    }
  }
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < DOT_NR; q++)
      out[r][q] = lanes_total(_mm512_castps512_ps256(acc[r][q]), _mm512_extractf32x8_ps(acc[r][q], 1));
}
NOINLINE static void dot_tile(int k, const float *const *ar, const float *const *bq, float out[DOT_MR][DOT_NR]) {
  dot_tile_rows(k, ar, bq, out, DOT_MR);
}
/* One row of A (a single image, or the last of an odd batch): half the
 * work of dot_tile, the same bits (each element's lanes and tree are its
 * own). */
NOINLINE static void dot_tile_one(int k, const float *const *ar, const float *const *bq, float out[DOT_MR][DOT_NR]) {
  dot_tile_rows(k, ar, bq, out, 1);
}
#else
/* One step of 16 k: a and b hold A's and B's values of k = kk..kk+15. */
#define DOT_STEP(LOAD_A0, LOAD_A1, LOAD_B0, LOAD_B1)                                 \
  do {                                                                               \
    __m256 a[DOT_MR][2];                                                             \
    for (int r = 0; r < DOT_MR; r++) {                                               \
      a[r][0] = LOAD_A0;                                                             \
      a[r][1] = LOAD_A1;                                                             \
    }                                                                                \
    for (int q = 0; q < DOT_NR; q++) {                                               \
      const __m256 b0 = LOAD_B0, b1 = LOAD_B1;                                       \
      for (int r = 0; r < DOT_MR; r++) {                                             \
        acc[r][q][0] = _mm256_fmadd_ps(a[r][0], b0, acc[r][q][0]);                   \
        acc[r][q][1] = _mm256_fmadd_ps(a[r][1], b1, acc[r][q][1]);                   \
      }                                                                              \
    }                                                                                \
  } while (0)

NOINLINE static void dot_tile(int k, const float *const *ar, const float *const *bq, float out[DOT_MR][DOT_NR]) {
  __m256 acc[DOT_MR][DOT_NR][2];
  for (int r = 0; r < DOT_MR; r++)
    for (int q = 0; q < DOT_NR; q++) acc[r][q][0] = acc[r][q][1] = _mm256_setzero_ps();
  const int full = k - k % DOT_LANES;
  int kk = 0;
  /* whole steps with plain loads (a masked load in the loop, even one not
   * taken, made the loop twice as slow), then the tail through masks */
  for (; kk < full; kk += DOT_LANES)
    DOT_STEP(_mm256_loadu_ps(ar[r] + kk), _mm256_loadu_ps(ar[r] + kk + 8), _mm256_loadu_ps(bq[q] + kk),
             _mm256_loadu_ps(bq[q] + kk + 8));
  if (kk < k) {
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(k - kk), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(k - kk), _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15));
    DOT_STEP(_mm256_maskload_ps(ar[r] + kk, m0), _mm256_maskload_ps(ar[r] + kk + 8, m1),
             _mm256_maskload_ps(bq[q] + kk, m0), _mm256_maskload_ps(bq[q] + kk + 8, m1));
  }
  for (int r = 0; r < DOT_MR; r++)
    for (int q = 0; q < DOT_NR; q++) out[r][q] = lanes_total(acc[r][q][0], acc[r][q][1]);
}
#endif
#else
static void dot_tile(int k, const float *const *ar, const float *const *bq, float out[DOT_MR][DOT_NR]) {
  for (int r = 0; r < DOT_MR; r++)
    for (int q = 0; q < DOT_NR; q++) {
      float lane[DOT_LANES] = {0};
      for (int kk = 0; kk < k; kk++) lane[kk % DOT_LANES] += ar[r][kk] * bq[q][kk];
      for (int w = DOT_LANES / 2; w > 0; w /= 2)
        for (int t = 0; t < w; t++) lane[t] += lane[t + w];
      out[r][q] = lane[0];
    }
}
#endif

#if !DOT_WIDE
#define dot_tile_one dot_tile /* computes row 0 twice */
#endif

/* Rows of A per block: a block (up to DOT_BLOCK_FLOATS floats) stays in L2
 * while every tile of B passes over it, so a large batch is not streamed
 * from memory once per tile of B. */
#define DOT_BLOCK_FLOATS (64 * 1024)

void cn_gemm_dot(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                 const cn_epilogue *ep) {
  float part[DOT_MR][DOT_NR];
  int block = DOT_BLOCK_FLOATS / (k > 0 ? k : 1);
  block = block < DOT_MR ? DOT_MR : block - block % DOT_MR;
  for (int i0 = 0; i0 < m; i0 += block) {
    const int i1 = m - i0 < block ? m : i0 + block;
    /* B rows outer: their tile stays in L1 while the block's rows of A stream by */
    for (int j = 0; j < n; j += DOT_NR) {
      int cols = n - j < DOT_NR ? n - j : DOT_NR;
      const float *bq[DOT_NR];
      for (int q = 0; q < DOT_NR; q++) bq[q] = b + (size_t)(j + (q < cols ? q : 0)) * ldb;
      for (int i = i0; i < i1; i += DOT_MR) {
        int rows = i1 - i < DOT_MR ? i1 - i : DOT_MR;
        const float *ar[DOT_MR];
        for (int r = 0; r < DOT_MR; r++) ar[r] = a + (size_t)(i + (r < rows ? r : 0)) * lda;
        (rows == 1 ? dot_tile_one : dot_tile)(k, ar, bq, part);
        for (int r = 0; r < rows; r++) {
          float *row = c + (size_t)(i + r) * ldc + j;
          for (int q = 0; q < cols; q++) row[q] = part[r][q];
        }
        if (ep) epilogue(ep, c + (size_t)i * ldc + j, ldc, i, j, rows, cols);
      }
    }
  }
}

void cn_gemm_dot_rows(int m, int n, int k, const float *a, const ptrdiff_t *a_off, const float *b, int ldb, float *c,
                      int ldc, int accumulate) {
  float part[DOT_MR][DOT_NR];
  for (int j = 0; j < n; j += DOT_NR) {
    int cols = n - j < DOT_NR ? n - j : DOT_NR;
    const float *bq[DOT_NR];
    for (int q = 0; q < DOT_NR; q++) bq[q] = b + (size_t)(j + (q < cols ? q : 0)) * ldb;
    for (int i = 0; i < m; i += DOT_MR) {
      int rows = m - i < DOT_MR ? m - i : DOT_MR;
      const float *ar[DOT_MR];
      for (int r = 0; r < DOT_MR; r++) ar[r] = a + a_off[i + (r < rows ? r : 0)];
      (rows == 1 ? dot_tile_one : dot_tile)(k, ar, bq, part);
      for (int r = 0; r < rows; r++) {
        float *row = c + (size_t)(i + r) * ldc + j;
        for (int q = 0; q < cols; q++) row[q] = accumulate ? row[q] + part[r][q] : part[r][q];
      }
    }
  }
}
