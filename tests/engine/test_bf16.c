/* The bf16 option: the multiply against a double-precision reference on
 * the same bf16-rounded operands (every operand layout the layers use, odd
 * k, blocks of k, rows and columns beyond one packed block, accumulate,
 * bias and relu), results independent of how C is split, and whole models
 * whose bf16 outputs and gradients stay close to fp32's and do not depend
 * on the thread count. In a build without the bf16 kernel, the option must
 * be refused with a message that says why. */
#include <stdint.h>
#include <stdlib.h>

#include "engine/gemm.h"
#include "gemm_test.h"
#include "engine/model_impl.h"
#include "test.h"

/* float -> bfloat16 -> float, round to nearest even (finite inputs). */
static float to_bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* C = c0 (when accumulate) + A . B on bf16-rounded operands, then bias and
 * relu, against the bf16 multiply; returns the largest error relative to
 * the sum of |terms| of that element. */
static double worst_error(int m, int n, int k, cn_matrix a, cn_matrix b, int accumulate, const cn_epilogue *ep) {
  float *c0, *c = gemm_test_run(cn_gemm_bf16, m, n, k, a, b, accumulate, ep, &c0);
  double worst = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double sum = accumulate ? c0[(size_t)i * n + j] : 0, scale = fabs(sum) + 1e-3;
      for (int q = 0; q < k; q++) {
        double t = (double)to_bf16(at(a, i, q)) * to_bf16(at(b, q, j));
        sum += t;
        scale += fabs(t);
      }
      if (ep && ep->row_bias) sum += ep->row_bias[i];
      if (ep && ep->col_bias) sum += ep->col_bias[j];
      if (ep && ep->relu && sum < 0) sum = 0;
      double e = fabs(c[(size_t)i * n + j] - sum) / scale;
      if (e > worst) worst = e;
    }
  free(c);
  free(c0);
  return worst;
}

static void check_multiply(void) {
  /* sizes: tails of tiles (m 13, n 37), odd k, k over one block (256), m
   * over one packed block (256), n over one packed block (1024) */
  const int shapes[][3] = {{1, 1, 1}, {13, 37, 5}, {8, 32, 64}, {17, 45, 257}, {300, 70, 600}, {9, 1100, 31}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    float *a = randoms((size_t)m * k), *b = randoms((size_t)k * n), *bias = randoms((size_t)(m > n ? m : n));
    ptrdiff_t *off = malloc((size_t)k * sizeof(ptrdiff_t)), *a_off = malloc((size_t)m * sizeof(ptrdiff_t));
    for (int q = 0; q < k; q++) off[q] = (ptrdiff_t)((q * 7) % k) * n; /* rows of B in another order */
    for (int i = 0; i < m; i++) a_off[i] = (ptrdiff_t)((i * 5) % m) * k; /* and of A */
    const cn_epilogue rows_relu = {bias, NULL, 1}, cols = {NULL, bias, 0};
    const cn_matrix a_rows = cn_mat(a, k, 1), a_cols = cn_mat(a, 1, m); /* A, and A given transposed */
    const cn_matrix b_rows = cn_mat(b, n, 1), b_cols = cn_mat(b, 1, k);
    const cn_matrix b_off = {b, 0, 1, off}, a_off_rows = {a, 0, 1, a_off};
    const double tol = 1e-6; /* float32 summation of at most 600 terms, relative to sum |terms| */
    double e;
    CHECK_MSG((e = worst_error(m, n, k, a_rows, b_rows, 0, NULL)) < tol, "%dx%dx%d plain: %g", m, n, k, e);
    CHECK_MSG((e = worst_error(m, n, k, a_cols, b_rows, 1, &rows_relu)) < tol, "%dx%dx%d A^T acc relu: %g", m, n, k,
              e);
    CHECK_MSG((e = worst_error(m, n, k, a_rows, b_cols, 0, &cols)) < tol, "%dx%dx%d B^T bias: %g", m, n, k, e);
    CHECK_MSG((e = worst_error(m, n, k, a_cols, b_off, 1, NULL)) < tol, "%dx%dx%d B rows by offset: %g", m, n, k, e);
    CHECK_MSG((e = worst_error(m, n, k, a_off_rows, b_cols, 1, NULL)) < tol, "%dx%dx%d A rows by offset: %g", m, n, k,
              e);
    free(a);
    free(b);
    free(bias);
    free(off);
    free(a_off);
  }
}

/* The same elements computed in one call or as column and row pieces
 * (the thread splits) are the same bits. */
static void check_split_independence(void) {
  const int m = 40, n = 100, k = 300;
  float *a = randoms((size_t)m * k), *b = randoms((size_t)k * n);
  float *whole = calloc((size_t)m * n, sizeof(float)), *pieces = calloc((size_t)m * n, sizeof(float));
  float *scratch = aligned_alloc(64, cn_round_floats(cn_gemm_scratch_floats()) * sizeof(float));
  cn_gemm_bf16(m, n, k, cn_mat(a, k, 1), cn_mat(b, n, 1), whole, n, 0, NULL, scratch);
  cn_gemm_bf16(24, 64, k, cn_mat(a, k, 1), cn_mat(b, n, 1), pieces, n, 0, NULL, scratch);
  cn_gemm_bf16(24, n - 64, k, cn_mat(a, k, 1), cn_mat(b + 64, n, 1), pieces + 64, n, 0, NULL, scratch);
  cn_gemm_bf16(m - 24, n, k, cn_mat(a + 24 * k, k, 1), cn_mat(b, n, 1), pieces + 24 * n, n, 0, NULL, scratch);
  CHECK(memcmp(whole, pieces, (size_t)m * n * sizeof(float)) == 0);
  free(a);
  free(b);
  free(whole);
  free(pieces);
  free(scratch);
}

/* A small network with every multiplying layer kind: stride-1 convs (the
 * few-channel and many-channel input-gradient ways), a strided conv, dense. */
static const char *net =
    "input 12x12x1\n"
    "conv2d 4 3x3 padding=same activation=relu\n"
    "conv2d 12 3x3 padding=same\n"
    "batchnorm\n"
    "activation relu\n"
    "conv2d 10 3x3 stride=2 padding=same activation=relu\n"
    "maxpool 2x2\n"
    "flatten\n"
    "dense 24 activation=relu\n"
    "dense 10 activation=softmax\n";

typedef struct {
  float probs[8 * 10];
  float *grads; /* every gradient, in tensor order */
  size_t n_grads;
  float loss;
} net_result;

static int run_net(cn_precision prec, int threads, net_result *r) {
  cn_spec s;
  cn_model *m;
  r->grads = NULL;
  if (cn_spec_parse(net, "bf16-net", &s) || cn_model_new(&s, 7, &m)) {
    fprintf(stderr, "%s\n", cn_last_error());
    return -1;
  }
  cn_set_threads(threads);
  int rc = cn_model_set_precision(m, prec);
  if (rc) {
    cn_model_free(m);
    return rc;
  }
  gemm_test_state = 12345;
  float *x = randoms(8 * 144);
  int labels[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  rc = cn_model_train_batch(m, x, labels, NULL, 8, &r->loss, NULL);
  int count;
  cn_tensor_ref *t = cn_model_tensors(m, &count);
  r->n_grads = 0;
  for (int i = 0; i < count; i++)
    if (t[i].grad) r->n_grads += t[i].size;
  r->grads = malloc(r->n_grads * sizeof(float));
  size_t at_ = 0;
  for (int i = 0; i < count; i++)
    if (t[i].grad) {
      memcpy(r->grads + at_, t[i].grad, t[i].size * sizeof(float));
      at_ += t[i].size;
    }
  if (!rc) rc = cn_model_predict(m, x, 8, r->probs);
  free(x);
  cn_model_free(m);
  return rc;
}

static void check_model(void) {
  net_result f32, b1, b2;
  CHECK(run_net(CN_PRECISION_FP32, 1, &f32) == 0);
  CHECK(run_net(CN_PRECISION_BF16, 1, &b1) == 0);
  CHECK(run_net(CN_PRECISION_BF16, 2, &b2) == 0);
  /* thread count independence, as in fp32 */
  CHECK(memcmp(b1.probs, b2.probs, sizeof b1.probs) == 0);
  CHECK(b1.n_grads == b2.n_grads && memcmp(b1.grads, b2.grads, b1.n_grads * sizeof(float)) == 0);
  CHECK(b1.loss == b2.loss);
  /* close to fp32: bf16 keeps 8 bits of mantissa (relative rounding 2^-9
   * per operand); the first layers' gradients, reached through two rounded
   * input gradients and batch norm, differ most (cosine ~0.99 each) */
  double worst = 0, dot = 0, nf = 0, nb = 0;
  for (int i = 0; i < 80; i++) worst = fmax(worst, fabs(b1.probs[i] - f32.probs[i]));
  for (size_t i = 0; i < f32.n_grads; i++) {
    dot += (double)f32.grads[i] * b1.grads[i];
    nf += (double)f32.grads[i] * f32.grads[i];
    nb += (double)b1.grads[i] * b1.grads[i];
  }
  const double cosine = dot / sqrt(nf * nb);
  CHECK_MSG(worst < 0.02, "largest probability difference %g", worst);
  CHECK_MSG(fabs(b1.loss - f32.loss) < 0.01 * f32.loss, "loss %g vs %g", b1.loss, f32.loss);
  CHECK_MSG(cosine > 0.99, "gradient cosine %g", cosine);
  CHECK_MSG(fabs(sqrt(nb / nf) - 1) < 0.02, "gradient norm ratio %g", sqrt(nb / nf));
  /* and not the fp32 result itself: the option did something */
  CHECK(memcmp(b1.probs, f32.probs, sizeof b1.probs) != 0);
  printf("bf16 vs fp32: largest probability difference %.2g, gradient cosine %.6f\n", worst, cosine);
  free(f32.grads);
  free(b1.grads);
  free(b2.grads);
}

/* One image gives the same bits alone and in a large batch, which the
 * dense forward pass splits by images instead of by units (2 threads). */
static void check_batch_independence(void) {
  cn_spec s;
  cn_model *m;
  CHECK(cn_spec_load("mlp", &s) == 0 && cn_model_new(&s, 3, &m) == 0);
  CHECK(cn_model_set_precision(m, CN_PRECISION_BF16) == 0);
  cn_set_threads(2);
  enum { N = 600 };
  float *x = randoms((size_t)N * 784), *all = malloc(sizeof(float) * N * 10), one[10];
  CHECK(cn_model_predict(m, x, N, all) == 0);
  int differ = 0;
  for (int i = 0; i < N; i += 37) {
    CHECK(cn_model_predict(m, x + (size_t)i * 784, 1, one) == 0);
    differ += memcmp(one, all + (size_t)i * 10, sizeof one) != 0;
  }
  CHECK_MSG(differ == 0, "%d images differ between batch %d and batch 1", differ, N);
  free(x);
  free(all);
  cn_model_free(m);
}

int main(void) {
  cn_precision got = CN_PRECISION_BF16;
  CHECK(cn_precision_parse("fp32", &got) == 0 && got == CN_PRECISION_FP32);
  CHECK(cn_precision_parse("bf16", &got) == 0 && got == CN_PRECISION_BF16);
  CHECK(cn_precision_parse("fp16", &got) == CN_EINVAL && got == CN_PRECISION_BF16);
  CHECK(strstr(cn_last_error(), "unknown precision \"fp16\": use fp32 or bf16") != NULL);
  CHECK(strcmp(cn_precision_name(CN_PRECISION_BF16), "bf16") == 0);
  for (int p = 0; p < CN_PRECISIONS; p++) /* one table: each name parses back to its precision */
    CHECK(cn_precision_names()[p] && cn_precision_parse(cn_precision_names()[p], &got) == 0 && (int)got == p);
  CHECK(cn_precision_names()[CN_PRECISIONS] == NULL);
  if (!cn_gemm_bf16_available()) {
    net_result r;
    CHECK_ERROR(run_net(CN_PRECISION_BF16, 1, &r), CN_EINVAL, "AVX512-BF16");
    printf("this build has no bf16 kernel: checked that the option is refused\n");
    return test_summary();
  }
  check_multiply();
  check_split_independence();
  check_model();
  check_batch_independence();
  return test_summary();
}
