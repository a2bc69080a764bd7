/* Training like Keras fit: a fixed seeded train/validation split, per-epoch
 * shuffling, callbacks (checkpoint, reduce-LR-on-plateau, early stopping),
 * progress events, run folders, exact resume; and evaluation: loss,
 * accuracy, confusion matrix, per-class precision/recall/F1. */
#ifndef CNIST_TRAIN_H
#define CNIST_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "cnist/core.h"
#include "cnist/data.h"
#include "cnist/model.h"
#include "cnist/optim.h"
#include "cnist/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- evaluation and metrics ---- */

/* Confusion matrix of up to CN_MAX_CLASSES (cnist/data.h) classes (rows: true class, columns: predicted) and
 * what follows. */
typedef struct {
  int classes;
  int64_t n;
  int64_t counts[CN_MAX_CLASSES * CN_MAX_CLASSES];
} cn_confusion;

typedef struct {
  double precision, recall, f1;
  int64_t support;
} cn_class_metrics;

void cn_confusion_init(cn_confusion *c, int classes);
void cn_confusion_add(cn_confusion *c, int truth, int predicted);
double cn_confusion_accuracy(const cn_confusion *c);
/* Precision, recall and F1 of class k (0 when undefined, as scikit-learn). */
cn_class_metrics cn_confusion_class(const cn_confusion *c, int k);
/* The `max` most frequent off-diagonal (true, predicted) pairs, most first;
 * returns how many were written (pairs with a count of 0 are left out). */
int cn_confusion_top_pairs(const cn_confusion *c, int max, int *truth, int *predicted, int64_t *count);
/* Binomial standard error of an accuracy p measured on n samples. */
double cn_accuracy_se(double p, int64_t n);

typedef struct {
  double loss;       /* mean softmax cross-entropy */
  double accuracy;
  int64_t n;
  cn_confusion confusion;
} cn_eval_result;

/* `cnist eval --json`'s object as text (malloc'd, caller frees; NULL with
 * CN_ENOMEM): "dataset", "split", "precision", "loss", "accuracy",
 * "accuracy_se", "n", "tta_views" (the views averaged per image, 1 without
 * test-time augmentation), then "confusion_matrix" and "per_class" in
 * metrics.json's shape, each class named from names when it is not NULL. */
char *cn_eval_result_json(const cn_eval_result *r, const char *dataset, const char *split, cn_precision precision,
                          int tta_views, const char *const *names);

/* Evaluates model on images idx[0..count) of set (idx NULL: the first count
 * images) in batches of `batch`, in inference mode. probs (may be NULL)
 * receives count*classes probabilities in the order evaluated. A set whose
 * images are not the model's input or whose labels reach beyond its outputs
 * is refused first (cn_imageset_check, CN_ESHAPE). */
int cn_evaluate(cn_model *m, const cn_imageset *set, const int *idx, int count, int batch, float *probs,
                cn_eval_result *out);
/* cn_evaluate shared by the ranks of a group (cnist/group.h), each calling
 * it with the same model and arguments: each rank evaluates its share of
 * the batches, and rank 0 gathers them and gives every rank the result,
 * bit for bit cn_evaluate's (the loss's per-batch terms are added in one
 * order). probs is filled on rank 0 only. g NULL: cn_evaluate. */
int cn_evaluate_group(const cn_group *g, cn_model *m, const cn_imageset *set, const int *idx, int count, int batch,
                      float *probs, cn_eval_result *out);

/* ---- callbacks: Keras semantics, usable on their own ---- */

/* Tracks a monitored value: "improved" means better than the best by more
 * than min_delta in the monitor's direction. */
typedef struct {
  int maximize;
  double min_delta;
  double best;
} cn_monitor;
void cn_monitor_init(cn_monitor *mon, const char *monitor, int mode, double min_delta);
int cn_monitor_improved(const cn_monitor *mon, double value);

/* ReduceLROnPlateau: returns the learning rate for the next epoch. */
typedef struct {
  cn_monitor mon;
  double factor, min_lr;
  int patience, cooldown;
  int wait, cooldown_counter;
} cn_reduce_lr;
void cn_reduce_lr_init(cn_reduce_lr *r, const cn_callback_spec *spec);
double cn_reduce_lr_update(cn_reduce_lr *r, double value, double lr);

/* EarlyStopping: returns 1 when training should stop after `epoch`
 * (0-based), 0 otherwise; *improved tells whether this epoch is the new best. */
typedef struct {
  cn_monitor mon;
  int patience;
  int wait;
  int best_epoch;
} cn_early_stop;
void cn_early_stop_init(cn_early_stop *e, const cn_callback_spec *spec);
int cn_early_stop_update(cn_early_stop *e, double value, int epoch, int *improved);

/* ---- the fit loop ---- */

typedef enum { CN_FIT_EPOCH_BEGIN, CN_FIT_BATCH, CN_FIT_EPOCH_END, CN_FIT_MESSAGE } cn_fit_event_kind;

/* What cn_fit reports as it goes; the CLI turns it into a progress bar. */
typedef struct {
  cn_fit_event_kind kind;
  int epoch, epochs;        /* 1-based */
  int batch, batches;       /* batches done in this epoch, and per epoch */
  double seconds;           /* since the epoch began */
  double loss, accuracy;    /* running means over this epoch's batches */
  double val_loss, val_accuracy;
  double lr;
  const char *message;      /* CN_FIT_MESSAGE: "Epoch 9: ReduceLROnPlateau reducing ..." */
} cn_fit_event;

typedef struct {
  const char *dataset_name; /* recorded in config.json; default "mnist" */
  const char *data_dir;     /* recorded in config.json; may be NULL */
  double val_split;         /* fraction of train held out for validation, 0 for none; -1 (the default):
                             * the model's train line val_split=, else 0.15 */
  uint64_t seed;            /* split, init, shuffle, dropout: 1 */
  int threads;              /* 0: cn_get_threads() */
  cn_precision precision;   /* the multiplies' precision (default fp32); recorded in config.json */
  const char *run_dir;      /* NULL: runs/<model>-<YYYYmmdd-HHMMSS> */
  int resume;               /* continue run_dir from its last.safetensors */
  int epochs;               /* with resume, > 0: train up to this many epochs in all (Keras initial_epoch) */
  int limit_train;          /* > 0: use only the first N training images */
  int limit_test;           /* > 0: evaluate only the first N test images */
  int skip_train_eval;      /* 1: the final evaluation leaves the training set out (its figures NaN, null in
                               metrics.json): what a time-to-accuracy run does not need */
  const cn_group *group;     /* NULL: one process; else every batch is split across the group's ranks
                               (cnist/group.h), each rank calling cn_fit with the same options; rank 0 alone
                               writes the run folder; evaluations are shared (fp32 only) */
  volatile sig_atomic_t *stop; /* set (e.g. by SIGINT) to stop after the current batch */
  void (*on_event)(const cn_fit_event *ev, void *user);
  void *user;
} cn_fit_options;

cn_fit_options cn_fit_default_options(void);

typedef struct {
  char run_dir[4096];
  double train_loss, train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, test_accuracy_se;
  /* val_loss and val_accuracy are NaN when val_split is 0 (no validation) */
  int64_t test_n;
  size_t weight_number;     /* trainable parameters */
  double train_time;        /* seconds in the epochs (all sessions of a resumed run) */
  int epochs_planned, epochs_run, best_epoch;
  uint64_t seed;
  double val_split;
  cn_precision precision;
} cn_fit_result;

/* Trains spec on ds, writing the run folder of docs/ARCHITECTURE.md, then
 * reloads the best weights and evaluates them on train, validation and test.
 * With opt->resume the run folder's model.model and config.json win over
 * spec (which may be NULL) and the seed/split options; the folder's files
 * must agree with each other, and a finished run is refused unless
 * opt->epochs extends it. The folder is locked while cn_fit writes it. Returns CN_EINTR when
 * stopped by opt->stop (last.safetensors then holds the state to resume
 * from), CN_EDIVERGED when the loss became NaN or Inf. */
int cn_fit(const cn_spec *spec, const cn_dataset *ds, const cn_fit_options *opt, cn_fit_result *out);

/* Keras-style progress: on a terminal one line per epoch updated in place,
 * otherwise one plain line per finished epoch. */
void cn_progress_print(FILE *f, const cn_fit_event *ev, int is_tty);

/* ---- run folders ---- */

/* The files of a run folder (docs/ARCHITECTURE.md, "The run folder"). */
typedef enum {
  CN_RUN_FILE_MODEL,   /* model.model */
  CN_RUN_FILE_CONFIG,  /* config.json */
  CN_RUN_FILE_HISTORY, /* history.csv */
  CN_RUN_FILE_METRICS, /* metrics.json */
  CN_RUN_FILE_PROBS,   /* test_probs.bin */
  CN_RUN_FILE_BEST,    /* best.safetensors */
  CN_RUN_FILE_LAST,    /* last.safetensors */
  CN_RUN_FILE_EMA      /* ema.safetensors */
} cn_run_file;

/* run_dir/<file's name> into out (size bytes); CN_EINVAL when it does not fit. */
int cn_run_file_path(const char *run_dir, cn_run_file file, char *out, size_t size);

/* What `compare` shows of a run (from its metrics.json). */
typedef struct {
  char dir[4096];
  char model[64];
  char dataset[32];
  double train_loss, train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, test_accuracy_se;
  int64_t test_n; /* val_loss and val_accuracy are NaN for a run without validation (val_split 0), train_loss
                     and train_accuracy for one whose training set was not evaluated (skip_train_eval) */
  size_t weight_number;
  double train_time;
  int epochs_run, best_epoch; /* epochs_run 0: an ensemble (no train or validation figures of its own) */
  cn_precision precision; /* fp32 for runs from before the option */
} cn_run_summary;

/* From run_dir's metrics.json, or for an ensemble's folder (cnist ensemble)
 * from its ensemble.json: model "ensemble", the train and val figures NaN. */
int cn_run_read_summary(const char *run_dir, cn_run_summary *out);
/* The run's dataset name and data folder from config.json (for resume/eval). */
int cn_run_read_dataset(const char *run_dir, char *name, size_t name_size, char *data_dir, size_t dir_size);
/* The run's split settings from config.json: seed, validation fraction and
 * image limits (0: none), so its train/validation split can be rebuilt. */
int cn_run_read_settings(const char *run_dir, uint64_t *seed, double *val_split, int *limit_train, int *limit_test);
/* Checks that ds holds the data the run was trained (train) and tested
 * (test) on: config.json records each set's image count and content
 * (cn_imageset_fingerprint). CN_EINVAL naming the run's dataset and folder,
 * ds's, and each set that differs; CN_OK for runs from before the record.
 * `cnist train --resume` refuses other data with it; `cnist eval` warns. */
int cn_run_check_data(const char *run_dir, const cn_dataset *ds, int train, int test);
/* The run folder of one seed of several: base-seedN (`cnist train --seeds
 * N,... --run-dir base`). CN_EINVAL when it does not fit in size bytes. */
int cn_run_seed_dir(const char *base, uint64_t seed, char *out, size_t size);
/* 1 when dir is such a folder (a trailing '/' allowed), with its base in
 * stem (size bytes); 0 otherwise. `compare` puts the seeds of one base in
 * one row. */
int cn_run_seed_stem(const char *dir, char *stem, size_t size);
/* Every run folder (holding metrics.json) under root, sorted by name;
 * caller frees each string and the array. */
int cn_run_list(const char *root, char ***dirs, int *count);

#ifdef __cplusplus
}
#endif
#endif
