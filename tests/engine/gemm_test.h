/* Helpers of the multiply tests (test_gemm.c, test_bf16.c): seeded random
 * operands and element access through a cn_matrix's strides or offsets. */
#ifndef CN_TESTS_GEMM_TEST_H
#define CN_TESTS_GEMM_TEST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/layer.h"

static uint64_t gemm_test_state = 88172645463325252ull;

/* xorshift: [-1, 1) */
static inline float uniform(void) {
  gemm_test_state ^= gemm_test_state << 13;
  gemm_test_state ^= gemm_test_state >> 7;
  gemm_test_state ^= gemm_test_state << 17;
  return (float)((double)(gemm_test_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static inline float *randoms(size_t n) {
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = uniform();
  return p;
}

/* Element (i, j) of m. */
static inline float at(cn_matrix m, int i, int j) {
  return m.p[(m.row_off ? m.row_off[i] : i * m.rs) + j * m.cs];
}

/* C [m, n] = random values, then gemm(...) over them; *c0 gets a copy of
 * C as it was before (the accumulate case's starting values). */
static inline float *gemm_test_run(cn_gemm_fn *gemm, int m, int n, int k, cn_matrix a, cn_matrix b, int accumulate,
                                   const cn_epilogue *ep, float **c0) {
  float *c = randoms((size_t)m * n);
  *c0 = malloc((size_t)m * n * sizeof(float));
  memcpy(*c0, c, (size_t)m * n * sizeof(float));
  float *scratch = aligned_alloc(64, cn_round_floats(cn_gemm_scratch_floats()) * sizeof(float));
  gemm(m, n, k, a, b, c, n, accumulate, ep, scratch);
  free(scratch);
  return c;
}

#endif
