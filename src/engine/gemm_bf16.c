/* The bf16 option's matrix multiply: C (+)= A . B with A and B rounded to
 * bfloat16 (round to nearest even) as they are packed, products summed in
 * float32. AVX512-BF16's vdpbf16ps does 32 such multiply-adds per
 * instruction, twice fp32 FMA's rate (measured on this Zen 4: 231 against
 * 116 GFLOP/s per core), so arithmetic-bound layers can pass the fp32 peak.
 *
 * vdpbf16ps multiplies pairs: lane j of C gets a[2j]*b[2j] + a[2j+1]*b[2j+1].
 * So k is taken two at a time: A is packed row-major in bf16 (a row's pair
 * k, k+1 is one 32-bit word, broadcast to every lane) and B in panels of 32
 * columns where column j's pair k, k+1 sits in lane j. An odd k gets a zero
 * partner. Each C element still sums its pairs in order k = 0, 2, 4, ...
 * and a block of k beyond the first continues from the value stored in C,
 * so results do not depend on the sizes, the blocking or the thread split,
 * as with the fp32 multiply (gemm.h). */
#include <stdint.h>
#include <string.h>

#include "engine/gemm.h"

#if defined(__AVX512BF16__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define HAVE_BF16 1
#else
#define HAVE_BF16 0
#endif

#define MR 8       /* tile rows: 8 x 2 accumulators of 16 floats */
#define NR CN_GEMM_BF16_NR /* tile columns: two 16-lane vectors */
#define KC 256     /* k per block (128 pairs) */
#define MC 256     /* rows of A per packed block */
#define NC 1024    /* columns of B per packed block */
#define KP (KC / 2)

/* Packed A block [MC][KP] pairs, then packed B block [NC / NR][KP][NR]
 * pairs, as 32-bit words. */
size_t cn_gemm_bf16_scratch_floats(void) { return (size_t)MC * KP + (size_t)NC * KP; }

int cn_gemm_bf16_available(void) { return HAVE_BF16; }

#if HAVE_BF16
/* Element (i, j) of a matrix read through its strides or row offsets. */
static const float *row_of(const cn_matrix *m, int i) { return m->p + (m->row_off ? m->row_off[i] : i * m->rs); }

/* 32 floats (n <= 32 of them, zeros after) -> 32 bf16 in order. */
static __m512i bf16_of(const float *src, int n) {
  const __mmask16 lo = (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1);
  const __mmask16 hi = (__mmask16)(n >= 32 ? 0xffff : n <= 16 ? 0 : (1u << (n - 16)) - 1);
  return (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, src + 16), _mm512_maskz_loadu_ps(lo, src));
}

/* A rows [i0, i0+mc), k [k0, k0+kc) -> dst [mc][kp] pairs (kp = kc/2
 * rounded up; an odd kc's last pair ends in a zero). */
static void pack_a(const cn_matrix *a, int i0, int mc, int k0, int kc, uint32_t *dst, int kp) {
  float gathered[KC + 1];
  for (int r = 0; r < mc; r++) {
    const float *src = row_of(a, i0 + r) + (ptrdiff_t)k0 * a->cs;
    if (a->cs != 1) { /* a transposed operand: gather the row first */
      for (int q = 0; q < kc; q++) gathered[q] = src[q * a->cs];
      src = gathered;
    }
    uint16_t *out = (uint16_t *)(dst + (size_t)r * kp);
    for (int q = 0; q < kc; q += 32) {
      const int n = kc - q < 32 ? kc - q : 32;
      const __m512i v = bf16_of(src + q, n);
      _mm512_mask_storeu_epi16(out + q, (__mmask32)(n >= 32 ? 0xffffffffu : (1u << n) - 1), v);
    }
    if (kc % 2) out[kc] = 0;
  }
}

/* B rows [k0, k0+kc), columns [j0, j0+nc) -> panels of NR columns, each
 * [kp][NR] pairs: pair p of column j holds rows k0+2p and k0+2p+1. Columns
 * past nc and the partner of an odd kc's last row are zero. */
static void pack_b(const cn_matrix *b, int k0, int kc, int j0, int nc, uint32_t *dst, int kp) {
  if (b->cs == 1) {
    /* rows are contiguous: interleave two converted rows, 16 columns at a
     * time: [r0 x16 | r1 x16] -> r0[0] r1[0] r0[1] r1[1] ... */
    const __m512i zip = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int p = 0; p < kp; p++) {
      const int ka = k0 + 2 * p, has_b = 2 * p + 1 < kc;
      const float *r0 = row_of(b, ka) + j0, *r1 = has_b ? row_of(b, ka + 1) + j0 : NULL;
      for (int j = 0; j < nc; j += 16) {
        const int n = nc - j < 16 ? nc - j : 16;
        const __mmask16 m = (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1);
        const __m512 v0 = _mm512_maskz_loadu_ps(m, r0 + j);
        const __m512 v1 = has_b ? _mm512_maskz_loadu_ps(m, r1 + j) : _mm512_setzero_ps();
        const __m512i pairs = _mm512_permutexvar_epi16(zip, (__m512i)_mm512_cvtne2ps_pbh(v1, v0));
        _mm512_storeu_si512(dst + ((size_t)(j / NR) * kp + p) * NR + j % NR, pairs);
      }
      for (int j = (nc + 15) / 16 * 16; j % NR; j += 16) /* the rest of the last panel */
        _mm512_storeu_si512(dst + ((size_t)(j / NR) * kp + p) * NR + j % NR, _mm512_setzero_si512());
    }
    return;
  }
  /* columns are contiguous along k (a transposed operand): convert each
   * column, whose pairs are consecutive words, and spread them */
  float gathered[KC + 1];
  uint32_t words[KC / 2 + 16];
  const int panels = (nc + NR - 1) / NR;
  for (int j = 0; j < panels * NR; j++) {
    uint32_t *col = dst + (size_t)(j / NR) * kp * NR + j % NR;
    if (j >= nc) {
      for (int p = 0; p < kp; p++) col[(size_t)p * NR] = 0;
      continue;
    }
    const float *src = b->p + (ptrdiff_t)(j0 + j) * b->cs + (b->row_off ? 0 : (ptrdiff_t)k0 * b->rs);
    if (b->rs != 1 || b->row_off) {
      for (int q = 0; q < kc; q++)
        gathered[q] = b->row_off ? b->p[b->row_off[k0 + q] + (j0 + j) * b->cs] : src[q * b->rs];
      src = gathered;
    }
    for (int q = 0; q < kc; q += 32) {
      const int n = kc - q < 32 ? kc - q : 32;
      _mm512_storeu_si512(words + q / 2, bf16_of(src + q, n)); /* zeros past n: an odd kc's partner */
    }
    for (int p = 0; p < kp; p++) col[(size_t)p * NR] = words[p];
  }
}

static __mmask16 lanes16(int n) { return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1); }

/* C tile [rows, cols] (rows <= MR, cols <= NR) = (load ? C : 0) + A . B
 * over kp pairs, then the epilogue ep (NULL: none) for the tile at row i,
 * column j of C, applied before the tile is stored. A row r's pairs at
 * ar[r], B's panel at b. */
__attribute__((noinline)) static void kernel(int kp, const uint32_t *const *ar, const uint32_t *b, float *restrict c,
                                             ptrdiff_t ldc, int rows, int cols, int load, const cn_epilogue *ep,
                                             int i, int j) {
  const __mmask16 m0 = lanes16(cols), m1 = lanes16(cols - 16);
  __m512 c0[MR], c1[MR];
  UNROLL_ROWS for (int r = 0; r < MR; r++) {
    c0[r] = load && r < rows ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
    c1[r] = load && r < rows ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
  }
  for (int p = 0; p < kp; p++) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + (size_t)p * NR);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + (size_t)p * NR + 16);
    UNROLL_ROWS for (int r = 0; r < MR; r++) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32((int)ar[r][p]);
      c0[r] = _mm512_dpbf16_ps(c0[r], av, b0);
      c1[r] = _mm512_dpbf16_ps(c1[r], av, b1);
    }
  }
  if (ep) { /* as in gemm.c's kernel: adding -0 leaves a value as it is */
    const __m512 zero = _mm512_setzero_ps(), none = _mm512_set1_ps(-0.0f);
    const __m512 cb0 = ep->col_bias ? _mm512_maskz_loadu_ps(m0, ep->col_bias + j) : none;
    const __m512 cb1 = ep->col_bias ? _mm512_maskz_loadu_ps(m1, ep->col_bias + j + 16) : none;
    const float *rb = ep->row_bias ? ep->row_bias + i : NULL;
    UNROLL_ROWS for (int r = 0; r < MR; r++) {
      const __m512 bias = rb ? _mm512_set1_ps(rb[r < rows ? r : 0]) : none;
      c0[r] = _mm512_add_ps(_mm512_add_ps(c0[r], bias), cb0);
      c1[r] = _mm512_add_ps(_mm512_add_ps(c1[r], bias), cb1);
    }
    if (ep->relu)
      UNROLL_ROWS for (int r = 0; r < MR; r++) {
        c0[r] = _mm512_max_ps(c0[r], zero);
        c1[r] = _mm512_max_ps(c1[r], zero);
      }
  }
  UNROLL_ROWS for (int r = 0; r < MR; r++)
    if (r < rows) {
      _mm512_mask_storeu_ps(c + r * ldc, m0, c0[r]);
      _mm512_mask_storeu_ps(c + r * ldc + 16, m1, c1[r]);
    }
}

void cn_gemm_bf16(int m, int n, int k, cn_matrix a, cn_matrix b, float *c, int ldc, int accumulate,
                  const cn_epilogue *ep, float *scratch) {
  if (k == 0) { /* nothing to pack: the fp32 multiply's k = 0 case is the same */
    cn_gemm(m, n, k, a, b, c, ldc, accumulate, ep, scratch);
    return;
  }
  uint32_t *apack = (uint32_t *)(void *)scratch, *bpack = apack + (size_t)MC * KP;
  for (int pc = 0; pc < k; pc += KC) {
    const int kc = k - pc < KC ? k - pc : KC, kp = (kc + 1) / 2;
    const int load = accumulate || pc > 0, last = pc + kc == k;
    for (int jc = 0; jc < n; jc += NC) {
      const int nc = n - jc < NC ? n - jc : NC;
      pack_b(&b, pc, kc, jc, nc, bpack, kp);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = m - ic < MC ? m - ic : MC;
        pack_a(&a, ic, mc, pc, kc, apack, kp);
        for (int jr = 0; jr < nc; jr += NR) {
          const int cols = nc - jr < NR ? nc - jr : NR;
          const uint32_t *panel = bpack + (size_t)(jr / NR) * kp * NR;
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = mc - ir < MR ? mc - ir : MR;
            const uint32_t *ar[MR];
            for (int r = 0; r < MR; r++) ar[r] = apack + (size_t)(ir + (r < rows ? r : 0)) * kp;
            float *ct = c + (size_t)(ic + ir) * ldc + jc + jr;
            kernel(kp, ar, panel, ct, ldc, rows, cols, load, last ? ep : NULL, ic + ir, jc + jr);
          }
        }
      }
    }
  }
}
#else
void cn_gemm_bf16(int m, int n, int k, cn_matrix a, cn_matrix b, float *c, int ldc, int accumulate,
                  const cn_epilogue *ep, float *scratch) {
  /* not reached: cn_model_set_precision refuses bf16 in such a build */
  cn_gemm(m, n, k, a, b, c, ldc, accumulate, ep, scratch);
}
#endif
