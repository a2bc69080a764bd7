/* Evaluation of a model on a set of images, in batches, in inference mode. */
#include <stdlib.h>

#include "core/error.h"
#include "cnist/train.h"

int cn_evaluate(cn_model *m, const cn_imageset *set, const int *idx, int count, int batch, float *probs,
                cn_eval_result *out) {
  int classes = cn_model_outputs(m);
  const cn_spec *spec = cn_model_spec(m);
  int rc = cn_imageset_check(set, spec->in_h, spec->in_w, spec->in_c, classes);
  if (rc) return rc;
  if (batch <= 0 || count < 0 || count > set->n) return cn_fail(CN_EINVAL, "evaluate: bad batch %d or count %d", batch, count);
  rc = cn_model_reserve(m, batch);
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
  cn_confusion_init(&out->confusion, classes);
  double loss_sum = 0.0;
  int correct = 0;
  for (int start = 0; start < count; start += batch) {
    int n = count - start < batch ? count - start : batch;
    const int *ids = idx ? idx + start : order;
    if (!idx)
      for (int i = 0; i < n; i++) order[i] = start + i;
    rc = cn_batch_fill(set, ids, n, spec->in_h, spec->in_w, spec->in_c, x, labels);
    if (rc) goto done;
    rc = cn_model_eval_batch(m, x, labels, n, p, &loss_sum, &correct);
    if (rc) goto done;
    for (int i = 0; i < n; i++) {
      const float *row = p + (size_t)i * (size_t)classes;
      int best = 0;
      for (int k = 1; k < classes; k++)
        if (row[k] > row[best]) best = k;
      cn_confusion_add(&out->confusion, labels[i], best);
    }
    if (probs)
      for (size_t j = 0; j < (size_t)n * (size_t)classes; j++) probs[(size_t)start * (size_t)classes + j] = p[j];
  }
  out->n = count;
  out->loss = count ? loss_sum / count : 0.0;
  out->accuracy = count ? (double)correct / count : 0.0;
done:
  free(x);
  free(p);
  free(labels);
  free(order);
  return rc;
}
