/* config.json: every setting of a run, written once when it starts (and
 * again when a resume extends its epochs), read strictly. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "run/json.h"
#include "run/run.h"

int cn_run_write_config(const char *dir, const cn_run_config *c) {
  char path[CN_RUN_PATH_SIZE];
  int rc = cn_run_path(dir, CN_RUN_CONFIG, path);
  if (rc) return rc;
  cJSON *o = cJSON_CreateObject();
  char started[32];
  time_t now = time(NULL);
  strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  cJSON_AddStringToObject(o, "model", c->model);
  cJSON_AddStringToObject(o, "dataset", c->dataset);
  cJSON_AddStringToObject(o, "data_dir", c->data_dir);
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
  return cn_run_json_write(path, o);
}

int cn_run_read_dataset(const char *dir, char *name, size_t name_size, char *data_dir, size_t dir_size) {
  char path[CN_RUN_PATH_SIZE];
  cJSON *o = NULL;
  int rc = cn_run_path(dir, CN_RUN_CONFIG, path);
  if (!rc) rc = cn_run_json_read(path, &o);
  if (!rc) rc = cn_run_json_string(o, "dataset", path, name, name_size);
  if (!rc) rc = cn_run_json_string(o, "data_dir", path, data_dir, dir_size);
  cJSON_Delete(o);
  return rc;
}

int cn_run_read_config(const char *dir, cn_run_config *c) {
  memset(c, 0, sizeof *c);
  char path[CN_RUN_PATH_SIZE];
  cJSON *o = NULL;
  int rc = cn_run_path(dir, CN_RUN_CONFIG, path);
  if (!rc) rc = cn_run_json_read(path, &o);
  if (rc) return rc;
  double seed = 0, n_train = 0, n_val = 0, threads = 0, batch = 0, epochs = 0, limit_train = 0, limit_test = 0;
  rc = cn_run_json_string(o, "model", path, c->model, sizeof c->model);
  if (!rc) rc = cn_run_json_string(o, "dataset", path, c->dataset, sizeof c->dataset);
  if (!rc) rc = cn_run_json_string(o, "data_dir", path, c->data_dir, sizeof c->data_dir);
  if (!rc) rc = cn_run_json_string(o, "optimizer", path, c->optimizer, sizeof c->optimizer);
  if (!rc) rc = cn_run_json_string(o, "loss", path, c->loss, sizeof c->loss);
  if (!rc) rc = cn_run_json_int(o, "seed", path, 0, 9007199254740992.0, &seed);
  if (!rc) rc = cn_run_json_fraction(o, "val_split", path, &c->val_split);
  if (!rc && !(c->val_split >= 0 && c->val_split < 1))
    rc = cn_fail(CN_EFORMAT, "%s: \"val_split\" is %g; a fraction from 0 (no validation) to below 1 expected", path,
                 c->val_split);
  if (!rc) rc = cn_run_json_number(o, "lr", path, &c->lr);
  if (!rc && !(c->lr > 0)) rc = cn_fail(CN_EFORMAT, "%s: \"lr\" is %g; a positive rate expected", path, c->lr);
  if (!rc) rc = cn_run_json_int(o, "n_train", path, 1, 1 << 30, &n_train);
  if (!rc) rc = cn_run_json_int(o, "n_val", path, c->val_split > 0, c->val_split > 0 ? 1 << 30 : 0, &n_val);
  if (!rc) rc = cn_run_json_int(o, "threads", path, 1, 1024, &threads);
  if (!rc) rc = cn_run_json_int(o, "batch", path, 1, 65536, &batch);
  if (!rc) rc = cn_run_json_int(o, "epochs", path, 1, 100000, &epochs);
  if (!rc) rc = cn_run_json_int(o, "limit_train", path, 0, 1 << 30, &limit_train);
  if (!rc) rc = cn_run_json_int(o, "limit_test", path, 0, 1 << 30, &limit_test);
  c->precision = CN_PRECISION_FP32;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "precision");
  if (!rc && v) {
    int p = cJSON_IsString(v) ? cn_precision_parse(v->valuestring) : -1;
    if (p < 0) rc = cn_fail(CN_EFORMAT, "%s: \"precision\" must be \"fp32\" or \"bf16\"", path);
    else c->precision = (cn_precision)p;
  }
  cJSON_Delete(o);
  c->seed = (uint64_t)seed;
  c->n_train = (int)n_train;
  c->n_val = (int)n_val;
  c->threads = (int)threads;
  c->batch = (int)batch;
  c->epochs = (int)epochs;
  c->limit_train = (int)limit_train;
  c->limit_test = (int)limit_test;
  return rc;
}

int cn_run_read_settings(const char *dir, uint64_t *seed, double *val_split, int *limit_train, int *limit_test) {
  cn_run_config c;
  int rc = cn_run_read_config(dir, &c);
  if (rc) return rc;
  *seed = c.seed;
  *val_split = c.val_split;
  *limit_train = c.limit_train;
  *limit_test = c.limit_test;
  return CN_OK;
}
