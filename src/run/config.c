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
  const cn_run_json_field fields[] = {
      {"model", c->model, 0}, {"dataset", c->dataset, 0}, {"data_dir", c->data_dir, 0},
      {"seed", NULL, (double)c->seed}, {"val_split", NULL, c->val_split}, {"n_train", NULL, c->n_train},
      {"n_val", NULL, c->n_val}, {"limit_train", NULL, c->limit_train}, {"limit_test", NULL, c->limit_test},
      {"threads", NULL, c->threads},
      {"processes", NULL, c->processes > 1 ? c->processes : 1}, {"precision", cn_precision_name(c->precision), 0}, {"batch", NULL, c->batch},
      {"epochs", NULL, c->epochs}, {"optimizer", c->optimizer, 0}, {"lr", NULL, c->lr}, {"loss", c->loss, 0},
      {"cnist_version", CN_VERSION, 0}, {"started", started, 0}};
  cn_run_json_add(o, fields, sizeof fields / sizeof fields[0]);
  const cn_run_json_field data[] = {{"train_images", NULL, c->train_images}, {"train_hash", c->train_hash, 0},
                                    {"test_images", NULL, c->test_images}, {"test_hash", c->test_hash, 0}};
  if (c->train_hash[0]) cn_run_json_add(o, data, sizeof data / sizeof data[0]);
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

/* A content fingerprint: 16 lowercase hex digits. */
static int read_hash(const cJSON *o, const char *key, const char *path, char out[17]) {
  int rc = cn_run_json_string(o, key, path, out, 17);
  if (!rc && (strlen(out) != 16 || strspn(out, "0123456789abcdef") != 16))
    rc = cn_fail(CN_EFORMAT, "%s: \"%s\" is \"%s\"; 16 hex digits expected", path, key, out);
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
  if (!rc) rc = cn_run_json_precision(o, path, &c->precision);
  if (!rc && cJSON_GetObjectItemCaseSensitive(o, "train_hash")) {
    double train_images = 0, test_images = 0;
    rc = read_hash(o, "train_hash", path, c->train_hash);
    if (!rc) rc = read_hash(o, "test_hash", path, c->test_hash);
    if (!rc) rc = cn_run_json_int(o, "train_images", path, 1, 1 << 30, &train_images);
    if (!rc) rc = cn_run_json_int(o, "test_images", path, 1, 1 << 30, &test_images);
    c->train_images = (int)train_images;
    c->test_images = (int)test_images;
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

/* One set against the run's record of it; "" when they agree. */
static void compare_set(const char *what, const cn_imageset *set, int images, const char *hash, char *out,
                        size_t size) {
  char now[17];
  cn_imageset_fingerprint(set, now);
  if (set->n == images && strcmp(now, hash) == 0) return;
  snprintf(out, size, "its %s set was %d images with content %s, %s holds %d images with content %s", what, images,
           hash, set->images_path[0] ? set->images_path : "the given one", set->n, now);
}

int cn_run_check_data(const char *dir, const cn_dataset *ds, int train, int test) {
  cn_run_config c;
  int rc = cn_run_read_config(dir, &c);
  if (rc || !c.train_hash[0]) return rc;
  char differs[2][8400] = {"", ""};
  if (train) compare_set("train", &ds->train, c.train_images, c.train_hash, differs[0], sizeof differs[0]);
  if (test) compare_set("test", &ds->test, c.test_images, c.test_hash, differs[1], sizeof differs[1]);
  if (!differs[0][0] && !differs[1][0]) return CN_OK;
  return cn_fail(CN_EINVAL, "%s was trained on %s from %s, not on the data in %s: %s%s%s", dir, c.dataset, c.data_dir,
                 ds->dir, differs[0], differs[0][0] && differs[1][0] ? "; " : "", differs[1]);
}
