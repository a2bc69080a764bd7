/* The passes: forward through the planned buffers, the loss, backward, and
 * the three public entry points built from them (train, eval, predict). */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "engine/layers/conv.h"
#include "engine/model_impl.h"

static cn_pass pass_of(cn_model *m, const cn_slice *slice) {
  return (cn_pass){m->planned_threads, m->work, &m->dropout_rng, m->precision, slice};
}

static const float *forward(cn_model *m, const float *x, int n, int training, const cn_slice *slice) {
  const cn_pass p = pass_of(m, slice);
  const float *cur = x;
  for (int i = 0; i < m->n_run; i++) {
    cn_layer *l = &m->layers[i];
    m->in_ptr[i] = cur;
    /* flatten only renames the shape; dropout is the identity at inference */
    if (l->ops && (training || l->s.kind != CN_LAYER_DROPOUT)) {
      l->ops->forward(l, cur, m->act[i], n, training, &p);
      cur = m->act[i];
    }
    m->out_ptr[i] = cur;
  }
  return cur;
}

const float *cn_model_forward(cn_model *m, const float *x, int n, int training) {
  return forward(m, x, n, training, NULL);
}

/* A split batch's gradients leave the last rank in buckets while the
 * backward pass goes on (cnist/group.h): the layers run last to first and
 * their gradients lie first to last in the gradient block, so each bucket
 * is the run [lo, hi) of it below the previous one. */
typedef struct {
  const cn_group *g;
  int root;
  float *grads;
  size_t hi; /* floats from 0 that are not on their way yet */
} grad_buckets;

/* After layer l's gradients are final on the root (and passed on by the
 * other ranks): start them, with those of the layers after it, once they
 * fill a bucket. */
static void bucket_after(grad_buckets *b, const cn_layer *l) {
  if (!b || !l->dw) return;
  const size_t lo = (size_t)(l->dw - b->grads);
  if ((b->hi - lo) * sizeof(float) < b->g->bucket_bytes) return;
  b->g->ibcast(b->g, b->root, b->grads + lo, sizeof(float) * (b->hi - lo));
  b->hi = lo;
}

static void backward(cn_model *m, int n, const cn_slice *slice, grad_buckets *buckets) {
  const cn_pass p = pass_of(m, slice);
  int g = 0;
  for (int i = m->n_run - 1; i >= 0; i--) {
    cn_layer *l = &m->layers[i];
    if (!l->ops) continue;
    if (!m->needs_dx[i] && l->ops->param_floats(l) == 0) continue;
    float *dx = m->needs_dx[i] ? m->grad[1 - g] : NULL;
    l->ops->backward(l, m->in_ptr[i], m->out_ptr[i], m->grad[g], dx, n, &p);
    bucket_after(buckets, l);
    g = 1 - g;
  }
}

void cn_model_backward(cn_model *m, int n) { backward(m, n, NULL, NULL); }

/* Plans for n images (and the current thread count) before a pass. */
static int prepare(cn_model *m, const float *x, int n, const char *what) {
  if (!x) return cn_fail(CN_EINVAL, "%s: no input images", what);
  if (n <= 0) return cn_fail(CN_EINVAL, "%s: the batch must hold at least one image, not %d", what, n);
  return cn_model_plan(m, n);
}

static int check_labels(const cn_model *m, const int *labels, int n, const char *what) {
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= m->outputs)
      return cn_fail(CN_EINVAL, "%s: label %d of image %d is outside the model's %d classes", what, labels[i], i,
                     m->outputs);
  return 0;
}

static int argmax(const float *row, int k) {
  int best = 0;
  for (int j = 1; j < k; j++)
    if (row[j] > row[best]) best = j;
  return best;
}

/* Argmax hits of n rows of scores against labels or one-hot targets. */
static int count_correct(const float *scores, int n, int k, const int *labels, const float *onehot) {
  int hits = 0;
  for (int i = 0; i < n; i++) {
    int want = labels ? labels[i] : argmax(onehot + (size_t)i * k, k);
    hits += argmax(scores + (size_t)i * k, k) == want;
  }
  return hits;
}

int cn_model_train_batch(cn_model *m, const float *x, const int *labels, const float *onehot, int n, float *loss,
                         int *correct) {
  const char *what = "train";
  if ((labels == NULL) == (onehot == NULL))
    return cn_fail(CN_EINVAL, "%s: pass either integer labels or one-hot targets, exactly one", what);
  int rc = prepare(m, x, n, what);
  if (rc) return rc;
  if (labels && (rc = check_labels(m, labels, n, what))) return rc;
  const float *logits = cn_model_forward(m, x, n, 1);
  float value =
      cn_softmax_cross_entropy_smoothed(logits, n, m->outputs, labels, onehot, m->label_smoothing, NULL, m->grad[0]);
  if (loss) *loss = value;
  if (correct) *correct = count_correct(logits, n, m->outputs, labels, onehot);
  if (!isfinite(value))
    return cn_fail(CN_EDIVERGED, "training diverged: the loss is %s; lower the learning rate",
                   isnan(value) ? "NaN" : "infinite");
  cn_model_backward(m, n);
  return 0;
}

/* Batches larger than the plan are run in planned-size chunks: inference
 * results do not depend on the chunking. The first call plans at most
 * INFER_CHUNK images so a large test set does not ask for huge buffers. */
#define INFER_CHUNK 256

static int infer_chunk(cn_model *m, const float *x, int n, const char *what) {
  if (!x) return cn_fail(CN_EINVAL, "%s: no input images", what);
  if (n <= 0) return cn_fail(CN_EINVAL, "%s: the batch must hold at least one image, not %d", what, n);
  int want = m->planned_batch > 0 ? m->planned_batch : (n < INFER_CHUNK ? n : INFER_CHUNK);
  int rc = cn_model_plan(m, want);
  return rc ? rc : m->planned_batch;
}

int cn_model_predict(cn_model *m, const float *x, int n, float *out) {
  int chunk = infer_chunk(m, x, n, "predict");
  if (chunk < 0) return chunk;
  const int k = m->outputs;
  for (int at = 0; at < n; at += chunk) {
    int cn = n - at < chunk ? n - at : chunk;
    const float *logits = cn_model_forward(m, x + (size_t)at * m->inputs, cn, 0);
    float *o = out + (size_t)at * k;
    if (m->final_softmax)
      cn_softmax_rows(logits, cn, k, o);
    else
      memcpy(o, logits, sizeof(float) * (size_t)cn * k);
  }
  return 0;
}

int cn_model_eval_batch(cn_model *m, const float *x, const int *labels, int n, float *probs, double *loss_sum,
                        int *correct) {
  int chunk = infer_chunk(m, x, n, "eval");
  if (chunk < 0) return chunk;
  int rc;
  if (labels && (rc = check_labels(m, labels, n, "eval"))) return rc;
  const int k = m->outputs;
  for (int at = 0; at < n; at += chunk) {
    int cn = n - at < chunk ? n - at : chunk;
    const float *logits = cn_model_forward(m, x + (size_t)at * m->inputs, cn, 0);
    const int *lab = labels ? labels + at : NULL;
    float *pr = probs ? probs + (size_t)at * k : NULL;
    if (lab) {
      float mean = cn_softmax_cross_entropy(logits, cn, k, lab, NULL, pr, NULL);
      if (loss_sum) *loss_sum += (double)mean * cn;
      if (correct) *correct += count_correct(logits, cn, k, lab, NULL);
    } else if (pr) {
      cn_softmax_rows(logits, cn, k, pr);
    }
  }
  return 0;
}

/* ---- a batch split across a group (cnist/group.h) ---- */

int cn_model_split_unit(const cn_model *m) {
  int unit = 4; /* a slice starts on a whole dropout draw (dropout.c) */
  for (int i = 0; i < m->n_run; i++)
    if (m->layers[i].s.kind == CN_LAYER_CONV2D) {
      const int u = cn_conv_split_unit(&m->layers[i], m->precision);
      if (u > unit) unit = u; /* both are powers of 2 */
    }
  return unit;
}

int cn_model_train_slice(cn_model *m, const cn_group *g, const float *x, const int *labels, const float *onehot,
                         int first, int n, int total, float *loss, int *correct) {
  const char *what = "train (split batch)";
  if (!g || g->size < 1 || g->rank < 0 || g->rank >= g->size)
    return cn_fail(CN_EINVAL, "%s: no group, or rank %d of %d", what, g ? g->rank : 0, g ? g->size : 0);
  if ((labels == NULL) == (onehot == NULL))
    return cn_fail(CN_EINVAL, "%s: pass either integer labels or one-hot targets, exactly one", what);
  if (m->precision != CN_PRECISION_FP32)
    return cn_fail(CN_EINVAL, "%s: only fp32 keeps one process's sums across processes; bf16 is not split", what);
  const int unit = cn_model_split_unit(m);
  int want_first, want_n;
  cn_group_slice(total, unit, g->rank, g->size, &want_first, &want_n);
  if (total < 1 || first != want_first || n != want_n)
    return cn_fail(CN_EINVAL, "%s: rank %d of %d takes images [%d, %d) of a batch of %d, not [%d, %d)", what, g->rank,
                   g->size, want_first, want_first + want_n, total, first, first + n);
  if (n > 0 && !x) return cn_fail(CN_EINVAL, "%s: no input images", what);
  const int units = (total + unit - 1) / unit;
  const cn_slice slice = {g, first, n, total, units < g->size ? units : g->size};
  int rc = cn_model_plan(m, n > 0 ? n : 1);
  if (!rc && n > 0 && labels) rc = check_labels(m, labels, n, what);
  if (rc) return rc;
  /* The loss summed and the hits counted in image order, relayed like
   * every other sum over the batch. */
  double sums[2] = {0.0, 0.0};
  const cn_pass p = pass_of(m, &slice);
  const int root = slice.active - 1; /* the last rank holding images has the whole batch's sums */
  float *grads = m->param_block + m->param_floats;
  grad_buckets buckets = {g, root, grads, m->param_floats};
  grad_buckets *overlap = g->ibcast && g->wait && g->bucket_bytes > 0 ? &buckets : NULL;
  if (n > 0) {
    const float *logits = forward(m, x, n, 1, &slice);
    cn_relay_in(&p, sums, sizeof sums);
    cn_cross_entropy_sum(logits, n, m->outputs, labels, onehot, m->label_smoothing, total, &sums[0], NULL, m->grad[0]);
    sums[1] += count_correct(logits, n, m->outputs, labels, onehot);
    cn_relay_out(&p, sums, sizeof sums);
    backward(m, n, &slice, overlap);
  } else if (overlap) {
    for (int i = m->n_run - 1; i >= 0; i--) bucket_after(overlap, &m->layers[i]); /* the same buckets, in order */
  }
  if (overlap) {
    if (overlap->hi > 0) g->ibcast(g, root, grads, sizeof(float) * overlap->hi);
    g->wait(g);
  } else {
    g->bcast(g, root, grads, sizeof(float) * m->param_floats);
  }
  /* A rank without images also needs what the pass changed: batch norm's
   * moving statistics and the dropout generator. */
  g->bcast(g, root, sums, sizeof sums);
  if (slice.active < g->size) {
    g->bcast(g, root, m->param_block, sizeof(float) * m->param_floats);
    g->bcast(g, root, &m->dropout_rng, sizeof m->dropout_rng);
  }
  const float value = (float)(sums[0] / total);
  if (loss) *loss = value;
  if (correct) *correct = (int)sums[1];
  if (!isfinite(value))
    return cn_fail(CN_EDIVERGED, "training diverged: the loss is %s; lower the learning rate",
                   isnan(value) ? "NaN" : "infinite");
  return 0;
}
