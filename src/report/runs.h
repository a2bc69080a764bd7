/* Internal: one run folder read in full for the report (docs/ARCHITECTURE.md,
 * "The run folder"), every file checked: messages name the file and fault. */
#ifndef CN_REPORT_RUNS_H
#define CN_REPORT_RUNS_H

#include <stdint.h>

#include "cnist/data.h"
#include "cnist/spec.h"

typedef struct {
  double loss, accuracy, val_loss, val_accuracy, lr, seconds;
} cn_report_epoch;

typedef struct {
  double precision, recall, f1;
  int64_t support;
} cn_report_class;

typedef struct {
  char dir[4096];
  char name[128]; /* what the report calls the run: its model, or the folder when models repeat */

  /* config.json */
  char dataset[32];
  char data_dir[4096]; /* "" when the run used the default search */

  /* metrics.json */
  char model[64];
  int bf16; /* trained with --precision bf16 */
  double train_loss, train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, test_accuracy_se;
  double weight_number, total_params, train_time;
  int epochs_run, best_epoch; /* best_epoch 0: none recorded */
  int classes, test_n;
  int64_t *confusion;        /* classes x classes, rows = true class */
  cn_report_class *per_class; /* classes entries */

  /* history.csv: one entry per epoch, epoch i+1 at index i */
  int n_epochs;
  cn_report_epoch *history;

  /* model.model */
  cn_spec spec;
  cn_shape shapes[CN_MAX_LAYERS + 1]; /* input, then each layer's output */
  cn_spec_stats stats;

  /* test_probs.bin */
  float *probs;      /* test_n x classes */
  uint8_t *labels;   /* test_n true labels */
  uint8_t *predicted; /* test_n argmax classes */
} cn_report_run;

/* Reads and checks every file the report needs from run folder dir. */
int cn_report_run_load(const char *dir, cn_report_run **out);
void cn_report_run_free(cn_report_run *r);

#endif
