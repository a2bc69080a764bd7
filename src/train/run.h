/* Internal: reading and writing the files of a run folder. */
#ifndef CN_TRAIN_RUN_H
#define CN_TRAIN_RUN_H

#include "cnist/train.h"

typedef struct {
  int epoch; /* 1-based */
  double loss, accuracy, val_loss, val_accuracy, lr, seconds;
} cn_history_row;

/* config.json: every setting of the run. */
typedef struct {
  const char *model, *dataset, *data_dir, *optimizer, *loss;
  uint64_t seed;
  double val_split, lr;
  int n_train, n_val, threads, batch, epochs, limit_train, limit_test;
  cn_precision precision;
} cn_run_config;

int cn_run_write_config(const char *dir, const cn_run_config *cfg);

/* The precision config.json records ("fp32" where a run from before the
 * option records none). */
int cn_run_read_precision(const char *dir, cn_precision *out);

/* The model's name as config.json records it (model.model has none). */
int cn_run_read_model_name(const char *dir, char *name, size_t size);

int cn_run_write_history(const char *dir, const cn_history_row *rows, int n);
/* Reads up to max rows; *n receives how many. */
int cn_run_read_history(const char *dir, cn_history_row *rows, int max, int *n);

int cn_run_write_metrics(const char *dir, const cn_fit_result *r, const char *model, const char *dataset,
                         size_t total_params, uint64_t seed, const cn_confusion *test_confusion);
int cn_run_write_probs(const char *dir, const float *probs, int n, int classes, const uint8_t *labels);

#endif
