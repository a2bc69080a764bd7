/* The run folder's JSON files: one strict reader, one atomic writer. */
#include "run/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"

int cn_run_json_read(const char *path, cJSON **out) {
  *out = NULL;
  char *text;
  size_t size;
  int rc = cn_read_file(path, 64u << 20, &text, &size);
  if (rc == CN_ENOTFOUND) return cn_fail(rc, "%s: missing (every run folder written by cnist train has it)", path);
  if (rc) return rc;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
  if (!root) {
    /* cJSON reports where it stopped: turn that into a line number. */
    const char *at = cJSON_GetErrorPtr();
    int line = 1;
    if (at && at >= text && at <= text + size)
      for (const char *p = text; p < at; p++) line += *p == '\n';
    free(text);
    return cn_fail(CN_EFORMAT, "%s:%d: malformed JSON", path, line);
  }
  free(text);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return cn_fail(CN_EFORMAT, "%s: not a JSON object", path);
  }
  *out = root;
  return CN_OK;
}

int cn_run_json_write(const char *path, cJSON *root) {
  char *text = root ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (!text) return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  size_t len = strlen(text);
  text[len] = '\n'; /* cJSON's buffer has room for this: its terminator */
  int rc = cn_write_file_atomic(path, text, len + 1);
  cJSON_free(text);
  return rc;
}

int cn_run_json_number(const cJSON *o, const char *key, const char *path, double *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return cn_fail(CN_EFORMAT, "%s: missing \"%s\"", path, key);
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
    return cn_fail(CN_EFORMAT, "%s: \"%s\" is not a finite number", path, key);
  *out = v->valuedouble;
  return CN_OK;
}

int cn_run_json_int(const cJSON *o, const char *key, const char *path, double lo, double hi, double *out) {
  double v = 0;
  int rc = cn_run_json_number(o, key, path, &v);
  if (rc) return rc;
  if (v != floor(v) || v < lo || v > hi)
    return cn_fail(CN_EFORMAT, "%s: \"%s\" is %g; a whole number from %g to %g expected", path, key, v, lo, hi);
  *out = v;
  return CN_OK;
}

int cn_run_json_string(const cJSON *o, const char *key, const char *path, char *out, size_t size) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return cn_fail(CN_EFORMAT, "%s: missing \"%s\"", path, key);
  if (!cJSON_IsString(v)) return cn_fail(CN_EFORMAT, "%s: \"%s\" is not a string", path, key);
  size_t len = strlen(v->valuestring);
  if (len >= size) return cn_fail(CN_EFORMAT, "%s: \"%s\" is longer than %zu characters", path, key, size - 1);
  memcpy(out, v->valuestring, len + 1);
  return CN_OK;
}

int cn_run_json_fraction(const cJSON *o, const char *key, const char *path, double *out) {
  int rc = cn_run_json_number(o, key, path, out);
  if (!rc && (*out < 0 || *out > 1))
    rc = cn_fail(CN_EFORMAT, "%s: \"%s\" is %g; a fraction from 0 to 1 expected", path, key, *out);
  return rc;
}

void cn_run_json_add(cJSON *o, const cn_run_json_field *fields, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (fields[i].text) cJSON_AddStringToObject(o, fields[i].key, fields[i].text);
    else if (isnan(fields[i].number)) cJSON_AddNullToObject(o, fields[i].key); /* no figure: no validation */
    else cJSON_AddNumberToObject(o, fields[i].key, fields[i].number);
}

int cn_run_json_precision(const cJSON *o, const char *path, cn_precision *out) {
  *out = CN_PRECISION_FP32;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "precision");
  if (!v) return CN_OK;
  if (!cJSON_IsString(v) || cn_precision_parse(v->valuestring, out))
    return cn_fail(CN_EFORMAT, "%s: \"precision\" must be \"fp32\" or \"bf16\"", path);
  return CN_OK;
}
