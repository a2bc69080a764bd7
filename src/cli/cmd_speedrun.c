/* cnist speedrun: time to accuracy. Trains a recipe once per seed, each in a
 * fresh `cnist train` process timed from its start to its exit (data read,
 * training, the final test accuracy written), and sums the runs up. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cnist/core.h"

extern char **environ;

enum { MAX_SEEDS = 100 };

typedef struct {
  unsigned seed;
  double seconds, accuracy;
} speed_run;

static int usage_text(void) {
  printf("usage: cnist speedrun [--recipe MODEL] [--target F] [--seeds N] [--json] [options]\n\n"
         "Time to accuracy: trains MODEL (default fast) with seeds 1..N, each in a fresh `cnist train`\n"
         "process timed from its start to its final test accuracy (data read and test set evaluated included;\n"
         "the training set is left out of the final evaluation, --no-train-eval).\n"
         "  --recipe MODEL       a zoo name or a model file (default fast)\n"
         "  --target F           the test accuracy to reach, 0..1 (default 0.99)\n"
         "  --seeds N            how many seeds, 1..%d (default 10)\n"
         "  --json               one JSON object instead of the table\n"
         "  --run-dir DIR        where the runs go, DIR/seed1, ... (default runs/speedrun-<recipe>-<time>)\n"
         "  --threads N --data DIR --limit-train N --limit-test N   passed on to cnist train\n",
         MAX_SEEDS);
  return 0;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One seed: `cnist train --no-train-eval` in its own process, its output in
 * DIR/seedN.txt. */
static int run_seed(const char *exe, char *const *train_args, int n_args, const char *dir, speed_run *r) {
  char seed[24], run_dir[4200], log[4200];
  snprintf(seed, sizeof seed, "%u", r->seed);
  snprintf(run_dir, sizeof run_dir, "%s/seed%u", dir, r->seed);
  snprintf(log, sizeof log, "%s/seed%u.txt", dir, r->seed);
  char *argv[32];
  int k = 0;
  argv[k++] = (char *)exe;
  for (int i = 0; i < n_args; i++) argv[k++] = train_args[i];
  argv[k++] = "--seed";
  argv[k++] = seed;
  argv[k++] = "--run-dir";
  argv[k++] = run_dir;
  argv[k++] = "--quiet";
  argv[k++] = "--no-train-eval"; /* the time is to the test accuracy: the training set's is not needed */
  argv[k] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid;
  double start = now_seconds();
  int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc) return cli_fail("speedrun: cannot start %s: %s", exe, strerror(rc));
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;
  r->seconds = now_seconds() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return cli_fail("speedrun: seed %u: cnist train failed (%s %d); its output is in %s", r->seed,
                    WIFEXITED(status) ? "status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                    log);
  cn_run_summary s;
  if (cn_run_read_summary(run_dir, &s)) return cli_fail_last();
  r->accuracy = s.test_accuracy;
  return 0;
}

typedef struct {
  double mean_s, min_s, max_s, mean_a, min_a, max_a;
  int reached;
} speed_summary;

static speed_summary summarise(const speed_run *runs, int n, double target) {
  speed_summary t = {0, runs[0].seconds, runs[0].seconds, 0, runs[0].accuracy, runs[0].accuracy, 0};
  for (int i = 0; i < n; i++) {
    t.mean_s += runs[i].seconds / n;
    t.mean_a += runs[i].accuracy / n;
    if (runs[i].seconds < t.min_s) t.min_s = runs[i].seconds;
    if (runs[i].seconds > t.max_s) t.max_s = runs[i].seconds;
    if (runs[i].accuracy < t.min_a) t.min_a = runs[i].accuracy;
    if (runs[i].accuracy > t.max_a) t.max_a = runs[i].accuracy;
    t.reached += runs[i].accuracy >= target;
  }
  return t;
}

static void print_json(const char *recipe, double target, const speed_run *runs, int n) {
  speed_summary t = summarise(runs, n, target);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "recipe", recipe);
  cJSON_AddNumberToObject(o, "target", target);
  cJSON *list = cJSON_AddArrayToObject(o, "runs");
  for (int i = 0; i < n; i++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "seed", runs[i].seed);
    cJSON_AddNumberToObject(r, "seconds", runs[i].seconds);
    cJSON_AddNumberToObject(r, "accuracy", runs[i].accuracy);
    cJSON_AddItemToArray(list, r);
  }
  cJSON_AddNumberToObject(o, "mean_seconds", t.mean_s);
  cJSON_AddNumberToObject(o, "min_seconds", t.min_s);
  cJSON_AddNumberToObject(o, "max_seconds", t.max_s);
  cJSON_AddNumberToObject(o, "mean_accuracy", t.mean_a);
  cJSON_AddNumberToObject(o, "min_accuracy", t.min_a);
  cJSON_AddNumberToObject(o, "max_accuracy", t.max_a);
  cJSON_AddNumberToObject(o, "reached", t.reached);
  char *text = cJSON_Print(o);
  if (text) printf("%s\n", text);
  cJSON_free(text);
  cJSON_Delete(o);
}

int cmd_speedrun(int argc, char **argv) {
  const char *recipe = "fast", *run_dir = NULL, *data = NULL;
  double target = 0.99;
  int seeds = 10, json = 0, threads = 0, limit_train = 0, limit_test = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ok = 1;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage_text();
    else if (!strcmp(a, "--recipe")) ok = cli_str_arg(argc, argv, &i, &recipe);
    else if (!strcmp(a, "--target")) ok = cli_float_arg(argc, argv, &i, &target, 0, 1);
    else if (!strcmp(a, "--seeds")) ok = cli_int_arg(argc, argv, &i, &seeds, 1, MAX_SEEDS);
    else if (!strcmp(a, "--json")) json = 1;
    else if (!strcmp(a, "--run-dir")) ok = cli_str_arg(argc, argv, &i, &run_dir);
    else if (!strcmp(a, "--data")) ok = cli_str_arg(argc, argv, &i, &data);
    else if (!strcmp(a, "--threads")) ok = cli_int_arg(argc, argv, &i, &threads, 1, 1024);
    else if (!strcmp(a, "--limit-train")) ok = cli_int_arg(argc, argv, &i, &limit_train, 2, 1 << 30);
    else if (!strcmp(a, "--limit-test")) ok = cli_int_arg(argc, argv, &i, &limit_test, 1, 1 << 30);
    else if (a[0] == '-') return cli_usage("speedrun: unknown option '%s'", a);
    else return cli_usage("speedrun: unexpected argument '%s' (the recipe is given with --recipe)", a);
    if (!ok) return 2;
  }
  cn_spec spec; /* refused here, before any process starts */
  if (cn_spec_load(recipe, &spec)) return cli_fail_last();

  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len < 0) return cli_fail("speedrun: cannot find the cnist executable (/proc/self/exe): %s", strerror(errno));
  exe[len] = '\0';
  char dir[4096];
  if (run_dir) {
    snprintf(dir, sizeof dir, "%s", run_dir);
  } else {
    char stamp[32];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
    snprintf(dir, sizeof dir, "runs/speedrun-%s-%s", spec.name[0] ? spec.name : "model", stamp);
  }
  if (cn_mkdirs(dir)) return cli_fail_last();

  /* What every seed's `cnist train` gets before its --seed, --run-dir and --quiet. */
  char numbers[3][16];
  char *train_args[16];
  int n = 0;
  train_args[n++] = "train";
  train_args[n++] = (char *)recipe;
  if (data) {
    train_args[n++] = "--data";
    train_args[n++] = (char *)data;
  }
  const struct {
    const char *option;
    int value;
  } passed[] = {{"--threads", threads}, {"--limit-train", limit_train}, {"--limit-test", limit_test}};
  for (int k = 0; k < 3; k++) {
    if (!passed[k].value) continue;
    snprintf(numbers[k], sizeof numbers[k], "%d", passed[k].value);
    train_args[n++] = (char *)passed[k].option;
    train_args[n++] = numbers[k];
  }

  speed_run runs[MAX_SEEDS] = {{0}};
  if (!json) printf("speedrun %s: target %.2f%%, %d seed%s, runs in %s\n", recipe, 100 * target, seeds,
                    seeds == 1 ? "" : "s", dir);
  for (int i = 0; i < seeds; i++) {
    runs[i] = (speed_run){.seed = (unsigned)i + 1};
    if (run_seed(exe, train_args, n, dir, &runs[i])) return 1;
    if (!json) {
      printf("seed %-3u %7.2f s  test accuracy %.2f%%%s\n", runs[i].seed, runs[i].seconds, 100 * runs[i].accuracy,
             runs[i].accuracy >= target ? "" : "  (below the target)");
      fflush(stdout);
    }
  }
  if (json) {
    print_json(spec.name[0] ? spec.name : recipe, target, runs, seeds);
    return 0;
  }
  speed_summary t = summarise(runs, seeds, target);
  printf("time      mean %.2f s, min %.2f s, max %.2f s\n", t.mean_s, t.min_s, t.max_s);
  printf("accuracy  mean %.2f%%, min %.2f%%, max %.2f%%\n", 100 * t.mean_a, 100 * t.min_a, 100 * t.max_a);
  printf("reached %.2f%%: %d of %d seeds\n", 100 * target, t.reached, seeds);
  return 0;
}
