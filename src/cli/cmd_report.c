/* cnist report: one self-contained HTML file explaining the runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: cnist report [RUN...] [-o FILE] [--samples N] [--seed S] [--data DIR] [--title TEXT]\n"
             "Writes one self-contained HTML report (inline SVG charts and PNG digits; it opens offline and\n"
             "prints well) about the runs: leaderboard, training curves, confusion matrices, error analysis,\n"
             "the dataset and each model's layers. Prints the path written.\n\n"
             "  RUN...          run folders (default: every run under runs/ with a metrics.json)\n"
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

int cmd_report(int argc, char **argv) {
  cn_report_options opt = cn_report_default_options();
  int broken = 0;
  opt.on_broken = on_broken;
  opt.user = &broken;
  const char *out = "report.html";
  const char **runs = malloc(sizeof *runs * (size_t)argc);
  int n = 0;
  if (!runs) return cli_fail("out of memory");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ok = 1;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      free(runs);
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
      free(runs);
      return cli_usage("report: unknown option '%s'", a);
    } else {
      runs[n++] = a;
    }
    if (!ok) {
      free(runs);
      return 2;
    }
  }

  char **found = NULL;
  int n_found = 0, rc;
  if (n == 0) {
    if (cn_run_list("runs", &found, &n_found)) {
      free(runs);
      return cli_fail("%s (name run folders, or train a model first: cnist train lenet)", cn_last_error());
    }
    if (n_found == 0) {
      free(runs);
      free(found);
      return cli_fail("runs: no finished runs yet (name run folders, or train a model first: cnist train lenet)");
    }
  }
  if (cn_report_write(n ? runs : (const char *const *)found, n ? n : n_found, out, &opt))
    rc = cli_fail_last();
  else
    rc = printf("%s\n", out) < 0 || broken;
  for (int i = 0; i < n_found; i++) free(found[i]);
  free(found);
  free(runs);
  return rc;
}
