/* Internal: the model's layout, shared by model.c (build, weights), plan.c
 * (buffers per batch size) and pass.c (forward, backward, loss). */
#ifndef CN_ENGINE_MODEL_IMPL_H
#define CN_ENGINE_MODEL_IMPL_H

#include "engine/layer.h"

#define CN_MAX_TENSORS (4 * CN_MAX_LAYERS)

struct cn_model {
  cn_spec spec;
  cn_shape shapes[CN_MAX_LAYERS + 1]; /* input, then each layer's output (cn_spec_check) */
  int n_layers;
  cn_layer layers[CN_MAX_LAYERS];
  /* The passes run layers [0, n_run): a final standalone softmax layer is
   * left out when final_softmax is set, and a final inline softmax is
   * switched off (layers[].act), so the last buffer holds logits that the
   * loss and predict turn into probabilities. */
  int n_run;
  int final_softmax;
  int inputs, outputs;
  /* needs_dx[i]: some layer before i has parameters, so layer i's backward
   * must produce its input gradient. */
  int needs_dx[CN_MAX_LAYERS];

  /* Parameters: one allocation, values in the first half and gradients at
   * the same offsets in the second; every tensor starts on a 64-byte line. */
  float *param_block;
  size_t param_floats; /* floats per half */
  cn_tensor_ref tensors[CN_MAX_TENSORS];
  int n_tensors;
  size_t param_count; /* sum of the tensors' sizes */
  cn_rng dropout_rng;
  cn_precision precision;
  float label_smoothing; /* of the training loss: 0 by default */

  /* The plan (plan.c): for batches up to planned_batch with planned_threads. */
  int planned_batch, planned_threads;
  float *arena;                   /* one allocation for all of the below */
  float *act[CN_MAX_LAYERS];      /* each layer's output [planned_batch, out]; NULL for flatten */
  float *grad[2];                 /* ping-pong gradients [planned_batch, largest tensor] */
  float *work;                    /* scratch shared by all layers */
  const float *in_ptr[CN_MAX_LAYERS];  /* what each layer read in the last forward */
  const float *out_ptr[CN_MAX_LAYERS]; /* and what it wrote (aliases for flatten, skipped dropout) */
};

/* Plans buffers for batches up to max_batch at the current thread count
 * (plan.c); keeps the plan when it already covers both. */
int cn_model_plan(cn_model *m, int max_batch);

/* The passes (pass.c), for the entry points, tests and the benchmark. The
 * forward runs layers [0, n_run) on n <= planned_batch images of x and
 * returns the logits [n, outputs] (the outputs themselves when the model
 * does not end in softmax); the backward starts from d(loss)/d(logits) in
 * grad[0] and fills every parameter gradient. */
const float *cn_model_forward(cn_model *m, const float *x, int n, int training);
void cn_model_backward(cn_model *m, int n);

/* The softmax cross-entropy of n rows added to *total in the order one
 * process adds them, the gradient that of the mean over mean_of rows (a
 * split batch's whole batch), with label smoothing s (loss.c). */
void cn_cross_entropy_sum(const float *logits, int n, int k, const int *labels, const float *onehot, float smoothing,
                          int mean_of, double *total, float *probs, float *dlogits);

/* probs [n, k] = softmax of each row of z (loss.c); the two must not overlap. */
void cn_softmax_rows(const float *z, int n, int k, float *probs);

#endif
