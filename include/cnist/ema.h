/* Weight averaging: an exponential moving average (EMA) of a model's
 * tensors, updated after each optimizer step, for validation, checkpoints
 * and the final evaluation (Polyak & Juditsky 1992; An et al. 2020 use a
 * decay of 0.999 on MNIST).
 *
 *   shadow = d * shadow + (1 - d) * w,   d = min(decay, (1 + t) / (10 + t))
 *
 * at update t = 0, 1, ... (TensorFlow's ExponentialMovingAverage with
 * num_updates: early updates follow the weights closely, so the average
 * does not start from the initial weights' values). Batch norm's moving
 * mean and variance are averaged like the weights (as timm's ModelEmaV2
 * does): they are themselves running statistics of the batches, and the
 * average of them tracks the averaged weights' statistics. Every element is
 * updated from its own values only, so results do not depend on the thread
 * count. */
#ifndef CNIST_EMA_H
#define CNIST_EMA_H

#include "cnist/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cn_ema cn_ema;

/* The average starts as a copy of m's tensors; decay in [0, 1). The model
 * must outlive the average. */
int cn_ema_new(cn_model *m, double decay, cn_ema **out);
void cn_ema_free(cn_ema *e);

/* One update from the model's current tensors. No allocation. */
void cn_ema_update(cn_ema *e);
/* Exchanges the model's tensors and the average: call once to evaluate or
 * save the averaged weights, and again to go on training. */
void cn_ema_swap(cn_ema *e);

/* Updates so far; a resumed run restores it with the shadow tensors. */
int64_t cn_ema_updates(const cn_ema *e);
void cn_ema_set_updates(cn_ema *e, int64_t t);
/* The shadow tensors for checkpoints, named "ema.<tensor name>" in the
 * model's order, with grad NULL. The array belongs to the average. */
cn_tensor_ref *cn_ema_tensors(cn_ema *e, int *count);

#ifdef __cplusplus
}
#endif
#endif
