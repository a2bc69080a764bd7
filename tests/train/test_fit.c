/* The fit loop on real MNIST: a smoke training, a complete run folder,
 * honest split, and exact resume after an interruption at any batch. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnist.h"
#include "run/run.h"
#include "test.h"

static cn_dataset ds;

static const char *mlp_text =
    "input 28x28x1\n"
    "flatten\n"
    "dense 64 activation=relu\n"
    "dropout 0.2\n"
    "dense 10 activation=softmax\n"
    "train optimizer=adam lr=0.002 batch=32 epochs=4\n"
    "callback checkpoint monitor=val_accuracy\n"
    "callback reduce_lr monitor=val_loss factor=0.5 patience=1 min_lr=0.0001\n"
    "callback early_stop monitor=val_accuracy patience=3\n";

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strdup(buf);
}

/* history.csv without the seconds column (timing differs between runs). */
static char *history_without_time(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/history.csv", dir);
  char *text = read_all(path);
  if (!text) return NULL;
  char *out = malloc(strlen(text) + 1), *o = out;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *last = strrchr(line, ',');
    size_t len = last ? (size_t)(last - line) : strlen(line);
    memcpy(o, line, len);
    o += len;
    *o++ = '\n';
  }
  *o = '\0';
  free(text);
  return out;
}

static int file_exists(const char *dir, const char *name) {
  char path[4200];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &st) == 0 && st.st_size > 0;
}

static void test_smoke_and_run_folder(void) {
  /* One epoch of an MLP (784-512-256-10, batch 8) on 2,000 training images
   * (2,353 before the 15% validation split) must score above 85% on the
   * first 1,000 test images. */
  cn_spec spec;
  CHECK(cn_spec_load("mlp3", &spec) == 0);
  spec.train.epochs = 1;
  spec.train.batch = 8;
  cn_fit_options o = cn_fit_default_options();
  o.run_dir = CN_TEST_TMP "/smoke";
  o.limit_train = 2353;
  o.limit_test = 1000;
  o.threads = 1;
  cn_fit_result r;
  int rc = cn_fit(&spec, &ds, &o, &r);
  CHECK_MSG(rc == 0, "%s", cn_last_error());
  CHECK_MSG(r.test_accuracy > 0.85, "test accuracy %.4f", r.test_accuracy);
  CHECK(r.test_n == 1000 && r.epochs_run == 1 && r.best_epoch == 1);
  CHECK(r.weight_number == 535818);
  const char *files[] = {"model.model", "config.json", "history.csv", "best.safetensors", "last.safetensors",
                         "metrics.json", "test_probs.bin"};
  for (int i = 0; i < 7; i++) CHECK_MSG(file_exists(o.run_dir, files[i]), "%s missing", files[i]);
  cn_run_summary s;
  CHECK(cn_run_read_summary(o.run_dir, &s) == 0);
  CHECK(s.test_accuracy == r.test_accuracy && s.weight_number == 535818 && !strcmp(s.model, "mlp3"));
  /* The checkpoints load on their own and reproduce the reported accuracy. */
  cn_model *m;
  CHECK(cn_checkpoint_load_model(CN_TEST_TMP "/smoke/best.safetensors", &m) == 0);
  cn_eval_result e;
  CHECK(cn_evaluate(m, &ds.test, NULL, 1000, 50, NULL, &e) == 0);
  CHECK(e.accuracy == r.test_accuracy);
  cn_model_free(m);
  CHECK(cn_checkpoint_load_model(CN_TEST_TMP "/smoke/last.safetensors", &m) == 0);
  cn_model_free(m);
  /* A second run into the same folder is refused rather than overwriting it. */
  CHECK_ERROR(cn_fit(&spec, &ds, &o, &r), CN_EINVAL, "already holds a run");
}

static void test_split(void) {
  int *a, *b, na, nb, *c, *d, nc, nd;
  CHECK(cn_split_indices(1000, 0.15, 7, &a, &na, &b, &nb) == 0);
  CHECK(cn_split_indices(1000, 0.15, 7, &c, &nc, &d, &nd) == 0);
  CHECK(na == 850 && nb == 150);
  CHECK(memcmp(a, c, sizeof(int) * 850) == 0 && memcmp(b, d, sizeof(int) * 150) == 0);
  char seen[1000] = {0};
  for (int i = 0; i < na; i++) seen[a[i]]++;
  for (int i = 0; i < nb; i++) seen[b[i]] += 2;
  int ok = 1;
  for (int i = 0; i < 1000; i++) ok &= seen[i] == 1 || seen[i] == 2;
  CHECK(ok); /* every image in exactly one side */
  free(a), free(b), free(c), free(d);
}

/* Stops a run at a chosen (epoch, batch) through the stop flag. */
typedef struct {
  volatile sig_atomic_t flag;
  int epoch, batch;
} stopper;

static void stop_at(const cn_fit_event *ev, void *user) {
  stopper *s = user;
  if (ev->kind == CN_FIT_BATCH && ev->epoch == s->epoch && ev->batch >= s->batch) s->flag = 1;
  if (ev->kind == CN_FIT_EPOCH_END && ev->epoch == s->epoch && s->batch == 0) s->flag = 1;
}

static void run_interrupted(const cn_spec *spec, const char *dir, int epoch, int batch) {
  stopper s = {0, epoch, batch};
  cn_fit_options o = cn_fit_default_options();
  o.run_dir = dir;
  o.limit_train = 1500;
  o.limit_test = 500;
  o.threads = 1;
  o.seed = 5;
  o.stop = &s.flag;
  o.on_event = stop_at;
  o.user = &s;
  cn_fit_result r;
  CHECK_ERROR(cn_fit(spec, &ds, &o, &r), CN_EINTR, "interrupted");
  /* Interrupted again straight after resuming, before any batch. */
  o.resume = 1;
  s.flag = 1;
  CHECK_ERROR(cn_fit(NULL, &ds, &o, &r), CN_EINTR, "interrupted");
  s.flag = 0;
  s.epoch = -1;
  CHECK_MSG(cn_fit(NULL, &ds, &o, &r) == 0, "%s", cn_last_error());
}

static void test_resume_equivalence(void) {
  cn_spec spec;
  CHECK(cn_spec_parse(mlp_text, "resume.model", &spec) == 0);
  cn_fit_options o = cn_fit_default_options();
  o.run_dir = CN_TEST_TMP "/straight";
  o.limit_train = 1500;
  o.limit_test = 500;
  o.threads = 1;
  o.seed = 5;
  cn_fit_result whole;
  CHECK_MSG(cn_fit(&spec, &ds, &o, &whole) == 0, "%s", cn_last_error());
  char *want = history_without_time(o.run_dir);
  cn_run_summary straight;
  CHECK(cn_run_read_summary(o.run_dir, &straight) == 0);
  CHECK(want != NULL && strlen(want) > 60);

  run_interrupted(&spec, CN_TEST_TMP "/cut-mid-epoch", 2, 17);
  run_interrupted(&spec, CN_TEST_TMP "/cut-at-epoch-end", 3, 0);
  const char *dirs[] = {CN_TEST_TMP "/cut-mid-epoch", CN_TEST_TMP "/cut-at-epoch-end"};
  for (int i = 0; i < 2; i++) {
    char *got = history_without_time(dirs[i]);
    CHECK_MSG(got && want && !strcmp(got, want), "history differs after resume:\n%s\nvs\n%s", got, want);
    cn_run_summary s;
    CHECK(cn_run_read_summary(dirs[i], &s) == 0);
    CHECK_MSG(s.test_accuracy == straight.test_accuracy && s.test_loss == straight.test_loss &&
                  s.train_loss == straight.train_loss && s.val_loss == straight.val_loss,
              "test %.9f/%.9f vs %.9f/%.9f", s.test_accuracy, s.test_loss, straight.test_accuracy, straight.test_loss);
    free(got);
  }
  free(want);
}

static void test_divergence_guard(void) {
  /* SGD at a learning rate of 1e5 drives lenet's loss to NaN within a few
   * batches: the run stops, names where, and keeps its last good state. */
  cn_spec spec;
  CHECK(cn_spec_load("lenet", &spec) == 0);
  spec.train.optim = cn_optim_spec_default(CN_OPT_SGD);
  spec.train.optim.lr = 1e5f;
  spec.train.epochs = 2;
  cn_fit_options o = cn_fit_default_options();
  o.run_dir = CN_TEST_TMP "/diverge";
  o.limit_train = 3000;
  o.threads = 1;
  cn_fit_result r;
  CHECK_ERROR(cn_fit(&spec, &ds, &o, &r), CN_EDIVERGED, "at epoch 1, batch");
  /* The last good state (the start of training) is still there and loads. */
  cn_model *m;
  CHECK(cn_checkpoint_load_model(CN_TEST_TMP "/diverge/last.safetensors", &m) == 0);
  cn_model_free(m);
}

/* A spec built in code with a monitor no history column has is refused
 * before anything is written, not silently monitored as val_accuracy. */
static void test_unknown_monitor(void) {
  cn_spec spec;
  CHECK(cn_spec_parse(mlp_text, "mlp.model", &spec) == 0);
  snprintf(spec.callbacks[1].monitor, sizeof spec.callbacks[1].monitor, "val_acc");
  cn_fit_options o = cn_fit_default_options();
  o.run_dir = CN_TEST_TMP "/bad-monitor";
  o.limit_train = 600;
  cn_fit_result r;
  CHECK_ERROR(cn_fit(&spec, &ds, &o, &r), CN_EINVAL, "callback 2 (reduce_lr): unknown monitor \"val_acc\"");
  CHECK(!file_exists(CN_TEST_TMP "/bad-monitor", "history.csv"));
}

/* The settings beyond Keras's fit (augmentation, a schedule, weight
 * averaging, label smoothing, weight decay) keep resume exact, keep results
 * independent of the thread count, and are applied. */
static const char *recipe_text =
    "input 28x28x1\n"
    "flatten\n"
    "dense 64 activation=relu\n"
    "dropout 0.2\n"
    "dense 10 activation=softmax\n"
    "train optimizer=adam lr=0.004 batch=32 epochs=4 weight_decay=0.01 label_smoothing=0.1 ema_momentum=0.99\n"
    "augment rotation=10 zoom=0.1 shift=0.1 elastic_alpha=20 elastic_sigma=4 erase=0.2\n"
    "schedule exponential gamma=0.5\n"
    "callback checkpoint monitor=val_accuracy save_best_only=false\n"
    "callback reduce_lr monitor=val_loss factor=0.5 patience=1\n";

static void test_recipe_settings(void) {
  cn_spec spec;
  CHECK(cn_spec_parse(recipe_text, "recipe.model", &spec) == 0);
  cn_fit_options o = cn_fit_default_options();
  o.run_dir = CN_TEST_TMP "/recipe";
  o.limit_train = 1500;
  o.limit_test = 500;
  o.threads = 1;
  o.seed = 5;
  cn_fit_result whole;
  CHECK_MSG(cn_fit(&spec, &ds, &o, &whole) == 0, "%s", cn_last_error());
  CHECK(file_exists(o.run_dir, "ema.safetensors"));
  char *want = history_without_time(o.run_dir);
  CHECK(want != NULL);
  if (!want) return;

  /* The same at 2 threads, and after interruptions mid-epoch and at an epoch's end. */
  o.run_dir = CN_TEST_TMP "/recipe-2-threads";
  o.threads = 2;
  cn_fit_result two;
  CHECK_MSG(cn_fit(&spec, &ds, &o, &two) == 0, "%s", cn_last_error());
  run_interrupted(&spec, CN_TEST_TMP "/recipe-cut-mid-epoch", 2, 17);
  run_interrupted(&spec, CN_TEST_TMP "/recipe-cut-at-epoch-end", 3, 0);
  const char *dirs[] = {CN_TEST_TMP "/recipe-2-threads", CN_TEST_TMP "/recipe-cut-mid-epoch",
                        CN_TEST_TMP "/recipe-cut-at-epoch-end"};
  for (int i = 0; i < 3; i++) {
    char *got = history_without_time(dirs[i]);
    CHECK_MSG(got && !strcmp(got, want), "%s: history differs:\n%s\nvs\n%s", dirs[i], got, want);
    cn_run_summary r;
    CHECK(cn_run_read_summary(dirs[i], &r) == 0 && r.test_accuracy == whole.test_accuracy);
    free(got);
  }
  /* 1,275 images, strong augmentation, 4 epochs: it learns (chance is 10%) */
  CHECK_MSG(whole.test_accuracy > 0.7, "test accuracy %.4f", whole.test_accuracy);

  /* The learning rate of each epoch's last step is 0.004 * 0.5^epoch, times
   * ReduceLROnPlateau's reductions, which only ever halve it. */
  cn_history_row rows[4];
  int n = 0;
  CHECK(cn_run_read_history(CN_TEST_TMP "/recipe", rows, 4, &n) == 0 && n == 4);
  for (int e = 0; e < n; e++) {
    double ratio = rows[e].lr / (0.004 * pow(0.5, e));
    CHECK_MSG(fabs(ratio - 1) < 1e-6 || fabs(ratio - 0.5) < 1e-6 || fabs(ratio - 0.25) < 1e-6,
              "epoch %d: lr %g", e + 1, rows[e].lr);
  }

  /* The checkpoints hold the average, not the last step's weights. */
  cn_model *best = NULL, *last = NULL;
  CHECK(cn_checkpoint_load_model(CN_TEST_TMP "/recipe/best.safetensors", &best) == 0);
  CHECK(cn_checkpoint_load_model(CN_TEST_TMP "/recipe/last.safetensors", &last) == 0);
  if (best && last) {
    int count;
    cn_tensor_ref *a = cn_model_tensors(best, &count), *b = cn_model_tensors(last, &count);
    CHECK(memcmp(a[0].data, b[0].data, sizeof(float) * a[0].size) != 0);
  }
  cn_model_free(best);
  cn_model_free(last);

  /* Without the augment line the same run differs: the augmentation is applied. */
  spec.train.augment = (cn_augment){0};
  o.run_dir = CN_TEST_TMP "/recipe-plain";
  o.threads = 1;
  CHECK_MSG(cn_fit(&spec, &ds, &o, &two) == 0, "%s", cn_last_error());
  char *plain = history_without_time(o.run_dir);
  CHECK(plain && strcmp(plain, want) != 0);
  free(plain);
  free(want);
}

int main(void) {
  if (system("rm -rf '" CN_TEST_TMP "' && mkdir -p '" CN_TEST_TMP "'") != 0) return 1;
  if (cn_dataset_load("mnist", CN_TEST_DATA_DIR "/mnist", &ds) != 0) {
    fprintf(stderr, "%s\n", cn_last_error());
    return 1;
  }
  test_split();
  test_smoke_and_run_folder();
  test_resume_equivalence();
  test_divergence_guard();
  test_unknown_monitor();
  test_recipe_settings();
  cn_dataset_free(&ds);
  return test_summary();
}
