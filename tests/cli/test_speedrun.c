/* cnist speedrun: its arguments, and its table and JSON after a short run
 * (the fast recipe on 512 images, 2 seeds, each a fresh cnist train). */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "cli/cli_run.h"
#include "cnist.h"

#define SHORT "--recipe", "fast", "--seeds", "2", "--limit-train", "512", "--limit-test", "200", "--data", \
              CN_TEST_DATA_DIR "/mnist"

#define ERR CN_TEST_TMP "/err.txt"

static int run(const char *const *args) { return cli_run_apart(args, ERR); }

#define OUT_HAS(s) cli_file_has(CLI_OUT, s)
#define ERR_HAS(s) cli_file_has(ERR, s)

static void test_arguments(void) {
  const char *target[] = {"speedrun", "--target", "1.5", NULL};
  CHECK(run(target) == 2 && ERR_HAS("option --target wants a number from 0 to 1, not '1.5'"));
  const char *seeds[] = {"speedrun", "--seeds", "0", NULL};
  CHECK(run(seeds) == 2 && ERR_HAS("option --seeds wants a whole number from 1 to 100, not '0'"));
  const char *unknown[] = {"speedrun", "--fast", NULL};
  CHECK(run(unknown) == 2 && ERR_HAS("speedrun: unknown option '--fast'"));
  const char *positional[] = {"speedrun", "fast", NULL};
  CHECK(run(positional) == 2 && ERR_HAS("the recipe is given with --recipe"));
  const char *recipe[] = {"speedrun", "--recipe", "no_such_recipe", NULL};
  CHECK(run(recipe) == 1 && ERR_HAS("no_such_recipe: no such model file, and not a zoo model"));
  const char *help[] = {"speedrun", "--help", NULL};
  CHECK(run(help) == 0 && OUT_HAS("usage: cnist speedrun [--recipe MODEL] [--target F] [--seeds N] [--json]"));
  /* A seed whose training fails names its output file and stops. */
  const char *bad_data[] = {"speedrun", "--seeds", "1", "--data", CN_TEST_TMP "/nothing", "--run-dir",
                            CN_TEST_TMP "/bad", NULL};
  CHECK(run(bad_data) == 1 && ERR_HAS("speedrun: seed 1: cnist train failed (status 1); its output is in " CN_TEST_TMP
                                      "/bad/seed1.txt"));
}

static void test_json(void) {
  const char *args[] = {"speedrun", SHORT, "--target", "0.5", "--json", "--run-dir", CN_TEST_TMP "/json", NULL};
  CHECK(run(args) == 0);
  cJSON *o = cJSON_Parse(cli_slurp(CN_TEST_TMP "/out.txt"));
  CHECK_MSG(o != NULL, "not JSON: %s", cli_slurp(CN_TEST_TMP "/out.txt"));
  if (!o) return;
  const cJSON *recipe = cJSON_GetObjectItem(o, "recipe"), *target = cJSON_GetObjectItem(o, "target");
  const cJSON *runs = cJSON_GetObjectItem(o, "runs");
  CHECK(cJSON_IsString(recipe) && !strcmp(recipe->valuestring, "fast"));
  CHECK(cJSON_IsNumber(target) && target->valuedouble == 0.5);
  CHECK(cJSON_IsArray(runs) && cJSON_GetArraySize(runs) == 2);
  double seconds = 0, accuracy = 0;
  int reached = 0;
  for (int i = 0; i < cJSON_GetArraySize(runs); i++) {
    const cJSON *r = cJSON_GetArrayItem(runs, i);
    const cJSON *seed = cJSON_GetObjectItem(r, "seed"), *s = cJSON_GetObjectItem(r, "seconds");
    const cJSON *a = cJSON_GetObjectItem(r, "accuracy");
    CHECK(cJSON_IsNumber(seed) && seed->valuedouble == i + 1);
    CHECK(cJSON_IsNumber(s) && s->valuedouble > 0 && s->valuedouble < 600);
    CHECK(cJSON_IsNumber(a) && a->valuedouble >= 0 && a->valuedouble <= 1);
    if (!cJSON_IsNumber(s) || !cJSON_IsNumber(a)) continue;
    seconds += s->valuedouble / 2;
    accuracy += a->valuedouble / 2;
    reached += a->valuedouble >= 0.5;
    /* The accuracy is the run's own, from its metrics.json. */
    char dir[4200];
    snprintf(dir, sizeof dir, CN_TEST_TMP "/json/seed%d", i + 1);
    cn_run_summary sum;
    CHECK(cn_run_read_summary(dir, &sum) == 0 && sum.test_accuracy == a->valuedouble && sum.test_n == 200);
  }
  const cJSON *ms = cJSON_GetObjectItem(o, "mean_seconds"), *ma = cJSON_GetObjectItem(o, "mean_accuracy");
  const cJSON *rc = cJSON_GetObjectItem(o, "reached");
  CHECK(cJSON_IsNumber(ms) && fabs(ms->valuedouble - seconds) < 1e-9);
  CHECK(cJSON_IsNumber(ma) && fabs(ma->valuedouble - accuracy) < 1e-12);
  CHECK(cJSON_IsNumber(rc) && rc->valuedouble == reached);
  CHECK(cJSON_IsNumber(cJSON_GetObjectItem(o, "min_seconds")) && cJSON_IsNumber(cJSON_GetObjectItem(o, "max_accuracy")));
  cJSON_Delete(o);
}

static void test_table(void) {
  const char *args[] = {"speedrun", SHORT, "--target", "1", "--threads", "1", "--run-dir", CN_TEST_TMP "/table", NULL};
  CHECK(run(args) == 0);
  CHECK(OUT_HAS("speedrun fast: target 100.00%, 2 seeds, runs in " CN_TEST_TMP "/table\n"));
  CHECK(OUT_HAS("\nseed 1 ") && OUT_HAS("\nseed 2 ") && OUT_HAS("(below the target)"));
  CHECK(OUT_HAS("\ntime      mean ") && OUT_HAS("\naccuracy  mean ") && OUT_HAS("\nreached 100.00%: 0 of 2 seeds\n"));
  /* Each seed trained in its own folder with the options passed on. */
  CHECK(cli_file_has(CN_TEST_TMP "/table/seed2/config.json", "\"threads\":\t1,") &&
        cli_file_has(CN_TEST_TMP "/table/seed2/config.json", "\"seed\":\t2,") &&
        cli_file_has(CN_TEST_TMP "/table/seed2/config.json", "\"n_train\":\t512,"));
  CHECK(cli_file_has(CN_TEST_TMP "/table/seed1.txt", "Test accuracy:"));
  /* The time is to the test accuracy: the training set is not evaluated
   * (--no-train-eval), and every reader says "none" for its figures. */
  CHECK(cli_file_has(CN_TEST_TMP "/table/seed1.txt", "  train  none (not evaluated)\n"));
  CHECK(cli_file_has(CN_TEST_TMP "/table/seed1/metrics.json", "\"train_loss\":\tnull,") &&
        cli_file_has(CN_TEST_TMP "/table/seed1/metrics.json", "\"train_accuracy\":\tnull,"));
  cn_run_summary sum;
  CHECK(cn_run_read_summary(CN_TEST_TMP "/table/seed1", &sum) == 0 && isnan(sum.train_loss) &&
        isnan(sum.train_accuracy) && sum.epochs_run == 1);
  const char *compare[] = {"compare", "--each-run", CN_TEST_TMP "/table/seed1", NULL};
  CHECK(run(compare) == 0 && OUT_HAS("       none           none ") &&
        OUT_HAS("train none: the run left the training set out of its final evaluation (--no-train-eval)") &&
        !strstr(cli_slurp(CLI_OUT), "an ensemble"));
  /* One of the two train figures null is an edited file. */
  char *text = strdup(cli_slurp(CN_TEST_TMP "/table/seed1/metrics.json"));
  char *at = text ? strstr(text, "\"train_loss\":\tnull") : NULL;
  CHECK(at != NULL);
  if (at) memcpy(at + 14, "1e-3", 4); /* "train_loss":\tnull -> "train_loss":\t1e-3 */
  FILE *f = system("mkdir -p '" CN_TEST_TMP "/edited'") == 0 ? fopen(CN_TEST_TMP "/edited/metrics.json", "wb") : NULL;
  if (f && text) fputs(text, f);
  if (f) fclose(f);
  free(text);
  CHECK_ERROR(cn_run_read_summary(CN_TEST_TMP "/edited", &sum), CN_EFORMAT,
              "\"train_loss\" and \"train_accuracy\" are null together (a run whose training set was not evaluated)");
  const char *report[] = {"report", CN_TEST_TMP "/table/seed1", "-o", CN_TEST_TMP "/report.html", NULL};
  CHECK(run(report) == 0);
  CHECK(cli_file_has(CN_TEST_TMP "/report.html",
                     "</span></td><td><span class=\"se\">none</span></td><td><span class=\"se\">none</span></td>"));
}

int main(void) {
  if (system("rm -rf '" CN_TEST_TMP "' && mkdir -p '" CN_TEST_TMP "'") != 0) return 1;
  test_arguments();
  test_json();
  test_table();
  return test_summary();
}
