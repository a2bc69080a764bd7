/* Writing safetensors files: the header through cJSON (which escapes the
 * strings), tensors in the order given, data little-endian, the whole file
 * replaced atomically (atomic.h). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "checkpoint/safetensors.h"
#include "core/error.h"
#include "core/utf8.h"

/* Offsets are written as JSON numbers, exact up to 2^53. */
#define MAX_FILE_BYTES ((uint64_t)1 << 53)

enum { CHUNK_FLOATS = 16384 };

static int check_text(const char *path, const char *what, const char *s) {
  if (!s) return cn_fail(CN_EINVAL, "%s: %s is missing", path, what);
  if (cn_utf8_invalid_at(s, strlen(s)) < strlen(s)) return cn_fail(CN_EINVAL, "%s: %s is not valid UTF-8", path, what);
  return CN_OK;
}

static uint64_t entry_count(const cn_st_entry *e) {
  uint64_t n = 1;
  for (int d = 0; d < e->ndim; d++) n *= (uint64_t)e->shape[d];
  return n;
}

static int check_entries(const char *path, const cn_st_entry *t, int n, const char *const *meta) {
  uint64_t total = 0;
  for (int i = 0; i < n; i++) {
    int rc = check_text(path, "a tensor name", t[i].name);
    if (rc) return rc;
    if (!*t[i].name || strcmp(t[i].name, "__metadata__") == 0)
      return cn_fail(CN_EINVAL, "%s: \"%s\" cannot name a tensor", path, t[i].name);
    if (t[i].ndim < 0 || t[i].ndim > CN_ST_MAX_DIMS || (t[i].ndim && !t[i].shape))
      return cn_fail(CN_EINVAL, "%s: tensor %s: %d dimensions", path, t[i].name, t[i].ndim);
    uint64_t count = 1;
    for (int d = 0; d < t[i].ndim; d++) {
      if (t[i].shape[d] < 0) return cn_fail(CN_EINVAL, "%s: tensor %s: negative dimension", path, t[i].name);
      uint64_t dim = (uint64_t)t[i].shape[d];
      if (dim && count > MAX_FILE_BYTES / 4 / dim)
        return cn_fail(CN_EINVAL, "%s: tensor %s is too large", path, t[i].name);
      count *= dim;
    }
    if (count && !t[i].data) return cn_fail(CN_EINVAL, "%s: tensor %s has no data", path, t[i].name);
    total += 4 * count;
    if (total > MAX_FILE_BYTES) return cn_fail(CN_EINVAL, "%s: the tensors are too large for one file", path);
    for (int j = 0; j < i; j++)
      if (strcmp(t[j].name, t[i].name) == 0) return cn_fail(CN_EINVAL, "%s: tensor %s given twice", path, t[i].name);
  }
  for (int i = 0; meta && meta[i]; i += 2) {
    int rc = check_text(path, "a metadata key", meta[i]);
    if (!rc) rc = check_text(path, "a metadata value", meta[i + 1]);
    if (rc) return rc;
    for (int j = 0; j < i; j += 2)
      if (strcmp(meta[j], meta[i]) == 0) return cn_fail(CN_EINVAL, "%s: metadata %s given twice", path, meta[i]);
  }
  return CN_OK;
}

/* The header text, padded with spaces so the data starts 8-byte aligned. */
static char *header_text(const cn_st_entry *t, int n, const char *const *meta, size_t *len) {
  cJSON *root = cJSON_CreateObject();
  int ok = root != NULL;
  if (ok && meta && meta[0]) {
    cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
    ok = m != NULL;
    for (int i = 0; ok && meta[i]; i += 2) ok = cJSON_AddStringToObject(m, meta[i], meta[i + 1]) != NULL;
  }
  uint64_t offset = 0;
  for (int i = 0; ok && i < n; i++) {
    cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
    cJSON *shape = e ? cJSON_AddArrayToObject(e, "shape") : NULL;
    cJSON *offsets = shape && cJSON_AddStringToObject(e, "dtype", "F32") ? cJSON_AddArrayToObject(e, "data_offsets")
                                                                         : NULL;
    ok = offsets != NULL;
    for (int d = 0; ok && d < t[i].ndim; d++) {
      cJSON *v = cJSON_CreateNumber((double)t[i].shape[d]);
      ok = v && cJSON_AddItemToArray(shape, v);
      if (v && !ok) cJSON_Delete(v);
    }
    uint64_t end = offset + 4 * entry_count(&t[i]);
    for (int k = 0; ok && k < 2; k++) {
      cJSON *v = cJSON_CreateNumber((double)(k ? end : offset));
      ok = v && cJSON_AddItemToArray(offsets, v);
      if (v && !ok) cJSON_Delete(v);
    }
    offset = end;
  }
  char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (!json) return NULL;
  size_t used = strlen(json), padded = used + (8 - used % 8) % 8;
  char *text = realloc(json, padded + 1);
  if (!text) {
    free(json);
    return NULL;
  }
  memset(text + used, ' ', padded - used);
  text[padded] = '\0';
  *len = padded;
  return text;
}

/* Tensor values, little-endian whatever the host, through a small buffer. */
static int write_values(cn_atomic_file *af, const float *data, uint64_t count) {
  unsigned char buf[4 * CHUNK_FLOATS];
  while (count > 0) {
    size_t n = count < CHUNK_FLOATS ? (size_t)count : CHUNK_FLOATS;
    for (size_t i = 0; i < n; i++) {
      uint32_t u;
      memcpy(&u, &data[i], sizeof u);
      buf[4 * i] = (unsigned char)u;
      buf[4 * i + 1] = (unsigned char)(u >> 8);
      buf[4 * i + 2] = (unsigned char)(u >> 16);
      buf[4 * i + 3] = (unsigned char)(u >> 24);
    }
    int rc = cn_atomic_write(af, buf, 4 * n);
    if (rc) return rc;
    data += n;
    count -= n;
  }
  return CN_OK;
}

int cn_st_write(const char *path, const cn_st_entry *tensors, int n, const char *const *meta) {
  if (n < 0 || (n > 0 && !tensors)) return cn_fail(CN_EINVAL, "%s: %d tensors to write", path, n);
  int rc = check_entries(path, tensors, n, meta);
  if (rc) return rc;
  size_t len = 0;
  char *header = header_text(tensors, n, meta, &len);
  if (!header) return cn_fail(CN_ENOMEM, "%s: out of memory for the header", path);
  unsigned char head[8];
  for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)len >> (8 * i));
  cn_atomic_file *af = NULL;
  rc = cn_atomic_open(path, &af);
  if (!rc) rc = cn_atomic_write(af, head, sizeof head);
  if (!rc) rc = cn_atomic_write(af, header, len);
  for (int i = 0; i < n && !rc; i++) rc = write_values(af, tensors[i].data, entry_count(&tensors[i]));
  free(header);
  if (rc) {
    cn_atomic_abort(af);
    return rc;
  }
  return cn_atomic_commit(af);
}
