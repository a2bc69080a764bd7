/* The self-contained HTML report: run folders in, one .html file out, with
 * every chart drawn as inline SVG and every digit an inline PNG (data URI),
 * so the file opens offline in any browser and prints well. It holds the
 * leaderboard, training curves (learning-rate reductions and best epoch
 * marked), confusion matrices with per-class precision/recall/F1 and the
 * most-confused pairs, error analysis (misclassified digits with each run's
 * probabilities; digits every run gets wrong), the dataset (sample digits,
 * class distribution) and each model's layer diagram.
 *
 * The run folders are those of docs/ARCHITECTURE.md ("The run folder"):
 * model.model, config.json, history.csv, metrics.json and test_probs.bin are
 * read and checked; a missing or malformed file fails the whole report with
 * a message naming it. The digits come from the dataset named in the first
 * run's config.json; when it cannot be loaded the report is still written,
 * and says so where the digits would be. Ensemble folders (`cnist ensemble
 * --out DIR`) given in the options get a section of their own, read from
 * their ensemble.json. */
#ifndef CNIST_REPORT_H
#define CNIST_REPORT_H

#include "cnist/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int samples;          /* misclassified test digits of the first run to show: 10 */
  uint64_t seed;        /* picks those digits and the dataset's sample grid: 1 */
  int grid_digits;      /* sample digits in the dataset section: 32 */
  int max_common_errors; /* at most this many of the digits every run gets wrong: 60 */
  const char *data_dir; /* dataset folder, overriding config.json's data_dir: NULL */
  const char *title;    /* page title: NULL gives "cnist report" */
  /* Ensemble folders to show (each holding an ensemble.json): none. One
   * that cannot be read fails the report, or goes to on_broken. */
  const char *const *ensembles;
  int n_ensembles;
  /* NULL: a run that cannot be read fails the report. Set: it is left out
   * and reported here (why: its error message), and the report fails only
   * when no run can be read. */
  void (*on_broken)(const char *run, const char *why, void *user);
  void *user;
} cn_report_options;

cn_report_options cn_report_default_options(void);

/* Writes the report for runs[0..n_runs) to out_path (through a temporary
 * file and a rename, so a failed report never leaves half a file). The
 * leaderboard is sorted by test accuracy; the other sections keep the order
 * given, and the error analysis is about runs[0]. opt NULL: the defaults. */
int cn_report_write(const char *const *runs, int n_runs, const char *out_path, const cn_report_options *opt);

#ifdef __cplusplus
}
#endif
#endif
