/* Reading a run folder for the report: src/run's strict readers (a report
 * built from a half-written or mismatched run would mislead), then the
 * model file and the predictions the report draws from. */
#include "report/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnist/model.h"
#include "core/error.h"
#include "core/file.h"

#define PATH_SIZE CN_RUN_PATH_SIZE

static void join(char *out, const char *dir, const char *name) { snprintf(out, PATH_SIZE, "%s/%s", dir, name); }

static int load_config(cn_report_run *r) {
  return cn_run_read_dataset(r->dir, r->dataset, sizeof r->dataset, r->data_dir, sizeof r->data_dir);
}

static int load_metrics(cn_report_run *r) {
  cn_run_metrics *m = r->metrics = malloc(sizeof *r->metrics);
  if (!m) return cn_fail(CN_ENOMEM, "%s: out of memory", r->dir);
  int rc = cn_run_read_metrics(r->dir, m);
  if (rc) return rc;
  const cn_run_summary *s = &m->summary;
  snprintf(r->model, sizeof r->model, "%s", s->model);
  r->bf16 = s->precision == CN_PRECISION_BF16;
  r->train_loss = s->train_loss;
  r->train_accuracy = s->train_accuracy;
  r->val_loss = s->val_loss;
  r->val_accuracy = s->val_accuracy;
  r->test_loss = s->test_loss;
  r->test_accuracy = s->test_accuracy;
  r->test_accuracy_se = s->test_accuracy_se;
  r->weight_number = (double)s->weight_number;
  r->total_params = m->total_params;
  r->train_time = s->train_time;
  r->epochs_run = s->epochs_run;
  r->best_epoch = s->best_epoch;
  r->classes = m->classes;
  r->test_n = (int)s->test_n;
  r->confusion = m->confusion.counts;
  r->per_class = m->per_class;
  return CN_OK;
}

static int load_history(cn_report_run *r) {
  r->history = calloc((size_t)r->epochs_run, sizeof *r->history);
  if (!r->history) return cn_fail(CN_ENOMEM, "%s: out of memory", r->dir);
  int rc = cn_run_read_history(r->dir, r->history, r->epochs_run, &r->n_epochs);
  if (!rc && r->n_epochs != r->epochs_run)
    rc = cn_fail(CN_EFORMAT, "%s/" CN_RUN_HISTORY ": %d epoch rows, but " CN_RUN_METRICS " says %d epochs were run",
                 r->dir, r->n_epochs, r->epochs_run);
  return rc;
}

/* ---- model.model ---- */

static int load_model(cn_report_run *r) {
  char path[PATH_SIZE];
  join(path, r->dir, CN_RUN_MODEL);
  char *text;
  size_t size;
  int rc = cn_read_file(path, 1u << 20, &text, &size);
  if (rc == CN_ENOTFOUND) return cn_fail(rc, "%s: missing (every run folder written by cnist train has it)", path);
  if (rc) return rc;
  rc = cn_spec_parse(text, path, &r->spec);
  free(text);
  if (!rc) rc = cn_spec_check(&r->spec, r->classes, r->shapes);
  if (rc && !strstr(cn_last_error(), path)) cn_fail_context(rc, "%s", path);
  if (!rc) rc = cn_spec_stats_compute(&r->spec, &r->stats);
  return rc;
}

static int load_probs(cn_report_run *r) {
  int rc = cn_run_read_probs(r->dir, r->metrics, &r->probs, &r->labels);
  if (rc) return rc;
  r->predicted = malloc((size_t)r->test_n);
  if (!r->predicted) return cn_fail(CN_ENOMEM, "%s: out of memory", r->dir);
  for (int i = 0; i < r->test_n; i++) {
    const float *row = r->probs + (size_t)i * (size_t)r->classes;
    int best = 0;
    for (int k = 1; k < r->classes; k++)
      if (row[k] > row[best]) best = k;
    r->predicted[i] = (uint8_t)best;
  }
  return CN_OK;
}

/* ---- the run ---- */

int cn_report_run_load(const char *dir, cn_report_run **out) {
  *out = NULL;
  struct stat st;
  if (stat(dir, &st) != 0)
    return cn_fail(CN_ENOTFOUND, "%s: no such run folder", dir);
  if (!S_ISDIR(st.st_mode)) return cn_fail(CN_EINVAL, "%s: not a folder (a run folder was expected)", dir);
  cn_report_run *r = calloc(1, sizeof *r);
  if (!r) return cn_fail(CN_ENOMEM, "%s: out of memory", dir);
  if (strlen(dir) >= sizeof r->dir) {
    free(r);
    return cn_fail(CN_EINVAL, "%s: path too long", dir);
  }
  memcpy(r->dir, dir, strlen(dir) + 1);
  /* metrics.json first: it says how big everything else must be. */
  int rc = load_metrics(r);
  if (!rc) rc = load_config(r);
  if (!rc) rc = load_history(r);
  if (!rc) rc = load_model(r);
  if (!rc) rc = load_probs(r);
  if (rc) {
    cn_report_run_free(r);
    return rc;
  }
  snprintf(r->name, sizeof r->name, "%s%s", r->model, r->bf16 ? " bf16" : "");
  *out = r;
  return CN_OK;
}

void cn_report_run_free(cn_report_run *r) {
  if (!r) return;
  free(r->metrics);
  free(r->history);
  free(r->probs);
  free(r->labels);
  free(r->predicted);
  free(r);
}
