/* The files of a run folder (docs/ARCHITECTURE.md, "The run folder"). */
#include "train/run.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "train/confusion_json.h"
#include "core/file.h"

static int write_json(const char *dir, const char *name, cJSON *root) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *text = root ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (!text) return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  size_t len = strlen(text);
  text[len] = '\n'; /* cJSON's buffer has room for this: its terminator */
  int rc = cn_write_file_atomic(path, text, len + 1);
  cJSON_free(text);
  return rc;
}

static cJSON *read_json(const char *dir, const char *name, char *path, size_t path_size) {
  snprintf(path, path_size, "%s/%s", dir, name);
  char *text;
  if (cn_read_file(path, 16u << 20, &text, NULL)) return NULL;
  cJSON *root = cJSON_Parse(text);
  free(text);
  if (!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    cn_fail(CN_EFORMAT, "%s: not a JSON object", path);
    return NULL;
  }
  return root;
}

int cn_run_write_config(const char *dir, const cn_run_config *c) {
  cJSON *o = cJSON_CreateObject();
  char started[32];
  time_t now = time(NULL);
  strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  cJSON_AddStringToObject(o, "model", c->model);
  cJSON_AddStringToObject(o, "dataset", c->dataset);
  cJSON_AddStringToObject(o, "data_dir", c->data_dir ? c->data_dir : "");
  cJSON_AddNumberToObject(o, "seed", (double)c->seed);
  cJSON_AddNumberToObject(o, "val_split", c->val_split);
  cJSON_AddNumberToObject(o, "n_train", c->n_train);
  cJSON_AddNumberToObject(o, "n_val", c->n_val);
  cJSON_AddNumberToObject(o, "limit_train", c->limit_train);
  cJSON_AddNumberToObject(o, "limit_test", c->limit_test);
  cJSON_AddNumberToObject(o, "threads", c->threads);
  cJSON_AddStringToObject(o, "precision", cn_precision_name(c->precision));
  cJSON_AddNumberToObject(o, "batch", c->batch);
  cJSON_AddNumberToObject(o, "epochs", c->epochs);
  cJSON_AddStringToObject(o, "optimizer", c->optimizer);
  cJSON_AddNumberToObject(o, "lr", c->lr);
  cJSON_AddStringToObject(o, "loss", c->loss);
  cJSON_AddStringToObject(o, "cnist_version", CN_VERSION);
  cJSON_AddStringToObject(o, "started", started);
  return write_json(dir, "config.json", o);
}

static int get_number(cJSON *root, const char *key, const char *path, double *out) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
  if (!cJSON_IsNumber(v)) return cn_fail(CN_EFORMAT, "%s: \"%s\" is missing or not a number", path, key);
  *out = v->valuedouble;
  return CN_OK;
}

static int get_string(cJSON *root, const char *key, const char *path, char *out, size_t size) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
  if (!cJSON_IsString(v)) return cn_fail(CN_EFORMAT, "%s: \"%s\" is missing or not a string", path, key);
  snprintf(out, size, "%s", v->valuestring);
  return CN_OK;
}

int cn_run_read_settings(const char *dir, uint64_t *seed, double *val_split, int *limit_train, int *limit_test) {
  char path[4200];
  cJSON *o = read_json(dir, "config.json", path, sizeof path);
  if (!o) return cn_last_status();
  double s = 0, v = 0, lt = 0, ls = 0;
  int rc = get_number(o, "seed", path, &s);
  if (!rc) rc = get_number(o, "val_split", path, &v);
  if (!rc) rc = get_number(o, "limit_train", path, &lt);
  if (!rc) rc = get_number(o, "limit_test", path, &ls);
  cJSON_Delete(o);
  if (rc) return rc;
  *seed = (uint64_t)s;
  *val_split = v;
  *limit_train = (int)lt;
  *limit_test = (int)ls;
  return CN_OK;
}

int cn_run_read_precision(const char *dir, cn_precision *out) {
  char path[4200];
  cJSON *o = read_json(dir, "config.json", path, sizeof path);
  if (!o) return cn_last_status();
  int rc = CN_OK;
  *out = CN_PRECISION_FP32;
  cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "precision");
  if (v) {
    int p = cJSON_IsString(v) ? cn_precision_parse(v->valuestring) : -1;
    if (p < 0)
      rc = cn_fail(CN_EFORMAT, "%s: \"precision\" must be \"fp32\" or \"bf16\"", path);
    else
      *out = (cn_precision)p;
  }
  cJSON_Delete(o);
  return rc;
}

int cn_run_read_dataset(const char *dir, char *name, size_t name_size, char *data_dir, size_t dir_size) {
  char path[4200];
  cJSON *o = read_json(dir, "config.json", path, sizeof path);
  if (!o) return cn_last_status();
  int rc = get_string(o, "dataset", path, name, name_size);
  if (!rc) rc = get_string(o, "data_dir", path, data_dir, dir_size);
  cJSON_Delete(o);
  return rc;
}

int cn_run_read_model_name(const char *dir, char *name, size_t size) {
  char path[4200];
  cJSON *o = read_json(dir, "config.json", path, sizeof path);
  if (!o) return cn_last_status();
  int rc = get_string(o, "model", path, name, size);
  cJSON_Delete(o);
  return rc;
}

int cn_run_write_history(const char *dir, const cn_history_row *rows, int n) {
  size_t cap = 128 + (size_t)n * 160;
  char *buf = malloc(cap);
  if (!buf) return cn_fail(CN_ENOMEM, "%s/history.csv: out of memory", dir);
  size_t len = (size_t)snprintf(buf, cap, "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n");
  for (int i = 0; i < n; i++) {
    const cn_history_row *r = &rows[i];
    len += (size_t)snprintf(buf + len, cap - len, "%d,%.8g,%.8g,%.8g,%.8g,%.8g,%.3f\n", r->epoch, r->loss,
                            r->accuracy, r->val_loss, r->val_accuracy, r->lr, r->seconds);
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/history.csv", dir);
  int rc = cn_write_file_atomic(path, buf, len);
  free(buf);
  return rc;
}

int cn_run_read_history(const char *dir, cn_history_row *rows, int max, int *n) {
  char path[4200];
  snprintf(path, sizeof path, "%s/history.csv", dir);
  char *text;
  int rc = cn_read_file(path, 16u << 20, &text, NULL);
  if (rc) return rc;
  *n = 0;
  char *line = strchr(text, '\n');
  if (strncmp(text, "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds", 52) != 0 || !line) {
    free(text);
    return cn_fail(CN_EFORMAT, "%s: missing the header line", path);
  }
  int lineno = 1;
  for (line++; *line && *n < max; lineno++) {
    cn_history_row r;
    int used = 0;
    if (sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%lf%n", &r.epoch, &r.loss, &r.accuracy, &r.val_loss, &r.val_accuracy,
               &r.lr, &r.seconds, &used) != 7 || r.epoch != *n + 1) {
      free(text);
      return cn_fail(CN_EFORMAT, "%s:%d: malformed history row", path, lineno + 1);
    }
    rows[(*n)++] = r;
    line += used;
    while (*line == '\r' || *line == '\n') line++;
  }
  free(text);
  return CN_OK;
}

int cn_run_write_metrics(const char *dir, const cn_fit_result *r, const char *model, const char *dataset,
                         size_t total_params, uint64_t seed, const cn_confusion *cm) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "model", model);
  cJSON_AddStringToObject(o, "dataset", dataset);
  cJSON_AddStringToObject(o, "precision", cn_precision_name(r->precision));
  cJSON_AddNumberToObject(o, "train_loss", r->train_loss);
  cJSON_AddNumberToObject(o, "train_accuracy", r->train_accuracy);
  cJSON_AddNumberToObject(o, "val_loss", r->val_loss);
  cJSON_AddNumberToObject(o, "val_accuracy", r->val_accuracy);
  cJSON_AddNumberToObject(o, "test_loss", r->test_loss);
  cJSON_AddNumberToObject(o, "test_accuracy", r->test_accuracy);
  cJSON_AddNumberToObject(o, "test_accuracy_se", r->test_accuracy_se);
  cJSON_AddNumberToObject(o, "weight_number", (double)r->weight_number);
  cJSON_AddNumberToObject(o, "total_params", (double)total_params);
  cJSON_AddNumberToObject(o, "train_time", r->train_time);
  cJSON_AddNumberToObject(o, "epochs_run", r->epochs_run);
  cJSON_AddNumberToObject(o, "best_epoch", r->best_epoch);
  cJSON_AddNumberToObject(o, "seed", (double)seed);
  cJSON_AddNumberToObject(o, "classes", cm->classes);
  cJSON_AddNumberToObject(o, "test_n", (double)r->test_n);
  cn_confusion_add_json(o, cm, NULL);
  return write_json(dir, "metrics.json", o);
}

int cn_run_write_probs(const char *dir, const float *probs, int n, int classes, const uint8_t *labels) {
  size_t values = (size_t)n * (size_t)classes;
  size_t size = 16 + values * 4 + (size_t)n;
  unsigned char *buf = malloc(size);
  if (!buf) return cn_fail(CN_ENOMEM, "%s/test_probs.bin: out of memory", dir);
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
  char path[4200];
  snprintf(path, sizeof path, "%s/test_probs.bin", dir);
  int rc = cn_write_file_atomic(path, buf, size);
  free(buf);
  return rc;
}

int cn_run_read_summary(const char *dir, cn_run_summary *s) {
  char path[4200];
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  cJSON *o = read_json(dir, "metrics.json", path, sizeof path);
  if (!o) return cn_last_status();
  double se = 0, n = 0, w = 0, epochs = 0, best = 0;
  int rc = get_string(o, "model", path, s->model, sizeof s->model);
  if (!rc) rc = get_string(o, "dataset", path, s->dataset, sizeof s->dataset);
  if (!rc) rc = get_number(o, "train_loss", path, &s->train_loss);
  if (!rc) rc = get_number(o, "train_accuracy", path, &s->train_accuracy);
  if (!rc) rc = get_number(o, "val_loss", path, &s->val_loss);
  if (!rc) rc = get_number(o, "val_accuracy", path, &s->val_accuracy);
  if (!rc) rc = get_number(o, "test_loss", path, &s->test_loss);
  if (!rc) rc = get_number(o, "test_accuracy", path, &s->test_accuracy);
  if (!rc) rc = get_number(o, "test_accuracy_se", path, &se);
  if (!rc) rc = get_number(o, "test_n", path, &n);
  if (!rc) rc = get_number(o, "weight_number", path, &w);
  if (!rc) rc = get_number(o, "train_time", path, &s->train_time);
  if (!rc) rc = get_number(o, "epochs_run", path, &epochs);
  if (!rc) rc = get_number(o, "best_epoch", path, &best);
  cJSON *prec = cJSON_GetObjectItemCaseSensitive(o, "precision");
  int p = prec ? (cJSON_IsString(prec) ? cn_precision_parse(prec->valuestring) : -1) : CN_PRECISION_FP32;
  if (!rc && p < 0) rc = cn_fail(CN_EFORMAT, "%s: \"precision\" must be \"fp32\" or \"bf16\"", path);
  s->precision = p < 0 ? CN_PRECISION_FP32 : (cn_precision)p;
  cJSON_Delete(o);
  s->test_accuracy_se = se;
  s->test_n = (int64_t)n;
  s->weight_number = (size_t)w;
  s->epochs_run = (int)epochs;
  s->best_epoch = (int)best;
  return rc;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int cn_run_list(const char *root, char ***dirs, int *count) {
  *dirs = NULL;
  *count = 0;
  DIR *d = opendir(root);
  if (!d) return cn_fail(errno == ENOENT ? CN_ENOTFOUND : CN_EIO, "%s: cannot open: %s", root, strerror(errno));
  char **list = NULL;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/metrics.json", root, e->d_name);
    if (stat(path, &st) != 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **grown = realloc(list, sizeof *list * (size_t)cap);
      if (!grown) break;
      list = grown;
    }
    size_t len = strlen(root) + strlen(e->d_name) + 2;
    if (!(list[n] = malloc(len))) break;
    snprintf(list[n], len, "%s/%s", root, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(list, (size_t)n, sizeof *list, compare_names);
  *dirs = list;
  *count = n;
  return CN_OK;
}
