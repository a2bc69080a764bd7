/* Datasets: an image file with its label file, and the four standard files
 * of a dataset found in the user's folder, data/<name>/ or $CNIST_DATA. */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnist/data.h"
#include "core/error.h"
#include "data/checksums.h"
#include "data/files.h"

/* The names of classes without names of their own; MNIST's digits are the first ten. */
static const char *const number_names[CN_MAX_CLASSES] = {
    "0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
    "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
    "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63"};
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

const char *const *cn_dataset_class_names(const char *name) {
  if (!name || !strcmp(name, "mnist") || !strcmp(name, CN_DATASET_OWN)) return number_names;
  if (!strcmp(name, "fashion")) return fashion_names;
  return NULL;
}

/* The known datasets by the content of their test set (cn_imageset_fingerprint
 * of the decoded images and labels, so raw and .gz copies agree): a folder
 * passed without a name is named by it. */
static const struct {
  const char *name, *test_fingerprint;
} known[] = {{"mnist", "baee8c5725c8964b"}, {"fashion", "c2414c438a228e9b"}};

static const char *known_by_content(const cn_imageset *test) {
  char hex[17];
  cn_imageset_fingerprint(test, hex);
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (!strcmp(hex, known[i].test_fingerprint)) return known[i].name;
  return NULL;
}

int cn_imageset_load(const char *images_path, const char *labels_path, int classes, cn_imageset *out) {
  memset(out, 0, sizeof *out);
  if (classes < 1 || classes > 256)
    return cn_fail(CN_EINVAL, "%s: %d classes cannot be labelled with one byte", labels_path, classes);
  cn_idx images, labels;
  int status = cn_idx_read_images(images_path, &images);
  if (status != CN_OK) return status;
  status = cn_idx_read(labels_path, 1, &labels);
  if (status != CN_OK) {
    cn_idx_free(&images);
    return status;
  }
  if (images.dims[0] != labels.dims[0]) {
    status = cn_fail(CN_EFORMAT, "%s holds %d images but %s holds %d labels: the counts must agree", images_path,
                     images.dims[0], labels_path, labels.dims[0]);
  } else {
    for (int i = 0; i < labels.dims[0]; i++) {
      if (labels.data[i] >= classes) {
        status = cn_fail(CN_EFORMAT, "%s: label %d of item %d is outside 0..%d (%d classes%s)", labels_path,
                         labels.data[i], i, classes - 1, classes,
                         classes == CN_MAX_CLASSES ? ", the most cnist handles" : "");
        break;
      }
    }
  }
  if (status != CN_OK) {
    cn_idx_free(&images);
    cn_idx_free(&labels);
    return status;
  }
  out->n = images.dims[0];
  out->rows = images.dims[1];
  out->cols = images.dims[2];
  out->channels = images.ndim == 4 ? images.dims[3] : 1;
  out->pixels = images.data;
  out->labels = labels.data;
  snprintf(out->images_path, sizeof out->images_path, "%s", images_path);
  snprintf(out->labels_path, sizeof out->labels_path, "%s", labels_path);
  return CN_OK;
}

void cn_imageset_free(cn_imageset *set) {
  if (!set) return;
  free(set->pixels);
  free(set->labels);
  memset(set, 0, sizeof *set);
}

/* Fills paths[first..] with folder's standard files (raw preferred over
 * .gz): first 0 for all four, TEST_FILES for the test set's two. On
 * failure writes what is wrong into why and returns CN_ENOTFOUND. */
static int find_files(const char *folder, int first, char paths[CN_DATA_FILES][4096], char *why, size_t why_size) {
  struct stat st;
  if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(why, why_size, "no such folder");
    return CN_ENOTFOUND;
  }
  size_t used = 0;
  why[0] = '\0';
  for (int i = first; i < CN_DATA_FILES; i++) {
    char gz_name[64];
    snprintf(gz_name, sizeof gz_name, "%s.gz", cn_data_file_names[i]);
    if (cn_data_join(paths[i], sizeof paths[i], folder, cn_data_file_names[i]) != CN_OK) return CN_EINVAL;
    if (cn_data_is_file(paths[i])) continue;
    if (cn_data_join(paths[i], sizeof paths[i], folder, gz_name) != CN_OK) return CN_EINVAL;
    if (cn_data_is_file(paths[i])) continue;
    int n = snprintf(why + used, why_size - used, "%s%s[.gz]", used ? ", " : "no ", cn_data_file_names[i]);
    if (n > 0 && used + (size_t)n < why_size) used += (size_t)n;
  }
  return used ? CN_ENOTFOUND : CN_OK;
}

#define STANDARD_FILES                                                                                   \
  "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte " \
  "(each raw or .gz)"
#define TEST_FILES 2 /* cn_data_file_names[2] and [3] */
#define STANDARD_TEST_FILES "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each raw or .gz)"

/* Appends formatted text to buf (size bytes, *used of them taken), cutting
 * it short if it does not fit. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void append(char *buf, size_t size, size_t *used, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *used, size - *used, fmt, ap);
  va_end(ap);
  if (n > 0) *used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

/* Picks the folder to read: dir when given, else the first of data/<name>
 * and $CNIST_DATA/<name> that holds the files from `first` on. */
static int locate(const char *name, const char *dir, int first, char folder[4096],
                  char paths[CN_DATA_FILES][4096]) {
  const char *needs = first ? STANDARD_TEST_FILES : STANDARD_FILES;
  char why[512];
  size_t used = 0;
  if (dir) {
    int status = find_files(dir, first, paths, why, sizeof why);
    if (status == CN_EINVAL) return cn_fail(CN_EINVAL, "%s: path too long", dir);
    if (status != CN_OK)
      return cn_fail(CN_ENOTFOUND, "%s: %s; the %s dataset needs %s in that folder", dir, why, name, needs);
    append(folder, 4096, &used, "%s", dir);
    return CN_OK;
  }
  char tried[1200];
  size_t tried_used = 0;
  char candidate[4096];
  size_t candidate_used = 0;
  append(candidate, sizeof candidate, &candidate_used, "data/%s", name);
  if (find_files(candidate, first, paths, why, sizeof why) == CN_OK) {
    append(folder, 4096, &used, "%s", candidate);
    return CN_OK;
  }
  append(tried, sizeof tried, &tried_used, "%s (%s)", candidate, why);
  const char *env = getenv("CNIST_DATA");
  if (env && *env) {
    if (cn_data_join(candidate, sizeof candidate, env, name) != CN_OK)
      return cn_fail(CN_EINVAL, "$CNIST_DATA: path too long");
    if (find_files(candidate, first, paths, why, sizeof why) == CN_OK) {
      append(folder, 4096, &used, "%s", candidate);
      return CN_OK;
    }
    append(tried, sizeof tried, &tried_used, " and $CNIST_DATA/%s = %s (%s)", name, candidate, why);
  } else {
    append(tried, sizeof tried, &tried_used, " and $CNIST_DATA/%s (CNIST_DATA is not set)", name);
  }
  return cn_fail(CN_ENOTFOUND,
                 "the %s dataset was not found: tried %s. Run `cnist data fetch %s`, or pass --data DIR "
                 "naming a folder that holds %s",
                 name, tried, name, needs);
}

/* The dataset, or its test set alone (train stays empty) when test_only. */
static int load(const char *name, const char *dir, int test_only, cn_dataset *out) {
  memset(out, 0, sizeof *out);
  const int named = name != NULL;
  if (!name) name = dir ? CN_DATASET_OWN : "mnist"; /* a folder without a name: named by its content below */
  const char *const *class_names = cn_dataset_class_names(name);
  if (!class_names)
    return cn_fail(CN_EINVAL, "unknown dataset '%s' (known: mnist, fashion, or " CN_DATASET_OWN " with a folder)",
                   name);
  if (!dir && !strcmp(name, CN_DATASET_OWN))
    return cn_fail(CN_EINVAL, "the " CN_DATASET_OWN " dataset is a folder of your own: name it (--data DIR)");
  char folder[4096], paths[CN_DATA_FILES][4096];
  int status = locate(name, dir, test_only ? TEST_FILES : 0, folder, paths);
  if (status != CN_OK) return status;

  if (!test_only && (status = cn_imageset_load(paths[0], paths[1], CN_MAX_CLASSES, &out->train)) != CN_OK)
    return status;
  status = cn_imageset_load(paths[2], paths[3], CN_MAX_CLASSES, &out->test);
  if (status != CN_OK) {
    cn_imageset_free(&out->train);
    return status;
  }
  if (!test_only && (out->train.rows != out->test.rows || out->train.cols != out->test.cols ||
      out->train.channels != out->test.channels)) {
    status = cn_fail(CN_EFORMAT, "%s: training images are %dx%dx%d but test images are %dx%dx%d", folder,
                     out->train.rows, out->train.cols, out->train.channels, out->test.rows, out->test.cols,
                     out->test.channels);
    cn_dataset_free(out);
    return status;
  }
  const char *holds = known_by_content(&out->test);
  if (!named && holds) name = holds, class_names = cn_dataset_class_names(holds);
  if (named && holds && strcmp(holds, name) != 0) {
    status = cn_fail(CN_EINVAL, "%s holds the %s test set, not %s's: drop the dataset name or name %s", folder,
                     holds, name, holds);
    cn_dataset_free(out);
    return status;
  }
  /* The classes are the labels' (a model is then checked against them), not the name's. */
  int classes = 0;
  const cn_imageset *sets[2] = {&out->train, &out->test};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < sets[k]->n; i++)
      if (sets[k]->labels[i] >= classes) classes = sets[k]->labels[i] + 1;
  size_t used = 0;
  append(out->name, sizeof out->name, &used, "%s", name);
  /* The absolute folder, so a run's config.json says where its data was. */
  char absolute[PATH_MAX];
  used = 0;
  append(out->dir, sizeof out->dir, &used, "%s", realpath(folder, absolute) ? absolute : folder);
  out->classes = classes;
  out->class_names = classes <= 10 ? class_names : number_names;
  return CN_OK;
}

int cn_dataset_load(const char *name, const char *dir, cn_dataset *out) { return load(name, dir, 0, out); }

int cn_dataset_load_test(const char *name, const char *dir, cn_dataset *out) { return load(name, dir, 1, out); }

void cn_dataset_free(cn_dataset *ds) {
  if (!ds) return;
  cn_imageset_free(&ds->train);
  cn_imageset_free(&ds->test);
  memset(ds, 0, sizeof *ds);
}
