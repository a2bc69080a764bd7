/* Ensembles of runs: test_probs.bin read back and averaged. */
#include "cnist/ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "cnist/train.h"

static uint32_t read_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void cn_test_probs_free(cn_test_probs *p) {
  free(p->probs);
  free(p->labels);
  memset(p, 0, sizeof *p);
}

int cn_test_probs_read(const char *run_dir, cn_test_probs *out) {
  memset(out, 0, sizeof *out);
  char path[4200];
  snprintf(path, sizeof path, "%s/test_probs.bin", run_dir);
  char *data;
  size_t size;
  int rc = cn_read_file(path, (size_t)1 << 32, &data, &size);
  if (rc) return rc;
  const unsigned char *u = (const unsigned char *)data;
  if (size < 16 || memcmp(data, "CNPROBS1", 8) != 0) {
    free(data);
    return cn_fail(CN_EFORMAT, "%s: bad magic: not a test_probs.bin file (it starts with \"CNPROBS1\")", path);
  }
  uint32_t n = read_u32le(u + 8), classes = read_u32le(u + 12);
  if (n == 0 || n > (1u << 24) || classes < 2 || classes > CN_MAX_CLASSES) {
    free(data);
    return cn_fail(CN_EFORMAT, "%s: header says %u images x %u classes; cnist writes 1 to %u images of 2 to %d classes",
                   path, n, classes, 1u << 24, CN_MAX_CLASSES);
  }
  size_t values = (size_t)n * classes, want = 16 + values * 4 + n;
  if (size != want) {
    free(data);
    return cn_fail(CN_EFORMAT, "%s: %zu bytes, but a header of %u images x %u classes needs %zu", path, size, n,
                   classes, want);
  }
  out->probs = malloc(values * sizeof *out->probs);
  out->labels = malloc(n);
  if (!out->probs || !out->labels) {
    free(data);
    cn_test_probs_free(out);
    return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  rc = CN_OK;
  for (size_t i = 0; i < values && !rc; i++) {
    uint32_t bits = read_u32le(u + 16 + 4 * i);
    float p;
    memcpy(&p, &bits, sizeof p);
    if (!isfinite(p) || p < -1e-4f || p > 1.0001f)
      rc = cn_fail(CN_EFORMAT, "%s: image %zu, class %zu: %g is not a probability", path, i / classes, i % classes,
                   (double)p);
    out->probs[i] = p;
  }
  memcpy(out->labels, u + 16 + values * 4, n);
  free(data);
  for (uint32_t i = 0; i < n && !rc; i++)
    if (out->labels[i] >= classes)
      rc = cn_fail(CN_EFORMAT, "%s: image %u has label %u; labels go from 0 to %u", path, i, out->labels[i],
                   classes - 1);
  if (rc) {
    cn_test_probs_free(out);
    return rc;
  }
  out->n = (int)n;
  out->classes = (int)classes;
  return CN_OK;
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
