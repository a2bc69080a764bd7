/* Ensembles of runs: their test probabilities read back (through the run
 * folder's owner, src/run) and averaged. */
#include "cnist/ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "cnist/train.h"
#include "run/run.h"

void cn_test_probs_free(cn_test_probs *p) {
  free(p->probs);
  free(p->labels);
  memset(p, 0, sizeof *p);
}

int cn_test_probs_read(const char *run_dir, cn_test_probs *out) {
  memset(out, 0, sizeof *out);
  cn_run_metrics *m = malloc(sizeof *m);
  if (!m) return cn_fail(CN_ENOMEM, "%s: out of memory", run_dir);
  int rc = cn_run_read_metrics(run_dir, m);
  if (!rc) rc = cn_run_read_probs(run_dir, m, &out->probs, &out->labels);
  if (!rc) {
    out->n = (int)m->summary.test_n;
    out->classes = m->classes;
  }
  free(m);
  return rc;
}

int cn_probs_argmax(const float *row, int classes) {
  int best = 0;
  for (int k = 1; k < classes; k++)
    if (row[k] > row[best]) best = k;
  return best;
}

void cn_ensemble_free(cn_ensemble *e) {
  free(e->probs);
  free(e->predicted);
  free(e->member_accuracy);
  free(e->member_wrong);
  memset(e, 0, sizeof *e);
}

int cn_ensemble_average(const cn_test_probs *members, const char *const *names, int count, cn_ensemble *out) {
  memset(out, 0, sizeof *out);
  if (count < 1) return cn_fail(CN_EINVAL, "an ensemble needs at least one run");
  const cn_test_probs *first = &members[0];
  for (int m = 1; m < count; m++) {
    const cn_test_probs *p = &members[m];
    if (p->n != first->n || p->classes != first->classes)
      return cn_fail(CN_EINVAL, "%s: %d test images x %d classes, but %s has %d x %d: not the same test set", names[m],
                     p->n, p->classes, names[0], first->n, first->classes);
    if (memcmp(p->labels, first->labels, (size_t)p->n) != 0)
      return cn_fail(CN_EINVAL, "%s: its test labels differ from those of %s: not the same test set", names[m],
                     names[0]);
  }
  int n = first->n, classes = first->classes;
  out->members = count;
  out->n = n;
  out->classes = classes;
  out->labels = first->labels;
  out->probs = malloc((size_t)n * (size_t)classes * sizeof *out->probs);
  out->predicted = malloc((size_t)n * sizeof *out->predicted);
  out->member_accuracy = calloc((size_t)count, sizeof *out->member_accuracy);
  out->member_wrong = calloc((size_t)n, sizeof *out->member_wrong);
  if (!out->probs || !out->predicted || !out->member_accuracy || !out->member_wrong) {
    cn_ensemble_free(out);
    return cn_fail(CN_ENOMEM, "ensemble of %d runs: out of memory", count);
  }
  int64_t correct = 0;
  for (int i = 0; i < n; i++) {
    float *row = out->probs + (size_t)i * classes;
    for (int k = 0; k < classes; k++) {
      double sum = 0;
      for (int m = 0; m < count; m++) sum += members[m].probs[(size_t)i * classes + k];
      row[k] = (float)(sum / count);
    }
    out->predicted[i] = cn_probs_argmax(row, classes);
    correct += out->predicted[i] == first->labels[i];
    for (int m = 0; m < count; m++) {
      int wrong = cn_probs_argmax(members[m].probs + (size_t)i * classes, classes) != first->labels[i];
      out->member_wrong[i] += wrong;
      out->member_accuracy[m] += !wrong;
    }
  }
  for (int m = 0; m < count; m++) out->member_accuracy[m] /= n;
  out->accuracy = (double)correct / n;
  out->accuracy_se = cn_accuracy_se(out->accuracy, n);
  return CN_OK;
}
