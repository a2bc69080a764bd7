/* Finding a dataset's files: --data DIR, data/<name>/ under the current
 * folder, $CNIST_DATA/<name>; raw preferred over .gz; and the errors that
 * say what was tried. Uses small files the test writes. */
#include <stdlib.h>
#include <unistd.h>

#include "cnist/data.h"
#include "cnist/core.h"
#include "data/files.h"
#include "idx_files.h"
#include "test.h"

static const char *const names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* A small dataset in folder: n_train and n_test images of 4x4, labels i % 10;
 * gz picks .gz files; the first image's first pixel is `marker`. */
static void write_dataset(const char *folder, int n_train, int n_test, int gz, uint8_t marker) {
  mkdir(folder, 0777);
  char path[4096];
  for (int part = 0; part < 2; part++) {
    int n = part ? n_test : n_train;
    uint8_t buf[16 + 100 * 16];
    const uint32_t image_dims[3] = {(uint32_t)n, 4, 4}, label_dims[1] = {(uint32_t)n};
    size_t h = idx_header(buf, 0x00000803, 3, image_dims);
    for (int i = 0; i < n * 16; i++) buf[h + (size_t)i] = (uint8_t)(i * 7);
    buf[h] = marker;
    concat(path, sizeof path, folder, "/", names[2 * part], gz ? ".gz" : "");
    CHECK((gz ? write_gz_bytes : write_bytes)(path, buf, h + (size_t)n * 16) == 0);
    h = idx_header(buf, 0x00000801, 1, label_dims);
    for (int i = 0; i < n; i++) buf[h + (size_t)i] = (uint8_t)(i % 10);
    concat(path, sizeof path, folder, "/", names[2 * part + 1], gz ? ".gz" : "");
    CHECK((gz ? write_gz_bytes : write_bytes)(path, buf, h + (size_t)n) == 0);
  }
}

int main(void) {
  char root[4096], folder[4096], other[4096];
  /* A clean scratch folder: files left by an earlier run would be found. */
  CHECK(cn_data_remove_tree(CN_TEST_TMP) == CN_OK);
  CHECK(cn_mkdirs(CN_TEST_TMP) == CN_OK);
  concat(root, sizeof root, CN_TEST_TMP, "", "", "");
  cn_dataset ds;

  /* --data DIR: raw files. */
  concat(folder, sizeof folder, root, "/raw", "", "");
  write_dataset(folder, 20, 10, 0, 200);
  CHECK_MSG(cn_dataset_load(NULL, folder, &ds) == CN_OK, "%s", cn_last_error());
  CHECK(ds.train.n == 20 && ds.test.n == 10 && ds.train.rows == 4 && ds.classes == 10);
  /* neither MNIST's nor Fashion-MNIST's test set: a dataset of the user's own, classes numbered */
  CHECK(!strcmp(ds.name, CN_DATASET_OWN) && !strcmp(ds.class_names[3], "3"));
  CHECK(ds.train.pixels[0] == 200 && ds.train.labels[13] == 3);
  cn_dataset_free(&ds);

  /* Both raw and .gz present: raw wins. */
  write_dataset(folder, 30, 5, 1, 100);
  CHECK(cn_dataset_load("mnist", folder, &ds) == CN_OK);
  CHECK(ds.train.n == 20 && ds.train.pixels[0] == 200);
  cn_dataset_free(&ds);

  /* .gz only, and the class names of fashion. */
  concat(folder, sizeof folder, root, "/gz", "", "");
  write_dataset(folder, 30, 5, 1, 100);
  CHECK_MSG(cn_dataset_load("fashion", folder, &ds) == CN_OK, "%s", cn_last_error());
  CHECK(ds.train.n == 30 && ds.test.n == 5 && ds.train.pixels[0] == 100);
  CHECK(!strcmp(ds.class_names[8], "Bag") && !strcmp(ds.name, "fashion"));
  cn_dataset_free(&ds);

  /* A folder with a file missing: the error names the folder and the file. */
  concat(folder, sizeof folder, root, "/partial", "", "");
  write_dataset(folder, 20, 10, 0, 1);
  concat(other, sizeof other, folder, "/t10k-labels-idx1-ubyte", "", "");
  unlink(other);
  CHECK_ERROR(cn_dataset_load("mnist", folder, &ds), CN_ENOTFOUND, "partial: no t10k-labels-idx1-ubyte[.gz]");
  CHECK(ds.train.pixels == NULL);
  CHECK_ERROR(cn_dataset_load("mnist", "/nonexistent/cnist-data", &ds), CN_ENOTFOUND,
              "/nonexistent/cnist-data: no such folder");

  /* A bad file inside a dataset: the reader's message comes through, and the
   * train set already read is freed (valgrind would see it otherwise). */
  concat(other, sizeof other, folder, "/t10k-labels-idx1-ubyte", "", "");
  write_bytes(other, "not idx", 7);
  CHECK_ERROR(cn_dataset_load("mnist", folder, &ds), CN_EFORMAT, "t10k-labels-idx1-ubyte: not an IDX file");

  /* Train and test images of different sizes. */
  concat(folder, sizeof folder, root, "/mixed", "", "");
  write_dataset(folder, 20, 10, 0, 1);
  const uint32_t dims[3] = {10, 5, 5};
  concat(other, sizeof other, folder, "/t10k-images-idx3-ubyte", "", "");
  uint8_t whole[16 + 10 * 25] = {0};
  idx_header(whole, 0x00000803, 3, dims);
  write_bytes(other, whole, sizeof whole);
  CHECK_ERROR(cn_dataset_load("mnist", folder, &ds), CN_EFORMAT, "training images are 4x4x1 but test images are 5x5x1");

  CHECK_ERROR(cn_dataset_load("kmnist", folder, &ds), CN_EINVAL, "unknown dataset 'kmnist' (known: mnist, fashion, or own with a folder)");
  CHECK(cn_dataset_class_names("kmnist") == NULL);

  /* No --data: data/<name>/ under the current folder, then $CNIST_DATA. */
  concat(folder, sizeof folder, root, "/cwd", "", "");
  mkdir(folder, 0777);
  CHECK(chdir(folder) == 0);
  unsetenv("CNIST_DATA");
  CHECK_ERROR(cn_dataset_load("fashion", NULL, &ds), CN_ENOTFOUND,
              "the fashion dataset was not found: tried data/fashion (no such folder) and $CNIST_DATA/fashion "
              "(CNIST_DATA is not set). Run `cnist data fetch fashion`, or pass --data DIR");

  concat(other, sizeof other, root, "/env", "", "");
  mkdir(other, 0777);
  setenv("CNIST_DATA", other, 1);
  CHECK_ERROR(cn_dataset_load("mnist", NULL, &ds), CN_ENOTFOUND, "$CNIST_DATA/mnist = ");
  CHECK(strstr(cn_last_error(), "env/mnist (no such folder)") != NULL);

  concat(other, sizeof other, root, "/env/mnist", "", "");
  write_dataset(other, 12, 6, 1, 77);
  CHECK_MSG(cn_dataset_load("mnist", NULL, &ds) == CN_OK, "%s", cn_last_error());
  CHECK(ds.train.n == 12 && ds.train.pixels[0] == 77 && strstr(ds.dir, "env/mnist") != NULL);
  cn_dataset_free(&ds);

  /* data/mnist under the current folder comes before $CNIST_DATA. */
  mkdir("data", 0777);
  write_dataset("data/mnist", 14, 7, 0, 55);
  CHECK_MSG(cn_dataset_load("mnist", NULL, &ds) == CN_OK, "%s", cn_last_error());
  CHECK(ds.train.n == 14 && ds.train.pixels[0] == 55 && ds.dir[0] == '/');
  cn_dataset_free(&ds);
  return test_summary();
}
