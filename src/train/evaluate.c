/* Evaluation of a model on a set of images, in batches, in inference mode. */
#include <stdlib.h>
#include <string.h>

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

/* Each rank takes a run of whole batches (cn_group_slice over batches), so
 * every batch is evaluated as one process would; a batch's loss term is
 * kept apart (0 + term is exact) for rank 0 to add in order. */
int cn_evaluate_group(const cn_group *g, cn_model *m, const cn_imageset *set, const int *idx, int count, int batch,
                      float *probs, cn_eval_result *out) {
  if (!g || g->size == 1) return cn_evaluate(m, set, idx, count, batch, probs, out);
  const int classes = cn_model_outputs(m);
  const cn_spec *spec = cn_model_spec(m);
  int rc = cn_eval_begin(m, set, count, batch, out);
  if (rc) return rc;
  const int batches = (count + batch - 1) / batch;
  int first, mine;
  cn_group_slice(batches, 1, g->rank, g->size, &first, &mine);
  /* rank 0 holds every batch's term and probabilities, the others their own */
  const int held = g->rank == 0 ? batches : mine;
  const int end = (first + mine) * batch < count ? (first + mine) * batch : count;
  const size_t images = (size_t)(g->rank == 0 ? count : mine > 0 ? end - first * batch : 0);
  double *terms = malloc(sizeof(double) * (size_t)(held > 0 ? held : 1));
  float *p = malloc(sizeof(float) * (size_t)classes * (images > 0 ? images : 1));
  float *x = malloc(sizeof(float) * (size_t)cn_model_inputs(m) * (size_t)batch);
  int *labels = malloc(sizeof(int) * (size_t)(count > batch ? count : batch)), *order = malloc(sizeof(int) * (size_t)batch);
  if (!terms || !p || !x || !labels || !order) {
    rc = cn_fail(CN_ENOMEM, "evaluate: out of memory for %d images", count);
    goto done;
  }
  int correct = 0;
  for (int b = first; b < first + mine && !rc; b++) {
    const int start = b * batch, n = count - start < batch ? count - start : batch;
    for (int i = 0; i < n; i++) order[i] = idx ? idx[start + i] : start + i;
    const size_t at = g->rank == 0 ? (size_t)start : (size_t)(start - first * batch);
    double term = 0.0;
    rc = cn_batch_fill(set, order, n, spec->in_h, spec->in_w, spec->in_c, x, labels);
    if (!rc) rc = cn_model_eval_batch(m, x, labels, n, p + at * (size_t)classes, &term, &correct);
    terms[g->rank == 0 ? b : b - first] = term;
  }
  /* every rank goes on to the exchange: a failure is shared, not left waiting */
  int failed = g->any(g, rc != CN_OK);
  if (failed) {
    if (!rc) rc = cn_fail(CN_EINVAL, "evaluate: another process of the group failed; rank %d stops too", g->rank);
    goto done;
  }
  if (g->rank == 0) {
    for (int r = 1; r < g->size; r++) {
      int f, k, c;
      cn_group_slice(batches, 1, r, g->size, &f, &k);
      if (k == 0) continue;
      const int stop = (f + k) * batch < count ? (f + k) * batch : count;
      g->recv(g, r, terms + f, sizeof(double) * (size_t)k);
      g->recv(g, r, &c, sizeof c);
      g->recv(g, r, p + (size_t)f * batch * (size_t)classes, sizeof(float) * (size_t)(stop - f * batch) * (size_t)classes);
      correct += c;
    }
    double loss_sum = 0.0;
    for (int b = 0; b < batches; b++) loss_sum += terms[b];
    for (int i = 0; i < count; i++) labels[i] = set->labels[idx ? idx[i] : i];
    cn_eval_tally(out, p, labels, count, probs, 0);
    cn_eval_end(out, count, loss_sum, correct);
  } else if (mine > 0) {
    g->send(g, 0, terms, sizeof(double) * (size_t)mine);
    g->send(g, 0, &correct, sizeof correct);
    g->send(g, 0, p, sizeof(float) * images * (size_t)classes);
  }
  g->bcast(g, 0, out, sizeof *out);
done:
  free(terms);
  free(p);
  free(x);
  free(labels);
  free(order);
  return rc;
}
