/* cnist train: fit a model from the zoo or a model file, like Keras fit. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dist/dist.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void on_event(const cn_fit_event *ev, void *user) {
  if (*(const int *)user) return; /* --quiet */
  cn_progress_print(stdout, ev, isatty(fileno(stdout)));
}

static void print_result(const cn_fit_result *r, const cn_dataset *ds) {
  printf("\nRun folder: %s\n", r->run_dir);
  printf("Best epoch: %d of %d run; its weights (best.safetensors) evaluated:\n", r->best_epoch, r->epochs_run);
  printf("  %-6s %8s %9s\n", "split", "loss", "accuracy");
  if (isnan(r->train_accuracy)) printf("  %-6s %18s\n", "train", "none (not evaluated)");
  else printf("  %-6s %8.4f %9.4f\n", "train", r->train_loss, r->train_accuracy);
  if (r->val_split > 0) printf("  %-6s %8.4f %9.4f\n", "val", r->val_loss, r->val_accuracy);
  else printf("  %-6s %18s\n", "val", "none (val_split 0)");
  printf("  %-6s %8.4f %9.4f\n", "test", r->test_loss, r->test_accuracy);
  char split[48];
  if (r->val_split > 0) snprintf(split, sizeof split, "split %.0f/%.0f", 100 * (1 - r->val_split), 100 * r->val_split);
  else snprintf(split, sizeof split, "no validation split");
  printf("Test accuracy: %.2f%% ± %.2f%% (%s test set, %lld images; seed %llu, %s, %d epochs planned, %d run; "
         "%.1f s training%s)\n",
         100 * r->test_accuracy, 100 * r->test_accuracy_se, ds->name, (long long)r->test_n,
         (unsigned long long)r->seed, split, r->epochs_planned, r->epochs_run, r->train_time,
         r->precision == CN_PRECISION_BF16 ? "; bf16 multiplies" : "");
}

/* cn_fit with the progress display and SIGINT/SIGTERM handling; returns
 * the exit code (130 if interrupted). */
static int fit(const cn_spec *spec, const cn_dataset *ds, cn_fit_options *o, int quiet, cn_fit_result *r) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  stop_requested = 0;
  o->stop = &stop_requested;
  o->on_event = on_event;
  o->user = &quiet;
  int rc = cn_fit(spec, ds, o, r);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (rc == CN_EINTR) {
    if (!o->group || o->group->rank == 0) /* a group's rank 0 speaks for it */
      fprintf(stderr, "\ncnist: %s\nResume with: cnist train --resume %s\n", cn_last_error(), r->run_dir);
    return 130;
  }
  return rc ? cli_fail_last() : 0;
}

int cli_fit(const cn_spec *spec, const cn_dataset *ds, cn_fit_options *o, int quiet, cn_fit_result *r) {
  int rc = fit(spec, ds, o, quiet, r);
  if (!rc) print_result(r, ds);
  return rc;
}

static int usage_text(void) {
  char names[128];
  printf("usage: cnist train MODEL [options]\n"
         "       cnist train --resume RUN [--epochs N] [--threads N] [--data DIR] [--quiet]\n\n"
         "MODEL is a zoo name (cnist models) or a model file; its settings are the defaults.\n"
         "  --dataset mnist|fashion   dataset (default mnist)\n"
         "  --data DIR                folder with the four IDX files (raw or .gz)\n"
         "  --epochs N --batch N --lr X --optimizer %s\n"
         "  --val-split F             fraction of train held out for validation, 0 for none (default: the\n"
         "                            model's train line val_split=, else 0.15)\n"
         "  --seed N                  seed of split, init, shuffle and dropout (default 1)\n"
         "  --seeds N,N,...           one run per seed, one after another (with --run-dir DIR: DIR-seedN)\n"
         "                            (under mpirun -np N: the seeds spread over the processes; without --seeds\n"
         "                            the processes split every batch of one run, with one process's results)\n"
         "  --threads N               worker threads (default: $CNIST_THREADS or all cores)\n",
         cli_join(names, sizeof names, cn_opt_names(), "|", NULL));
  cli_precision_help();
  printf("  --augment 'OPTIONS'       replaces the model's augment line, e.g. 'rotation=15 zoom=0.1 shift=0.1'\n"
         "  --no-augment              trains without the model's augmentation\n"
         "  --schedule 'KIND [OPTIONS]' replaces the model's schedule line, e.g. 'cosine warmup=0.02'\n"
         "  --run-dir DIR             where to write the run (default runs/<model>-<time>)\n"
         "  --resume RUN              continue an interrupted run (with --epochs N: train it to N epochs)\n"
         "  --limit-train N           use only the first N training images (quick runs)\n"
         "  --limit-test N            evaluate only the first N test images\n"
         "  --no-train-eval           leave the training set out of the final evaluation (as speedrun does)\n"
         "  --quiet                   print only the final result\n");
  return 0;
}

/* "1,2,3" into seeds (at most max); returns how many, or 0 after a usage message. */
static int parse_seeds(const char *list, uint64_t *seeds, int max) {
  int n = 0;
  for (const char *p = list;;) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || *p == '-' || errno || (*end != ',' && *end != '\0') || n == max) {
      cli_usage("option --seeds wants up to %d whole numbers separated by commas (e.g. 1,2,3), not '%s'", max, list);
      return 0;
    }
    for (int k = 0; k < n; k++)
      if (seeds[k] == v) {
        cli_usage("option --seeds names seed %llu twice", v);
        return 0;
      }
    seeds[n++] = v;
    if (*end == '\0') return n;
    p = end + 1;
  }
}

/* Trains spec once per seed, each into its own run folder; stops at the
 * first failure or interruption. */
static int train_seeds(const cn_spec *spec, const cn_dataset *ds, const cn_fit_options *base, int quiet,
                       const uint64_t *seeds, int n) {
  for (int k = 0; k < n; k++) {
    cn_fit_options o = *base;
    char dir[4200];
    o.seed = seeds[k];
    if (base->run_dir) {
      if (cn_run_seed_dir(base->run_dir, seeds[k], dir, sizeof dir)) return cli_fail_last();
      o.run_dir = dir;
    }
    printf("%sSeed %llu (%d of %d)\n", k ? "\n" : "", (unsigned long long)seeds[k], k + 1, n);
    cn_fit_result r;
    int rc = cli_fit(spec, ds, &o, quiet, &r);
    if (rc) return rc;
  }
  return 0;
}

/* train --seeds under MPI: what every rank's seeds share. */
typedef struct {
  const cn_spec *spec;
  const cn_dataset *ds;
  const cn_fit_options *base;
  int quiet, n;
  const uint64_t *seeds;
} seeds_job;

static int train_one_seed(int k, cn_fit_result *r, void *user) {
  const seeds_job *j = user;
  cn_fit_options o = *j->base;
  char dir[4200];
  o.seed = j->seeds[k];
  if (cn_run_seed_dir(j->base->run_dir, j->seeds[k], dir, sizeof dir)) return cli_fail_last();
  o.run_dir = dir;
  printf("Rank %d: seed %llu (%d of %d) into %s\n", dist_rank(), (unsigned long long)j->seeds[k], k + 1, j->n, dir);
  fflush(stdout);
  return fit(j->spec, j->ds, &o, j->quiet, r);
}

/* Rank 0, once every rank is done: what one process prints per seed. */
static void report_seed(int k, int rank, int rc, const cn_fit_result *r, void *user) {
  const seeds_job *j = user;
  printf("\nSeed %llu (%d of %d, rank %d)\n", (unsigned long long)j->seeds[k], k + 1, j->n, rank);
  if (!rc) print_result(r, j->ds);
  else if (rc == DIST_SKIPPED) printf("not trained: an earlier seed of rank %d failed\n", rank);
  else if (rc == 130) printf("interrupted; resume with: cnist train --resume %s\n", r->run_dir);
  else printf("failed (exit code %d): see rank %d's messages above\n", rc, rank);
}

/* The options train under several processes cannot take; 0 when fine.
 * Without --seeds the processes split every batch of one run (any
 * options, --resume too); with --seeds (never with --resume) each trains
 * whole seeds. */
static int check_processes(int n_seeds, const char *seed_list, const char *run_dir) {
  int size = dist_size();
  if (!seed_list) return 0;
  if (n_seeds < size)
    return cli_usage("train: %d MPI processes for %d seeds: each process trains whole seeds, so give at least %d "
                     "seeds or start at most %d processes", size, n_seeds, size, n_seeds);
  if (!run_dir)
    return cli_usage("train: under MPI give --run-dir DIR (each process writes DIR-seedN): default folder names "
                     "from the clock would collide between processes");
  return 0;
}

/* Every rank gives its status (an exit code, its message printed) and all
 * stop when any failed, so that no rank waits in a collective for one that
 * gave up. Returns the exit code to go on with (0: all fine). */
static int agree(int rc) {
  int first = dist_first_failure(rc);
  if (first < 0 || rc) return rc;
  fprintf(stderr, "cnist: error: rank %d of %d could not load the model or the data (its message above); every rank "
                  "stops\n", first, dist_size());
  return 1;
}

int cmd_train(int argc, char **argv) {
  cn_fit_options o = cn_fit_default_options();
  const char *model = NULL, *dataset = NULL, *data = NULL, *optimizer = NULL, *resume = NULL, *seed_list = NULL;
  const char *augment = NULL, *schedule = NULL;
  int epochs = 0, batch = 0, quiet = 0, has_precision = 0, no_augment = 0;
  double lr = 0, split = -1, seed = -1;
  /* The options a resumed run cannot take: they are fixed when it starts. */
  static const char *const fixed[] = {"--dataset",     "--batch",      "--lr",      "--optimizer",   "--val-split",
                                      "--seed",        "--seeds",      "--run-dir", "--limit-train", "--limit-test",
                                      "--augment",     "--no-augment", "--schedule"};
  const char *fixed_given = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ok = 1;
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
      if (!strcmp(a, fixed[k]) && !fixed_given) fixed_given = fixed[k];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage_text();
    else if (!strcmp(a, "--dataset")) ok = cli_str_arg(argc, argv, &i, &dataset);
    else if (!strcmp(a, "--data")) ok = cli_str_arg(argc, argv, &i, &data);
    else if (!strcmp(a, "--epochs")) ok = cli_int_arg(argc, argv, &i, &epochs, 1, 100000);
    else if (!strcmp(a, "--batch")) ok = cli_int_arg(argc, argv, &i, &batch, 1, 65536);
    else if (!strcmp(a, "--lr")) ok = cli_float_arg(argc, argv, &i, &lr, 1e-12, 1e6);
    else if (!strcmp(a, "--optimizer")) ok = cli_str_arg(argc, argv, &i, &optimizer);
    else if (!strcmp(a, "--val-split")) ok = cli_float_arg(argc, argv, &i, &split, 0, 0.9);
    else if (!strcmp(a, "--seed")) ok = cli_float_arg(argc, argv, &i, &seed, 0, 9007199254740992.0);
    else if (!strcmp(a, "--seeds")) ok = cli_str_arg(argc, argv, &i, &seed_list);
    else if (!strcmp(a, "--threads")) ok = cli_int_arg(argc, argv, &i, &o.threads, 1, 1024);
    else if (!strcmp(a, "--precision")) ok = has_precision = cli_precision_arg(argc, argv, &i, &o.precision);
    else if (!strcmp(a, "--augment")) ok = cli_str_arg(argc, argv, &i, &augment);
    else if (!strcmp(a, "--no-augment")) no_augment = 1;
    else if (!strcmp(a, "--schedule")) ok = cli_str_arg(argc, argv, &i, &schedule);
    else if (!strcmp(a, "--run-dir")) ok = cli_str_arg(argc, argv, &i, &o.run_dir);
    else if (!strcmp(a, "--resume")) ok = cli_str_arg(argc, argv, &i, &resume);
    else if (!strcmp(a, "--limit-train")) ok = cli_int_arg(argc, argv, &i, &o.limit_train, 2, 1 << 30);
    else if (!strcmp(a, "--limit-test")) ok = cli_int_arg(argc, argv, &i, &o.limit_test, 1, 1 << 30);
    else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = 1;
    else if (!strcmp(a, "--no-train-eval")) o.skip_train_eval = 1;
    else if (a[0] == '-') return cli_usage("train: unknown option '%s'", a);
    else if (!model) model = a;
    else return cli_usage("train: more than one model given ('%s' and '%s')", model, a);
    if (!ok) return 2;
  }
  if (seed >= 0) o.seed = (uint64_t)seed;
  uint64_t seeds[64];
  int n_seeds = 0;
  if (seed_list && seed >= 0) return cli_usage("train: give --seed or --seeds, not both");
  if (seed_list && !resume && !(n_seeds = parse_seeds(seed_list, seeds, 64))) return 2;
  if (has_precision && resume)
    return cli_usage("train: --resume continues in the run's own precision; drop --precision");
  if (fixed_given && resume)
    return cli_usage("train: %s cannot change in a resumed run (it keeps the settings it started with); drop %s "
                     "(--epochs N extends the run)", fixed_given, fixed_given);
  if (split >= 0) o.val_split = split;
  if (augment && no_augment) return cli_usage("train: give --augment or --no-augment, not both");
  int rc = dist_size() > 1 ? check_processes(n_seeds, seed_list, o.run_dir) : 0;
  if (rc) return rc;

  cn_spec spec, *use = NULL;
  char ds_name[32] = "", ds_dir[4096] = ""; /* a resumed run's; else the options' */
  if (resume) {
    if (model) return cli_usage("train: give either a model or --resume, not both");
    struct stat st;
    if (stat(resume, &st) != 0 || !S_ISDIR(st.st_mode))
      return cli_fail("train: --resume: no run folder named '%s'", resume);
    o.resume = 1;
    o.run_dir = resume;
    o.epochs = epochs;
    if (cn_run_read_dataset(resume, ds_name, sizeof ds_name, ds_dir, sizeof ds_dir)) return cli_fail_last();
  } else {
    if (!model) return cli_usage("train: which model? (a zoo name from `cnist models` or a model file)");
    /* A model file one rank cannot read: every rank must learn of it
     * before any goes on (agreed below). */
    if (cn_spec_load(model, &spec)) return agree(cli_fail_last());
    if (epochs) spec.train.epochs = epochs;
    if (batch) spec.train.batch = batch;
    if (optimizer) {
      int k = 0;
      while (k < CN_OPT_KINDS && strcmp(optimizer, cn_opt_name((cn_opt_kind)k))) k++;
      if (k == CN_OPT_KINDS) {
        char names[128];
        return cli_usage("train: --optimizer wants %s, not '%s'", cli_join(names, sizeof names, cn_opt_names(), ", ", " or "),
                         optimizer);
      }
      if ((cn_opt_kind)k != spec.train.optim.kind) spec.train.optim = cn_optim_spec_default((cn_opt_kind)k);
    }
    if (lr > 0) spec.train.optim.lr = (float)lr;
    /* The run folder's model.model records what was trained, overrides included. */
    if (no_augment) memset(&spec.train.augment, 0, sizeof spec.train.augment);
    if (augment && cn_spec_override(&spec, "augment", augment, "option --augment"))
      return agree(cli_usage("%s", cn_last_error()));
    if (schedule && cn_spec_override(&spec, "schedule", schedule, "option --schedule"))
      return agree(cli_usage("%s", cn_last_error()));
    use = &spec;
  }
  if (dataset) snprintf(ds_name, sizeof ds_name, "%s", dataset);
  else if (data) ds_name[0] = '\0'; /* what DIR holds, by content; resume then checks it against the run */
  if (data) snprintf(ds_dir, sizeof ds_dir, "%s", data);
  cn_dataset ds;
  /* Neither --dataset nor a run's: MNIST, or what --data DIR holds by content. */
  if (cn_dataset_load(ds_name[0] ? ds_name : NULL, ds_dir[0] ? ds_dir : NULL, &ds)) return agree(cli_fail_last());
  if ((rc = agree(0))) {
    cn_dataset_free(&ds);
    return rc;
  }
  o.dataset_name = ds.name;
  o.data_dir = ds.dir;
  if (dist_size() > 1 && n_seeds) {
    seeds_job job = {use, &ds, &o, quiet, n_seeds, seeds};
    rc = dist_launch_seeds(n_seeds, train_one_seed, report_seed, &job);
  } else if (dist_size() > 1) {
    /* One run, every batch split across the ranks; rank 0 reports it. */
    o.group = dist_group();
    cn_fit_result r;
    rc = dist_rank() == 0 ? cli_fit(use, &ds, &o, quiet, &r) : fit(use, &ds, &o, 1, &r);
  } else if (n_seeds) {
    rc = train_seeds(use, &ds, &o, quiet, seeds, n_seeds);
  } else {
    cn_fit_result r;
    rc = cli_fit(use, &ds, &o, quiet, &r);
  }
  cn_dataset_free(&ds);
  return rc;
}
