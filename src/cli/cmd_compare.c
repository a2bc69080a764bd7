/* cnist compare: the study's leaderboard of runs, best test accuracy first. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int by_test_accuracy(const void *a, const void *b) {
  const cn_run_summary *x = a, *y = b;
  return (x->test_accuracy < y->test_accuracy) - (x->test_accuracy > y->test_accuracy);
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

/* A validation figure, or `none` for a run without validation (NaN). */
static void val_cell(char *out, size_t size, const char *fmt, double v, const char *none) {
  if (isnan(v)) snprintf(out, size, "%s", none);
  else snprintf(out, size, fmt, v);
}

int cli_print_leaderboard(char **runs, int n, int format) {
  cn_run_summary *rows = calloc((size_t)(n ? n : 1), sizeof *rows);
  if (!rows) return cli_fail("out of memory");
  /* A run that cannot be read is named and left out; the others are listed. */
  int broken = 0, read = 0;
  for (int i = 0; i < n; i++) {
    if (cn_run_read_summary(runs[i], &rows[read]) == 0) read++;
    else broken = cli_fail("%s (left out of the leaderboard)", cn_last_error());
  }
  n = read;
  qsort(rows, (size_t)n, sizeof *rows, by_test_accuracy);
  if (format == 2) {
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "run", rows[i].dir);
      cJSON_AddStringToObject(o, "model", rows[i].model);
      cJSON_AddStringToObject(o, "dataset", rows[i].dataset);
      cJSON_AddStringToObject(o, "precision", cn_precision_name(rows[i].precision));
      cJSON_AddNumberToObject(o, "train_loss", rows[i].train_loss);
      cJSON_AddNumberToObject(o, "train_accuracy", rows[i].train_accuracy);
      cJSON_AddNumberToObject(o, "val_loss", rows[i].val_loss);
      cJSON_AddNumberToObject(o, "val_accuracy", rows[i].val_accuracy);
      cJSON_AddNumberToObject(o, "test_loss", rows[i].test_loss);
      cJSON_AddNumberToObject(o, "test_accuracy", rows[i].test_accuracy);
      cJSON_AddNumberToObject(o, "test_accuracy_se", rows[i].test_accuracy_se);
      cJSON_AddNumberToObject(o, "weight_number", (double)rows[i].weight_number);
      cJSON_AddNumberToObject(o, "train_time", rows[i].train_time);
      cJSON_AddItemToArray(list, o);
    }
    char *text = cJSON_Print(list);
    if (text) printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(list);
  } else if (format == 1) {
    printf("run,model,dataset,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,"
           "test_accuracy_se,weight_number,train_time,precision\n");
    for (int i = 0; i < n; i++) {
      const cn_run_summary *r = &rows[i];
      csv_field(r->dir);
      csv_field(r->model);
      csv_field(r->dataset);
      char vl[32], va[32];
      val_cell(vl, sizeof vl, "%.6f", r->val_loss, "");
      val_cell(va, sizeof va, "%.6f", r->val_accuracy, "");
      printf("%.6f,%.6f,%s,%s,%.6f,%.6f,%.6f,%zu,%.2f,%s\n", r->train_loss, r->train_accuracy, vl, va,
             r->test_loss, r->test_accuracy, r->test_accuracy_se, r->weight_number, r->train_time,
             cn_precision_name(r->precision));
    }
  } else {
    printf("%-12s %-8s %10s %14s %8s %12s %9s %17s %13s %10s  %s\n", "model", "dataset", "train_loss",
           "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "weight_number", "train_time",
           "run");
    int no_val = 0;
    for (int i = 0; i < n; i++) {
      const cn_run_summary *r = &rows[i];
      char acc[32], model[80], vl[32], va[32];
      no_val |= isnan(r->val_accuracy);
      val_cell(vl, sizeof vl, "%.4f", r->val_loss, "none");
      val_cell(va, sizeof va, "%.4f", r->val_accuracy, "none");
      snprintf(acc, sizeof acc, "%.4f±%.4f", r->test_accuracy, r->test_accuracy_se);
      /* a bf16 run says so beside its model; fp32 is the default */
      snprintf(model, sizeof model, "%s%s", r->model, r->precision == CN_PRECISION_BF16 ? " bf16" : "");
      printf("%-12s %-8s %10.4f %14.4f %8s %12s %9.4f %18s %13zu %9.1fs  %s\n", model, r->dataset,
             r->train_loss, r->train_accuracy, vl, va, r->test_loss, acc, r->weight_number, r->train_time, r->dir);
    }
    if (no_val) printf("val none: the run held out no validation images (val_split 0)\n");
  }
  free(rows);
  return broken;
}

int cmd_compare(int argc, char **argv) {
  int format = 0;
  char **runs = malloc(sizeof(char *) * (size_t)argc);
  int n = 0;
  if (!runs) return cli_fail("out of memory");
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--csv")) format = 1;
    else if (!strcmp(argv[i], "--json")) format = 2;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      printf("usage: cnist compare [RUN...] [--csv|--json]\n"
             "The leaderboard of runs (default: every run under runs/), best test accuracy first.\n");
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
    rc = cli_print_leaderboard(runs, n, format);
    free(runs);
    return rc;
  }
  free(runs);
  char **found;
  int count;
  if (cn_run_list("runs", &found, &count)) return cli_fail("%s (train a model first: cnist train lenet)", cn_last_error());
  if (count == 0) rc = cli_fail("runs: no finished runs yet (train a model first: cnist train lenet)");
  else rc = cli_print_leaderboard(found, count, format);
  for (int i = 0; i < count; i++) free(found[i]);
  free(found);
  return rc;
}
