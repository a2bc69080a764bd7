/* The run folder as src/run owns it, fed the inputs of issue 17: two trains
 * on one folder, a folder of the user's own files, a hand-edited history
 * with seconds=1e300, --resume with --epochs, with options it cannot take,
 * after config.json or model.model was edited, in a read-only folder, and
 * of a finished run; compare with a broken run and a comma in a path. */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cnist.h"
#include "core/file.h"
#include "cli/cli_run.h"

#define TMP CN_TEST_TMP
#define QUICK "--data", CN_TEST_DATA_DIR "/mnist", "--limit-train", "600", "--limit-test", "100", "--threads", "1", \
              "--quiet"

static int run(const char *const *args) { return cli_run_args("", args); }

static char *slurp(const char *path) {
  char *text = NULL;
  return cn_read_file(path, 1 << 22, &text, NULL) == CN_OK ? text : NULL;
}

static int put(const char *path, const char *text) { return cn_write_file_atomic(path, text, strlen(text)); }

/* Rewrites the first `from` in path as `to`. */
static int edit(const char *path, const char *from, const char *to) {
  char *text = slurp(path), *at = text ? strstr(text, from) : NULL;
  if (!at) {
    free(text);
    return -1;
  }
  char *out = malloc(strlen(text) + strlen(to) + 1);
  memcpy(out, text, (size_t)(at - text));
  strcpy(out + (at - text), to);
  strcat(out, at + strlen(from));
  int rc = put(path, out);
  free(out);
  free(text);
  return rc;
}

static int count_lines(const char *text) {
  int n = 0;
  for (; text && *text; text++) n += *text == '\n';
  return n;
}

/* A one-epoch mlp run in TMP/name. */
static int train_one(const char *dir) {
  const char *args[] = {"train", "mlp", "--epochs", "1", "--run-dir", dir, QUICK, NULL};
  return run(args);
}

static void test_two_trains(void) {
  const char *dir = TMP "/shared";
  const char *first[] = {"train", "mlp", "--epochs", "30", "--run-dir", dir, "--data", CN_TEST_DATA_DIR "/mnist",
                         "--limit-train", "6000", "--limit-test", "100", "--threads", "1", "--quiet", NULL};
  pid_t pid = cli_spawn(first, TMP "/first.txt");
  CHECK(pid > 0);
  /* Wait until the first run holds the lock (its pid is in the lock file). */
  struct timespec pause = {0, 10 * 1000 * 1000};
  char *lock = NULL;
  for (int i = 0; i < 3000 && !(lock && *lock); i++) {
    free(lock);
    lock = slurp(TMP "/shared/.cnist.lock");
    if (!(lock && *lock)) nanosleep(&pause, NULL);
  }
  char holder[64];
  snprintf(holder, sizeof holder, "(pid %ld)", (long)pid);
  CHECK(lock && atol(lock) == (long)pid);
  free(lock);
  const char *second[] = {"train", "lenet", "--epochs", "1", "--run-dir", dir, QUICK, NULL};
  CHECK(run(second) == 1 && cli_output_has("another cnist") && cli_output_has(holder));
  CHECK(cli_interrupt(pid) == 130);
  char *config = slurp(TMP "/shared/config.json");
  CHECK(config && strstr(config, "\"model\":\t\"mlp\""));
  free(config);
  /* The folder now holds a run: a new one is refused, resuming it is not. */
  CHECK(run(second) == 1 && cli_output_has("already holds a run"));
}

static void test_foreign_files(void) {
  const char *dir = TMP "/mine";
  mkdir(dir, 0777);
  CHECK(put(TMP "/mine/config.json", "{\"my\": \"own settings\"}\n") == 0);
  CHECK(put(TMP "/mine/history.csv", "year,sales\n2024,3\n") == 0);
  CHECK(train_one(dir) == 1 && cli_output_has("holds a config.json that cnist did not write"));
  CHECK(train_one(dir) == 1 && cli_output_has("holds a config.json that cnist did not write")); /* and again */
  struct stat st;
  CHECK(stat(TMP "/mine/.cnist.lock", &st) != 0);
  char *config = slurp(TMP "/mine/config.json"), *history = slurp(TMP "/mine/history.csv");
  CHECK(config && !strcmp(config, "{\"my\": \"own settings\"}\n"));
  CHECK(history && !strcmp(history, "year,sales\n2024,3\n"));
  free(config);
  free(history);
}

/* A finished run: resuming says so and leaves metrics.json alone; --epochs
 * extends it, carrying a hand-edited seconds=1e300 through the history
 * writer; options a resumed run cannot take are refused by name. */
static void test_resume(void) {
  const char *dir = TMP "/run";
  CHECK(train_one(dir) == 0);
  char *metrics = slurp(TMP "/run/metrics.json");
  const char *again[] = {"train", "--resume", dir, "--quiet", NULL};
  CHECK(run(again) == 1 && cli_output_has("had finished (1 of 1 epochs") && cli_output_has("--epochs"));
  char *after = slurp(TMP "/run/metrics.json");
  CHECK(metrics && after && !strcmp(metrics, after));
  free(metrics);
  free(after);

  const char *refused[][6] = {{"--lr", "0.1"}, {"--dataset", "fashion"}, {"--batch", "64"}, {"--seed", "2"},
                              {"--run-dir", TMP "/elsewhere"}, {"--val-split", "0.2"}};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    const char *args[] = {"train", "--resume", dir, "--epochs", "2", refused[i][0], refused[i][1], NULL};
    char want[64];
    snprintf(want, sizeof want, "%s cannot change in a resumed run", refused[i][0]);
    CHECK(run(args) == 2 && cli_output_has(want));
  }

  char *history = slurp(TMP "/run/history.csv");
  char *seconds = history ? strrchr(history, ',') : NULL;
  CHECK(seconds != NULL);
  if (seconds) {
    strcpy(seconds, ",1e300\n");
    CHECK(put(TMP "/run/history.csv", history) == 0);
  }
  free(history);
  const char *fewer[] = {"train", "--resume", dir, "--epochs", "1", "--quiet", NULL};
  CHECK(run(fewer) == 1 && cli_output_has("had finished"));
  const char *extend[] = {"train", "--resume", dir, "--epochs", "2", "--threads", "1", "--quiet", NULL};
  CHECK(run(extend) == 0 && cli_output_has("2 epochs planned, 2 run"));
  history = slurp(TMP "/run/history.csv");
  CHECK(history && count_lines(history) == 3 && strstr(history, "\n2,"));
  char row[512];
  snprintf(row, sizeof row, ",%.3f\n", 1e300); /* every digit of it: the row is 300 characters longer */
  CHECK(history && strstr(history, row));
  free(history);
  char *model = slurp(TMP "/run/model.model"), *config = slurp(TMP "/run/config.json");
  CHECK(model && strstr(model, "epochs=2"));
  CHECK(config && strstr(config, "\"epochs\":\t2"));
  free(model);
  free(config);
  const char *back[] = {"train", "--resume", dir, "--epochs", "1", "--quiet", NULL};
  CHECK(run(back) == 1 && cli_output_has("has trained 2 epochs already; --epochs 1"));
}

/* config.json or model.model edited after the run started: the message
 * names the file that disagrees. */
static void test_edited_files(void) {
  const char *dir = TMP "/edited";
  CHECK(train_one(dir) == 0);
  const char *extend[] = {"train", "--resume", dir, "--epochs", "2", "--quiet", NULL};
  CHECK(edit(TMP "/edited/config.json", "\"seed\":\t1,", "\"seed\":\t5,") == 0);
  CHECK(run(extend) == 1 && cli_output_has("edited/config.json: seed is 5, but") && cli_output_has("last.safetensors was trained with seed 1"));
  CHECK(edit(TMP "/edited/config.json", "\"seed\":\t5,", "\"seed\":\t1,") == 0);
  CHECK(edit(TMP "/edited/config.json", "\"val_split\":\t0.15,", "\"val_split\":\t0.25,") == 0);
  CHECK(run(extend) == 1 && cli_output_has("edited/config.json: n_train"));
  CHECK(edit(TMP "/edited/config.json", "\"val_split\":\t0.25,", "\"val_split\":\t0.15,") == 0);
  CHECK(edit(TMP "/edited/model.model", "epochs=1", "epochs=3") == 0);
  CHECK(run(extend) == 1 && cli_output_has("edited/config.json: epochs is 1, but") && cli_output_has("model.model says epochs=3"));
  CHECK(edit(TMP "/edited/model.model", "epochs=3", "epochs=1") == 0);
  CHECK(edit(TMP "/edited/config.json", "\"seed\":\t1,", "\"seed\":\t1e400,") == 0);
  CHECK(run(extend) == 1 && cli_output_has("edited/config.json: \"seed\" is not a finite number"));
  CHECK(edit(TMP "/edited/config.json", "\"seed\":\t1e400,", "\"seed\":\t1,") == 0);
  CHECK(edit(TMP "/edited/config.json", "{", "{,") == 0);
  CHECK(run(extend) == 1 && cli_output_has("edited/config.json:1: malformed JSON"));
}

/* Resuming in a folder that cannot be written is refused before training
 * (root writes anywhere, so root runs cnist as nobody). */
static void test_read_only(void) {
  const char *dir = TMP "/readonly";
  const char *args[] = {"train", "mlp", "--epochs", "2", "--run-dir", dir, QUICK, NULL};
  CHECK(run(args) == 0);
  CHECK(unlink(TMP "/readonly/metrics.json") == 0); /* an unfinished run again */
  CHECK(chmod(dir, 0555) == 0);
  chmod(TMP, 0755);
  const char *prefix = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const char *resume[] = {"train", "--resume", dir, "--quiet", NULL};
  CHECK(cli_run_args(prefix, resume) == 1 && cli_output_has("readonly: the run folder cannot be written"));
  CHECK(!strstr(cli_output, "Test accuracy"));
  chmod(dir, 0755);
}

static void test_compare(void) {
  const char *comma = TMP "/a,b";
  CHECK(train_one(comma) == 0);
  mkdir(TMP "/broken", 0777);
  CHECK(put(TMP "/broken/metrics.json", "{\"model\": \"mlp\", \"test_accuracy\": -1}\n") == 0);
  const char *csv[] = {"compare", comma, TMP "/broken", "--csv", NULL};
  CHECK(run(csv) == 1 && cli_output_has("\"" TMP "/a,b\",mlp,mnist,") && cli_output_has("broken/metrics.json: missing \"dataset\"") &&
        cli_output_has("left out of the leaderboard"));
  const char *report[] = {"report", comma, TMP "/broken", "-o", TMP "/report.html", NULL};
  CHECK(run(report) == 1 && cli_output_has("broken/metrics.json: missing \"dataset\" (left out of the report)") &&
        cli_output_has(TMP "/report.html"));
  struct stat st;
  CHECK(stat(TMP "/report.html", &st) == 0 && st.st_size > 1000);
}

/* --data DIR without --dataset: the run is named by what DIR holds, not
 * recorded as MNIST. */
static void test_data_named_by_content(void) {
  const char *args[] = {"train", "mlp", "--epochs", "1", "--run-dir", TMP "/named", "--data",
                        CN_TEST_DATA_DIR "/fashion", "--limit-train", "600", "--limit-test", "100", "--quiet", NULL};
  CHECK(run(args) == 0 && cli_output_has("fashion test set"));
  char *config = slurp(TMP "/named/config.json");
  CHECK(config && strstr(config, "\"dataset\":\t\"fashion\""));
  free(config);
  /* its checkpoint names the dataset: eval of the bare file takes Fashion-MNIST, and says so of other data */
  const char *bare[] = {"eval", TMP "/named/best.safetensors", NULL};
  CHECK(cli_run_args("CNIST_DATA='" CN_TEST_DATA_DIR "' ", bare) == 0 && cli_output_has("fashion test: loss ") && !strstr(cli_output, "warning"));
  const char *other[] = {"eval", TMP "/named/best.safetensors", "--data", CN_TEST_DATA_DIR "/mnist", NULL};
  CHECK(run(other) == 0 && cli_output_has("best.safetensors was trained on fashion, and is evaluated on mnist") &&
        cli_output_has("mnist test: loss "));
}

/* The run records its data by content: resume on other data is refused,
 * eval on other data says so, naming the run's dataset and folder. */
static void test_other_data(void) {
  const char *dir = TMP "/data";
  CHECK(train_one(dir) == 0);
  char *config = slurp(TMP "/data/config.json");
  CHECK(config && strstr(config, "\"train_images\":\t60000") && strstr(config, "\"test_images\":\t10000") &&
        strstr(config, "\"train_hash\":\t\"1deec127f55a7c18\"") && strstr(config, "\"test_hash\":\t\"baee8c5725c8964b\""));
  free(config);
  const char *fashion = CN_TEST_DATA_DIR "/fashion";
  const char *resume[] = {"train", "--resume", dir, "--epochs", "2", "--data", fashion, "--quiet", NULL};
  CHECK(run(resume) == 1 && cli_output_has("data was trained on mnist from ") && cli_output_has("not on the data in ") &&
        cli_output_has("its train set was 60000 images with content 1deec127f55a7c18, ") &&
        cli_output_has("fashion/train-images-idx3-ubyte") && cli_output_has("; its test set was 10000 images"));
  const char *eval_other[] = {"eval", dir, "--data", fashion, NULL};
  CHECK(run(eval_other) == 0 && cli_output_has("cnist: warning: ") && cli_output_has("its test set was 10000 images") &&
        !strstr(cli_output, "its train set"));
  const char *eval_val[] = {"eval", dir, "--split", "val", "--data", fashion, NULL};
  CHECK(run(eval_val) == 0 && cli_output_has("its train set was 60000 images") && !strstr(cli_output, "its test set"));
  const char *eval_same[] = {"eval", dir, NULL};
  CHECK(run(eval_same) == 0 && !strstr(cli_output, "warning"));
  CHECK(edit(TMP "/data/config.json", "\"test_hash\":\t\"baee8c5725c8964b\"", "\"test_hash\":\t\"baee8c\"") == 0);
  CHECK(run(eval_same) == 1 && cli_output_has("data/config.json: \"test_hash\" is \"baee8c\"; 16 hex digits expected"));
}

int main(void) {
  if (system("rm -rf '" TMP "' && mkdir -p '" TMP "'") != 0) return 1;
  test_two_trains();
  test_foreign_files();
  test_resume();
  test_edited_files();
  test_read_only();
  test_compare();
  test_other_data();
  test_data_named_by_content();
  return test_summary();
}
