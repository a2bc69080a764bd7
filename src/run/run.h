/* Internal: the run folder (docs/ARCHITECTURE.md, "The run folder"). This
 * module is its only owner: it names every file once, writes each one
 * atomically, reads each one back strictly (every number checked; messages
 * name the file, and the line where there are lines) and locks the folder
 * while a run writes it. */
#ifndef CN_RUN_RUN_H
#define CN_RUN_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cnist/train.h"

/* The files of a run folder. */
#define CN_RUN_MODEL "model.model"
#define CN_RUN_CONFIG "config.json"
#define CN_RUN_HISTORY "history.csv"
#define CN_RUN_METRICS "metrics.json"
#define CN_RUN_PROBS "test_probs.bin"
#define CN_RUN_BEST "best.safetensors"
#define CN_RUN_LAST "last.safetensors"
#define CN_RUN_EMA "ema.safetensors"
#define CN_RUN_EARLY_BEST "early_best.safetensors"
#define CN_RUN_ENSEMBLE "ensemble.json" /* the file of an ensemble's folder (cnist ensemble) */
#define CN_RUN_LOCK ".cnist.lock" /* also the mark of a folder cnist created */

enum { CN_RUN_PATH_SIZE = 4200 };

/* dir/name into out (CN_RUN_PATH_SIZE bytes); fails when it does not fit. */
int cn_run_path(const char *dir, const char *name, char *out);

/* ---- the lock ---- */

typedef struct cn_run_lock cn_run_lock;

/* Takes the run folder's lock (flock on CN_RUN_LOCK, which holds the
 * holder's pid) and checks that the folder can be written. A folder another
 * process holds is refused, naming that process. */
int cn_run_lock_take(const char *dir, cn_run_lock **out);
void cn_run_lock_release(cn_run_lock *lock); /* NULL is fine */

/* Refuses a new run in dir (whose lock is held) when dir holds an earlier
 * run (CN_RUN_LAST), or run-folder files that a new run would replace but
 * cnist did not write (the lock file was not there before). */
int cn_run_check_new(const char *dir, const cn_run_lock *lock);

/* The same for an ensemble's folder (cnist ensemble --out DIR): refuses a
 * training run's folder and an ensemble.json cnist did not write. */
int cn_run_check_ensemble(const char *dir, const cn_run_lock *lock);

/* ---- config.json ---- */

typedef struct {
  char model[64], dataset[32], data_dir[4096], optimizer[16], loss[40];
  uint64_t seed;
  double val_split, lr;
  int n_train, n_val, threads, batch, epochs, limit_train, limit_test;
  int processes; /* a batch split across this many processes (cnist/group.h); 0 or 1: one */
  cn_precision precision; /* fp32 where a run from before the option records none */
  /* The data by content (cn_imageset_fingerprint) and each set's image
   * count; "" and 0 in runs from before the record. */
  char train_hash[17], test_hash[17];
  int train_images, test_images;
} cn_run_config;

int cn_run_write_config(const char *dir, const cn_run_config *cfg);
int cn_run_read_config(const char *dir, cn_run_config *cfg);

/* ---- history.csv ---- */

typedef struct {
  int epoch; /* 1-based */
  double loss, accuracy, val_loss, val_accuracy, lr, seconds;
} cn_history_row;

/* The header line, without its newline. */
extern const char cn_run_history_header[];

int cn_run_write_history(const char *dir, const cn_history_row *rows, int n);
/* Reads every row into rows (room for max); more than max rows is an error.
 * *n receives how many. */
int cn_run_read_history(const char *dir, cn_history_row *rows, int max, int *n);

/* ---- metrics.json ---- */

typedef struct {
  cn_run_summary summary;
  double total_params;
  int classes;
  cn_confusion confusion; /* test set; rows: true class */
  cn_class_metrics per_class[CN_MAX_CLASSES];
} cn_run_metrics;

int cn_run_write_metrics(const char *dir, const cn_fit_result *r, const char *model, const char *dataset,
                         size_t total_params, uint64_t seed, const cn_confusion *test_confusion);
int cn_run_read_metrics(const char *dir, cn_run_metrics *out);

/* ---- test_probs.bin ---- */

int cn_run_write_probs(const char *dir, const float *probs, int n, int classes, const uint8_t *labels);
/* Reads the probabilities (test_n x classes) and labels of the test set
 * that m was computed on, checked against m; caller frees both. */
int cn_run_read_probs(const char *dir, const cn_run_metrics *m, float **probs, uint8_t **labels);

#endif
