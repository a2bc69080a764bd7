/* cnist compare: the study's leaderboard of runs, best test accuracy first. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* One row of the leaderboard: a run, or the seeds of one experiment
 * (DIR-seedN, cn_run_seed_stem) with the means of their figures. */
typedef struct {
  cn_run_summary s;
  char stem[4096 - 8]; /* the seeds' DIR ("" for a run of its own), with room for "-seed*" in s.dir */
  int runs;
  double accuracy_sd; /* over the seeds (sample standard deviation) */
} row;

/* The seeds of one experiment: the same DIR, model, dataset, test set and precision. */
static int by_experiment(const void *a, const void *b) {
  const row *x = a, *y = b;
  int c = strcmp(x->stem, y->stem);
  if (!c) c = strcmp(x->s.model, y->s.model);
  if (!c) c = strcmp(x->s.dataset, y->s.dataset);
  if (!c) c = (x->s.test_n > y->s.test_n) - (x->s.test_n < y->s.test_n);
  if (!c) c = (int)x->s.precision - (int)y->s.precision;
  return c;
}

/* Grouped by dataset and test set (larger first), then best test accuracy first. */
static int by_dataset_then_accuracy(const void *a, const void *b) {
  const cn_run_summary *x = &((const row *)a)->s, *y = &((const row *)b)->s;
  int c = strcmp(x->dataset, y->dataset);
  if (!c) c = (x->test_n < y->test_n) - (x->test_n > y->test_n);
  if (!c) c = (x->test_accuracy < y->test_accuracy) - (x->test_accuracy > y->test_accuracy);
  return c;
}

/* Rows [first, first + k) (k >= 2 seeds of one experiment) into rows[first]. */
static void merge_seeds(row *rows, int first, int k) {
  row *g = &rows[first];
  double *fields[] = {&g->s.train_loss, &g->s.train_accuracy, &g->s.val_loss,  &g->s.val_accuracy,
                      &g->s.test_loss,  &g->s.test_accuracy,  &g->s.train_time};
  enum { FIELDS = sizeof fields / sizeof fields[0] };
  double sum[FIELDS] = {0};
  for (int i = 0; i < k; i++) {
    const cn_run_summary *r = &rows[first + i].s;
    const double v[FIELDS] = {r->train_loss, r->train_accuracy, r->val_loss,  r->val_accuracy,
                              r->test_loss,  r->test_accuracy,  r->train_time};
    for (int f = 0; f < FIELDS; f++) sum[f] += v[f];
  }
  double mean = sum[5] / k, ss = 0;
  for (int i = 0; i < k; i++) ss += (rows[first + i].s.test_accuracy - mean) * (rows[first + i].s.test_accuracy - mean);
  for (int f = 0; f < FIELDS; f++) *fields[f] = sum[f] / k;
  g->runs = k;
  g->accuracy_sd = sqrt(ss / (k - 1));
  snprintf(g->s.dir, sizeof g->s.dir, "%s-seed*", g->stem);
}

/* Puts the seeds of each experiment in one row; returns the rows left. */
static int group_seeds(row *rows, int n) {
  qsort(rows, (size_t)n, sizeof *rows, by_experiment);
  int out = 0;
  for (int i = 0; i < n;) {
    int k = 1;
    while (rows[i].stem[0] && i + k < n && by_experiment(&rows[i], &rows[i + k]) == 0) k++;
    if (k > 1) merge_seeds(rows, i, k);
    if (out != i) rows[out] = rows[i];
    out++;
    i += k;
  }
  return out;
}

/* One CSV field and its comma, quoted (RFC 4180) when it holds a comma, a
 * quote or a line break. */
static void csv_field(const char *s) {
  if (!s[strcspn(s, ",\"\r\n")]) {
    printf("%s,", s);
    return;
  }
  putchar('"');
  for (; *s; s++) {
    if (*s == '"') putchar('"');
    putchar(*s);
  }
  printf("\",");
}

/* A figure, or `none` where there is none (NaN): the validation figures of
 * a run without validation, the train figures of a run that skipped them,
 * the train and validation figures of an ensemble. */
static void val_cell(char *out, size_t size, const char *fmt, double v, const char *none) {
  if (isnan(v)) snprintf(out, size, "%s", none);
  else snprintf(out, size, fmt, v);
}

static void print_json(const row *rows, int n) {
  cJSON *list = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    const cn_run_summary *r = &rows[i].s;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "run", r->dir);
    cJSON_AddStringToObject(o, "model", r->model);
    cJSON_AddStringToObject(o, "dataset", r->dataset);
    cJSON_AddNumberToObject(o, "test_n", (double)r->test_n);
    cJSON_AddStringToObject(o, "precision", cn_precision_name(r->precision));
    cJSON_AddNumberToObject(o, "train_loss", r->train_loss);
    cJSON_AddNumberToObject(o, "train_accuracy", r->train_accuracy);
    cJSON_AddNumberToObject(o, "val_loss", r->val_loss);
    cJSON_AddNumberToObject(o, "val_accuracy", r->val_accuracy);
    cJSON_AddNumberToObject(o, "test_loss", r->test_loss);
    cJSON_AddNumberToObject(o, "test_accuracy", r->test_accuracy);
    if (rows[i].runs > 1) cJSON_AddNumberToObject(o, "test_accuracy_sd", rows[i].accuracy_sd);
    else cJSON_AddNumberToObject(o, "test_accuracy_se", r->test_accuracy_se);
    cJSON_AddNumberToObject(o, "weight_number", (double)r->weight_number);
    cJSON_AddNumberToObject(o, "train_time", r->train_time);
    cJSON_AddNumberToObject(o, "runs", rows[i].runs);
    cJSON_AddItemToArray(list, o);
  }
  char *text = cJSON_Print(list);
  if (text) printf("%s\n", text);
  cJSON_free(text);
  cJSON_Delete(list);
}

static void print_csv(const row *rows, int n) {
  printf("run,model,dataset,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,"
         "test_accuracy_se,weight_number,train_time,precision,test_n,runs,test_accuracy_sd\n");
  for (int i = 0; i < n; i++) {
    const cn_run_summary *r = &rows[i].s;
    const int one = rows[i].runs == 1;
    csv_field(r->dir);
    csv_field(r->model);
    csv_field(r->dataset);
    char vl[32], va[32];
    char tl[32], ta[32];
    val_cell(vl, sizeof vl, "%.6f", r->val_loss, "");
    val_cell(va, sizeof va, "%.6f", r->val_accuracy, "");
    val_cell(tl, sizeof tl, "%.6f", r->train_loss, "");
    val_cell(ta, sizeof ta, "%.6f", r->train_accuracy, "");
    printf("%s,%s,%s,%s,%.6f,%.6f,", tl, ta, vl, va, r->test_loss, r->test_accuracy);
    if (one) printf("%.6f", r->test_accuracy_se);
    printf(",%zu,%.2f,%s,%lld,%d,", r->weight_number, r->train_time, cn_precision_name(r->precision),
           (long long)r->test_n, rows[i].runs);
    if (!one) printf("%.6f", rows[i].accuracy_sd);
    putchar('\n');
  }
}

/* The table: one block per dataset and test set, a blank line between. */
static void print_table(const row *rows, int n) {
  printf("%-12s %-8s %7s %10s %14s %8s %12s %9s %17s %13s %10s  %s\n", "model", "dataset", "test_n", "train_loss",
         "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "weight_number", "train_time",
         "run");
  int no_val = 0, no_train = 0, ensembles = 0;
  for (int i = 0; i < n; i++) {
    const cn_run_summary *r = &rows[i].s;
    char vl[32], va[32];
    int ensemble = r->epochs_run == 0; /* only an ensemble ran no epochs */
    ensembles |= ensemble;
    no_val |= !ensemble && isnan(r->val_accuracy);
    no_train |= !ensemble && isnan(r->train_accuracy);
    val_cell(vl, sizeof vl, "%.4f", r->val_loss, "none");
    val_cell(va, sizeof va, "%.4f", r->val_accuracy, "none");
    char tl[32], ta[32];
    val_cell(tl, sizeof tl, "%.4f", r->train_loss, "none");
    val_cell(ta, sizeof ta, "%.4f", r->train_accuracy, "none");
    if (i && (strcmp(r->dataset, rows[i - 1].s.dataset) || r->test_n != rows[i - 1].s.test_n)) putchar('\n');
    char acc[32], model[80], run[4200];
    snprintf(acc, sizeof acc, "%.4f±%.4f", r->test_accuracy, rows[i].runs > 1 ? rows[i].accuracy_sd : r->test_accuracy_se);
    /* a bf16 run says so beside its model; fp32 is the default */
    snprintf(model, sizeof model, "%s%s", r->model, r->precision == CN_PRECISION_BF16 ? " bf16" : "");
    snprintf(run, sizeof run, rows[i].runs > 1 ? "%s (%d seeds: mean ± sd)" : "%s", r->dir, rows[i].runs);
    printf("%-12s %-8s %7lld %10s %14s %8s %12s %9.4f %18s %13zu %9.1fs  %s\n", model, r->dataset,
           (long long)r->test_n, tl, ta, vl, va, r->test_loss, acc, r->weight_number, r->train_time, run);
  }
  if (no_val) printf("val none: the run held out no validation images (val_split 0)\n");
  if (no_train) printf("train none: the run left the training set out of its final evaluation (--no-train-eval)\n");
  if (ensembles) printf("none: an ensemble has no train or validation figures of its own (its members have)\n");
}

int cli_print_leaderboard(char **runs, int n, int format, int each_run) {
  row *rows = calloc((size_t)(n ? n : 1), sizeof *rows);
  if (!rows) return cli_fail("out of memory");
  /* A run that cannot be read is named and left out; the others are listed. */
  int broken = 0, read = 0;
  for (int i = 0; i < n; i++) {
    if (cn_run_read_summary(runs[i], &rows[read].s) == 0) {
      rows[read].runs = 1;
      if (each_run || !cn_run_seed_stem(runs[i], rows[read].stem, sizeof rows[read].stem)) rows[read].stem[0] = '\0';
      read++;
    } else {
      broken = cli_fail("%s (left out of the leaderboard)", cn_last_error());
    }
  }
  n = group_seeds(rows, read);
  qsort(rows, (size_t)n, sizeof *rows, by_dataset_then_accuracy);
  if (format == 2) print_json(rows, n);
  else if (format == 1) print_csv(rows, n);
  else print_table(rows, n);
  free(rows);
  return broken;
}

int cmd_compare(int argc, char **argv) {
  int format = 0, each_run = 0;
  char **runs = malloc(sizeof(char *) * (size_t)argc);
  int n = 0;
  if (!runs) return cli_fail("out of memory");
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--csv")) format = 1;
    else if (!strcmp(argv[i], "--json")) format = 2;
    else if (!strcmp(argv[i], "--each-run")) each_run = 1;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      printf("usage: cnist compare [RUN...] [--csv|--json] [--each-run]\n"
             "The leaderboard of runs (default: every run under runs/): one block per dataset and\n"
             "test set (its size in test_n), best test accuracy first in each. The runs of one\n"
             "experiment trained with several seeds (DIR-seed1, DIR-seed2, ... from\n"
             "`cnist train --seeds 1,2 --run-dir DIR`) make one row, DIR-seed*, with the\n"
             "means of their figures and test_accuracy as mean ± standard deviation over the\n"
             "seeds (a run of its own shows ± its standard error).\n"
             "  --csv, --json  machine-readable rows (test_accuracy_sd and runs for the seeds' rows)\n"
             "  --each-run     one row per run folder, seeds not grouped\n");
      free(runs);
      return 0;
    } else if (argv[i][0] == '-') {
      free(runs);
      return cli_usage("compare: unknown option '%s'", argv[i]);
    } else {
      runs[n++] = argv[i];
    }
  }
  int rc;
  if (n > 0) {
    rc = cli_print_leaderboard(runs, n, format, each_run);
    free(runs);
    return rc;
  }
  free(runs);
  char **found, **ensembles = NULL;
  int count, n_ensembles = 0;
  if (cn_run_list("runs", &found, &count)) return cli_fail("%s (train a model first: cnist train lenet)", cn_last_error());
  /* the ensembles saved under runs/ are rows too */
  char **all = NULL;
  if (cn_ensemble_list("runs", &ensembles, &n_ensembles)) rc = cli_fail_last();
  else if (!(all = malloc(sizeof *all * (size_t)(count + n_ensembles + 1)))) rc = cli_fail("out of memory");
  else if (count + n_ensembles == 0) rc = cli_fail("runs: no finished runs yet (train a model first: cnist train lenet)");
  else {
    for (int i = 0; i < count; i++) all[i] = found[i];
    for (int i = 0; i < n_ensembles; i++) all[count + i] = ensembles[i];
    rc = cli_print_leaderboard(all, count + n_ensembles, format, each_run);
  }
  free(all);
  for (int i = 0; i < count; i++) free(found[i]);
  for (int i = 0; i < n_ensembles; i++) free(ensembles[i]);
  free(found);
  free(ensembles);
  return rc;
}
