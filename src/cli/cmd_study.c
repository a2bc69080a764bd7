/* cnist study: the study end to end: train the zoo's models in the order the
 * study introduces them, each with its own settings, then the leaderboard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *const full_study[] = {"mlp",     "mlp_dropout", "mlp512",  "mlp3",    "lenet", "custom1",
                                         "custom2", "custom3",     "custom4", "custom5", "cnn_bn"};
static const char *const quick_study[] = {"mlp", "lenet", "custom1"};

int cmd_study(int argc, char **argv) {
  int quick = 0, epochs = 0, quiet = 0, limit_train = 0, threads = 0;
  const char *dataset = NULL, *data = NULL; /* NULL: MNIST, or what --data DIR holds */
  double seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ok = 1;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("usage: cnist study [--quick] [--epochs N] [--dataset D] [--data DIR] [--seed N] [--quiet]\n"
             "Trains the zoo's models in the study's order with their own settings, then prints the\n"
             "leaderboard. --quick: mlp, lenet and custom1 for 2 epochs each (unless --epochs).\n");
      return 0;
    } else if (!strcmp(a, "--quick")) quick = 1;
    else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = 1;
    else if (!strcmp(a, "--epochs")) ok = cli_int_arg(argc, argv, &i, &epochs, 1, 100000);
    else if (!strcmp(a, "--limit-train")) ok = cli_int_arg(argc, argv, &i, &limit_train, 2, 1 << 30);
    else if (!strcmp(a, "--threads")) ok = cli_int_arg(argc, argv, &i, &threads, 1, 1024);
    else if (!strcmp(a, "--dataset")) ok = cli_str_arg(argc, argv, &i, &dataset);
    else if (!strcmp(a, "--data")) ok = cli_str_arg(argc, argv, &i, &data);
    else if (!strcmp(a, "--seed")) ok = cli_float_arg(argc, argv, &i, &seed, 0, 9007199254740992.0);
    else return cli_usage("study: unknown argument '%s'", a);
    if (!ok) return 2;
  }
  if (quick && !epochs) epochs = 2;
  const char *const *names = quick ? quick_study : full_study;
  int count = quick ? (int)(sizeof quick_study / sizeof *quick_study) : (int)(sizeof full_study / sizeof *full_study);

  cn_dataset ds;
  if (cn_dataset_load(dataset, data, &ds)) return cli_fail_last();
  char **runs = calloc((size_t)count, sizeof *runs);
  int done = 0, rc = 0;
  for (int i = 0; i < count && !rc && runs; i++) {
    cn_spec spec;
    if (cn_spec_load(names[i], &spec)) {
      rc = cli_fail_last();
      break;
    }
    if (epochs) spec.train.epochs = epochs;
    printf("\n=== %s (%d of %d): %d epochs, batch %d ===\n", names[i], i + 1, count, spec.train.epochs,
           spec.train.batch);
    cn_fit_options o = cn_fit_default_options();
    o.seed = (uint64_t)seed;
    o.threads = threads;
    o.limit_train = limit_train;
    o.dataset_name = ds.name;
    o.data_dir = ds.dir;
    cn_fit_result r;
    rc = cli_fit(&spec, &ds, &o, quiet, &r);
    if (!rc) runs[done++] = strdup(r.run_dir);
  }
  if (!runs) rc = cli_fail("out of memory");
  if (done > 0) {
    printf("\n=== leaderboard ===\n");
    cli_print_leaderboard(runs, done, 0, 0);
  }
  for (int i = 0; i < done; i++) free(runs[i]);
  free(runs);
  cn_dataset_free(&ds);
  return rc;
}
