/* Ensembles: the mean of several runs' test-set probabilities (the
 * test_probs.bin each run writes), the committee of Ciresan et al. 2012 and
 * Deotte's 15-CNN ensemble. Members must have been evaluated on the same
 * test images in the same order; the mean is taken in double precision in
 * the order the members are given, and an image's class is the first one of
 * highest mean probability. */
#ifndef CNIST_ENSEMBLE_H
#define CNIST_ENSEMBLE_H

#include <stdint.h>

#include "cnist/core.h"
#include "cnist/data.h"
#include "cnist/model.h"
#include "cnist/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One run's test probabilities: n images x classes, row-major, and the
 * images' true labels. */
typedef struct {
  int n, classes;
  float *probs;
  uint8_t *labels;
} cn_test_probs;

/* Reads a finished run's test_probs.bin (docs/ARCHITECTURE.md, "The run
 * folder"), every value checked (a probability in [0, 1], a label below
 * classes) and its size against the run's metrics.json. */
int cn_test_probs_read(const char *run_dir, cn_test_probs *out);
void cn_test_probs_free(cn_test_probs *p);

/* The class of highest probability in row (the first of equal ones). */
int cn_probs_argmax(const float *row, int classes);

typedef struct {
  int members, n, classes;
  float *probs;            /* n x classes: the members' mean */
  const uint8_t *labels;   /* the first member's labels (all members agree) */
  int *predicted;          /* n: the ensemble's class of each image */
  double accuracy, accuracy_se;
  double *member_accuracy; /* members: each one's own accuracy */
  int *member_wrong;       /* n: how many members get each image wrong */
} cn_ensemble;

/* Averages members[0..count). names[i] (the run folders) name a member
 * whose test set differs from the first's. The result refers to
 * members[0].labels: keep the members until cn_ensemble_free. */
int cn_ensemble_average(const cn_test_probs *members, const char *const *names, int count, cn_ensemble *out);
void cn_ensemble_free(cn_ensemble *e);

/* ---- the ensemble's record: DIR/ensemble.json ---- */

/* Writes e as dir/ensemble.json (dir and its parents created; the folder
 * locked while written, like a run folder): the dataset, the test-time
 * views (1: none), each member (its run folder, model and accuracy), the
 * accuracy with its binomial standard error, the cross-entropy of the mean
 * probabilities, the members' weights and training time in all, and every
 * test digit the ensemble gets wrong with how many members get it wrong.
 * `members` are the members' summaries, in e's order. A folder that holds a
 * training run, or an ensemble.json cnist did not write, is refused. */
int cn_ensemble_save(const char *dir, const cn_ensemble *e, const cn_run_summary *members, const char *dataset,
                     int views);

/* One digit the ensemble gets wrong. */
typedef struct {
  int index, label, predicted, members_wrong;
  double probability; /* the ensemble's, of its predicted class */
} cn_ensemble_wrong;

/* An ensemble.json read back, every value checked. summary is what compare
 * shows (model "ensemble", the test figures, the members' weights and
 * training time in all; the train and validation figures NaN). */
typedef struct {
  cn_run_summary summary;
  int members, views, classes;
  cn_run_summary *member; /* members: dir, model and test_accuracy of each */
  int n_wrong;
  cn_ensemble_wrong *wrong;
} cn_ensemble_record;

int cn_ensemble_read(const char *dir, cn_ensemble_record *out);
void cn_ensemble_record_free(cn_ensemble_record *r);
/* 1 when dir holds an ensemble.json (and so is an ensemble's folder). */
int cn_ensemble_is_folder(const char *dir);
/* Every ensemble folder under root, sorted by name (as cn_run_list). */
int cn_ensemble_list(const char *root, char ***dirs, int *count);

/* ---- test-time augmentation: an ensemble of one model over views ---- */

/* The views, in the order --tta N takes them: the image itself, shifted by
 * one pixel right, left, down and up, rotated by +10 and -10 degrees, and
 * zoomed by 0.9 and 1.1 about its centre (bilinear, zeros outside). */
#define CN_TTA_MAX_VIEWS 9

/* Like cn_evaluate, but each image's probabilities are the mean over its
 * first `views` views (1..CN_TTA_MAX_VIEWS; 1 is cn_evaluate's result);
 * the loss is the cross-entropy of that mean. */
int cn_evaluate_tta(cn_model *m, const cn_imageset *set, const int *idx, int count, int batch, int views,
                    float *probs, cn_eval_result *out);

#ifdef __cplusplus
}
#endif
#endif
