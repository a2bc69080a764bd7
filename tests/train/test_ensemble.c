/* Ensembles from test_probs.bin files written here: the mean, the vote it
 * gives against each member's, ties, and every malformed file refused with
 * its path and fault (by the run folder's reader, src/run/probs.c). */
#include <stdio.h>
#include <stdlib.h>

#include "cnist.h"
#include "core/file.h"
#include "cnist/core.h"
#include "test.h"
#include "run/run.h"

enum { N = 4, K = 3 };
static const uint8_t labels[N] = {0, 1, 2, 2};

/* Three members; image by image (label in brackets):
 *   0 [0]: a right, b right, c wrong       -> mean right
 *   1 [1]: a wrong (0.6 on 0), b and c right with 0.5 -> mean 0.4667 on 1 vs 0.3667 on 0: right
 *   2 [2]: a and b wrong with 0.4 on 1, c very sure of 2 -> mean 0.5 on 2: right though two are wrong
 *   3 [2]: all wrong -> wrong */
static const float probs[3][N * K] = {
    {0.8f, 0.1f, 0.1f, 0.6f, 0.4f, 0.0f, 0.3f, 0.4f, 0.3f, 0.5f, 0.3f, 0.2f},
    {0.7f, 0.2f, 0.1f, 0.3f, 0.5f, 0.2f, 0.3f, 0.4f, 0.3f, 0.1f, 0.6f, 0.3f},
    {0.2f, 0.7f, 0.1f, 0.2f, 0.5f, 0.3f, 0.0f, 0.1f, 0.9f, 0.6f, 0.1f, 0.3f},
};

/* What metrics.json would say of a run on `labels`: the probabilities file
 * is checked against its size and class counts. */
static cn_run_metrics *metrics_for(const uint8_t *l, int n, int k) {
  static cn_run_metrics m;
  memset(&m, 0, sizeof m);
  m.summary.test_n = n;
  m.classes = k;
  cn_confusion_init(&m.confusion, k);
  for (int i = 0; i < n; i++) cn_confusion_add(&m.confusion, l[i], l[i]);
  return &m;
}

/* Reads dir's test_probs.bin as a member. */
static int read_member(const char *dir, const uint8_t *l, int n, cn_test_probs *out) {
  memset(out, 0, sizeof *out);
  int rc = cn_run_read_probs(dir, metrics_for(l, n, K), &out->probs, &out->labels);
  out->n = n;
  out->classes = K;
  return rc;
}

static const char *member_dir(int m) {
  static char dirs[3][256];
  snprintf(dirs[m], sizeof dirs[m], CN_TEST_TMP "/member%d", m);
  return dirs[m];
}

static void test_mean_and_vote(void) {
  cn_test_probs members[3];
  const char *names[3];
  for (int m = 0; m < 3; m++) {
    names[m] = member_dir(m);
    CHECK(cn_mkdirs(names[m]) == 0);
    CHECK(cn_run_write_probs(names[m], probs[m], N, K, labels) == 0);
    CHECK_MSG(read_member(names[m], labels, N, &members[m]) == 0, "%s", cn_last_error());
    CHECK(members[m].n == N && members[m].classes == K && members[m].labels[3] == 2);
  }
  cn_ensemble e;
  CHECK_MSG(cn_ensemble_average(members, names, 3, &e) == 0, "%s", cn_last_error());
  CHECK(e.members == 3 && e.n == N && e.classes == K);
  CHECK(fabsf(e.probs[1 * K + 1] - (0.4f + 0.5f + 0.5f) / 3) < 1e-6f);
  CHECK(fabsf(e.probs[2 * K + 2] - 0.5f) < 1e-6f);
  int want_predicted[N] = {0, 1, 2, 0}, want_wrong[N] = {1, 1, 2, 3};
  for (int i = 0; i < N; i++) {
    CHECK_MSG(e.predicted[i] == want_predicted[i], "image %d: %d", i, e.predicted[i]);
    CHECK_MSG(e.member_wrong[i] == want_wrong[i], "image %d: %d members wrong", i, e.member_wrong[i]);
  }
  CHECK(fabs(e.accuracy - 0.75) < 1e-12);
  CHECK(fabs(e.accuracy_se - sqrt(0.75 * 0.25 / N)) < 1e-12);
  CHECK(fabs(e.member_accuracy[0] - 0.25) < 1e-12); /* a: image 0 only */
  CHECK(fabs(e.member_accuracy[1] - 0.50) < 1e-12); /* b: images 0 and 1 */
  CHECK(fabs(e.member_accuracy[2] - 0.50) < 1e-12); /* c: images 1 and 2 */
  cn_ensemble_free(&e);

  /* One member is its own ensemble. */
  CHECK(cn_ensemble_average(members, names, 1, &e) == 0);
  CHECK(fabs(e.accuracy - 0.25) < 1e-12 && e.member_wrong[1] == 1);
  cn_ensemble_free(&e);
  for (int m = 0; m < 3; m++) cn_test_probs_free(&members[m]);
}

static void test_ties_go_to_the_first_class(void) {
  const float row[4] = {0.25f, 0.25f, 0.25f, 0.25f};
  CHECK(cn_probs_argmax(row, 4) == 0);
  const float row2[3] = {0.2f, 0.4f, 0.4f};
  CHECK(cn_probs_argmax(row2, 3) == 1);
}

static void test_different_test_sets(void) {
  const char *dirs[2] = {CN_TEST_TMP "/set-a", CN_TEST_TMP "/set-b"};
  const uint8_t other[N] = {0, 1, 2, 1};
  cn_test_probs p[2];
  for (int m = 0; m < 2; m++) CHECK(cn_mkdirs(dirs[m]) == 0);
  CHECK(cn_run_write_probs(dirs[0], probs[0], N, K, labels) == 0);
  CHECK(cn_run_write_probs(dirs[1], probs[1], N, K, other) == 0);
  CHECK(read_member(dirs[0], labels, N, &p[0]) == 0);
  CHECK(read_member(dirs[1], other, N, &p[1]) == 0);
  cn_ensemble e;
  CHECK_ERROR(cn_ensemble_average(p, dirs, 2, &e), CN_EINVAL, "set-b: its test labels differ");
  cn_test_probs_free(&p[1]);
  CHECK(cn_run_write_probs(dirs[1], probs[1], N - 1, K, labels) == 0);
  CHECK(read_member(dirs[1], labels, N - 1, &p[1]) == 0);
  CHECK_ERROR(cn_ensemble_average(p, dirs, 2, &e), CN_EINVAL, "3 test images x 3 classes");
  CHECK_ERROR(cn_ensemble_average(p, dirs, 0, &e), CN_EINVAL, "at least one run");
  for (int m = 0; m < 2; m++) cn_test_probs_free(&p[m]);
}

/* Writes bytes as dir/test_probs.bin and checks the reader's refusal. */
static void expect_refused(const char *what, const unsigned char *bytes, size_t size, const char *needle) {
  const char *dir = CN_TEST_TMP "/bad";
  CHECK(cn_mkdirs(dir) == 0);
  CHECK(cn_write_file_atomic(CN_TEST_TMP "/bad/test_probs.bin", bytes, size) == 0);
  cn_test_probs p;
  int rc = read_member(dir, labels, N, &p);
  CHECK_MSG(rc == CN_EFORMAT && strstr(cn_last_error(), needle) && strstr(cn_last_error(), "bad/test_probs.bin"),
            "%s: rc %d, %s", what, rc, cn_last_error());
  CHECK(p.probs == NULL && p.labels == NULL);
}

static void test_malformed_files(void) {
  const char *dir = CN_TEST_TMP "/good";
  CHECK(cn_mkdirs(dir) == 0);
  CHECK(cn_run_write_probs(dir, probs[0], N, K, labels) == 0);
  char *good;
  size_t size;
  CHECK(cn_read_file(CN_TEST_TMP "/good/test_probs.bin", 1 << 20, &good, &size) == 0);
  CHECK(size == 16 + N * K * 4 + N);
  unsigned char *b = malloc(size);
  memcpy(b, good, size);
  b[0] = 'X';
  expect_refused("magic", b, size, "bad magic");
  expect_refused("empty", b, 0, "bad magic");
  memcpy(b, good, size);
  expect_refused("truncated", b, size - 1, "needs");
  b[12] = 200; /* 200 classes */
  expect_refused("classes", b, size, "holds 4 images x 200 classes, but metrics.json says 4 x 3");
  memcpy(b, good, size);
  b[8] = 0; /* 0 images */
  expect_refused("no images", b, size, "holds 0 images");
  memcpy(b, good, size);
  float nan = NAN;
  memcpy(b + 16 + 4 * 5, &nan, 4);
  expect_refused("NaN", b, size, "image 1, class 2");
  memcpy(b, good, size);
  float big = 1.5f;
  memcpy(b + 16, &big, 4);
  expect_refused("above 1", b, size, "is not a probability");
  memcpy(b, good, size);
  b[size - 1] = 3;
  expect_refused("label", b, size, "image 3 has label 3");
  memcpy(b, good, size);
  b[size - 1] = 1; /* a label that is in range, but not the test set metrics.json counted */
  expect_refused("other test set", b, size, "images of class 1, but metrics.json's confusion matrix counts");
  free(b);
  free(good);
  float *probs_out;
  uint8_t *labels_out;
  CHECK_ERROR(cn_run_read_probs(CN_TEST_TMP "/none", metrics_for(labels, N, K), &probs_out, &labels_out),
              CN_ENOTFOUND, "none/test_probs.bin: missing");
}

/* Test-time augmentation against views made by hand: one-pixel shifts are
 * exact under bilinear sampling, so the mean over views 0..2 (itself, right,
 * left) is the mean of cn_evaluate on three shifted copies of the set. */
static void test_tta(void) {
  enum { H = 6, W = 7, IMAGES = 5, C = 4 };
  cn_spec s;
  cn_spec_init(&s, 1, H, W);
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, C, CN_ACT_SOFTMAX);
  cn_model *m;
  CHECK(cn_model_new(&s, 7, &m) == 0);
  uint8_t pixels[3][IMAGES * H * W] = {{0}}, labels_[IMAGES] = {0, 1, 2, 3, 1};
  cn_rng rng;
  cn_rng_seed(&rng, 5, 0);
  for (int i = 0; i < IMAGES * H * W; i++) pixels[0][i] = (uint8_t)(cn_rng_uniform(&rng) * 256);
  for (int i = 0; i < IMAGES; i++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        uint8_t v = pixels[0][(i * H + y) * W + x];
        if (x + 1 < W) pixels[1][(i * H + y) * W + x + 1] = v; /* content moved right */
        if (x > 0) pixels[2][(i * H + y) * W + x - 1] = v;     /* and left */
      }
  float want[IMAGES * C] = {0}, got[IMAGES * C], one[IMAGES * C];
  cn_eval_result r;
  for (int v = 0; v < 3; v++) {
    cn_imageset set = {.n = IMAGES, .rows = H, .cols = W, .channels = 1, .pixels = pixels[v], .labels = labels_};
    CHECK(cn_evaluate(m, &set, NULL, IMAGES, 2, one, &r) == 0);
    for (int j = 0; j < IMAGES * C; j++) want[j] += one[j] / 3;
  }
  cn_imageset set = {.n = IMAGES, .rows = H, .cols = W, .channels = 1, .pixels = pixels[0], .labels = labels_};
  CHECK(cn_evaluate_tta(m, &set, NULL, IMAGES, 2, 3, got, &r) == 0);
  for (int j = 0; j < IMAGES * C; j++) CHECK_MSG(fabsf(got[j] - want[j]) < 1e-6f, "%d: %g vs %g", j, got[j], want[j]);
  double loss = 0;
  for (int i = 0; i < IMAGES; i++) loss -= log(want[i * C + labels_[i]]);
  CHECK(fabs(r.loss - loss / IMAGES) < 1e-5 && r.n == IMAGES && r.confusion.n == IMAGES);
  /* one view is cn_evaluate itself; the batch size does not matter */
  CHECK(cn_evaluate_tta(m, &set, NULL, IMAGES, 3, 1, got, &r) == 0);
  CHECK(cn_evaluate(m, &set, NULL, IMAGES, 3, one, &r) == 0);
  CHECK(memcmp(got, one, sizeof got) == 0);
  CHECK(cn_evaluate_tta(m, &set, NULL, IMAGES, 2, 9, got, &r) == 0);
  CHECK(cn_evaluate_tta(m, &set, NULL, IMAGES, 4, 9, one, &r) == 0);
  CHECK(memcmp(got, one, sizeof got) == 0);
  CHECK_ERROR(cn_evaluate_tta(m, &set, NULL, IMAGES, 2, 10, got, &r), CN_EINVAL, "1 to 9 views, not 10");
  cn_model_free(m);
}

int main(void) {
  test_tta();
  test_mean_and_vote();
  test_ties_go_to_the_first_class();
  test_different_test_sets();
  test_malformed_files();
  return test_summary();
}
