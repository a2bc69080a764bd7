/* The fp32 multiply against its contract (gemm.h): every element of C is
 * one chain of fused multiply-adds over k in order, from 0 or from C
 * (accumulate), then the epilogue (row bias, column bias, relu); the dot
 * form sums k in 16 interleaved lanes combined in a fixed tree. With FMA
 * the results must match a scalar fmaf model of that contract bit for bit;
 * without it (a portable build), to float rounding. The shapes reach every
 * tile height (1-8 rows: the 2-, 4-, 6- and 8-row kernels and the one-row
 * dot tile), partial panels, k beyond one block, and every operand layout
 * the layers use. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/gemm.h"
#include "gemm_test.h"
#include "test.h"

#if defined(__FMA__)
#define EXACT 1
#else
#define EXACT 0
#endif

/* The epilogue on one value, as gemm.h defines it. */
static float finish(float v, const cn_epilogue *ep, int i, int j) {
  if (!ep) return v;
  if (ep->row_bias) v += ep->row_bias[i];
  if (ep->col_bias) v += ep->col_bias[j];
  return ep->relu && !(v > 0.0f) ? 0.0f : v;
}

/* Compares got with want: equal bits with FMA, else within float rounding
 * of the sum of |terms| (scale). Returns 1 when they differ. */
static int differs(float got, float want, double scale) {
  if (EXACT) return memcmp(&got, &want, sizeof got) != 0;
  return fabs((double)got - want) > 1e-5 * (scale + 1e-3);
}

/* cn_gemm against the model; returns how many elements differ. */
static int check_gemm(int m, int n, int k, cn_matrix a, cn_matrix b, int accumulate, const cn_epilogue *ep) {
  float *c0, *c = gemm_test_run(cn_gemm, m, n, k, a, b, accumulate, ep, &c0);
  int bad = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float acc = accumulate ? c0[(size_t)i * n + j] : 0.0f;
      double scale = fabs(acc);
      for (int q = 0; q < k; q++) {
        acc = fmaf(at(a, i, q), at(b, q, j), acc);
        scale += fabs((double)at(a, i, q) * at(b, q, j));
      }
      bad += differs(c[(size_t)i * n + j], finish(acc, ep, i, j), scale);
    }
  free(c);
  free(c0);
  return bad;
}

static void test_gemm_layouts(void) {
  /* m 1..9 and 17 reach every tile height; n 1, 16, 37 a partial panel,
   * whole panels, both; k 1, 5, 257 (two blocks of k), 600 */
  const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17}, ns[] = {1, 16, 37}, ks[] = {1, 5, 257, 600};
  for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
      for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        const int m = ms[mi], n = ns[ni], k = ks[ki];
        float *a = randoms((size_t)m * k), *b = randoms((size_t)k * n), *bias = randoms((size_t)(m > n ? m : n));
        ptrdiff_t *b_off = malloc((size_t)k * sizeof(ptrdiff_t)), *a_off = malloc((size_t)m * sizeof(ptrdiff_t));
        for (int q = 0; q < k; q++) b_off[q] = (ptrdiff_t)((q * 7) % k) * n; /* rows of B in another order */
        for (int i = 0; i < m; i++) a_off[i] = (ptrdiff_t)((i * 5) % m) * k; /* and of A */
        const cn_epilogue rows_relu = {bias, NULL, 1}, cols = {NULL, bias, 0}, both = {bias, bias, 1};
        const cn_matrix a_rows = cn_mat(a, k, 1), a_cols = cn_mat(a, 1, m), a_by_off = {a, 0, 1, a_off};
        const cn_matrix b_rows = cn_mat(b, n, 1), b_cols = cn_mat(b, 1, k), b_by_off = {b, 0, 1, b_off};
        int bad;
        CHECK_MSG((bad = check_gemm(m, n, k, a_rows, b_rows, 0, NULL)) == 0, "%dx%dx%d plain: %d", m, n, k, bad);
        CHECK_MSG((bad = check_gemm(m, n, k, a_cols, b_rows, 1, &rows_relu)) == 0, "%dx%dx%d A^T acc relu: %d", m, n,
                  k, bad);
        CHECK_MSG((bad = check_gemm(m, n, k, a_rows, b_cols, 0, &cols)) == 0, "%dx%dx%d B^T col bias: %d", m, n, k,
                  bad);
        CHECK_MSG((bad = check_gemm(m, n, k, a_by_off, b_by_off, 1, &both)) == 0, "%dx%dx%d by offsets, both: %d", m,
                  n, k, bad);
        free(a);
        free(b);
        free(bias);
        free(b_off);
        free(a_off);
      }
}

/* B read in place (rows of 16 floats, 64-byte aligned): the same contract. */
static void test_gemm_in_place(void) {
  const int m = 11, n = 48, k = 300;
  float *a = randoms((size_t)m * k), *bias = randoms((size_t)m);
  float *b = aligned_alloc(64, (size_t)k * n * sizeof(float));
  for (size_t i = 0; i < (size_t)k * n; i++) b[i] = uniform();
  const cn_epilogue ep = {bias, NULL, 1};
  CHECK(check_gemm(m, n, k, cn_mat(a, k, 1), cn_mat(b, n, 1), 0, &ep) == 0);
  free(a);
  free(b);
  free(bias);
}

/* The dot form's model: lane t sums k = t mod 16 in order, then lanes
 * t += t+8, t += t+4, t += t+2, t += t+1. */
static float dot_model(const float *a, const float *b, int k, double *scale) {
  float lane[16] = {0};
  *scale = 0;
  for (int q = 0; q < k; q++) {
    lane[q % 16] = fmaf(a[q], b[q], lane[q % 16]);
    *scale += fabs((double)a[q] * b[q]);
  }
  for (int w = 8; w > 0; w /= 2)
    for (int t = 0; t < w; t++) lane[t] += lane[t + w];
  return lane[0];
}

static void test_dot(void) {
  const int ms[] = {1, 2, 3, 5}, ns[] = {1, 7, 8, 13}, ks[] = {1, 15, 16, 100, 784};
  for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
      for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        const int m = ms[mi], n = ns[ni], k = ks[ki];
        float *a = randoms((size_t)m * k), *b = randoms((size_t)n * k), *bias = randoms((size_t)n);
        float *c = malloc((size_t)m * n * sizeof(float)), *acc = randoms((size_t)n * m);
        float *acc0 = malloc((size_t)n * m * sizeof(float));
        memcpy(acc0, acc, (size_t)n * m * sizeof(float));
        ptrdiff_t *b_off = malloc((size_t)n * sizeof(ptrdiff_t));
        for (int j = 0; j < n; j++) b_off[j] = (ptrdiff_t)j * k;
        const cn_epilogue ep = {NULL, bias, 1};
        cn_gemm_dot(m, n, k, a, k, b, k, c, n, &ep);
        /* dot_rows with rows of B given by offsets, accumulating into C [n, m] */
        cn_gemm_dot_rows(n, m, k, b, b_off, a, k, acc, m, 1);
        int bad = 0;
        for (int i = 0; i < m; i++)
          for (int j = 0; j < n; j++) {
            double scale;
            const float d = dot_model(a + (size_t)i * k, b + (size_t)j * k, k, &scale);
            bad += differs(c[(size_t)i * n + j], finish(d, &ep, i, j), scale);
            bad += differs(acc[(size_t)j * m + i], acc0[(size_t)j * m + i] + d, scale + fabs(acc0[(size_t)j * m + i]));
          }
        CHECK_MSG(bad == 0, "dot %dx%dx%d: %d elements differ", m, n, k, bad);
        free(a);
        free(b);
        free(bias);
        free(c);
        free(acc);
        free(acc0);
        free(b_off);
      }
}

int main(void) {
  test_gemm_layouts();
  test_gemm_in_place();
  test_dot();
  if (!EXACT) printf("built without FMA: compared to float rounding, not bit for bit\n");
  return test_summary();
}
