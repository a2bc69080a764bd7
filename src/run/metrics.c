/* metrics.json: the final evaluation of a run, read strictly by compare,
 * report and resume alike. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnist/ensemble.h"
#include "core/error.h"
#include "run/confusion_json.h"
#include "run/json.h"
#include "run/run.h"

/* null for a figure not measured (NaN in memory): the validation figures of
 * a run without validation, the training set's of a run that skipped it. */
int cn_run_write_metrics(const char *dir, const cn_fit_result *r, const char *model, const char *dataset,
                         size_t total_params, uint64_t seed, const cn_confusion *cm) {
  char path[CN_RUN_PATH_SIZE];
  int rc = cn_run_path(dir, CN_RUN_METRICS, path);
  if (rc) return rc;
  cJSON *o = cJSON_CreateObject();
  const cn_run_json_field fields[] = {
      {"model", model, 0}, {"dataset", dataset, 0}, {"precision", cn_precision_name(r->precision), 0},
      {"train_loss", NULL, r->train_loss}, {"train_accuracy", NULL, r->train_accuracy},
      {"val_loss", NULL, r->val_loss}, {"val_accuracy", NULL, r->val_accuracy}, {"test_loss", NULL, r->test_loss},
      {"test_accuracy", NULL, r->test_accuracy}, {"test_accuracy_se", NULL, r->test_accuracy_se},
      {"weight_number", NULL, (double)r->weight_number}, {"total_params", NULL, (double)total_params},
      {"train_time", NULL, r->train_time}, {"epochs_run", NULL, r->epochs_run}, {"best_epoch", NULL, r->best_epoch},
      {"seed", NULL, (double)seed}, {"classes", NULL, cm->classes}, {"test_n", NULL, (double)r->test_n}};
  cn_run_json_add(o, fields, sizeof fields / sizeof fields[0]);
  cn_confusion_add_json(o, cm, NULL);
  return cn_run_json_write(path, o);
}

static int read_confusion(const cJSON *o, const char *path, cn_run_metrics *m) {
  int classes = m->classes;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "confusion_matrix");
  if (!a) return cn_fail(CN_EFORMAT, "%s: missing \"confusion_matrix\"", path);
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != classes)
    return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\" must be an array of %d rows", path, classes);
  cn_confusion_init(&m->confusion, classes);
  for (int t = 0; t < classes; t++) {
    const cJSON *row = cJSON_GetArrayItem(a, t);
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != classes)
      return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\" row %d must hold %d counts", path, t, classes);
    for (int p = 0; p < classes; p++) {
      const cJSON *v = cJSON_GetArrayItem(row, p);
      if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
          v->valuedouble > 1e12)
        return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\"[%d][%d] is not a count", path, t, p);
      m->confusion.counts[t * classes + p] = (int64_t)v->valuedouble;
      m->confusion.n += (int64_t)v->valuedouble;
    }
  }
  if (m->confusion.n != m->summary.test_n)
    return cn_fail(CN_EFORMAT, "%s: \"confusion_matrix\" counts %lld images but \"test_n\" is %lld", path,
                   (long long)m->confusion.n, (long long)m->summary.test_n);
  return CN_OK;
}

static int read_per_class(const cJSON *o, const char *path, cn_run_metrics *m) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "per_class");
  if (!a) return cn_fail(CN_EFORMAT, "%s: missing \"per_class\"", path);
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != m->classes)
    return cn_fail(CN_EFORMAT, "%s: \"per_class\" must be an array of %d objects", path, m->classes);
  for (int k = 0; k < m->classes; k++) {
    const cJSON *c = cJSON_GetArrayItem(a, k);
    char where[CN_RUN_PATH_SIZE + 32];
    snprintf(where, sizeof where, "%s: per_class[%d]", path, k);
    if (!cJSON_IsObject(c)) return cn_fail(CN_EFORMAT, "%s: not an object", where);
    double cls, support;
    cn_class_metrics *pc = &m->per_class[k];
    int rc = cn_run_json_int(c, "class", where, k, k, &cls);
    if (!rc) rc = cn_run_json_fraction(c, "precision", where, &pc->precision);
    if (!rc) rc = cn_run_json_fraction(c, "recall", where, &pc->recall);
    if (!rc) rc = cn_run_json_fraction(c, "f1", where, &pc->f1);
    if (!rc) rc = cn_run_json_int(c, "support", where, 0, (double)m->summary.test_n, &support);
    if (rc) return rc;
    pc->support = (int64_t)support;
  }
  return CN_OK;
}

/* Whether PREFIX_loss and PREFIX_accuracy are both null (*none = 1); one
 * null without the other is refused. */
static int null_pair(const cJSON *o, const char *path, const char *prefix, const char *meaning, int *none) {
  char loss[32], accuracy[32];
  snprintf(loss, sizeof loss, "%s_loss", prefix);
  snprintf(accuracy, sizeof accuracy, "%s_accuracy", prefix);
  int l = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, loss));
  int a = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, accuracy));
  *none = l && a;
  if (l != a)
    return cn_fail(CN_EFORMAT, "%s: \"%s\" and \"%s\" are null together (%s) or numbers together", path, loss,
                   accuracy, meaning);
  return CN_OK;
}

int cn_run_read_metrics(const char *dir, cn_run_metrics *m) {
  memset(m, 0, sizeof *m);
  cn_run_summary *s = &m->summary;
  char path[CN_RUN_PATH_SIZE];
  cJSON *o = NULL;
  int rc = cn_run_path(dir, CN_RUN_METRICS, path);
  if (!rc && strlen(dir) >= sizeof s->dir) rc = cn_fail(CN_EINVAL, "%s: path too long", dir);
  if (!rc) rc = cn_run_json_read(path, &o);
  if (rc) return rc;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  rc = cn_run_json_string(o, "model", path, s->model, sizeof s->model);
  if (!rc) rc = cn_run_json_string(o, "dataset", path, s->dataset, sizeof s->dataset);
  double weights = 0, epochs = 0, best = 0, classes = 0, test_n = 0;
  /* A run without validation (val_split 0) writes null for both val
   * figures, one that skipped the training set (skip_train_eval) for both
   * train figures. */
  int no_val = 0, no_train = 0;
  if (!rc) rc = null_pair(o, path, "val", "a run without validation", &no_val);
  if (!rc) rc = null_pair(o, path, "train", "a run whose training set was not evaluated", &no_train);
  if (no_val) s->val_loss = s->val_accuracy = NAN;
  if (no_train) s->train_loss = s->train_accuracy = NAN;
  struct {
    const char *key;
    double *value;
    int fraction;
  } numbers[] = {
      {"train_loss", &s->train_loss, 0},   {"train_accuracy", &s->train_accuracy, 1},
      {"val_loss", &s->val_loss, 0},       {"val_accuracy", &s->val_accuracy, 1},
      {"test_loss", &s->test_loss, 0},     {"test_accuracy", &s->test_accuracy, 1},
      {"test_accuracy_se", &s->test_accuracy_se, 1}, {"total_params", &m->total_params, 0},
      {"train_time", &s->train_time, 0},
  };
  for (size_t i = 0; !rc && i < sizeof numbers / sizeof numbers[0]; i++) {
    if (no_val && (numbers[i].value == &s->val_loss || numbers[i].value == &s->val_accuracy)) continue;
    if (no_train && (numbers[i].value == &s->train_loss || numbers[i].value == &s->train_accuracy)) continue;
    rc = numbers[i].fraction ? cn_run_json_fraction(o, numbers[i].key, path, numbers[i].value)
                             : cn_run_json_number(o, numbers[i].key, path, numbers[i].value);
    if (!rc && *numbers[i].value < 0)
      rc = cn_fail(CN_EFORMAT, "%s: \"%s\" is negative (%g)", path, numbers[i].key, *numbers[i].value);
  }
  if (!rc) rc = cn_run_json_int(o, "weight_number", path, 0, 1e15, &weights);
  if (!rc) rc = cn_run_json_precision(o, path, &s->precision);
  if (!rc) rc = cn_run_json_int(o, "epochs_run", path, 1, 1e6, &epochs);
  if (!rc) rc = cn_run_json_int(o, "best_epoch", path, 0, epochs, &best);
  if (!rc) rc = cn_run_json_int(o, "classes", path, 2, CN_MAX_CLASSES, &classes);
  if (!rc) rc = cn_run_json_int(o, "test_n", path, 1, 1e8, &test_n);
  s->weight_number = (size_t)weights;
  s->epochs_run = (int)epochs;
  s->best_epoch = (int)best;
  s->test_n = (int64_t)test_n;
  m->classes = (int)classes;
  if (!rc) rc = read_confusion(o, path, m);
  if (!rc) rc = read_per_class(o, path, m);
  cJSON_Delete(o);
  return rc;
}

int cn_run_read_summary(const char *dir, cn_run_summary *out) {
  char path[CN_RUN_PATH_SIZE];
  struct stat st;
  /* an ensemble's folder (cnist ensemble) has its own record and no metrics.json */
  if (cn_ensemble_is_folder(dir) && cn_run_path(dir, CN_RUN_METRICS, path) == CN_OK && stat(path, &st) != 0) {
    cn_ensemble_record r;
    int rc = cn_ensemble_read(dir, &r);
    *out = r.summary;
    if (rc) snprintf(out->dir, sizeof out->dir, "%s", dir);
    cn_ensemble_record_free(&r);
    return rc;
  }
  cn_run_metrics *m = malloc(sizeof *m); /* 50 KiB: off the caller's stack */
  if (!m) return cn_fail(CN_ENOMEM, "%s: out of memory", dir);
  int rc = cn_run_read_metrics(dir, m);
  *out = m->summary;
  free(m);
  if (rc) snprintf(out->dir, sizeof out->dir, "%s", dir);
  return rc;
}
