/* cnist eval: loss, accuracy, confusion matrix and per-class metrics of a
 * run's best weights (or any checkpoint) on one split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static void print_text(const cn_eval_result *r, const char *split, const cn_dataset *ds, cn_precision precision,
                       int views) {
  const cn_confusion *c = &r->confusion;
  char tta[48] = "";
  if (views > 1) snprintf(tta, sizeof tta, "; mean of %d views", views);
  printf("%s %s: loss %.4f, accuracy %.4f ± %.4f (n = %lld%s%s)\n\n", ds->name, split, r->loss, r->accuracy,
         cn_accuracy_se(r->accuracy, r->n), (long long)r->n, precision == CN_PRECISION_BF16 ? "; bf16 multiplies" : "",
         tta);
  printf("confusion matrix (rows: true class, columns: predicted)\n      ");
  for (int p = 0; p < c->classes; p++) printf("%6d", p);
  printf("\n");
  for (int t = 0; t < c->classes; t++) {
    printf("%6d", t);
    for (int p = 0; p < c->classes; p++) printf("%6lld", (long long)c->counts[t * c->classes + p]);
    printf("\n");
  }
  printf("\n%-14s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
  for (int k = 0; k < c->classes; k++) {
    cn_class_metrics m = cn_confusion_class(c, k);
    printf("%-14s %9.4f %9.4f %9.4f %8lld\n", k < ds->classes ? ds->class_names[k] : "?", m.precision, m.recall,
           m.f1, (long long)m.support);
  }
  int truth[5], pred[5];
  int64_t count[5];
  int n = cn_confusion_top_pairs(c, 5, truth, pred, count);
  printf("\nmost confused pairs (true -> predicted)\n");
  for (int i = 0; i < n; i++)
    printf("  %s -> %s: %lld\n", truth[i] < ds->classes ? ds->class_names[truth[i]] : "?",
           pred[i] < ds->classes ? ds->class_names[pred[i]] : "?", (long long)count[i]);
  if (n == 0) printf("  none\n");
}

static int print_json(const cn_eval_result *r, const char *split, const cn_dataset *ds, cn_precision precision,
                      int views) {
  char *text = cn_eval_result_json(r, ds->name, split, precision, views,
                                   r->confusion.classes <= ds->classes ? ds->class_names : NULL);
  if (!text) return cli_fail_last();
  printf("%s\n", text);
  free(text);
  return 0;
}

int cmd_eval(int argc, char **argv) {
  const char *target = NULL, *dataset = NULL, *data = NULL, *split = "test";
  int json = 0, batch = 100, views = 1;
  cn_precision precision = CN_PRECISION_FP32;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ok = 1;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      char names[128];
      printf("usage: cnist eval RUN|CHECKPOINT [--split test|val|train] [--dataset D] [--data DIR] [--json]\n"
             "                  [--batch N] [--tta N] [--precision %s]\n\n"
             "  --batch N   images per forward pass (1-65536, default 100; the result does not depend on it)\n"
             "  --tta N     test-time augmentation: the mean of N views of each image (1 to 9: itself,\n"
             "              one-pixel shifts, +-10 degree rotations, 0.9 and 1.1 zooms; default 1)\n",
             cli_join(names, sizeof names, cn_precision_names(), "|", NULL));
      cli_precision_help();
      return 0;
    } else if (!strcmp(a, "--dataset")) ok = cli_str_arg(argc, argv, &i, &dataset);
    else if (!strcmp(a, "--data")) ok = cli_str_arg(argc, argv, &i, &data);
    else if (!strcmp(a, "--split")) ok = cli_str_arg(argc, argv, &i, &split);
    else if (!strcmp(a, "--batch")) ok = cli_int_arg(argc, argv, &i, &batch, 1, 65536);
    else if (!strcmp(a, "--tta")) ok = cli_int_arg(argc, argv, &i, &views, 1, CN_TTA_MAX_VIEWS);
    else if (!strcmp(a, "--json")) json = 1;
    else if (!strcmp(a, "--precision")) ok = cli_precision_arg(argc, argv, &i, &precision);
    else if (a[0] == '-') return cli_usage("eval: unknown option '%s'", a);
    else if (!target) target = a;
    else return cli_usage("eval: more than one run given");
    if (!ok) return 2;
  }
  if (!target) return cli_usage("eval: which run folder or checkpoint?");
  if (strcmp(split, "test") && strcmp(split, "val") && strcmp(split, "train"))
    return cli_usage("eval: --split wants test, val or train, not '%s'", split);

  /* A run folder gives its best weights, its dataset and its split. */
  struct stat st;
  int is_run = stat(target, &st) == 0 && S_ISDIR(st.st_mode);
  char checkpoint[4200], ds_name[32] = "", ds_dir[4096] = "", ckpt_dataset[32] = "";
  uint64_t seed = 1;
  double val_split = 0.15;
  int limit_train = 0, limit_test = 0;
  if (is_run) {
    if (cn_run_file_path(target, CN_RUN_FILE_BEST, checkpoint, sizeof checkpoint) ||
        cn_run_read_dataset(target, ds_name, sizeof ds_name, ds_dir, sizeof ds_dir) ||
        cn_run_read_settings(target, &seed, &val_split, &limit_train, &limit_test))
      return cli_fail_last();
  } else {
    snprintf(checkpoint, sizeof checkpoint, "%s", target);
    if (strcmp(split, "test"))
      fprintf(stderr, "cnist: note: a bare checkpoint does not know its split; using seed 1 and 0.15\n");
    /* A run's checkpoint names its dataset; older ones do not. */
    cn_meta *meta;
    if (cn_checkpoint_read_meta(checkpoint, &meta)) return cli_fail_last();
    const char *trained_on = cn_meta_get(meta, CN_CHECKPOINT_KEY_DATASET);
    snprintf(ckpt_dataset, sizeof ckpt_dataset, "%s", trained_on ? trained_on : "");
    cn_meta_free(meta);
    if (!dataset && !data && !strcmp(ckpt_dataset, CN_DATASET_OWN)) {
      return cli_fail("%s was trained on data of its own (" CN_CHECKPOINT_KEY_DATASET " \"own\"): name that data's folder with "
                      "--data DIR", checkpoint);
    }
    if (!data) snprintf(ds_name, sizeof ds_name, "%s", ckpt_dataset);
  }
  if (is_run && val_split == 0 && !strcmp(split, "val"))
    return cli_fail("%s: trained without a validation split (val_split 0): there is no validation set to evaluate; "
                    "use --split train or test", target);
  if (dataset) snprintf(ds_name, sizeof ds_name, "%s", dataset);
  else if (data) ds_name[0] = '\0'; /* other data: what it holds, by content */
  if (data) snprintf(ds_dir, sizeof ds_dir, "%s", data);

  cn_model *m;
  if (cn_checkpoint_load_model(checkpoint, &m)) return cli_fail_last();
  if (cn_model_set_precision(m, precision)) {
    cn_model_free(m);
    return cli_fail_last();
  }
  cn_dataset ds;
  int is_test = !strcmp(split, "test"); /* then the training images are not read */
  if ((is_test ? cn_dataset_load_test : cn_dataset_load)(ds_name[0] ? ds_name : NULL, ds_dir[0] ? ds_dir : NULL,
                                                         &ds)) {
    cn_model_free(m);
    return cli_fail_last();
  }
  /* Evaluating a run on other data may be meant (--data), but is said. */
  if (is_run && cn_run_check_data(target, &ds, !is_test, is_test))
    fprintf(stderr, "cnist: warning: %s\n", cn_last_error());
  if (ckpt_dataset[0] && strcmp(ckpt_dataset, CN_DATASET_OWN) && strcmp(ckpt_dataset, ds.name))
    fprintf(stderr, "cnist: warning: %s was trained on %s, and is evaluated on %s\n", checkpoint, ckpt_dataset,
            ds.name);
  int rc = 0;
  cn_eval_result r;
  if (!strcmp(split, "test")) {
    rc = cn_evaluate_tta(m, &ds.test, NULL, ds.test.n, batch, views, NULL, &r);
  } else {
    int *train_idx, *val_idx, n_train, n_val;
    int n_use = limit_train > 0 && limit_train < ds.train.n ? limit_train : ds.train.n;
    rc = cn_split_indices(n_use, val_split, seed, &train_idx, &n_train, &val_idx, &n_val);
    if (!rc) {
      int is_val = !strcmp(split, "val");
      rc = cn_evaluate_tta(m, &ds.train, is_val ? val_idx : train_idx, is_val ? n_val : n_train, batch, views, NULL,
                           &r);
      free(train_idx);
      free(val_idx);
    }
  }
  if (rc) rc = cli_fail_last();
  else if (json) rc = print_json(&r, split, &ds, precision, views);
  else print_text(&r, split, &ds, precision, views);
  cn_dataset_free(&ds);
  cn_model_free(m);
  return rc;
}
