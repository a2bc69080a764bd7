/* Internal: the engine's matrix multiply, C [m, n] = A [m, k] . B [k, n].
 *
 * Why not cblas_sgemm: OpenBLAS 0.3.21 picks a different kernel (and
 * summation order) depending on the matrix sizes, so one image's result
 * changed with the batch size and the thread split, and its small-matrix
 * path calls malloc on every call. Here every C element is one chain of
 * fused multiply-adds over k = 0, 1, ..., k-1, whatever the sizes, the
 * tiling or the thread: results are bit-identical per image across batch
 * sizes and thread counts, and nothing is allocated (packing buffers come
 * from the caller's scratch).
 *
 * Operands are read through strides, so transposes cost nothing: element
 * (i, j) of a matrix is at p[i * rs + j * cs]; or rows start at arbitrary
 * offsets (a convolution reads shifted rows of its padded image as the
 * im2col matrix, without writing it). */
#ifndef CN_ENGINE_GEMM_H
#define CN_ENGINE_GEMM_H

#include <stddef.h>

#include "cnist/model.h"

typedef struct {
  const float *p;
  ptrdiff_t rs, cs;
  const ptrdiff_t *row_off; /* may be NULL: row i starts at p + row_off[i] (rs unused; for B, cs = 1) */
} cn_matrix;

/* A strided matrix: element (i, j) at p[i * rs + j * cs]. */
static inline cn_matrix cn_mat(const float *p, ptrdiff_t rs, ptrdiff_t cs) {
  cn_matrix m = {p, rs, cs, NULL};
  return m;
}

/* What happens to C after the last k: add a bias per row or per column (or
 * none), then relu or nothing. */
typedef struct {
  const float *row_bias; /* [m] */
  const float *col_bias; /* [n] */
  int relu;
} cn_epilogue;

/* Floats of scratch one cn_gemm call needs (a packed panel of B). */
size_t cn_gemm_scratch_floats(void);

/* C = A . B (accumulate = 0) or C += A . B (accumulate = 1), C row-major
 * with leading dimension ldc. ep may be NULL. Single-threaded: callers
 * split the work across threads by rows or columns of C. */
void cn_gemm(int m, int n, int k, cn_matrix a, cn_matrix b, float *c, int ldc, int accumulate,
             const cn_epilogue *ep, float *scratch);

/* C [m, n] = A [m, k] . B [n, k]^T with both operands row-major (a dense
 * layer's x . W^T), as dot products: element (i, j) sums a_ik * b_jk in 16
 * interleaved partial sums (k mod 16) combined in a fixed tree, so it too
 * does not depend on m, n or the thread split. Neither operand is packed,
 * which keeps one image through a dense layer cheap. lda, ldb, ldc are the
 * row strides. */
void cn_gemm_dot(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                 const cn_epilogue *ep);

/* The same dot products with the rows of A given by offsets (row i of A
 * starts at a + a_off[i]: shifted rows of a padded image), and C (+)= the
 * products when accumulate is 1: each dot product is finished first, then
 * added to C. */
void cn_gemm_dot_rows(int m, int n, int k, const float *a, const ptrdiff_t *a_off, const float *b, int ldb, float *c,
                      int ldc, int accumulate);

/* ---- the bf16 option (gemm_bf16.c) ---- */

/* cn_gemm with A and B rounded to bfloat16 as they are packed and the
 * products summed in float32 (same arguments; the scratch is
 * cn_gemm_scratch_floats(), which covers both). Each element sums its k
 * in pairs, in order, whatever the sizes or the thread split. */
void cn_gemm_bf16(int m, int n, int k, cn_matrix a, cn_matrix b, float *c, int ldc, int accumulate,
                  const cn_epilogue *ep, float *scratch);
size_t cn_gemm_bf16_scratch_floats(void);
/* 1 when this build has the bf16 kernel (compiled for a CPU with
 * AVX512-BF16), else 0. */
int cn_gemm_bf16_available(void);

/* The multiply a pass of the given precision uses. */
typedef void cn_gemm_fn(int m, int n, int k, cn_matrix a, cn_matrix b, float *c, int ldc, int accumulate,
                        const cn_epilogue *ep, float *scratch);
static inline cn_gemm_fn *cn_gemm_for(cn_precision p) { return p == CN_PRECISION_BF16 ? cn_gemm_bf16 : cn_gemm; }

/* On each loop over a micro-kernel's tile rows: gcc keeps the accumulator
 * arrays in registers only when such loops are unrolled early, and with
 * the epilogue's loops it no longer does so by itself (it spilled every
 * accumulator on every step of k). */
#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL_ROWS _Pragma("GCC unroll 8")
#else
#define UNROLL_ROWS
#endif

/* Width of the column panels C is computed in, fp32 and bf16. */
#define CN_GEMM_NR 16
#define CN_GEMM_BF16_NR 32

#endif
