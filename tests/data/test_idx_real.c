/* The reader on the real files: MNIST raw, the same through .gz copies, and
 * Fashion-MNIST as Debian ships it (.gz). Needs data/ fetched. */
#include <stdlib.h>
#include <zlib.h>

#include "cnist/data.h"
#include "idx_files.h"
#include "test.h"

static const int mnist_train_counts[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
static const int mnist_test_counts[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};

static void check_counts(const cn_imageset *set, const int *want, const char *what) {
  int counts[10] = {0};
  for (int i = 0; i < set->n; i++) counts[set->labels[i]]++;
  for (int c = 0; c < 10; c++) CHECK_MSG(counts[c] == want[c], "%s class %d: %d, want %d", what, c, counts[c], want[c]);
}

/* Writes a gzip copy of src at dst through zlib. */
static int gzip_copy(const char *src, const char *dst) {
  FILE *in = fopen(src, "rb");
  gzFile out = gzopen(dst, "wb1");
  int ok = in && out;
  static char buf[1 << 16];
  size_t got;
  while (ok && (got = fread(buf, 1, sizeof buf, in)) > 0) ok = gzwrite(out, buf, (unsigned)got) == (int)got;
  if (in) fclose(in);
  if (out && gzclose(out) != Z_OK) ok = 0;
  return ok ? 0 : -1;
}

/* A folder (under the test's temporary one) of gzip copies of MNIST's
 * standard files from number `first` on (0: all four; 2: the test set's). */
static void gzip_folder(char dir[4096], const char *name, int first) {
  static const char *const names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  char src[4096], dst[4096];
  tmp_path(dir, 4096, name);
  mkdir(dir, 0777);
  for (int i = first; i < 4; i++) {
    concat(src, sizeof src, CN_TEST_DATA_DIR "/mnist/", names[i], "", "");
    concat(dst, sizeof dst, dir, "/", names[i], ".gz");
    CHECK_MSG(gzip_copy(src, dst) == 0, "cannot write %s", dst);
  }
}

int main(void) {
  cn_dataset mnist;
  CHECK_MSG(cn_dataset_load("mnist", CN_TEST_DATA_DIR "/mnist", &mnist) == CN_OK, "%s", cn_last_error());
  CHECK(mnist.train.n == 60000 && mnist.train.rows == 28 && mnist.train.cols == 28);
  CHECK(mnist.test.n == 10000 && mnist.test.rows == 28 && mnist.test.cols == 28);
  CHECK(mnist.classes == 10 && !strcmp(mnist.name, "mnist") && !strcmp(mnist.class_names[7], "7"));
  CHECK(strstr(mnist.dir, "/mnist") != NULL);
  if (mnist.train.labels && mnist.test.labels) {
    check_counts(&mnist.train, mnist_train_counts, "mnist train");
    check_counts(&mnist.test, mnist_test_counts, "mnist test");
    /* The famous first digits: 5 0 4 1 9 2 1 3 in train, 7 2 1 0 in test. */
    CHECK(mnist.train.labels[0] == 5 && mnist.train.labels[1] == 0 && mnist.train.labels[7] == 3);
    CHECK(mnist.test.labels[0] == 7 && mnist.test.labels[3] == 0);
  }

  /* The same files gzipped: the same bytes come back. */
  char dir[4096];
  gzip_folder(dir, "mnist-gz", 0);
  cn_dataset gz;
  CHECK_MSG(cn_dataset_load("mnist", dir, &gz) == CN_OK, "%s", cn_last_error());
  CHECK(gz.train.n == 60000 && gz.test.n == 10000 && gz.train.rows == 28 && gz.test.cols == 28);
  if (gz.train.pixels && mnist.train.pixels) {
    CHECK(!memcmp(gz.train.pixels, mnist.train.pixels, 60000 * 784));
    CHECK(!memcmp(gz.train.labels, mnist.train.labels, 60000));
    CHECK(!memcmp(gz.test.pixels, mnist.test.pixels, 10000 * 784));
    CHECK(!memcmp(gz.test.labels, mnist.test.labels, 10000));
    check_counts(&gz.train, mnist_train_counts, "mnist.gz train");
    check_counts(&gz.test, mnist_test_counts, "mnist.gz test");
    /* The content fingerprint runs record (known answers, so a change to
     * the hash, which would make every recorded run "other data", fails
     * here), the same for the raw and the gzipped files. */
    char raw_train[17], raw_test[17], gz_train[17], gz_test[17];
    cn_imageset_fingerprint(&mnist.train, raw_train);
    cn_imageset_fingerprint(&mnist.test, raw_test);
    cn_imageset_fingerprint(&gz.train, gz_train);
    cn_imageset_fingerprint(&gz.test, gz_test);
    CHECK_MSG(!strcmp(raw_train, "1deec127f55a7c18") && !strcmp(raw_test, "baee8c5725c8964b"), "%s %s", raw_train,
              raw_test);
    CHECK(!strcmp(gz_train, raw_train) && !strcmp(gz_test, raw_test));
    /* one pixel, one label, or the shape read otherwise: another fingerprint */
    char other[17];
    gz.test.pixels[5000 * 784 + 400] ^= 1;
    cn_imageset_fingerprint(&gz.test, other);
    CHECK(strcmp(other, raw_test) != 0);
    gz.test.pixels[5000 * 784 + 400] ^= 1;
    gz.test.labels[9999] = (uint8_t)((gz.test.labels[9999] + 1) % 10);
    cn_imageset_fingerprint(&gz.test, other);
    CHECK(strcmp(other, raw_test) != 0);
    cn_imageset same_bytes = mnist.test;
    same_bytes.n = 5000, same_bytes.rows = 56; /* the same bytes as 5000 images of 56x28, half the labels */
    cn_imageset_fingerprint(&same_bytes, other);
    CHECK(strcmp(other, raw_test) != 0);
  }
  cn_dataset_free(&gz);

  /* The test set alone, also from a folder holding only the two t10k files. */
  char only[4096];
  gzip_folder(only, "mnist-test-only", 2);
  cn_dataset test_only;
  CHECK_MSG(cn_dataset_load_test("mnist", only, &test_only) == CN_OK, "%s", cn_last_error());
  CHECK(test_only.train.n == 0 && test_only.train.pixels == NULL && test_only.test.n == 10000 &&
        test_only.classes == 10 && test_only.test.rows == 28);
  if (test_only.test.pixels && mnist.test.pixels)
    CHECK(!memcmp(test_only.test.pixels, mnist.test.pixels, 10000 * 784) &&
          !memcmp(test_only.test.labels, mnist.test.labels, 10000));
  cn_dataset_free(&test_only);
  cn_dataset all;
  CHECK_ERROR(cn_dataset_load("mnist", only, &all), CN_ENOTFOUND, "no train-images-idx3-ubyte[.gz], train-labels");
  cn_dataset_free(&mnist);
  CHECK(mnist.train.pixels == NULL && mnist.test.labels == NULL);

  /* Fashion-MNIST: balanced, 6000 per class in train and 1000 in test. */
  cn_dataset fashion;
  CHECK_MSG(cn_dataset_load("fashion", CN_TEST_DATA_DIR "/fashion", &fashion) == CN_OK, "%s", cn_last_error());
  CHECK(fashion.train.n == 60000 && fashion.test.n == 10000 && fashion.train.rows == 28);
  CHECK(!strcmp(fashion.class_names[0], "T-shirt/top") && !strcmp(fashion.class_names[9], "Ankle boot"));
  if (fashion.train.labels) {
    const int train6000[10] = {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000};
    const int test1000[10] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    check_counts(&fashion.train, train6000, "fashion train");
    check_counts(&fashion.test, test1000, "fashion test");
    CHECK(fashion.train.labels[0] == 9); /* an ankle boot comes first */
  }
  cn_dataset_free(&fashion);

  /* A folder passed without a name is named by its test set's content, raw
   * or gzipped; a name that contradicts the content is refused. */
  cn_dataset named;
  CHECK_MSG(cn_dataset_load_test(NULL, CN_TEST_DATA_DIR "/fashion", &named) == CN_OK, "%s", cn_last_error());
  CHECK(!strcmp(named.name, "fashion") && !strcmp(named.class_names[8], "Bag"));
  cn_dataset_free(&named);
  CHECK_MSG(cn_dataset_load_test(NULL, only, &named) == CN_OK, "%s", cn_last_error());
  CHECK(!strcmp(named.name, "mnist"));
  cn_dataset_free(&named);
  CHECK_ERROR(cn_dataset_load_test("mnist", CN_TEST_DATA_DIR "/fashion", &named), CN_EINVAL,
              "holds the fashion test set, not mnist's: drop the dataset name or name fashion");
  CHECK_ERROR(cn_dataset_load_test(CN_DATASET_OWN, NULL, &named), CN_EINVAL, "a folder of your own");
  return test_summary();
}
