/* Internal: what cn_evaluate and cn_evaluate_tta (tta.c) share. */
#ifndef CN_TRAIN_EVALUATE_H
#define CN_TRAIN_EVALUATE_H

#include "cnist/train.h"

/* The checks before evaluating count images of set in batches of batch
 * (the feed check, the sizes), the model's plan for that batch, and an
 * empty confusion matrix in out. */
int cn_eval_begin(cn_model *m, const cn_imageset *set, int count, int batch, cn_eval_result *out);
/* Adds n rows of class probabilities p (true classes labels) to out's
 * confusion matrix, each predicting its most probable class
 * (cn_probs_argmax), and copies them to row `start` of probs when probs is
 * not NULL; returns how many were right. */
int cn_eval_tally(cn_eval_result *out, const float *p, const int *labels, int n, float *probs, int start);
/* out's n, mean loss and accuracy from the sums over count images. */
void cn_eval_end(cn_eval_result *out, int count, double loss_sum, int correct);

#endif
