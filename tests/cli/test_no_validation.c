/* val_split 0 (no validation split) through train, resume, eval, compare
 * and report, from the option and from the model file's train line; and
 * the run-folder readers' checks of the "no validation" marks. */
#include <stdlib.h>
#include <sys/stat.h>

#include "core/file.h"
#include "run/run.h"
#include "cli/cli_run.h"
#include "cnist.h"

#define DATA "--data", CN_TEST_DATA_DIR "/mnist"
#define RUN CN_TEST_TMP "/run"

static int run(const char *const *args) { return cli_run_args("", args); }

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* mlp with its reduce_lr and early_stop on val_* figures, 1,200 images. */
static void test_option(void) {
  const char *train[] = {"train", "mlp", DATA, "--val-split", "0", "--epochs", "2", "--limit-train", "1200",
                         "--limit-test", "500", "--threads", "1", "--run-dir", RUN, NULL};
  CHECK(run(train) == 0);
  /* Keras's way with a missing figure: the callbacks say so and do nothing. */
  CHECK(cli_output_has("reduce_lr monitors val_loss, which is not measured; it will not act"));
  CHECK(cli_output_has("early_stop monitors val_accuracy, which is not measured; it will not act"));
  CHECK(cli_output_has("best.safetensors keeps the last epoch's weights"));
  CHECK(cli_output_has("loss: ") && !strstr(cli_slurp(CN_TEST_TMP "/out.txt"), "val_loss: "));
  CHECK(cli_output_has("  val    none (val_split 0)") && cli_output_has("no validation split, 2 epochs planned"));
  CHECK(cli_output_has("Best epoch: 2 of 2 run"));
  CHECK(cli_file_has(RUN "/history.csv", "\n1,") && cli_file_has(RUN "/history.csv", ",,,0.001,"));
  CHECK(cli_file_has(RUN "/config.json", "\"val_split\":\t0,") && cli_file_has(RUN "/config.json", "\"n_train\":\t1200,") &&
        cli_file_has(RUN "/config.json", "\"n_val\":\t0,"));
  CHECK(cli_file_has(RUN "/metrics.json", "\"val_loss\":\tnull") && cli_file_has(RUN "/metrics.json", "\"val_accuracy\":\tnull"));
  CHECK(cli_file_has(RUN "/model.model", " val_split=0\n"));
  cn_run_summary s;
  CHECK(cn_run_read_summary(RUN, &s) == 0 && isnan(s.val_loss) && isnan(s.val_accuracy) && s.test_accuracy > 0.5);

  const char *eval_val[] = {"eval", RUN, "--split", "val", NULL};
  CHECK(run(eval_val) == 1 && cli_output_has("trained without a validation split (val_split 0): there is no "
                                         "validation set to evaluate; use --split train or test"));
  const char *eval_train[] = {"eval", RUN, "--split", "train", NULL};
  CHECK(run(eval_train) == 0 && cli_output_has("(n = 1200)"));

  const char *compare[] = {"compare", RUN, NULL};
  CHECK(run(compare) == 0 && cli_output_has("    none         none ") &&
        cli_output_has("val none: the run held out no validation images (val_split 0)"));
  const char *csv[] = {"compare", RUN, "--csv", NULL};
  CHECK(run(csv) == 0 && cli_output_has(",mlp,mnist,") && cli_output_has(",,"));
  const char *json[] = {"compare", RUN, "--json", NULL};
  CHECK(run(json) == 0 && cli_output_has("\"val_loss\":\tnull") && cli_output_has("\"val_accuracy\":\tnull"));
  const char *report[] = {"report", RUN, "-o", CN_TEST_TMP "/report.html", NULL};
  CHECK(run(report) == 0);
  CHECK(cli_file_has(CN_TEST_TMP "/report.html", "no validation split: the last epoch's weights were kept") &&
        cli_file_has(CN_TEST_TMP "/report.html", "<td><span class=\"se\">none</span></td>"));

  const char *resume[] = {"train", "--resume", RUN, "--epochs", "3", NULL};
  CHECK(run(resume) == 0 && cli_output_has("Best epoch: 3 of 3 run") && cli_output_has("no validation split, 3 epochs"));
  cn_history_row rows[4];
  int n = 0;
  CHECK(cn_run_read_history(RUN, rows, 4, &n) == 0 && n == 3 && isnan(rows[2].val_accuracy) && rows[2].loss > 0);
}

/* The model file's train line sets the split; --val-split overrides it and
 * model.model records what was applied. */
static void test_model_file(void) {
  const char *model = CN_TEST_TMP "/tiny.model";
  write_text(model, "# tiny\ninput 28x28x1\nflatten\ndense 10 activation=softmax\n"
                    "train optimizer=adam lr=0.001 batch=64 epochs=1 val_split=0\n");
  cn_spec spec;
  CHECK(cn_spec_load(model, &spec) == 0 && spec.train.val_split == 0);
  const char *train[] = {"train", model, DATA, "--limit-train", "600", "--limit-test", "200", "--run-dir",
                         CN_TEST_TMP "/file", NULL};
  CHECK(run(train) == 0 && cli_output_has("no validation split"));
  CHECK(cli_file_has(CN_TEST_TMP "/file/config.json", "\"n_val\":\t0,"));
  const char *other[] = {"train", model, DATA, "--val-split", "0.25", "--limit-train", "600", "--limit-test", "200",
                         "--run-dir", CN_TEST_TMP "/override", NULL};
  CHECK(run(other) == 0 && cli_output_has("split 75/25"));
  CHECK(cli_file_has(CN_TEST_TMP "/override/config.json", "\"n_val\":\t150,") &&
        cli_file_has(CN_TEST_TMP "/override/model.model", " val_split=0.25\n"));
  /* Without either, a zoo model's file stays as it was: no val_split written. */
  CHECK(cn_spec_load("lenet", &spec) == 0 && spec.train.val_split == -1);
  char *text = cn_spec_write(&spec);
  CHECK(text && !strstr(text, "val_split"));
  free(text);
}

static void test_parse_errors(void) {
  const char *model = CN_TEST_TMP "/bad.model";
  cn_spec spec;
  write_text(model, "input 28x28x1\nflatten\ndense 10\ntrain val_split=0.95\n");
  CHECK_ERROR(cn_spec_load(model, &spec), CN_EFORMAT, "val_split must be in [0, 0.9], not 0.95");
  write_text(model, "input 28x28x1\nflatten\ndense 10\ntrain val_split=-0.1\n");
  CHECK_ERROR(cn_spec_load(model, &spec), CN_EFORMAT, "val_split must be in [0, 0.9]");
  const char *bad[] = {"train", "mlp", "--val-split", "-0.1", NULL};
  CHECK(run(bad) == 2 && cli_output_has("--val-split"));
}

/* The readers take the marks only as a pair: both val cells empty, both null. */
static void test_readers(void) {
  const char *dir = CN_TEST_TMP "/marks";
  mkdir(dir, 0755);
  cn_history_row rows[2];
  int n;
  write_text(CN_TEST_TMP "/marks/history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n"
                                               "1,0.5,0.8,,0.9,0.001,1.0\n");
  CHECK_ERROR(cn_run_read_history(dir, rows, 2, &n), CN_EFORMAT,
              "history.csv:2: val_loss and val_accuracy are empty together");
  write_text(CN_TEST_TMP "/marks/history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n"
                                               "1,0.5,0.8,,,0.001,1.0\n");
  CHECK(cn_run_read_history(dir, rows, 2, &n) == 0 && n == 1 && isnan(rows[0].val_loss) && rows[0].lr == 0.001);

  /* A finished run's metrics.json with one of the two figures null. */
  const char *good = cli_slurp(RUN "/metrics.json");
  char *text = malloc(strlen(good) + 16);
  CHECK(text != NULL);
  if (!text) return;
  strcpy(text, good);
  char *at = strstr(text, "\"val_loss\":\tnull");
  CHECK(at != NULL);
  if (at) {
    memcpy(at + 12, "0.5", 3); /* "val_loss":\tnull -> "val_loss":\t0.5 */
    memmove(at + 15, at + 16, strlen(at + 16) + 1);
  }
  write_text(CN_TEST_TMP "/marks/metrics.json", text);
  free(text);
  cn_run_summary s;
  CHECK_ERROR(cn_run_read_summary(dir, &s), CN_EFORMAT, "are null together (a run without validation)");
  /* config.json: a split of 0 with validation images is an edited file. */
  text = strdup(cli_slurp(RUN "/config.json"));
  at = text ? strstr(text, "\"n_val\":\t0,") : NULL;
  CHECK(at != NULL);
  if (at) at[9] = '7';
  if (text) write_text(CN_TEST_TMP "/marks/config.json", text);
  free(text);
  uint64_t seed;
  double split;
  int lt, lte;
  CHECK_ERROR(cn_run_read_settings(dir, &seed, &split, &lt, &lte), CN_EFORMAT,
              "\"n_val\" is 7; a whole number from 0 to 0 expected");
}

int main(void) {
  if (system("rm -rf '" CN_TEST_TMP "' && mkdir -p '" CN_TEST_TMP "'") != 0) return 1;
  test_option();
  test_model_file();
  test_parse_errors();
  test_readers();
  return test_summary();
}
