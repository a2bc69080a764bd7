/* ensemble.json: an ensemble's result (cnist ensemble), written once under
 * the folder's lock and read back strictly by compare and report. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnist/core.h"
#include "cnist/ensemble.h"
#include "core/error.h"
#include "run/json.h"
#include "run/run.h"

#define MAX_MEMBERS 1024

/* The cross-entropy of the mean probabilities, as cn_evaluate's loss. */
static double mean_log_loss(const cn_ensemble *e) {
  double sum = 0;
  for (int i = 0; i < e->n; i++) {
    double p = e->probs[(size_t)i * e->classes + e->labels[i]];
    sum -= log(p > FLT_MIN ? p : FLT_MIN);
  }
  return sum / e->n;
}

static cJSON *record_json(const cn_ensemble *e, const cn_run_summary *members, const char *dataset, int views) {
  double weights = 0, train_time = 0;
  for (int m = 0; m < e->members; m++) weights += (double)members[m].weight_number, train_time += members[m].train_time;
  cJSON *o = cJSON_CreateObject();
  const cn_run_json_field fields[] = {
      {"dataset", dataset, 0},         {"tta_views", NULL, views > 1 ? views : 1},
      {"n", NULL, e->n},               {"classes", NULL, e->classes},
      {"accuracy", NULL, e->accuracy}, {"accuracy_se", NULL, e->accuracy_se},
      {"test_loss", NULL, mean_log_loss(e)}, {"weight_number", NULL, weights},
      {"train_time", NULL, train_time}};
  cn_run_json_add(o, fields, sizeof fields / sizeof fields[0]);
  cJSON *list = cJSON_AddArrayToObject(o, "members");
  for (int m = 0; m < e->members; m++) {
    cJSON *r = cJSON_CreateObject();
    const cn_run_json_field member[] = {
        {"run", members[m].dir, 0}, {"model", members[m].model, 0}, {"accuracy", NULL, e->member_accuracy[m]}};
    cn_run_json_add(r, member, sizeof member / sizeof member[0]);
    cJSON_AddItemToArray(list, r);
  }
  cJSON *wrong = cJSON_AddArrayToObject(o, "wrong");
  for (int i = 0; i < e->n; i++) {
    if (e->predicted[i] == e->labels[i]) continue;
    cJSON *w = cJSON_CreateObject();
    const cn_run_json_field digit[] = {
        {"index", NULL, i},
        {"label", NULL, e->labels[i]},
        {"predicted", NULL, e->predicted[i]},
        {"probability", NULL, e->probs[(size_t)i * e->classes + e->predicted[i]]},
        {"members_wrong", NULL, e->member_wrong[i]}};
    cn_run_json_add(w, digit, sizeof digit / sizeof digit[0]);
    cJSON_AddItemToArray(wrong, w);
  }
  return o;
}

int cn_ensemble_save(const char *dir, const cn_ensemble *e, const cn_run_summary *members, const char *dataset,
                     int views) {
  if (!dir || !*dir) return cn_fail(CN_EINVAL, "ensemble: no folder to write to");
  if (e->members < 1 || e->members > MAX_MEMBERS)
    return cn_fail(CN_EINVAL, "%s: an ensemble of %d runs (1 to %d)", dir, e->members, MAX_MEMBERS);
  char path[CN_RUN_PATH_SIZE];
  int rc = cn_run_path(dir, CN_RUN_ENSEMBLE, path);
  if (!rc) rc = cn_mkdirs(dir);
  cn_run_lock *lock = NULL;
  if (!rc) rc = cn_run_lock_take(dir, &lock);
  if (!rc) rc = cn_run_check_ensemble(dir, lock);
  if (!rc) {
    cJSON *o = record_json(e, members, dataset, views);
    rc = o ? cn_run_json_write(path, o) : cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  cn_run_lock_release(lock);
  return rc;
}

void cn_ensemble_record_free(cn_ensemble_record *r) {
  free(r->member);
  free(r->wrong);
  memset(r, 0, sizeof *r);
}

static int read_members(const cJSON *o, const char *path, cn_ensemble_record *r) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "members");
  int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
  if (n < 1 || n > MAX_MEMBERS)
    return cn_fail(CN_EFORMAT, "%s: \"members\" must be an array of 1 to %d runs", path, MAX_MEMBERS);
  if (!(r->member = calloc((size_t)n, sizeof *r->member))) return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  r->members = n;
  for (int m = 0; m < n; m++) {
    const cJSON *item = cJSON_GetArrayItem(a, m);
    char where[CN_RUN_PATH_SIZE + 32];
    snprintf(where, sizeof where, "%s: members[%d]", path, m);
    if (!cJSON_IsObject(item)) return cn_fail(CN_EFORMAT, "%s: not an object", where);
    cn_run_summary *s = &r->member[m];
    int rc = cn_run_json_string(item, "run", where, s->dir, sizeof s->dir);
    if (!rc) rc = cn_run_json_string(item, "model", where, s->model, sizeof s->model);
    if (!rc) rc = cn_run_json_fraction(item, "accuracy", where, &s->test_accuracy);
    if (rc) return rc;
    snprintf(s->dataset, sizeof s->dataset, "%s", r->summary.dataset);
    s->test_n = r->summary.test_n;
  }
  return CN_OK;
}

static int read_wrong(const cJSON *o, const char *path, cn_ensemble_record *r) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "wrong");
  if (!cJSON_IsArray(a)) return cn_fail(CN_EFORMAT, "%s: \"wrong\" must be an array", path);
  int n = cJSON_GetArraySize(a);
  /* the accuracy says how many are wrong: the list must hold exactly those */
  double expected = (1 - r->summary.test_accuracy) * (double)r->summary.test_n;
  if (fabs(n - expected) > 0.5)
    return cn_fail(CN_EFORMAT, "%s: \"wrong\" lists %d digits, but an accuracy of %g on %lld images means %.0f", path,
                   n, r->summary.test_accuracy, (long long)r->summary.test_n, expected);
  if (n && !(r->wrong = calloc((size_t)n, sizeof *r->wrong))) return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  r->n_wrong = n;
  for (int i = 0; i < n; i++) {
    const cJSON *item = cJSON_GetArrayItem(a, i);
    char where[CN_RUN_PATH_SIZE + 32];
    snprintf(where, sizeof where, "%s: wrong[%d]", path, i);
    if (!cJSON_IsObject(item)) return cn_fail(CN_EFORMAT, "%s: not an object", where);
    double index, label, predicted, members_wrong;
    cn_ensemble_wrong *w = &r->wrong[i];
    int rc = cn_run_json_int(item, "index", where, i ? r->wrong[i - 1].index + 1 : 0,
                             (double)r->summary.test_n - 1, &index);
    if (!rc) rc = cn_run_json_int(item, "label", where, 0, r->classes - 1, &label);
    if (!rc) rc = cn_run_json_int(item, "predicted", where, 0, r->classes - 1, &predicted);
    if (!rc) rc = cn_run_json_fraction(item, "probability", where, &w->probability);
    if (!rc) rc = cn_run_json_int(item, "members_wrong", where, 0, r->members, &members_wrong);
    if (!rc && label == predicted)
      rc = cn_fail(CN_EFORMAT, "%s: label and predicted are both %.0f: not a wrong digit", where, label);
    if (rc) return rc;
    w->index = (int)index, w->label = (int)label, w->predicted = (int)predicted, w->members_wrong = (int)members_wrong;
  }
  return CN_OK;
}

int cn_ensemble_read(const char *dir, cn_ensemble_record *r) {
  memset(r, 0, sizeof *r);
  cn_run_summary *s = &r->summary;
  char path[CN_RUN_PATH_SIZE];
  cJSON *o = NULL;
  int rc = cn_run_path(dir, CN_RUN_ENSEMBLE, path);
  if (!rc && strlen(dir) >= sizeof s->dir) rc = cn_fail(CN_EINVAL, "%s: path too long", dir);
  if (!rc) rc = cn_run_json_read(path, &o);
  if (rc) return rc;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  double views = 0, n = 0, classes = 0, weights = 0;
  rc = cn_run_json_string(o, "dataset", path, s->dataset, sizeof s->dataset);
  if (!rc) rc = cn_run_json_int(o, "tta_views", path, 1, CN_TTA_MAX_VIEWS, &views);
  if (!rc) rc = cn_run_json_int(o, "n", path, 1, 1e8, &n);
  if (!rc) rc = cn_run_json_int(o, "classes", path, 2, CN_MAX_CLASSES, &classes);
  if (!rc) rc = cn_run_json_fraction(o, "accuracy", path, &s->test_accuracy);
  if (!rc) rc = cn_run_json_fraction(o, "accuracy_se", path, &s->test_accuracy_se);
  if (!rc) rc = cn_run_json_number(o, "test_loss", path, &s->test_loss);
  if (!rc && s->test_loss < 0) rc = cn_fail(CN_EFORMAT, "%s: \"test_loss\" is negative (%g)", path, s->test_loss);
  if (!rc) rc = cn_run_json_int(o, "weight_number", path, 0, 1e15, &weights);
  if (!rc) rc = cn_run_json_number(o, "train_time", path, &s->train_time);
  if (!rc && s->train_time < 0) rc = cn_fail(CN_EFORMAT, "%s: \"train_time\" is negative (%g)", path, s->train_time);
  r->views = (int)views;
  r->classes = (int)classes;
  s->test_n = (int64_t)n;
  s->weight_number = (size_t)weights;
  s->train_loss = s->train_accuracy = s->val_loss = s->val_accuracy = NAN; /* the members' own, not the ensemble's */
  if (!rc) rc = read_members(o, path, r);
  if (!rc) snprintf(s->model, sizeof s->model, "ensemble%s", r->views > 1 ? " tta" : "");
  if (!rc) rc = read_wrong(o, path, r);
  cJSON_Delete(o);
  if (rc) cn_ensemble_record_free(r);
  return rc;
}
