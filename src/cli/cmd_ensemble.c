/* `cnist ensemble RUN...`: the mean of the runs' test probabilities, its
 * accuracy beside each member's, and the digits it still gets wrong. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: cnist ensemble RUN... [--out DIR] [--json] [--show N] [--tta N]\n"
    "\n"
    "Averages the test-set probabilities of finished runs (their test_probs.bin)\n"
    "and prints the ensemble's test accuracy with its binomial standard error,\n"
    "each member's accuracy, and the test digits the ensemble gets wrong (index,\n"
    "true label, predicted class and its probability, how many members get it\n"
    "wrong too). The runs must have been evaluated on the same test images.\n"
    "The result is kept in DIR/ensemble.json, so that `cnist compare` and\n"
    "`cnist report` show the ensemble as a row of its own.\n"
    "  --out DIR  where to keep it (default runs/ensemble-<time>); --out none keeps nothing\n"
    "  --json     one JSON object: accuracy (0..1), accuracy_se, n, classes,\n"
    "             members (run, model, accuracy), wrong (index, label, predicted,\n"
    "             probability, members_wrong)\n"
    "  --show N   list at most N wrong digits (default 50; 0: none)\n"
    "  --tta N    evaluate each run's best weights again on the test set, each image the\n"
    "             mean of N views (as cnist eval --tta N), instead of its test_probs.bin\n";

/* Replaces p's probabilities with those of the run's best weights under
 * `views` views of each of the first p->n test images. */
static int probs_with_tta(const char *dir, int views, cn_test_probs *p) {
  char checkpoint[4200], name[32], data_dir[4096];
  if (cn_run_file_path(dir, CN_RUN_FILE_BEST, checkpoint, sizeof checkpoint) ||
      cn_run_read_dataset(dir, name, sizeof name, data_dir, sizeof data_dir))
    return cli_fail_last();
  cn_model *m;
  if (cn_checkpoint_load_model(checkpoint, &m)) return cli_fail_last();
  cn_dataset ds;
  if (cn_dataset_load(name, data_dir[0] ? data_dir : NULL, &ds)) {
    cn_model_free(m);
    return cli_fail_last();
  }
  cn_eval_result r;
  int rc = 0;
  if (ds.test.n < p->n || memcmp(ds.test.labels, p->labels, (size_t)p->n) != 0)
    rc = cli_fail("%s: the %s test set found now is not the one its test_probs.bin was computed on", dir, name);
  else if (cn_evaluate_tta(m, &ds.test, NULL, p->n, 100, views, p->probs, &r))
    rc = cli_fail_last();
  cn_dataset_free(&ds);
  cn_model_free(m);
  return rc;
}

static void print_json(const cn_ensemble *e, const cn_run_summary *runs, int views) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "tta_views", views ? views : 1);
  cJSON_AddStringToObject(o, "dataset", runs[0].dataset);
  cJSON_AddNumberToObject(o, "accuracy", e->accuracy);
  cJSON_AddNumberToObject(o, "accuracy_se", e->accuracy_se);
  cJSON_AddNumberToObject(o, "n", e->n);
  cJSON_AddNumberToObject(o, "classes", e->classes);
  cJSON *members = cJSON_AddArrayToObject(o, "members");
  for (int m = 0; m < e->members; m++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "run", runs[m].dir);
    cJSON_AddStringToObject(r, "model", runs[m].model);
    cJSON_AddNumberToObject(r, "accuracy", e->member_accuracy[m]);
    cJSON_AddItemToArray(members, r);
  }
  cJSON *wrong = cJSON_AddArrayToObject(o, "wrong");
  for (int i = 0; i < e->n; i++) {
    if (e->predicted[i] == e->labels[i]) continue;
    cJSON *w = cJSON_CreateObject();
    cJSON_AddNumberToObject(w, "index", i);
    cJSON_AddNumberToObject(w, "label", e->labels[i]);
    cJSON_AddNumberToObject(w, "predicted", e->predicted[i]);
    cJSON_AddNumberToObject(w, "probability", e->probs[(size_t)i * e->classes + e->predicted[i]]);
    cJSON_AddNumberToObject(w, "members_wrong", e->member_wrong[i]);
    cJSON_AddItemToArray(wrong, w);
  }
  char *text = cJSON_Print(o);
  if (text) printf("%s\n", text);
  cJSON_free(text);
  cJSON_Delete(o);
}

static void print_table(const cn_ensemble *e, const cn_run_summary *runs, int show, int views) {
  printf("Ensemble of %d runs on the %s test set (%d images", e->members, runs[0].dataset, e->n);
  if (views > 1) printf("; each the mean of %d views", views);
  printf(")\n");
  printf("  %-12s %-17s %s\n", "model", "test_accuracy", "run");
  for (int m = 0; m < e->members; m++)
    printf("  %-12s %6.2f%% ± %.2f%%   %s\n", runs[m].model, 100 * e->member_accuracy[m],
           100 * cn_accuracy_se(e->member_accuracy[m], e->n), runs[m].dir);
  printf("  %-12s %6.2f%% ± %.2f%%\n", "ensemble", 100 * e->accuracy, 100 * e->accuracy_se);
  int wrong = 0, all_wrong = 0;
  for (int i = 0; i < e->n; i++) {
    wrong += e->predicted[i] != e->labels[i];
    all_wrong += e->member_wrong[i] == e->members;
  }
  printf("Wrong: %d test digits (every member wrong on %d)\n", wrong, all_wrong);
  if (show == 0 || wrong == 0) return;
  printf("  %6s %5s %9s %11s %13s\n", "index", "label", "predicted", "probability", "members_wrong");
  int listed = 0;
  for (int i = 0; i < e->n && listed < show; i++) {
    if (e->predicted[i] == e->labels[i]) continue;
    printf("  %6d %5d %9d %11.3f %9d of %d\n", i, e->labels[i], e->predicted[i],
           (double)e->probs[(size_t)i * e->classes + e->predicted[i]], e->member_wrong[i], e->members);
    listed++;
  }
  if (listed < wrong) printf("  ... and %d more (--show N, or --json for all)\n", wrong - listed);
}

int cmd_ensemble(int argc, char **argv) {
  int json = 0, show = 50, n = 0, views = 0; /* 0: no --tta, the runs' own test_probs.bin */
  const char *out = NULL;
  const char **dirs = calloc((size_t)argc, sizeof *dirs);
  if (!dirs) return cli_fail("out of memory");
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage_text, stdout);
      free(dirs);
      return 0;
    } else if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--out")) {
      if (!cli_str_arg(argc, argv, &i, &out)) {
        free(dirs);
        return 2;
      }
    } else if (!strcmp(argv[i], "--show")) {
      if (!cli_int_arg(argc, argv, &i, &show, 0, 1 << 24)) {
        free(dirs);
        return 2;
      }
    } else if (!strcmp(argv[i], "--tta")) {
      if (!cli_int_arg(argc, argv, &i, &views, 1, CN_TTA_MAX_VIEWS)) {
        free(dirs);
        return 2;
      }
    } else if (argv[i][0] == '-') {
      free(dirs);
      return cli_usage("ensemble: unknown option '%s'", argv[i]);
    } else {
      dirs[n++] = argv[i];
    }
  }
  if (n == 0) {
    free(dirs);
    return cli_usage("ensemble: name at least one run folder");
  }
  cn_run_summary *runs = calloc((size_t)n, sizeof *runs);
  cn_test_probs *members = calloc((size_t)n, sizeof *members);
  int rc = runs && members ? 0 : cli_fail("out of memory");
  for (int m = 0; m < n && !rc; m++)
    if (cn_run_read_summary(dirs[m], &runs[m]) || cn_test_probs_read(dirs[m], &members[m])) rc = cli_fail_last();
    else if (views) rc = probs_with_tta(dirs[m], views, &members[m]);
  for (int m = 1; m < n && !rc; m++)
    if (strcmp(runs[m].dataset, runs[0].dataset) != 0)
      rc = cli_fail("%s: a %s run, but %s is a %s run: an ensemble needs one dataset", dirs[m], runs[m].dataset,
                    dirs[0], runs[0].dataset);
  cn_ensemble e;
  if (!rc && cn_ensemble_average(members, dirs, n, &e)) rc = cli_fail_last();
  if (!rc) {
    if (json) print_json(&e, runs, views);
    else print_table(&e, runs, show, views);
    char stamped[64];
    if (!out) {
      time_t now = time(NULL);
      char stamp[32];
      strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
      snprintf(stamped, sizeof stamped, "runs/ensemble-%s", stamp);
      out = stamped;
    }
    if (strcmp(out, "none") != 0) {
      if (cn_ensemble_save(out, &e, runs, runs[0].dataset, views)) rc = cli_fail_last();
      else if (!json) printf("Kept in %s/ensemble.json (cnist compare and cnist report show it)\n", out);
    }
    cn_ensemble_free(&e);
  }
  for (int m = 0; m < n && members; m++) cn_test_probs_free(&members[m]);
  free(members);
  free(runs);
  free(dirs);
  return rc;
}
