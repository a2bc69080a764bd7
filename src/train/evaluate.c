/* Evaluation of a model on a set of images, in batches, in inference mode. */
#include <stdlib.h>

#include "cnist/ensemble.h"
#include "core/error.h"
#include "train/evaluate.h"

int cn_eval_begin(cn_model *m, const cn_imageset *set, int count, int batch, cn_eval_result *out) {
  const cn_spec *spec = cn_model_spec(m);
  int rc = cn_imageset_check(set, spec->in_h, spec->in_w, spec->in_c, cn_model_outputs(m));
  if (rc) return rc;
  if (batch <= 0 || count < 0 || count > set->n) return cn_fail(CN_EINVAL, "evaluate: bad batch %d or count %d", batch, count);
  rc = cn_model_reserve(m, batch);
  if (rc) return rc;
  cn_confusion_init(&out->confusion, cn_model_outputs(m));
  return CN_OK;
}

int cn_eval_tally(cn_eval_result *out, const float *p, const int *labels, int n, float *probs, int start) {
  size_t classes = (size_t)out->confusion.classes;
  int correct = 0;
  for (int i = 0; i < n; i++) {
    int best = cn_probs_argmax(p + (size_t)i * classes, (int)classes);
    correct += best == labels[i];
    cn_confusion_add(&out->confusion, labels[i], best);
  }
  if (probs)
    for (size_t j = 0; j < (size_t)n * classes; j++) probs[(size_t)start * classes + j] = p[j];
  return correct;
}

void cn_eval_end(cn_eval_result *out, int count, double loss_sum, int correct) {
  out->n = count;
  out->loss = count ? loss_sum / count : 0.0;
  out->accuracy = count ? (double)correct / count : 0.0;
}

int cn_evaluate(cn_model *m, const cn_imageset *set, const int *idx, int count, int batch, float *probs,
                cn_eval_result *out) {
  int classes = cn_model_outputs(m);
  const cn_spec *spec = cn_model_spec(m);
  int rc = cn_eval_begin(m, set, count, batch, out);
  if (rc) return rc;
  size_t in = (size_t)cn_model_inputs(m);
  float *x = malloc(sizeof(float) * in * (size_t)batch);
  float *p = malloc(sizeof(float) * (size_t)classes * (size_t)batch);
  int *labels = malloc(sizeof(int) * (size_t)batch);
  int *order = idx ? NULL : malloc(sizeof(int) * (size_t)batch);
  if (!x || !p || !labels || (!idx && !order)) {
    rc = cn_fail(CN_ENOMEM, "evaluate: out of memory for a batch of %d", batch);
    goto done;
  }
  double loss_sum = 0.0;
  int correct = 0;
  for (int start = 0; start < count; start += batch) {
    int n = count - start < batch ? count - start : batch;
    const int *ids = idx ? idx + start : order;
    if (!idx)
      for (int i = 0; i < n; i++) order[i] = start + i;
    rc = cn_batch_fill(set, ids, n, spec->in_h, spec->in_w, spec->in_c, x, labels);
    if (rc) goto done;
    /* the accuracy is the pass's own count (of the logits), as it always was */
    rc = cn_model_eval_batch(m, x, labels, n, p, &loss_sum, &correct);
    if (rc) goto done;
    cn_eval_tally(out, p, labels, n, probs, start);
  }
  cn_eval_end(out, count, loss_sum, correct);
done:
  free(x);
  free(p);
  free(labels);
  free(order);
  return rc;
}
