/* The train/eval/compare/ensemble commands as a user runs them: SIGINT
 * leaves a resumable run, --resume finishes it, eval, compare and ensemble
 * read it, and bad arguments give clear errors. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cnist.h"
#include "engine/gemm.h"
#include "cli/cli_run.h"
#include "core/file.h"

#define DATA "--data", CN_TEST_DATA_DIR "/mnist"

static int run(const char *const *args) { return cli_run_args("", args); }

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void test_interrupt_and_resume(void) {
  const char *run_dir = CN_TEST_TMP "/run";
  const char *args[] = {"train", "mlp", DATA, "--epochs", "3", "--limit-train", "12000", "--threads", "1",
                        "--run-dir", run_dir, "--quiet", NULL};
  pid_t pid = cli_spawn(args, CN_TEST_TMP "/train.txt");
  CHECK(pid > 0);
  /* Wait for the first epoch to end (history gets a row), then interrupt. */
  struct timespec pause = {0, 20 * 1000 * 1000};
  char history[4200];
  snprintf(history, sizeof history, "%s/history.csv", run_dir);
  for (int i = 0; i < 3000; i++) {
    struct stat st;
    if (stat(history, &st) == 0 && st.st_size > 60) break;
    nanosleep(&pause, NULL);
  }
  nanosleep(&pause, NULL);
  CHECK(cli_interrupt(pid) == 130);
  CHECK(exists(CN_TEST_TMP "/run/last.safetensors"));
  CHECK(!exists(CN_TEST_TMP "/run/metrics.json"));
  cn_model *m;
  CHECK(cn_checkpoint_load_model(CN_TEST_TMP "/run/last.safetensors", &m) == 0);
  cn_model_free(m);

  const char *resume[] = {"train", "--resume", run_dir, "--quiet", NULL};
  CHECK(run(resume) == 0);
  CHECK(cli_output_has("Test accuracy:"));
  CHECK(exists(CN_TEST_TMP "/run/metrics.json") && exists(CN_TEST_TMP "/run/test_probs.bin"));

  const char *eval[] = {"eval", run_dir, "--json", NULL};
  CHECK(run(eval) == 0);
  CHECK(cli_output_has("\"confusion_matrix\"") && cli_output_has("\"per_class\"") && cli_output_has("\"n\":\t10000"));
  const char *eval_val[] = {"eval", run_dir, "--split", "val", NULL};
  CHECK(run(eval_val) == 0);
  CHECK(cli_output_has("mnist val: loss") && cli_output_has("(n = 1800)") && cli_output_has("most confused pairs"));
  const char *compare[] = {"compare", run_dir, "--csv", NULL};
  CHECK(run(compare) == 0);
  CHECK(cli_output_has("run,model,dataset,train_loss") && cli_output_has(",mlp,mnist,"));
}

static void test_bad_arguments(void) {
  const char *no_model[] = {"train", NULL};
  CHECK(run(no_model) == 2 && cli_output_has("which model?"));
  const char *bad_model[] = {"train", "no-such-model", DATA, NULL};
  CHECK(run(bad_model) == 1 && cli_output_has("no-such-model"));
  const char *bad_epochs[] = {"train", "mlp", "--epochs", "zero", NULL};
  CHECK(run(bad_epochs) == 2 && cli_output_has("--epochs wants a whole number"));
  const char *bad_opt[] = {"train", "mlp", "--optimizer", "adagrad", DATA, NULL};
  CHECK(run(bad_opt) == 2 && cli_output_has("adam, rmsprop or sgd"));
  const char *no_resume[] = {"train", "--resume", CN_TEST_TMP "/nothing-here", NULL};
  CHECK(run(no_resume) == 1 && cli_output_has("train: --resume: no run folder named '"
                                          CN_TEST_TMP "/nothing-here'") && !cli_output_has("config.json"));
  const char *eval_help[] = {"eval", "--help", NULL};
  CHECK(run(eval_help) == 0 && cli_output_has("[--batch N]") && cli_output_has("--batch N   images per forward pass"));
  const char *no_run[] = {"eval", CN_TEST_TMP "/nothing-here", NULL};
  CHECK(run(no_run) == 1 && cli_output_has("nothing-here"));
  const char *bad_split[] = {"eval", CN_TEST_TMP "/run", "--split", "dev", NULL};
  CHECK(run(bad_split) == 2 && cli_output_has("test, val or train"));
  const char *bad_tta[] = {"eval", CN_TEST_TMP "/run", "--tta", "10", NULL};
  CHECK(run(bad_tta) == 2 && cli_output_has("--tta wants a whole number from 1 to 9, not '10'"));
  const char *tta[] = {"eval", CN_TEST_TMP "/run", "--tta", "3", "--json", NULL};
  CHECK(run(tta) == 0 && cli_output_has("\"tta_views\":\t3"));
}

/* Rewrites `from` as `to` (its first occurrence) in a run's file. */
static int replace_in_file(const char *path, const char *from, const char *to) {
  char *text = NULL, *at;
  if (cn_read_file(path, 1 << 20, &text, NULL) || !(at = strstr(text, from))) {
    free(text);
    return -1;
  }
  size_t head = (size_t)(at - text), tail = strlen(at + strlen(from));
  char *out = malloc(head + strlen(to) + tail + 1);
  memcpy(out, text, head);
  strcpy(out + head, to);
  strcat(out, at + strlen(from));
  int rc = cn_write_file_atomic(path, out, strlen(out));
  free(out);
  free(text);
  return rc;
}

/* --precision bf16: the run says so and records it; eval takes the option;
 * a build without the kernel refuses it with the reason; a run folder whose
 * files name another precision is refused with the file named. */
static void test_bf16(void) {
  const char *run_dir = CN_TEST_TMP "/bf16";
  const char *train[] = {"train", "mlp", DATA, "--epochs", "1", "--limit-train", "3000", "--threads", "1",
                         "--precision", "bf16", "--run-dir", run_dir, "--quiet", NULL};
  if (!cn_gemm_bf16_available()) {
    CHECK(run(train) == 1 && cli_output_has("AVX512-BF16"));
    return;
  }
  CHECK(run(train) == 0);
  CHECK(cli_output_has("Test accuracy:") && cli_output_has("; bf16 multiplies)"));
  char *text = NULL;
  CHECK(cn_read_file(CN_TEST_TMP "/bf16/config.json", 1 << 20, &text, NULL) == 0);
  CHECK(text && strstr(text, "\"precision\":\t\"bf16\""));
  free(text);
  const char *resume[] = {"train", "--resume", run_dir, "--precision", "fp32", NULL};
  CHECK(run(resume) == 2 && cli_output_has("own precision"));
  const char *eval[] = {"eval", run_dir, "--precision", "bf16", NULL};
  CHECK(run(eval) == 0 && cli_output_has("(n = 10000; bf16 multiplies)"));
  const char *eval_json[] = {"eval", run_dir, "--json", NULL};
  CHECK(run(eval_json) == 0 && cli_output_has("\"precision\":\t\"fp32\""));
  const char *compare[] = {"compare", run_dir, NULL};
  CHECK(run(compare) == 0 && cli_output_has("mlp bf16"));
  const char *compare_csv[] = {"compare", run_dir, "--csv", NULL};
  CHECK(run(compare_csv) == 0 && cli_output_has("train_time,precision") && cli_output_has(",bf16"));
  const char *bad[] = {"eval", run_dir, "--precision", "fp16", NULL};
  CHECK(run(bad) == 2 && cli_output_has("wants fp32 or bf16, not 'fp16'"));

  CHECK(replace_in_file(CN_TEST_TMP "/bf16/metrics.json", "\"bf16\"", "\"fp64\"") == 0);
  CHECK(run(compare) == 1 && cli_output_has("bf16/metrics.json: \"precision\" must be \"fp32\" or \"bf16\""));
  const char *report[] = {"report", run_dir, "-o", CN_TEST_TMP "/bf16-report.html", NULL};
  CHECK(run(report) == 1 && cli_output_has("bf16/metrics.json: \"precision\" must be \"fp32\" or \"bf16\""));
  CHECK(replace_in_file(CN_TEST_TMP "/bf16/config.json", "\"bf16\"", "7") == 0);
  const char *resume_bad[] = {"train", "--resume", run_dir, "--quiet", NULL};
  CHECK(run(resume_bad) == 1 && cli_output_has("bf16/config.json: \"precision\" must be"));
}

/* The accuracy metrics.json records for a run. */
static double recorded_accuracy(const char *run_dir) {
  cn_run_summary s;
  return cn_run_read_summary(run_dir, &s) ? -1 : s.test_accuracy;
}

/* Two short runs from one --seeds command and their ensemble: the JSON's
 * figures agree with each member's own metrics.json and with the table;
 * misuse of either command is refused. */
static void test_seeds_and_ensemble(void) {
  const char *a = CN_TEST_TMP "/member-seed1", *b = CN_TEST_TMP "/member-seed2";
  const char *train[] = {"train", "mlp", DATA, "--epochs", "1", "--limit-train", "2000", "--limit-test", "400",
                         "--seeds", "1,2", "--threads", "1", "--run-dir", CN_TEST_TMP "/member", "--quiet", NULL};
  CHECK(run(train) == 0 && cli_output_has("Seed 2 (2 of 2)") && cli_output_has("seed 2, split 85/15"));
  cn_run_summary sa, sb;
  CHECK(cn_run_read_summary(a, &sa) == 0 && cn_run_read_summary(b, &sb) == 0);
  CHECK(sa.test_accuracy != sb.test_accuracy || sa.train_loss != sb.train_loss); /* two different runs */
  /* compare puts the two seeds in one row: the means, and the standard
   * deviation over the seeds; --each-run keeps a row per run. */
  const char *grouped[] = {"compare", a, b, "--json", NULL};
  CHECK(run(grouped) == 0);
  cJSON *rows = cJSON_Parse(cli_output), *g = cJSON_GetArrayItem(rows, 0);
  CHECK(cJSON_GetArraySize(rows) == 1 && g);
  if (g) {
    CHECK(strcmp(cJSON_GetObjectItem(g, "run")->valuestring, CN_TEST_TMP "/member-seed*") == 0);
    CHECK(cJSON_GetObjectItem(g, "runs")->valueint == 2 && cJSON_GetObjectItem(g, "test_n")->valueint == 400);
    CHECK_NEAR(cJSON_GetObjectItem(g, "test_accuracy")->valuedouble, (sa.test_accuracy + sb.test_accuracy) / 2, 1e-12);
    CHECK_NEAR(cJSON_GetObjectItem(g, "test_accuracy_sd")->valuedouble,
               fabs(sa.test_accuracy - sb.test_accuracy) / sqrt(2), 1e-12);
    CHECK_NEAR(cJSON_GetObjectItem(g, "train_loss")->valuedouble, (sa.train_loss + sb.train_loss) / 2, 1e-12);
  }
  cJSON_Delete(rows);
  const char *each[] = {"compare", a, b, "--each-run", "--json", NULL};
  CHECK(run(each) == 0);
  rows = cJSON_Parse(cli_output);
  CHECK(cJSON_GetArraySize(rows) == 2);
  cJSON_Delete(rows);
  /* with a run on the whole test set: two blocks, the larger test set first */
  const char *blocks[] = {"compare", a, b, CN_TEST_TMP "/run", NULL};
  CHECK(run(blocks) == 0 && cli_output_has("test_n") && cli_output_has("member-seed* (2 seeds: mean ± sd)"));
  const char *whole = strstr(cli_output, " 10000 "), *seeds = strstr(cli_output, "   400 ");
  CHECK(whole && seeds && whole < seeds && strstr(whole, "\n\n") && strstr(whole, "\n\n") < seeds);
  const char *bad_list[] = {"train", "mlp", "--seeds", "1,,2", NULL};
  CHECK(run(bad_list) == 2 && cli_output_has("--seeds wants up to 64 whole numbers"));
  const char *twice[] = {"train", "mlp", "--seeds", "3,3", NULL};
  CHECK(run(twice) == 2 && cli_output_has("names seed 3 twice"));
  const char *both[] = {"train", "mlp", "--seeds", "1,2", "--seed", "4", NULL};
  CHECK(run(both) == 2 && cli_output_has("--seed or --seeds, not both"));

  const char *json[] = {"ensemble", a, b, "--json", "--out", "none", NULL};
  CHECK(run(json) == 0);
  char *text = NULL;
  CHECK(cn_read_file(CLI_OUT, 1 << 22, &text, NULL) == 0);
  cJSON *o = text ? cJSON_Parse(text) : NULL;
  free(text);
  CHECK(o != NULL);
  const cJSON *acc = cJSON_GetObjectItem(o, "accuracy"), *n = cJSON_GetObjectItem(o, "n"),
              *members = cJSON_GetObjectItem(o, "members"), *wrong = cJSON_GetObjectItem(o, "wrong");
  CHECK(cJSON_IsNumber(acc) && acc->valuedouble > 0.5 && acc->valuedouble <= 1);
  CHECK(cJSON_IsNumber(n) && n->valueint == 400);
  CHECK(cJSON_GetArraySize(members) == 2);
  CHECK(fabs(cJSON_GetObjectItem(cJSON_GetArrayItem(members, 0), "accuracy")->valuedouble - recorded_accuracy(a)) <
        1e-9);
  CHECK(fabs(cJSON_GetObjectItem(cJSON_GetArrayItem(members, 1), "accuracy")->valuedouble - recorded_accuracy(b)) <
        1e-9);
  /* The wrong digits are exactly the ones the accuracy leaves out. */
  CHECK(cJSON_IsNumber(acc) && fabs(acc->valuedouble - (400.0 - cJSON_GetArraySize(wrong)) / 400) < 1e-9);
  cJSON_Delete(o);
  const char *table[] = {"ensemble", a, b, "--show", "2", "--out", "none", NULL};
  CHECK(run(table) == 0 && cli_output_has("Ensemble of 2 runs on the mnist test set (400 images)") &&
        cli_output_has("ensemble "));
  /* with one view, --tta recomputes exactly what test_probs.bin holds */
  const char *tta1[] = {"ensemble", a, b, "--tta", "1", "--show", "0", "--out", "none", NULL};
  CHECK(run(tta1) == 0);
  char *plain = NULL;
  CHECK(cn_read_file(CLI_OUT, 1 << 22, &plain, NULL) == 0);
  const char *tta2[] = {"ensemble", a, b, "--tta", "2", "--show", "0", "--out", "none", NULL};
  CHECK(run(tta2) == 0 && cli_output_has("each the mean of 2 views"));
  const char *again[] = {"ensemble", a, b, "--show", "0", "--out", "none", NULL};
  CHECK(run(again) == 0 && plain && cli_output_has(plain));
  free(plain);
  const char *none[] = {"ensemble", NULL};
  CHECK(run(none) == 2 && cli_output_has("name at least one run folder"));
  const char *missing[] = {"ensemble", a, CN_TEST_TMP "/no-such-run", NULL};
  CHECK(run(missing) == 1 && cli_output_has("no-such-run/metrics.json"));
  const char *other_test_set[] = {"ensemble", a, CN_TEST_TMP "/run", NULL};
  CHECK(run(other_test_set) == 1 && cli_output_has("not the same test set"));

  /* --out DIR keeps the result: compare and report show it as a row. */
  const char *kept = CN_TEST_TMP "/ensemble";
  const char *keep[] = {"ensemble", a, b, "--out", kept, "--show", "0", NULL};
  CHECK(run(keep) == 0 && cli_output_has("Kept in " CN_TEST_TMP "/ensemble/ensemble.json"));
  cn_ensemble_record r;
  CHECK_MSG(cn_ensemble_read(kept, &r) == 0, "%s", cn_last_error());
  CHECK(r.members == 2 && r.views == 1 && r.summary.test_n == 400 && !strcmp(r.summary.dataset, "mnist"));
  CHECK(!strcmp(r.member[0].dir, a) && fabs(r.member[1].test_accuracy - recorded_accuracy(b)) < 1e-9);
  CHECK(r.n_wrong == (int)lround((1 - r.summary.test_accuracy) * 400) && isnan(r.summary.train_loss));
  CHECK(r.summary.weight_number == sa.weight_number + sb.weight_number);
  for (int i = 0; i < r.n_wrong; i++) CHECK(r.wrong[i].label != r.wrong[i].predicted && r.wrong[i].members_wrong <= 2);
  const char *listed[] = {"compare", a, b, kept, "--each-run", NULL};
  CHECK(run(listed) == 0 && cli_output_has("ensemble ") && cli_output_has("none") &&
        cli_output_has(CN_TEST_TMP "/ensemble\n") && cli_output_has("an ensemble has no train or validation figures"));
  cn_ensemble_record_free(&r);
  /* a report of the ensemble alone takes its members as the runs and shows it in a section */
  const char *html = CN_TEST_TMP "/ensemble-report.html";
  const char *report[] = {"report", kept, "-o", html, NULL};
  CHECK(run(report) == 0);
  char *page = NULL;
  CHECK(cn_read_file(html, 1 << 26, &page, NULL) == 0);
  CHECK(page && strstr(page, "<section id=\"ensembles\">") && strstr(page, "href=\"#ensembles\"") &&
        strstr(page, "of them wrong in every member") && strstr(page, "mean of 2"));
  free(page);
  const char *runs_only[] = {"report", a, b, "-o", html, NULL};
  CHECK(run(runs_only) == 0 && cn_read_file(html, 1 << 26, &page, NULL) == 0);
  CHECK(page && !strstr(page, "id=\"ensembles\"") && !strstr(page, "href=\"#ensembles\""));
  free(page);
  /* the same folder again replaces cnist's own result; a training run's folder is refused */
  CHECK(run(keep) == 0);
  const char *into_run[] = {"ensemble", a, b, "--out", a, NULL};
  CHECK(run(into_run) == 1 && cli_output_has("holds a training run; write the ensemble to a folder of its own"));
  /* a tampered record is refused by name */
  char path[4200];
  snprintf(path, sizeof path, "%s/ensemble.json", kept);
  char *record = NULL;
  CHECK(cn_read_file(path, 1 << 22, &record, NULL) == 0);
  char *at = record ? strstr(record, "\"members_wrong\":") : NULL;
  if (at) {
    at[strlen("\"members_wrong\":")] = ' ';
    at[strlen("\"members_wrong\":") + 1] = '7'; /* more members wrong than there are members */
    FILE *f = fopen(path, "wb");
    CHECK(f && fputs(record, f) >= 0 && fclose(f) == 0);
    CHECK_ERROR(cn_ensemble_read(kept, &r), CN_EFORMAT, "ensemble.json: wrong[0]: \"members_wrong\"");
  } else {
    CHECK(r.n_wrong == 0); /* nothing wrong to tamper with */
  }
  free(record);
}

/* --augment and --schedule replace the model file's lines, --no-augment drops
 * its augmentation; the run folder's model.model records what was trained. */
static void test_augment_overrides(void) {
  const char *bad_value[] = {"train", "mlp", "--augment", "rotation=999", DATA, NULL};
  CHECK(run(bad_value) == 2 && cli_output_has("option --augment, column 10: rotation must be in [0, 180], not 999"));
  const char *bad_key[] = {"train", "mlp", "--augment", "zoom=0.1 rotate=9", DATA, NULL};
  CHECK(run(bad_key) == 2 && cli_output_has("option --augment, column 10: unknown option 'rotate' for augment"));
  const char *bad_kind[] = {"train", "mlp", "--schedule", "cosin", DATA, NULL};
  CHECK(run(bad_kind) == 2 && cli_output_has("option --schedule, column 1: unknown schedule 'cosin'"));
  const char *both[] = {"train", "best", "--augment", "shift=0.1", "--no-augment", DATA, NULL};
  CHECK(run(both) == 2 && cli_output_has("give --augment or --no-augment, not both"));

  const char *dir = CN_TEST_TMP "/augmented";
  const char *train[] = {"train", "mlp", DATA, "--epochs", "1", "--limit-train", "600", "--limit-test", "100",
                         "--augment", "rotation=12 shift=0.1", "--schedule", "cosine warmup=0.1",
                         "--run-dir", dir, "--quiet", NULL};
  CHECK(run(train) == 0);
  size_t n;
  char *model = NULL;
  CHECK(cn_read_file(CN_TEST_TMP "/augmented/model.model", 1 << 20, &model, &n) == 0);
  CHECK(model && strstr(model, "augment rotation=12 shift=0.1") && strstr(model, "schedule cosine warmup=0.1"));
  free(model);
  const char *resume[] = {"train", "--resume", dir, "--no-augment", NULL};
  CHECK(run(resume) == 2 && cli_output_has("--no-augment cannot change in a resumed run"));

  const char *plain_dir = CN_TEST_TMP "/not-augmented";
  const char *plain[] = {"train", "best", DATA, "--epochs", "1", "--limit-train", "200", "--limit-test", "50",
                         "--no-augment", "--run-dir", plain_dir, "--quiet", NULL};
  CHECK(run(plain) == 0);
  CHECK(cn_read_file(CN_TEST_TMP "/not-augmented/model.model", 1 << 20, &model, &n) == 0);
  CHECK(model && !strstr(model, "augment ") && strstr(model, "schedule cosine"));
  free(model);
}

int main(void) {
  if (system("rm -rf '" CN_TEST_TMP "' && mkdir -p '" CN_TEST_TMP "'") != 0) return 1;
  test_interrupt_and_resume();
  test_bad_arguments();
  test_bf16();
  test_seeds_and_ensemble();
  test_augment_overrides();
  return test_summary();
}
