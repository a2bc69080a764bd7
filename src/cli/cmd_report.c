/* cnist report: one self-contained HTML file explaining the runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: cnist report [RUN|ENSEMBLE...] [-o FILE] [--samples N] [--seed S] [--data DIR] [--title TEXT]\n"
             "Writes one self-contained HTML report (inline SVG charts and PNG digits; it opens offline and\n"
             "prints well) about the runs: leaderboard, training curves, confusion matrices, error analysis,\n"
             "the dataset, each model's layers and the ensembles. Prints the path written.\n\n"
             "  RUN...          run folders (default: every run under runs/ with a metrics.json)\n"
             "  ENSEMBLE...     folders of cnist ensemble --out (default: every one under runs/); named\n"
             "                  without runs, their members are the runs\n"
             "  -o, --output F  the HTML file to write (default: report.html)\n"
             "  --samples N     misclassified test digits of the first run to show (default: 10)\n"
             "  --seed S        seed for picking those digits and the sample grid (default: 1)\n"
             "  --data DIR      dataset folder, if not where the first run's config.json says\n"
             "  --title TEXT    the page's title (default: cnist report)\n");
}

/* A run that cannot be read is named and left out; the others are reported. */
static void on_broken(const char *run, const char *why, void *user) {
  (void)run;
  fprintf(stderr, "cnist: error: %s (left out of the report)\n", why);
  ++*(int *)user;
}

static void free_list(char **list, int n) {
  for (int i = 0; i < n; i++) free(list[i]);
  free(list);
}

/* The members of the named ensembles, each once, in order: the runs of a
 * report that names only ensembles. */
static int members_of(const char *const *ensembles, int n, char ***out, int *count) {
  *out = NULL;
  *count = 0;
  for (int i = 0; i < n; i++) {
    cn_ensemble_record r;
    if (cn_ensemble_read(ensembles[i], &r)) return cli_fail_last();
    char **grown = realloc(*out, sizeof **out * (size_t)(*count + r.members));
    if (!grown) {
      cn_ensemble_record_free(&r);
      return cli_fail("out of memory");
    }
    *out = grown;
    for (int m = 0; m < r.members; m++) {
      int seen = 0;
      for (int k = 0; k < *count && !seen; k++) seen = strcmp((*out)[k], r.member[m].dir) == 0;
      if (!seen && !((*out)[*count] = strdup(r.member[m].dir))) {
        cn_ensemble_record_free(&r);
        return cli_fail("out of memory");
      }
      *count += !seen;
    }
    cn_ensemble_record_free(&r);
  }
  return 0;
}

int cmd_report(int argc, char **argv) {
  cn_report_options opt = cn_report_default_options();
  int broken = 0;
  opt.on_broken = on_broken;
  opt.user = &broken;
  const char *out = "report.html";
  const char **runs = malloc(sizeof *runs * (size_t)argc);
  const char **ensembles = malloc(sizeof *ensembles * (size_t)argc);
  int n = 0, n_ensembles = 0;
  if (!runs || !ensembles) {
    free(runs);
    free(ensembles);
    return cli_fail("out of memory");
  }
  int rc = 0;
  for (int i = 1; i < argc && !rc; i++) {
    const char *a = argv[i];
    int ok = 1;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      free(runs);
      free(ensembles);
      return 0;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      ok = cli_str_arg(argc, argv, &i, &out);
    } else if (!strcmp(a, "--samples")) {
      ok = cli_int_arg(argc, argv, &i, &opt.samples, 0, 1000);
    } else if (!strcmp(a, "--seed")) {
      int seed;
      ok = cli_int_arg(argc, argv, &i, &seed, 0, 2147483647);
      opt.seed = (uint64_t)seed;
    } else if (!strcmp(a, "--data")) {
      ok = cli_str_arg(argc, argv, &i, &opt.data_dir);
    } else if (!strcmp(a, "--title")) {
      ok = cli_str_arg(argc, argv, &i, &opt.title);
    } else if (a[0] == '-' && a[1] != '\0') {
      rc = cli_usage("report: unknown option '%s'", a);
    } else if (cn_ensemble_is_folder(a)) {
      ensembles[n_ensembles++] = a;
    } else {
      runs[n++] = a;
    }
    if (!ok) rc = 2;
  }

  /* Runs: those named; else the named ensembles' members; else runs/. */
  char **found = NULL, **found_ensembles = NULL;
  int n_found = 0, n_found_ensembles = 0;
  if (!rc && n == 0 && n_ensembles > 0) {
    rc = members_of(ensembles, n_ensembles, &found, &n_found);
  } else if (!rc && n == 0) {
    if (cn_run_list("runs", &found, &n_found) || cn_ensemble_list("runs", &found_ensembles, &n_found_ensembles))
      rc = cli_fail("%s (name run folders, or train a model first: cnist train lenet)", cn_last_error());
    else if (n_found == 0)
      rc = cli_fail("runs: no finished runs yet (name run folders, or train a model first: cnist train lenet)");
  }
  if (!rc) {
    opt.ensembles = n_ensembles ? ensembles : (const char *const *)found_ensembles;
    opt.n_ensembles = n_ensembles ? n_ensembles : n_found_ensembles;
    if (cn_report_write(n ? runs : (const char *const *)found, n ? n : n_found, out, &opt))
      rc = cli_fail_last();
    else
      rc = printf("%s\n", out) < 0 || broken;
  }
  free_list(found, n_found);
  free_list(found_ensembles, n_found_ensembles);
  free(runs);
  free(ensembles);
  return rc;
}
