/* The train/validation split and the float batches. */
#include <stdlib.h>

#include "cnist/data.h"
#include "test.h"

/* Every index 0..n-1 appears exactly once across train and val. */
static int is_partition(int n, const int *train, int n_train, const int *val, int n_val) {
  int *seen = calloc((size_t)n, sizeof *seen);
  int ok = seen && n_train + n_val == n;
  for (int i = 0; ok && i < n_train; i++) ok = train[i] >= 0 && train[i] < n && !seen[train[i]]++;
  for (int i = 0; ok && i < n_val; i++) ok = val[i] >= 0 && val[i] < n && !seen[val[i]]++;
  free(seen);
  return ok;
}

static void test_split(void) {
  int *train, *val, n_train, n_val;
  CHECK(cn_split_indices(60000, 0.1, 42, &train, &n_train, &val, &n_val) == CN_OK);
  CHECK(n_train == 54000 && n_val == 6000);
  CHECK(is_partition(60000, train, n_train, val, n_val));
  /* Shuffled, not the last 10% in file order. */
  int tail = 0;
  for (int i = 0; i < n_val; i++) tail += val[i] >= 54000;
  CHECK_MSG(tail > 400 && tail < 800, "%d of 6000 validation images come from the file's last 6000", tail);

  int *train2, *val2, n_train2, n_val2;
  CHECK(cn_split_indices(60000, 0.1, 42, &train2, &n_train2, &val2, &n_val2) == CN_OK);
  CHECK(n_train2 == n_train && !memcmp(train, train2, sizeof(int) * (size_t)n_train) &&
        !memcmp(val, val2, sizeof(int) * (size_t)n_val));
  free(train2);
  free(val2);

  CHECK(cn_split_indices(60000, 0.1, 43, &train2, &n_train2, &val2, &n_val2) == CN_OK);
  int same = 0;
  for (int i = 0; i < n_val; i++) same += val[i] == val2[i];
  CHECK_MSG(same < 100, "seeds 42 and 43 agree on %d of 6000 validation positions", same);
  free(train2);
  free(val2);
  free(train);
  free(val);

  /* No validation at all, and rounding of the validation count. */
  CHECK(cn_split_indices(10, 0.0, 1, &train, &n_train, &val, &n_val) == CN_OK);
  CHECK(n_train == 10 && n_val == 0 && is_partition(10, train, n_train, val, n_val));
  free(train);
  free(val);
  CHECK(cn_split_indices(7, 0.25, 1, &train, &n_train, &val, &n_val) == CN_OK);
  CHECK(n_train == 5 && n_val == 2 && is_partition(7, train, n_train, val, n_val));
  free(train);
  free(val);

  CHECK_ERROR(cn_split_indices(100, 1.0, 1, &train, &n_train, &val, &n_val), CN_EINVAL, "validation fraction 1");
  CHECK_ERROR(cn_split_indices(100, -0.1, 1, &train, &n_train, &val, &n_val), CN_EINVAL, "not in [0, 1)");
  CHECK_ERROR(cn_split_indices(0, 0.1, 1, &train, &n_train, &val, &n_val), CN_EINVAL, "cannot split 0 images");
  CHECK_ERROR(cn_split_indices(1, 0.9, 1, &train, &n_train, &val, &n_val), CN_EINVAL, "leaves none to train on");
  CHECK(train == NULL && val == NULL);
}

static void test_batch(void) {
  /* Three 2x3 images with pixels 0..17 scaled, labels 4 5 6. */
  uint8_t pixels[18] = {0, 255, 51, 102, 1, 2, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 128};
  uint8_t labels[3] = {4, 5, 6};
  cn_imageset set = {.n = 3, .rows = 2, .cols = 3, .channels = 1, .pixels = pixels, .labels = labels};
  const int idx[2] = {2, 0};
  float x[2 * 6 + 1];
  int y[2 + 1];
  x[12] = -1.0f;
  y[2] = -1;
  CHECK(cn_batch_fill(&set, idx, 2, 2, 3, 1, x, y) == CN_OK);
  CHECK(y[0] == 6 && y[1] == 4 && y[2] == -1);
  for (int j = 0; j < 6; j++) {
    CHECK(x[j] == (float)pixels[12 + j] / 255.0f);
    CHECK(x[6 + j] == (float)pixels[j] / 255.0f);
  }
  CHECK(x[6] == 0.0f && x[7] == 1.0f);
  CHECK_NEAR(x[8], 0.2, 1e-7);
  CHECK_NEAR(x[5], 128.0 / 255.0, 1e-7);
  CHECK(x[12] == -1.0f); /* nothing written past count images */
  /* Labels may be left out. */
  CHECK(cn_batch_fill(&set, idx + 1, 1, 2, 3, 1, x, NULL) == CN_OK);
  CHECK(x[1] == 1.0f);
  /* Images that are not the model's input, or an index past the set, are refused before anything is written. */
  x[0] = -1.0f;
  CHECK_ERROR(cn_batch_fill(&set, idx, 1, 3, 2, 1, x, NULL), CN_ESHAPE,
              "the model takes 3x2x1 images; the image set holds 2x3x1");
  const int past[1] = {3};
  CHECK_ERROR(cn_batch_fill(&set, past, 1, 2, 3, 1, x, NULL), CN_EINVAL, "image index 3 is outside the set's 0..2");
  CHECK(x[0] == -1.0f);
  /* Labels beyond the model's outputs are refused with both numbers. */
  CHECK_ERROR(cn_imageset_check(&set, 2, 3, 1, 6), CN_ESHAPE, "label 6 (item 2) is beyond the model's 6 outputs");
  CHECK(cn_imageset_check(&set, 2, 3, 1, 7) == CN_OK);
  CHECK_ERROR(cn_imageset_check(&set, 2, 3, 1, 100), CN_ESHAPE, "the model has 100 outputs; cnist handles at most 64");
  /* Three channels, channels last in the file, become planes of NCHW. */
  cn_imageset rgb = {.n = 1, .rows = 2, .cols = 1, .channels = 3, .pixels = pixels, .labels = labels};
  CHECK(cn_batch_fill(&rgb, idx + 1, 1, 2, 1, 3, x, NULL) == CN_OK);
  CHECK(x[0] == 0.0f && x[1] == 102.0f / 255.0f && x[2] == 1.0f && x[3] == 1.0f / 255.0f);
}

int main(void) {
  test_split();
  test_batch();
  return test_summary();
}
