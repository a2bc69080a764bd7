/* The network built from a cn_spec: weights in one allocation, activation and
 * gradient buffers planned once per batch size, forward and backward passes.
 * Nothing is allocated inside predict, train_batch or eval_batch once the
 * buffers are planned. */
#ifndef CNIST_MODEL_H
#define CNIST_MODEL_H

#include "cnist/core.h"
#include "cnist/group.h"
#include "cnist/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cn_model cn_model;

/* Threads. A cn_model owns its working buffers (the plan's activations and
 * gradients, the dropout generator), so the calls that run a pass or change
 * the model (cn_model_reserve, _predict, _train_batch, _eval_batch,
 * _set_precision, _set_label_smoothing, writing through cn_model_tensors or
 * cn_model_rng, and cn_evaluate, cn_fit and the checkpoint loads and saves
 * on it) must not run on one model from two threads at once, not even two
 * predicts: lock around them, or give each thread its own model (load the
 * checkpoint once per thread). The calls that only read it (cn_model_spec,
 * _outputs, _inputs, _param_count, _precision) are safe from any number of
 * threads while none changes it. Different models may be used from
 * different threads at once, with the same results as one after another
 * (tests/engine/test_threads.c); each pass starts its own OpenMP team of
 * cn_get_threads() threads, a process-wide setting to make once, before
 * the threads start (cn_set_threads is not itself thread-safe). Errors are
 * per thread (cn_last_error). */

/* Builds the model (cn_spec_check first) and initialises it like Keras:
 * glorot-uniform kernels, zero biases, batch norm gamma 1, beta 0, moving
 * mean 0, moving variance 1, from `seed`: the same seed gives bit-identical
 * weights. The dropout generator is seeded from `seed` too. */
int cn_model_new(const cn_spec *spec, uint64_t seed, cn_model **out);
void cn_model_free(cn_model *m);

const cn_spec *cn_model_spec(const cn_model *m);
/* Outputs per image of the last layer (the number of classes). */
int cn_model_outputs(const cn_model *m);
/* Input values per image (c*h*w). */
int cn_model_inputs(const cn_model *m);

/* Plans buffers for batches of up to max_batch images. Called implicitly by
 * the calls below when a batch is larger than planned; call it up front to
 * keep allocation out of the batch loop. Smaller batches reuse the plan. */
int cn_model_reserve(cn_model *m, int max_batch);

/* How the multiplies of convolution and dense layers round their operands.
 * FP32, the default: float32 throughout. BF16, an option: the operands of
 * every convolution and dense multiply are rounded to bfloat16 (8 bits of
 * mantissa) and their products summed in float32; weights, activations,
 * batch norm, the loss and the optimizer stay float32. About twice the
 * arithmetic rate on CPUs with AVX512-BF16, at some cost in accuracy (the
 * README gives measured figures). Results stay deterministic. */
typedef enum { CN_PRECISION_FP32, CN_PRECISION_BF16 } cn_precision;
#define CN_PRECISIONS (CN_PRECISION_BF16 + 1)

/* Sets the precision of the passes that follow. BF16 fails with
 * CN_EINVAL when this build has no bf16 kernel (a CPU without
 * AVX512-BF16, or a build without -march=native). */
int cn_model_set_precision(cn_model *m, cn_precision p);
cn_precision cn_model_precision(const cn_model *m);
/* "fp32" / "bf16" -> the precision, or CN_EINVAL listing the names. */
int cn_precision_parse(const char *name, cn_precision *out);
const char *cn_precision_name(cn_precision p);
/* The names in the enum's order, NULL-terminated, for messages and help texts. */
const char *const *cn_precision_names(void);

/* Inference (dropout off, batch norm moving statistics): n images NCHW in x,
 * n*outputs values in out: class probabilities when the model ends in
 * softmax, raw outputs otherwise. */
int cn_model_predict(cn_model *m, const float *x, int n, float *out);

/* One training pass over a batch: forward in training mode, the mean
 * softmax cross-entropy over the batch, backward. Gradients are overwritten
 * (not accumulated) in each tensor's grad. Labels: `labels` (n class
 * indices) for sparse loss, or `onehot` (n*outputs targets) for categorical;
 * pass exactly one. loss receives the batch mean, correct the number of
 * argmax hits. Both may be NULL. */
int cn_model_train_batch(cn_model *m, const float *x, const int *labels, const float *onehot, int n,
                         float *loss, int *correct);

/* cn_model_train_batch for one rank of a group that splits each batch
 * (cnist/group.h): this rank's images [first, first + n) of a batch of
 * total, x holding just those (n may be 0 for a rank past a short batch's
 * end). Every rank of the group calls it for the same batch; on return
 * each holds the whole batch's gradients, loss (its mean over total) and
 * hits, bit for bit what cn_model_train_batch gives one process for the
 * whole batch. The slice must be cn_group_slice(total,
 * cn_model_split_unit(m), rank, size): CN_EINVAL otherwise, and for bf16. */
int cn_model_train_slice(cn_model *m, const cn_group *g, const float *x, const int *labels, const float *onehot,
                         int first, int n, int total, float *loss, int *correct);
/* Images per unit of a split batch: the weight-gradient chunk of the
 * model's convolutions at its precision (at least 4). */
int cn_model_split_unit(const cn_model *m);

/* Evaluation of a batch in inference mode: adds the summed loss to
 * *loss_sum and the argmax hits to *correct; writes probabilities to probs
 * when probs is not NULL. */
int cn_model_eval_batch(cn_model *m, const float *x, const int *labels, int n, float *probs,
                        double *loss_sum, int *correct);

/* The model's tensors in checkpoint order and PyTorch names ("0.weight",
 * "0.bias", "2.running_mean", ...). grad is NULL for moving statistics. The
 * array belongs to the model. */
cn_tensor_ref *cn_model_tensors(cn_model *m, int *count);
/* Total parameters (trainable + moving statistics). */
size_t cn_model_param_count(const cn_model *m);

/* The dropout generator: checkpoints save and restore it for exact resume. */
cn_rng *cn_model_rng(cn_model *m);

/* Fused, numerically stable softmax cross-entropy (log-sum-exp) for n rows
 * of k logits: writes probabilities to probs and d(mean loss)/d(logits) to
 * dlogits (either may be NULL) and returns the mean loss. Labels as in
 * cn_model_train_batch. */
float cn_softmax_cross_entropy(const float *logits, int n, int k, const int *labels, const float *onehot,
                               float *probs, float *dlogits);
/* The same with label smoothing s in [0, 1): the targets t become
 * (1 - s) t + s sum(t) / k (Szegedy et al. 2016), for integer labels and
 * one-hot targets alike. s = 0 gives cn_softmax_cross_entropy's bits. */
float cn_softmax_cross_entropy_smoothed(const float *logits, int n, int k, const int *labels, const float *onehot,
                                        float smoothing, float *probs, float *dlogits);
/* The label smoothing cn_model_train_batch's loss uses (default 0; the
 * loss eval_batch reports is never smoothed). CN_EINVAL outside [0, 1). */
int cn_model_set_label_smoothing(cn_model *m, float smoothing);

#ifdef __cplusplus
}
#endif
#endif
