/* Reading a run folder for the report, with strict checks: a report built
 * from a half-written or mismatched run would mislead, so every fault is an
 * error naming the file. */
#include "report/runs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnist/model.h"
#include "core/error.h"

#define PATH_SIZE 4200

/* Reads the whole file (at most max bytes) into a NUL-terminated buffer. */
static int read_whole(const char *path, size_t max, char **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT)
      return cn_fail(CN_ENOTFOUND, "%s: missing (every run folder written by cnist train has it)", path);
    return cn_fail(CN_EIO, "%s: cannot open: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return cn_fail(CN_EIO, "%s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > max) {
    fclose(f);
    return cn_fail(CN_EFORMAT, "%s: too large (%lld bytes; at most %zu expected)", path, (long long)st.st_size, max);
  }
  size_t n = (size_t)st.st_size;
  char *buf = malloc(n + 1);
  if (!buf) {
    fclose(f);
    return cn_fail(CN_ENOMEM, "%s: out of memory reading %zu bytes", path, n);
  }
  size_t got = fread(buf, 1, n, f);
  int err = ferror(f);
  fclose(f);
  if (got != n || err) {
    free(buf);
    return cn_fail(CN_EIO, "%s: read %zu of %zu bytes", path, got, n);
  }
  buf[n] = '\0';
  *data = buf;
  *size = n;
  return CN_OK;
}

static void join(char *out, const char *dir, const char *name) { snprintf(out, PATH_SIZE, "%s/%s", dir, name); }

/* ---- JSON ---- */

static int parse_json_object(const char *path, cJSON **out) {
  char *text;
  size_t size;
  int rc = read_whole(path, 64u << 20, &text, &size);
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

static int json_number(const cJSON *o, const char *key, const char *path, double *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return cn_fail(CN_EFORMAT, "%s: missing \"%s\"", path, key);
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
    return cn_fail(CN_EFORMAT, "%s: \"%s\" is not a finite number", path, key);
  *out = v->valuedouble;
  return CN_OK;
}

static int json_int(const cJSON *o, const char *key, const char *path, double lo, double hi, int *out) {
  double v = 0;
  int rc = json_number(o, key, path, &v);
  if (rc) return rc;
  if (v != floor(v) || v < lo || v > hi)
    return cn_fail(CN_EFORMAT, "%s: \"%s\" is %g; a whole number from %g to %g expected", path, key, v, lo, hi);
  *out = (int)v;
  return CN_OK;
}

static int json_string(const cJSON *o, const char *key, const char *path, char *out, size_t size) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return cn_fail(CN_EFORMAT, "%s: missing \"%s\"", path, key);
  if (!cJSON_IsString(v)) return cn_fail(CN_EFORMAT, "%s: \"%s\" is not a string", path, key);
  if (strlen(v->valuestring) >= size)
    return cn_fail(CN_EFORMAT, "%s: \"%s\" is longer than %zu characters", path, key, size - 1);
  memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
  return CN_OK;
}

static int check_fraction(double v, const char *key, const char *path) {
  if (v < 0 || v > 1) return cn_fail(CN_EFORMAT, "%s: \"%s\" is %g; a fraction from 0 to 1 expected", path, key, v);
  return CN_OK;
}

/* ---- config.json ---- */

static int load_config(cn_report_run *r) {
  char path[PATH_SIZE];
  join(path, r->dir, "config.json");
  cJSON *o = NULL;
  int rc = parse_json_object(path, &o);
  if (rc) return rc;
  rc = json_string(o, "dataset", path, r->dataset, sizeof r->dataset);
  if (!rc) rc = json_string(o, "data_dir", path, r->data_dir, sizeof r->data_dir);
  cJSON_Delete(o);
  return rc;
}

/* ---- metrics.json ---- */

static int load_confusion(cn_report_run *r, const cJSON *o, const char *path) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "confusion_matrix");
  if (!m) return cn_fail(CN_EFORMAT, "%s: missing \"confusion_matrix\"", path);
  if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) != r->classes)
    return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\" must be an array of %d rows", path, r->classes);
  int64_t total = 0;
  for (int t = 0; t < r->classes; t++) {
    const cJSON *row = cJSON_GetArrayItem(m, t);
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != r->classes)
      return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\" row %d must hold %d counts", path, t, r->classes);
    for (int p = 0; p < r->classes; p++) {
      const cJSON *v = cJSON_GetArrayItem(row, p);
      if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
          v->valuedouble > 1e12)
        return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\"[%d][%d] is not a count", path, t, p);
      r->confusion[t * r->classes + p] = (int64_t)v->valuedouble;
      total += (int64_t)v->valuedouble;
    }
  }
  if (total != r->test_n)
    return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\" counts %lld images but \"test_n\" is %d", path,
                   (long long)total, r->test_n);
  return CN_OK;
}

static int load_per_class(cn_report_run *r, const cJSON *o, const char *path) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "per_class");
  if (!a) return cn_fail(CN_EFORMAT, "%s: missing \"per_class\"", path);
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != r->classes)
    return cn_fail(CN_EFORMAT, "%s: \"per_class\" must be an array of %d objects", path, r->classes);
  for (int k = 0; k < r->classes; k++) {
    const cJSON *c = cJSON_GetArrayItem(a, k);
    char where[PATH_SIZE + 32];
    snprintf(where, sizeof where, "%s: per_class[%d]", path, k);
    if (!cJSON_IsObject(c)) return cn_fail(CN_EFORMAT, "%s: not an object", where);
    int cls, support;
    cn_report_class *pc = &r->per_class[k];
    int rc = json_int(c, "class", where, k, k, &cls);
    if (!rc) rc = json_number(c, "precision", where, &pc->precision);
    if (!rc) rc = check_fraction(pc->precision, "precision", where);
    if (!rc) rc = json_number(c, "recall", where, &pc->recall);
    if (!rc) rc = check_fraction(pc->recall, "recall", where);
    if (!rc) rc = json_number(c, "f1", where, &pc->f1);
    if (!rc) rc = check_fraction(pc->f1, "f1", where);
    if (!rc) rc = json_int(c, "support", where, 0, r->test_n, &support);
    if (rc) return rc;
    pc->support = support;
  }
  return CN_OK;
}

static int load_metrics(cn_report_run *r) {
  char path[PATH_SIZE];
  join(path, r->dir, "metrics.json");
  cJSON *o = NULL;
  int rc = parse_json_object(path, &o);
  if (rc) return rc;
  rc = json_string(o, "model", path, r->model, sizeof r->model);
  struct {
    const char *key;
    double *value;
    int fraction;
  } numbers[] = {
      {"train_loss", &r->train_loss, 0},       {"train_accuracy", &r->train_accuracy, 1},
      {"val_loss", &r->val_loss, 0},           {"val_accuracy", &r->val_accuracy, 1},
      {"test_loss", &r->test_loss, 0},         {"test_accuracy", &r->test_accuracy, 1},
      {"test_accuracy_se", &r->test_accuracy_se, 1}, {"weight_number", &r->weight_number, 0},
      {"total_params", &r->total_params, 0},   {"train_time", &r->train_time, 0},
  };
  for (size_t i = 0; !rc && i < sizeof numbers / sizeof numbers[0]; i++) {
    rc = json_number(o, numbers[i].key, path, numbers[i].value);
    if (!rc && numbers[i].fraction) rc = check_fraction(*numbers[i].value, numbers[i].key, path);
    if (!rc && *numbers[i].value < 0)
      rc = cn_fail(CN_EFORMAT, "%s: \"%s\" is negative (%g)", path, numbers[i].key, *numbers[i].value);
  }
  cJSON *prec = cJSON_GetObjectItemCaseSensitive(o, "precision"); /* absent before the option: fp32 */
  if (!rc && prec && (!cJSON_IsString(prec) || cn_precision_parse(prec->valuestring) < 0))
    rc = cn_fail(CN_EFORMAT, "%s: \"precision\" must be \"fp32\" or \"bf16\"", path);
  r->bf16 = !rc && prec && cn_precision_parse(prec->valuestring) == CN_PRECISION_BF16;
  if (!rc) rc = json_int(o, "epochs_run", path, 1, 1e6, &r->epochs_run);
  if (!rc) rc = json_int(o, "best_epoch", path, 0, r->epochs_run, &r->best_epoch);
  if (!rc) rc = json_int(o, "classes", path, 2, CN_MAX_CLASSES, &r->classes);
  if (!rc) rc = json_int(o, "test_n", path, 1, 1e8, &r->test_n);
  if (!rc) {
    r->confusion = calloc((size_t)r->classes * (size_t)r->classes, sizeof *r->confusion);
    r->per_class = calloc((size_t)r->classes, sizeof *r->per_class);
    if (!r->confusion || !r->per_class) rc = cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  if (!rc) rc = load_confusion(r, o, path);
  if (!rc) rc = load_per_class(r, o, path);
  cJSON_Delete(o);
  return rc;
}

/* ---- history.csv ---- */

static const char *const history_columns[] = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
                                              "seconds"};

static int load_history(cn_report_run *r) {
  char path[PATH_SIZE];
  join(path, r->dir, "history.csv");
  char *text;
  size_t size;
  int rc = read_whole(path, 64u << 20, &text, &size);
  if (rc) return rc;
  r->history = calloc((size_t)r->epochs_run, sizeof *r->history);
  if (!r->history) {
    free(text);
    return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  const char *header = "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds";
  char *line = text;
  int lineno = 1;
  size_t hlen = strlen(header);
  if (strncmp(line, header, hlen) != 0 || (line[hlen] != '\n' && line[hlen] != '\r' && line[hlen] != '\0')) {
    free(text);
    return cn_fail(CN_EFORMAT, "%s:1: the header must be \"%s\"", path, header);
  }
  line = strchr(line, '\n');
  while (line && *++line) {
    lineno++;
    if (*line == '\n' || (*line == '\r' && line[1] == '\n')) continue; /* a blank line */
    if (r->n_epochs == r->epochs_run) {
      free(text);
      return cn_fail(CN_EFORMAT, "%s:%d: more rows than the %d epochs metrics.json reports", path, lineno,
                     r->epochs_run);
    }
    double v[7];
    char *p = line;
    for (int k = 0; k < 7; k++) {
      char *end;
      errno = 0;
      v[k] = strtod(p, &end);
      char want = k < 6 ? ',' : '\n';
      int ok = end != p && isfinite(v[k]) && (*end == want || (k == 6 && (*end == '\r' || *end == '\0')));
      if (!ok) {
        free(text);
        return cn_fail(CN_EFORMAT, "%s:%d: column %d (%s) is not a number followed by '%s'", path, lineno, k + 1,
                       history_columns[k], k < 6 ? "," : "end of line");
      }
      p = end + (k < 6);
    }
    if (v[0] != r->n_epochs + 1) {
      free(text);
      return cn_fail(CN_EFORMAT, "%s:%d: epoch is %g; %d expected (rows go 1, 2, 3, ...)", path, lineno, v[0],
                     r->n_epochs + 1);
    }
    if (v[5] <= 0) {
      free(text);
      return cn_fail(CN_EFORMAT, "%s:%d: learning rate %g is not positive", path, lineno, v[5]);
    }
    r->history[r->n_epochs++] = (cn_report_epoch){v[1], v[2], v[3], v[4], v[5], v[6]};
    line = strchr(p, '\n');
  }
  free(text);
  if (r->n_epochs != r->epochs_run)
    return cn_fail(CN_EFORMAT, "%s: %d epoch rows, but metrics.json says %d epochs were run", path, r->n_epochs,
                   r->epochs_run);
  return CN_OK;
}

/* ---- model.model ---- */

static int load_model(cn_report_run *r) {
  char path[PATH_SIZE];
  join(path, r->dir, "model.model");
  char *text;
  size_t size;
  int rc = read_whole(path, 1u << 20, &text, &size);
  if (rc) return rc;
  rc = cn_spec_parse(text, path, &r->spec);
  free(text);
  if (!rc) rc = cn_spec_check(&r->spec, r->classes, r->shapes);
  if (rc && !strstr(cn_last_error(), path)) cn_fail_context(rc, "%s", path);
  if (!rc) rc = cn_spec_stats_compute(&r->spec, &r->stats);
  return rc;
}

/* ---- test_probs.bin ---- */

static uint32_t read_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int load_probs(cn_report_run *r) {
  char path[PATH_SIZE];
  join(path, r->dir, "test_probs.bin");
  char *data;
  size_t size;
  int rc = read_whole(path, (size_t)1 << 32, &data, &size);
  if (rc) return rc;
  const unsigned char *u = (const unsigned char *)data;
  if (size < 16 || memcmp(data, "CNPROBS1", 8) != 0) {
    free(data);
    return cn_fail(CN_EFORMAT, "%s: bad magic: not a test_probs.bin file (it starts with \"CNPROBS1\")", path);
  }
  uint32_t n = read_u32le(u + 8), classes = read_u32le(u + 12);
  if (n != (uint32_t)r->test_n || classes != (uint32_t)r->classes) {
    free(data);
    return cn_fail(CN_EFORMAT, "%s: holds %u images x %u classes, but metrics.json says %d x %d", path, n, classes,
                   r->test_n, r->classes);
  }
  size_t values = (size_t)n * classes, want = 16 + values * 4 + n;
  if (size != want) {
    free(data);
    return cn_fail(CN_EFORMAT, "%s: %zu bytes, but a header of %u images x %u classes needs %zu", path, size, n,
                   classes, want);
  }
  r->probs = malloc(values * sizeof *r->probs);
  r->labels = malloc(n);
  r->predicted = malloc(n);
  if (!r->probs || !r->labels || !r->predicted) {
    free(data);
    return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  for (size_t i = 0; i < values; i++) {
    uint32_t bits = read_u32le(u + 16 + 4 * i);
    float p;
    memcpy(&p, &bits, sizeof p);
    if (!isfinite(p) || p < -1e-4f || p > 1.0001f) {
      free(data);
      return cn_fail(CN_EFORMAT, "%s: image %zu, class %zu: %g is not a probability", path, i / classes,
                     i % classes, (double)p);
    }
    r->probs[i] = p;
  }
  memcpy(r->labels, u + 16 + values * 4, n);
  free(data);
  int64_t per_class[CN_MAX_CLASSES] = {0};
  for (uint32_t i = 0; i < n; i++) {
    if (r->labels[i] >= classes)
      return cn_fail(CN_EFORMAT, "%s: image %u has label %u; labels go from 0 to %u", path, i, r->labels[i],
                     classes - 1);
    per_class[r->labels[i]]++;
    const float *row = r->probs + (size_t)i * classes;
    uint32_t best = 0;
    for (uint32_t k = 1; k < classes; k++)
      if (row[k] > row[best]) best = k;
    r->predicted[i] = (uint8_t)best;
  }
  /* The labels must be the test set metrics.json was computed on. */
  for (int k = 0; k < r->classes; k++) {
    int64_t row = 0;
    for (int p = 0; p < r->classes; p++) row += r->confusion[k * r->classes + p];
    if (row != per_class[k])
      return cn_fail(CN_EFORMAT, "%s: %lld images of class %d, but metrics.json's confusion matrix counts %lld", path,
                     (long long)per_class[k], k, (long long)row);
  }
  return CN_OK;
}

/* ---- the run ---- */

int cn_report_run_load(const char *dir, cn_report_run **out) {
  *out = NULL;
  struct stat st;
  if (stat(dir, &st) != 0)
    return cn_fail(CN_ENOTFOUND, "%s: no such run folder", dir);
  if (!S_ISDIR(st.st_mode)) return cn_fail(CN_EINVAL, "%s: not a folder (a run folder was expected)", dir);
  cn_report_run *r = calloc(1, sizeof *r);
  if (!r) return cn_fail(CN_ENOMEM, "%s: out of memory", dir);
  if (strlen(dir) >= sizeof r->dir) {
    free(r);
    return cn_fail(CN_EINVAL, "%s: path too long", dir);
  }
  memcpy(r->dir, dir, strlen(dir) + 1);
  /* metrics.json first: it says how big everything else must be. */
  int rc = load_metrics(r);
  if (!rc) rc = load_config(r);
  if (!rc) rc = load_history(r);
  if (!rc) rc = load_model(r);
  if (!rc) rc = load_probs(r);
  if (rc) {
    cn_report_run_free(r);
    return rc;
  }
  snprintf(r->name, sizeof r->name, "%s%s", r->model, r->bf16 ? " bf16" : "");
  *out = r;
  return CN_OK;
}

void cn_report_run_free(cn_report_run *r) {
  if (!r) return;
  free(r->confusion);
  free(r->per_class);
  free(r->history);
  free(r->probs);
  free(r->labels);
  free(r->predicted);
  free(r);
}
