/* test_probs.bin: "CNPROBS1", u32 images, u32 classes (little-endian),
 * images x classes float32 probabilities, then one uint8 label per image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "run/run.h"

int cn_run_write_probs(const char *dir, const float *probs, int n, int classes, const uint8_t *labels) {
  char path[CN_RUN_PATH_SIZE];
  int rc = cn_run_path(dir, CN_RUN_PROBS, path);
  if (rc) return rc;
  size_t values = (size_t)n * (size_t)classes;
  size_t size = 16 + values * 4 + (size_t)n;
  unsigned char *buf = malloc(size);
  if (!buf) return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  memcpy(buf, "CNPROBS1", 8);
  uint32_t header[2] = {(uint32_t)n, (uint32_t)classes};
  for (int h = 0; h < 2; h++)
    for (int b = 0; b < 4; b++) buf[8 + 4 * h + b] = (unsigned char)(header[h] >> (8 * b));
  for (size_t i = 0; i < values; i++) {
    uint32_t bits;
    memcpy(&bits, &probs[i], 4);
    for (int b = 0; b < 4; b++) buf[16 + 4 * i + (size_t)b] = (unsigned char)(bits >> (8 * b));
  }
  memcpy(buf + 16 + values * 4, labels, (size_t)n);
  rc = cn_write_file_atomic(path, buf, size);
  free(buf);
  return rc;
}

static uint32_t read_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int check(const char *path, const unsigned char *u, size_t size, const cn_run_metrics *m, float *probs,
                 uint8_t *labels) {
  if (size < 16 || memcmp(u, "CNPROBS1", 8) != 0)
    return cn_fail(CN_EFORMAT, "%s: bad magic: not a " CN_RUN_PROBS " file (it starts with \"CNPROBS1\")", path);
  uint32_t n = read_u32le(u + 8), classes = read_u32le(u + 12);
  if (n != (uint32_t)m->summary.test_n || classes != (uint32_t)m->classes)
    return cn_fail(CN_EFORMAT, "%s: holds %u images x %u classes, but " CN_RUN_METRICS " says %lld x %d", path, n, classes,
                   (long long)m->summary.test_n, m->classes);
  size_t values = (size_t)n * classes, want = 16 + values * 4 + n;
  if (size != want)
    return cn_fail(CN_EFORMAT, "%s: %zu bytes, but a header of %u images x %u classes needs %zu", path, size, n,
                   classes, want);
  for (size_t i = 0; i < values; i++) {
    uint32_t bits = read_u32le(u + 16 + 4 * i);
    float p;
    memcpy(&p, &bits, sizeof p);
    if (!isfinite(p) || p < -1e-4f || p > 1.0001f)
      return cn_fail(CN_EFORMAT, "%s: image %zu, class %zu: %g is not a probability", path, i / classes, i % classes,
                     (double)p);
    probs[i] = p;
  }
  memcpy(labels, u + 16 + values * 4, n);
  int64_t per_class[CN_MAX_CLASSES] = {0};
  for (uint32_t i = 0; i < n; i++) {
    if (labels[i] >= classes)
      return cn_fail(CN_EFORMAT, "%s: image %u has label %u; labels go from 0 to %u", path, i, labels[i],
                     classes - 1);
    per_class[labels[i]]++;
  }
  /* The labels must be the test set metrics.json was computed on. */
  for (int k = 0; k < m->classes; k++) {
    int64_t row = 0;
    for (int p = 0; p < m->classes; p++) row += m->confusion.counts[k * m->classes + p];
    if (row != per_class[k])
      return cn_fail(CN_EFORMAT, "%s: %lld images of class %d, but " CN_RUN_METRICS "'s confusion matrix counts %lld", path,
                     (long long)per_class[k], k, (long long)row);
  }
  return CN_OK;
}

int cn_run_read_probs(const char *dir, const cn_run_metrics *m, float **probs, uint8_t **labels) {
  *probs = NULL;
  *labels = NULL;
  char path[CN_RUN_PATH_SIZE];
  char *data;
  size_t size;
  int rc = cn_run_path(dir, CN_RUN_PROBS, path);
  if (!rc) rc = cn_read_file(path, (size_t)1 << 32, &data, &size);
  if (rc == CN_ENOTFOUND) return cn_fail(rc, "%s: missing (every run folder written by cnist train has it)", path);
  if (rc) return rc;
  float *p = malloc(sizeof *p * (size_t)m->summary.test_n * (size_t)m->classes);
  uint8_t *l = malloc((size_t)m->summary.test_n);
  rc = p && l ? check(path, (const unsigned char *)data, size, m, p, l) : cn_fail(CN_ENOMEM, "%s: out of memory", path);
  free(data);
  if (rc) {
    free(p);
    free(l);
    return rc;
  }
  *probs = p;
  *labels = l;
  return CN_OK;
}
