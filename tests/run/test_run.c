/* src/run: the history writer sizes every row (seconds=1e300), the strict
 * readers name the file and line, the lock refuses a second holder by pid,
 * and a folder of someone else's files is refused. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnist.h"
#include "core/file.h"
#include "run/run.h"
#include "test.h"

#define TMP CN_TEST_TMP

static int put(const char *name, const char *text) {
  char path[CN_RUN_PATH_SIZE];
  snprintf(path, sizeof path, TMP "/%s", name);
  return cn_write_file_atomic(path, text, strlen(text));
}

static void test_history(void) {
  cn_history_row rows[3];
  int n = 0;
  CHECK(put("history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n"
                           "1,0.5,0.8,0.4,0.85,0.001,1e300\n2,0.3,0.9,0.3,0.9,0.001,2.5\n") == 0);
  CHECK(cn_run_read_history(TMP, rows, 3, &n) == CN_OK && n == 2 && rows[0].seconds == 1e300);
  CHECK(cn_run_write_history(TMP, rows, n) == CN_OK);
  cn_history_row back[3];
  int m = 0;
  CHECK(cn_run_read_history(TMP, back, 3, &m) == CN_OK && m == 2 && back[0].seconds == 1e300 && back[1].epoch == 2);
  CHECK_ERROR(cn_run_read_history(TMP, back, 1, &m), CN_EFORMAT, "history.csv:3: more than the 1 rows expected");

  CHECK(put("history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,0.5,0.8,0.4,0.85,0.001,inf\n") == 0);
  CHECK_ERROR(cn_run_read_history(TMP, rows, 3, &n), CN_EFORMAT, "history.csv:2: column 7 (seconds) is not a number");
  CHECK(put("history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,0.5,1.8,0.4,0.85,0.001,1\n") == 0);
  CHECK_ERROR(cn_run_read_history(TMP, rows, 3, &n), CN_EFORMAT, "history.csv:2: accuracy is 1.8");
  CHECK(put("history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,-0.5,0.8,0.4,0.85,0.001,1\n") == 0);
  CHECK_ERROR(cn_run_read_history(TMP, rows, 3, &n), CN_EFORMAT, "history.csv:2: loss is negative");
  CHECK(put("history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1.5,0.5,0.8,0.4,0.85,0.001,1\n") == 0);
  CHECK_ERROR(cn_run_read_history(TMP, rows, 3, &n), CN_EFORMAT, "history.csv:2: epoch is 1.5; 1 expected");
  /* a cosine schedule's last epoch runs at lr 0; a negative rate is refused */
  CHECK(put("history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,0.5,0.8,0.4,0.85,0,1\n") == 0);
  CHECK(cn_run_read_history(TMP, rows, 3, &n) == CN_OK && n == 1 && rows[0].lr == 0);
  CHECK(put("history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,0.5,0.8,0.4,0.85,-0.001,1\n") == 0);
  CHECK_ERROR(cn_run_read_history(TMP, rows, 3, &n), CN_EFORMAT, "history.csv:2: lr is negative");
}

static void test_lock(void) {
  cn_run_lock *first = NULL, *second = NULL;
  CHECK(cn_run_lock_take(TMP, &first) == CN_OK && first);
  char holder[64];
  snprintf(holder, sizeof holder, "another cnist (pid %ld)", (long)getpid());
  CHECK_ERROR(cn_run_lock_take(TMP, &second), CN_EINVAL, holder);
  CHECK(second == NULL);
  cn_run_lock_release(first);
  CHECK(cn_run_lock_take(TMP, &second) == CN_OK);
  cn_run_lock_release(second);
}

static void test_foreign(void) {
  const char *dir = TMP "/foreign";
  mkdir(dir, 0777);
  CHECK(put("foreign/metrics.json", "{}\n") == 0);
  cn_run_lock *lock = NULL;
  CHECK(cn_run_lock_take(dir, &lock) == CN_OK);
  CHECK_ERROR(cn_run_check_new(dir, lock), CN_EINVAL, "holds a metrics.json that cnist did not write");
  cn_run_lock_release(lock);
  struct stat st;
  CHECK(stat(TMP "/foreign/" CN_RUN_LOCK, &st) != 0);
}

/* compare reads metrics.json with the report's checks: inf and negative
 * accuracies are refused there too. */
static void test_summary_strict(void) {
  const char *dir = TMP "/metrics";
  mkdir(dir, 0777);
  CHECK(put("metrics/metrics.json", "{\"model\": \"mlp\", \"dataset\": \"mnist\", \"train_loss\": 0.1, "
                                    "\"train_accuracy\": -0.5}\n") == 0);
  cn_run_summary s;
  CHECK_ERROR(cn_run_read_summary(dir, &s), CN_EFORMAT, "metrics.json: \"train_accuracy\" is -0.5; a fraction");
  CHECK(put("metrics/metrics.json", "{\"model\": \"mlp\", \"dataset\": \"mnist\", \"train_loss\": 1e999}\n") == 0);
  CHECK_ERROR(cn_run_read_summary(dir, &s), CN_EFORMAT, "metrics.json: \"train_loss\" is not a finite number");
}

/* eval --json's object: the evaluation's numbers, then the confusion
 * matrix and per-class metrics in metrics.json's shape, classes named. */
static void test_eval_json(void) {
  cn_eval_result r = {.loss = 0.5, .n = 4};
  cn_confusion_init(&r.confusion, 2);
  cn_confusion_add(&r.confusion, 0, 0);
  cn_confusion_add(&r.confusion, 0, 1);
  cn_confusion_add(&r.confusion, 1, 1);
  cn_confusion_add(&r.confusion, 1, 1);
  r.accuracy = 0.75;
  const char *names[] = {"zero", "one"};
  char *text = cn_eval_result_json(&r, "mnist", "val", CN_PRECISION_BF16, 3, names);
  cJSON *o = text ? cJSON_Parse(text) : NULL;
  CHECK(o != NULL);
  if (!o) {
    free(text);
    return;
  }
  CHECK(strcmp(cJSON_GetObjectItem(o, "dataset")->valuestring, "mnist") == 0);
  CHECK(strcmp(cJSON_GetObjectItem(o, "split")->valuestring, "val") == 0);
  CHECK(strcmp(cJSON_GetObjectItem(o, "precision")->valuestring, "bf16") == 0);
  CHECK(cJSON_GetObjectItem(o, "n")->valuedouble == 4 && cJSON_GetObjectItem(o, "tta_views")->valuedouble == 3);
  CHECK_NEAR(cJSON_GetObjectItem(o, "accuracy_se")->valuedouble, sqrt(0.75 * 0.25 / 4), 1e-12);
  cJSON *m = cJSON_GetObjectItem(o, "confusion_matrix");
  CHECK(cJSON_GetArraySize(m) == 2 && cJSON_GetArrayItem(cJSON_GetArrayItem(m, 0), 1)->valuedouble == 1 &&
        cJSON_GetArrayItem(cJSON_GetArrayItem(m, 1), 1)->valuedouble == 2);
  cJSON *one = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "per_class"), 1);
  CHECK(one && strcmp(cJSON_GetObjectItem(one, "name")->valuestring, "one") == 0);
  CHECK_NEAR(cJSON_GetObjectItem(one, "precision")->valuedouble, 2.0 / 3, 1e-12);
  CHECK(cJSON_GetObjectItem(one, "recall")->valuedouble == 1 && cJSON_GetObjectItem(one, "support")->valuedouble == 2);
  cJSON_Delete(o);
  free(text);
}

/* The folders of `train --seeds`: named once, and told apart from others. */
static void test_seed_folders(void) {
  char dir[64], stem[64];
  CHECK(cn_run_seed_dir("runs/x", 12, dir, sizeof dir) == 0 && strcmp(dir, "runs/x-seed12") == 0);
  CHECK_ERROR(cn_run_seed_dir("runs/a-long-name", 1, dir, 10), CN_EINVAL, "too long");
  CHECK(cn_run_seed_stem("runs/x-seed12", stem, sizeof stem) == 1 && strcmp(stem, "runs/x") == 0);
  CHECK(cn_run_seed_stem("runs/x-seed3/", stem, sizeof stem) == 1 && strcmp(stem, "runs/x") == 0);
  CHECK(cn_run_seed_stem("runs/x-seed", stem, sizeof stem) == 0);
  CHECK(cn_run_seed_stem("runs/x-seed2b", stem, sizeof stem) == 0);
  CHECK(cn_run_seed_stem("runs/x-7", stem, sizeof stem) == 0);
  CHECK(cn_run_seed_stem("-seed1", stem, sizeof stem) == 0); /* no base */
  CHECK(cn_run_seed_stem("runs/x-seed1", stem, 4) == 0);     /* the base does not fit */
}

int main(void) {
  if (system("rm -rf '" TMP "' && mkdir -p '" TMP "'") != 0) return 1;
  test_history();
  test_lock();
  test_foreign();
  test_summary_strict();
  test_eval_json();
  test_seed_folders();
  return test_summary();
}
