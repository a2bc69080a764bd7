/* The fit loop: Keras `fit` with a fixed validation split, callbacks, a run
 * folder, exact resume from any batch, and a final evaluation of the best
 * weights on train, validation and test.
 *
 * With a group (cnist/group.h) every rank runs this loop over the same
 * batches, trains on its slice of each, and takes the same steps from the
 * same gradients; each rank validates for itself (the same weights give
 * the same figures, so the callbacks decide alike), and rank 0 alone
 * writes the run folder and makes the final evaluation. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cnist/augment.h"
#include "cnist/checkpoint.h"
#include "cnist/ema.h"
#include "cnist/train.h"
#include "core/error.h"
#include "cnist/core.h"
#include "core/file.h"
#include "run/run.h"
#include "train/keys.h"

cn_fit_options cn_fit_default_options(void) {
  cn_fit_options o;
  memset(&o, 0, sizeof o);
  o.dataset_name = "mnist";
  o.val_split = -1; /* the model's train line, else 0.15 */
  o.seed = 1;
  return o;
}

/* Everything the loop carries from batch to batch; what must survive an
 * interruption is saved in last.safetensors' metadata (save_state). */
typedef struct {
  const cn_fit_options *opt;
  const cn_dataset *ds;
  cn_spec spec;
  char dir[4096];
  cn_model *m;
  cn_optim *o;
  int *train_idx, *val_idx, *order, n_train, n_val, batch, batches, classes;
  float *x, *onehot;
  int *labels;
  cn_rng shuffle;       /* the generator now */
  cn_rng epoch_shuffle; /* the generator at the start of the current epoch: what resume needs */
  /* callbacks */
  cn_monitor ckpt;
  int ckpt_best_only, has_reduce_lr, has_early_stop, early_restore;
  cn_reduce_lr reduce_lr;
  cn_early_stop early;
  const char *ckpt_monitor, *early_monitor, *reduce_monitor; /* their names, for messages */
  cn_metric ckpt_metric, early_metric, reduce_metric;
  /* progress */
  cn_history_row *history;
  int epoch;         /* epochs finished */
  int batch_done;    /* batches finished in the current epoch */
  double loss_sum;   /* over the current epoch's batches, per image */
  int64_t correct, seen;
  double epoch_seconds, train_time;
  int stopped, best_epoch;
  /* beyond Keras's fit: augmentation, a schedule, weight averaging */
  cn_augmenter *aug; /* NULL without an augment line */
  cn_ema *ema;       /* NULL without ema_momentum */
  double plateau;    /* ReduceLROnPlateau's reductions of a scheduled rate: 1 until the first */
  uint64_t seed;     /* the run's: augmentation draws from it */
  double val_split;
  int limit_test;
  int skip_train_eval;
  cn_run_lock *lock; /* held while the run folder is written */
} fit_state;

/* This process writes the run folder: one alone, or rank 0 of a group. */
static int writer(const fit_state *s) { return !s->opt->group || s->opt->group->rank == 0; }

/* A group goes on only when every rank can: rc, or a failure when another
 * rank failed (that rank says why). */
static int agree(const fit_state *s, int rc) {
  const cn_group *g = s->opt->group;
  if (!g || !g->any(g, rc != CN_OK) || rc) return rc;
  return cn_fail(CN_EINVAL, "another process of the group failed (its message says why); rank %d stops too", g->rank);
}

/* Runs `save` with the averaged weights in the model (when there is an
 * average), so that checkpoints and evaluations see those. */
static void ema_in(fit_state *s) {
  if (s->ema) cn_ema_swap(s->ema);
}
#define ema_out ema_in

static void emit(fit_state *s, cn_fit_event *ev) {
  if (s->opt->on_event) s->opt->on_event(ev, s->opt->user);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void message(fit_state *s, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  cn_fit_event ev = {.kind = CN_FIT_MESSAGE, .message = text};
  emit(s, &ev);
}

static double metric(const cn_history_row *r, cn_metric m) {
  switch (m) {
  case CN_METRIC_LOSS: return r->loss;
  case CN_METRIC_ACCURACY: return r->accuracy;
  case CN_METRIC_VAL_LOSS: return r->val_loss;
  case CN_METRIC_VAL_ACCURACY: break;
  }
  return r->val_accuracy;
}

static void path_in(const fit_state *s, const char *name, char *out, size_t size) {
  snprintf(out, size, "%s/%s", s->dir, name);
}

/* ---- saving and restoring the loop's state ---- */

static void rng_hex(const cn_rng *r, char *out, size_t size) {
  snprintf(out, size, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, r->s[0], r->s[1], r->s[2], r->s[3]);
}

static int rng_parse(const char *hex, cn_rng *r) {
  if (!hex || strlen(hex) != 64) return 0;
  for (int i = 0; i < 4; i++) {
    char part[17];
    memcpy(part, hex + 16 * i, 16);
    part[16] = '\0';
    char *end;
    r->s[i] = strtoull(part, &end, 16);
    if (*end) return 0;
  }
  return 1;
}

enum { META_VALUES = 20 };

static int save_state(fit_state *s) {
  if (!writer(s)) return CN_OK;
  char v[META_VALUES][96];
  int k = 0;
  const char *meta[2 * META_VALUES + 1];
#define PUT(key, ...)                                      \
  do {                                                     \
    snprintf(v[k], sizeof v[k], __VA_ARGS__);              \
    meta[2 * k] = key;                                     \
    meta[2 * k + 1] = v[k];                                \
    k++;                                                   \
  } while (0)
  PUT(CN_TRAIN_KEY_EPOCH, "%d", s->epoch);
  PUT(CN_TRAIN_KEY_BATCH, "%d", s->batch_done);
  PUT(CN_TRAIN_KEY_LOSS_SUM, "%a", s->loss_sum);
  PUT(CN_TRAIN_KEY_CORRECT, "%" PRId64, s->correct);
  PUT(CN_TRAIN_KEY_SEEN, "%" PRId64, s->seen);
  PUT(CN_TRAIN_KEY_EPOCH_SECONDS, "%a", s->epoch_seconds);
  PUT(CN_TRAIN_KEY_TIME, "%a", s->train_time);
  rng_hex(&s->epoch_shuffle, v[k], sizeof v[k]);
  meta[2 * k] = CN_TRAIN_KEY_SHUFFLE;
  meta[2 * k + 1] = v[k];
  k++;
  PUT(CN_TRAIN_KEY_CHECKPOINT_BEST, "%a", s->ckpt.best);
  PUT(CN_TRAIN_KEY_BEST_EPOCH, "%d", s->best_epoch);
  PUT(CN_TRAIN_KEY_REDUCE_LR, "%a %d %d", s->reduce_lr.mon.best, s->reduce_lr.wait, s->reduce_lr.cooldown_counter);
  PUT(CN_TRAIN_KEY_EARLY_STOP, "%a %d %d", s->early.mon.best, s->early.wait, s->early.best_epoch);
  PUT(CN_TRAIN_KEY_STOPPED, "%d", s->stopped);
  PUT(CN_TRAIN_KEY_PLATEAU, "%a", s->plateau);
  /* What config.json says too, so that an edited config.json is caught. */
  PUT(CN_CHECKPOINT_KEY_DATASET, "%s", s->ds->name);
  PUT(CN_TRAIN_KEY_SEED, "%" PRIu64, s->seed);
  PUT(CN_TRAIN_KEY_VAL_SPLIT, "%a", s->val_split);
  if (s->ema) {
    PUT(CN_TRAIN_KEY_EMA_UPDATES, "%" PRId64, cn_ema_updates(s->ema));
    /* The average first: a crash between the two files leaves an average
     * that does not match last.safetensors, which resume detects. */
    const char *ema_meta[] = {CN_TRAIN_KEY_EMA_UPDATES, v[k - 1], CN_CHECKPOINT_KEY_DATASET, s->ds->name, NULL};
    char ema_path[4200];
    path_in(s, CN_RUN_EMA, ema_path, sizeof ema_path);
    ema_in(s);
    int rc = cn_checkpoint_save(ema_path, s->m, NULL, ema_meta);
    ema_out(s);
    if (rc) return rc;
  }
#undef PUT
  meta[2 * k] = NULL;
  char path[4200];
  path_in(s, CN_RUN_LAST, path, sizeof path);
  return cn_checkpoint_save(path, s->m, s->o, meta);
}

static int meta_int(const cn_meta *meta, const char *key, const char *path, int64_t *out) {
  const char *v = cn_meta_get(meta, key);
  char *end;
  if (v) *out = strtoll(v, &end, 10);
  if (!v || *end) return cn_fail(CN_EFORMAT, "%s: metadata %s is missing or malformed", path, key);
  return CN_OK;
}

static int meta_double(const cn_meta *meta, const char *key, const char *path, double *out) {
  const char *v = cn_meta_get(meta, key);
  char *end;
  if (v) *out = strtod(v, &end);
  if (!v || *end) return cn_fail(CN_EFORMAT, "%s: metadata %s is missing or malformed", path, key);
  return CN_OK;
}

/* The average saved beside last.safetensors, after `updates` updates. A
 * file from another save (a crash between the two writes) or none at all
 * restarts the average from the restored weights, with a message. */
static int restore_average(fit_state *s, int64_t updates) {
  char path[4200];
  path_in(s, CN_RUN_EMA, path, sizeof path);
  cn_meta *meta = NULL;
  ema_in(s);
  int rc = cn_checkpoint_restore(path, s->m, NULL, &meta);
  ema_out(s);
  const char *saved = rc ? NULL : cn_meta_get(meta, CN_TRAIN_KEY_EMA_UPDATES);
  int match = saved && strtoll(saved, NULL, 10) == updates;
  cn_meta_free(meta);
  if (rc == CN_ESHAPE || rc == CN_EFORMAT) return rc;
  if (!match) {
    cn_ema_free(s->ema);
    s->ema = NULL;
    if ((rc = cn_ema_new(s->m, s->spec.train.ema_momentum, &s->ema))) return rc;
    message(s, "%s does not match " CN_RUN_LAST " (the run stopped while saving): the weight average restarts "
               "from the restored weights", path);
    return CN_OK;
  }
  cn_ema_set_updates(s->ema, updates);
  return CN_OK;
}

static int restore_state(fit_state *s) {
  char path[4200];
  path_in(s, CN_RUN_LAST, path, sizeof path);
  cn_meta *meta = NULL;
  int rc = cn_checkpoint_restore(path, s->m, s->o, &meta);
  if (rc) return rc;
  int64_t epoch = 0, batch = 0, best_epoch = 0, stopped = 0;
  rc = meta_int(meta, CN_TRAIN_KEY_EPOCH, path, &epoch);
  if (!rc) rc = meta_int(meta, CN_TRAIN_KEY_BATCH, path, &batch);
  if (!rc) rc = meta_double(meta, CN_TRAIN_KEY_LOSS_SUM, path, &s->loss_sum);
  if (!rc) rc = meta_int(meta, CN_TRAIN_KEY_CORRECT, path, &s->correct);
  if (!rc) rc = meta_int(meta, CN_TRAIN_KEY_SEEN, path, &s->seen);
  if (!rc) rc = meta_double(meta, CN_TRAIN_KEY_EPOCH_SECONDS, path, &s->epoch_seconds);
  if (!rc) rc = meta_double(meta, CN_TRAIN_KEY_TIME, path, &s->train_time);
  if (!rc) rc = meta_double(meta, CN_TRAIN_KEY_CHECKPOINT_BEST, path, &s->ckpt.best);
  if (!rc) rc = meta_int(meta, CN_TRAIN_KEY_BEST_EPOCH, path, &best_epoch);
  if (!rc) rc = meta_int(meta, CN_TRAIN_KEY_STOPPED, path, &stopped);
  if (!rc && !rng_parse(cn_meta_get(meta, CN_TRAIN_KEY_SHUFFLE), &s->shuffle))
    rc = cn_fail(CN_EFORMAT, "%s: metadata train.shuffle is missing or malformed", path);
  const char *r = cn_meta_get(meta, CN_TRAIN_KEY_REDUCE_LR), *e = cn_meta_get(meta, CN_TRAIN_KEY_EARLY_STOP);
  if (!rc && (!r || sscanf(r, "%la %d %d", &s->reduce_lr.mon.best, &s->reduce_lr.wait, &s->reduce_lr.cooldown_counter) != 3))
    rc = cn_fail(CN_EFORMAT, "%s: metadata train.reduce_lr is missing or malformed", path);
  if (!rc && (!e || sscanf(e, "%la %d %d", &s->early.mon.best, &s->early.wait, &s->early.best_epoch) != 3))
    rc = cn_fail(CN_EFORMAT, "%s: metadata train.early_stop is missing or malformed", path);
  const char *plateau = cn_meta_get(meta, CN_TRAIN_KEY_PLATEAU);
  if (!rc && plateau && (s->plateau = strtod(plateau, NULL), !(s->plateau > 0 && s->plateau <= 1)))
    rc = cn_fail(CN_EFORMAT, "%s: metadata train.plateau is malformed", path);
  int64_t ema_updates = -1;
  if (!rc && s->ema) rc = meta_int(meta, CN_TRAIN_KEY_EMA_UPDATES, path, &ema_updates);
  /* Checkpoints from before these keys carry neither. */
  const char *seed = cn_meta_get(meta, CN_TRAIN_KEY_SEED), *split = cn_meta_get(meta, CN_TRAIN_KEY_VAL_SPLIT);
  if (!rc && seed && strtoull(seed, NULL, 10) != s->seed)
    rc = cn_fail(CN_EFORMAT, "%s/" CN_RUN_CONFIG ": seed is %" PRIu64 ", but %s was trained with seed %s", s->dir,
                 s->seed, path, seed);
  if (!rc && split && strtod(split, NULL) != s->val_split)
    rc = cn_fail(CN_EFORMAT, "%s/" CN_RUN_CONFIG ": val_split is %g, but %s was trained with val_split %g", s->dir,
                 s->val_split, path, strtod(split, NULL));
  cn_meta_free(meta);
  if (!rc && s->ema) rc = restore_average(s, ema_updates);
  if (rc) return rc;
  if (epoch > s->spec.train.epochs && s->opt->epochs)
    return cn_fail(CN_EINVAL, "%s has trained %" PRId64 " epochs already; --epochs %d would not train more", s->dir,
                   epoch, s->opt->epochs);
  if (epoch > s->spec.train.epochs)
    return cn_fail(CN_EFORMAT, "%s/" CN_RUN_MODEL ": epochs=%d, but %s is at epoch %" PRId64 " (resume with --epochs "
                   "%" PRId64 " or more to carry on)", s->dir, s->spec.train.epochs, path, epoch, epoch);
  if (epoch < 0 || batch < 0 || batch >= s->batches)
    return cn_fail(CN_EFORMAT, "%s: epoch %" PRId64 " batch %" PRId64 " do not fit this run", path, epoch, batch);
  s->epoch = (int)epoch;
  s->batch_done = (int)batch;
  s->best_epoch = (int)best_epoch;
  s->stopped = (int)stopped;
  /* One row more than the checkpoint: the run stopped between writing the
   * two, and that epoch is trained again. */
  int rows = 0;
  rc = cn_run_read_history(s->dir, s->history, s->spec.train.epochs + 1, &rows);
  if (!rc && rows != s->epoch && rows != s->epoch + 1)
    rc = cn_fail(CN_EFORMAT, "%s/" CN_RUN_HISTORY ": holds %d epochs but %s is at epoch %d", s->dir, rows, path,
                 s->epoch);
  return rc;
}

/* ---- one epoch ---- */

static int run_epoch(fit_state *s) {
  cn_fit_event ev = {.kind = CN_FIT_EPOCH_BEGIN, .epoch = s->epoch + 1, .epochs = s->spec.train.epochs,
                     .batches = s->batches};
  emit(s, &ev);
  /* The permutation depends only on the generator at the epoch's start, so a
   * resumed run rebuilds the same order and skips the batches already done. */
  s->epoch_shuffle = s->shuffle;
  memcpy(s->order, s->train_idx, sizeof(int) * (size_t)s->n_train);
  cn_rng_shuffle(&s->shuffle, s->order, s->n_train);
  if (s->batch_done == 0) {
    s->loss_sum = 0;
    s->correct = s->seen = 0;
    s->epoch_seconds = 0;
  }
  double start = cn_now() - s->epoch_seconds, last_event = 0;
  double lr = cn_optim_lr(s->o);
  const cn_group *g = s->opt->group;
  const int unit = g ? cn_model_split_unit(s->m) : 1;
  for (int b = s->batch_done; b < s->batches; b++) {
    int stop = s->opt->stop && *s->opt->stop;
    if (g) stop = g->any(g, stop); /* every rank stops at the same batch */
    if (stop) {
      s->epoch_seconds = cn_now() - start;
      int rc = save_state(s);
      if (rc) return rc;
      return cn_fail(CN_EINTR, "interrupted at epoch %d, batch %d/%d; the state is saved in %s/" CN_RUN_LAST,
                     s->epoch + 1, b, s->batches, s->dir);
    }
    int first = b * s->batch, n = s->n_train - first < s->batch ? s->n_train - first : s->batch;
    /* a group: this rank's slice [first + mine, first + mine + count) */
    const int total = n;
    int mine = 0;
    if (g) {
      cn_group_slice(total, unit, g->rank, g->size, &mine, &n);
      first += mine;
    }
    if (n == 0) {
      /* past a short batch's end: nothing to read */
    } else if (s->aug) {
      int rc = cn_batch_fill_augmented(&s->ds->train, s->order + first, n, s->aug, s->seed, s->epoch,
                                       s->x, s->labels);
      if (rc) return rc;
    } else {
      int rc = cn_batch_fill(&s->ds->train, s->order + first, n, s->spec.in_h, s->spec.in_w, s->spec.in_c, s->x,
                             s->labels);
      if (rc) return rc;
    }
    if (s->spec.train.schedule.kind != CN_SCHEDULE_CONSTANT) {
      int64_t step = (int64_t)s->epoch * s->batches + b;
      lr = s->spec.train.optim.lr * cn_schedule_factor(&s->spec.train.schedule, step, s->batches, s->spec.train.epochs) *
           s->plateau;
      cn_optim_set_lr(s->o, (float)lr);
    }
    if (s->onehot) {
      memset(s->onehot, 0, sizeof(float) * (size_t)n * (size_t)s->classes);
      for (int i = 0; i < n; i++) s->onehot[i * s->classes + s->labels[i]] = 1.0f;
    }
    float loss = 0;
    int correct = 0;
    const int *labels = s->onehot ? NULL : s->labels;
    int rc = g ? cn_model_train_slice(s->m, g, s->x, labels, s->onehot, mine, n, total, &loss, &correct)
               : cn_model_train_batch(s->m, s->x, labels, s->onehot, n, &loss, &correct);
    if (rc == CN_EDIVERGED || (rc == CN_OK && !isfinite(loss)))
      return cn_fail(CN_EDIVERGED,
                     "the loss became %s at epoch %d, batch %d (learning rate %g); training stopped. The last "
                     "good state is %s/" CN_RUN_LAST " (%s%.0d): lower the learning rate and train again",
                     isnan(loss) ? "NaN" : "infinite", s->epoch + 1, b + 1, lr, s->dir,
                     s->epoch ? "end of epoch " : "start of training", s->epoch);
    if (rc) return rc;
    cn_optim_step(s->o);
    if (s->ema) cn_ema_update(s->ema);
    s->loss_sum += (double)loss * total;
    s->correct += correct;
    s->seen += total;
    s->batch_done = b + 1;
    double now = cn_now();
    if (now - last_event >= 0.1 || b + 1 == s->batches) {
      last_event = now;
      cn_fit_event bev = {.kind = CN_FIT_BATCH, .epoch = s->epoch + 1, .epochs = s->spec.train.epochs,
                          .batch = b + 1, .batches = s->batches, .seconds = now - start,
                          .loss = s->loss_sum / (double)s->seen, .accuracy = (double)s->correct / (double)s->seen,
                          .lr = lr};
      emit(s, &bev);
    }
  }
  s->epoch_seconds = cn_now() - start;
  s->train_time += s->epoch_seconds;
  cn_eval_result val = {.loss = NAN, .accuracy = NAN}; /* NaN: no validation split */
  if (s->n_val > 0) {
    ema_in(s);
    int rc = cn_evaluate_group(s->opt->group, s->m, &s->ds->train, s->val_idx, s->n_val, s->batch, NULL, &val);
    ema_out(s);
    if (rc) return rc;
  }
  cn_history_row *row = &s->history[s->epoch];
  *row = (cn_history_row){.epoch = s->epoch + 1, .loss = s->loss_sum / (double)s->seen,
                          .accuracy = (double)s->correct / (double)s->seen, .val_loss = val.loss,
                          .val_accuracy = val.accuracy, .lr = lr, .seconds = s->epoch_seconds};
  cn_fit_event end = {.kind = CN_FIT_EPOCH_END, .epoch = s->epoch + 1, .epochs = s->spec.train.epochs,
                      .batch = s->batches, .batches = s->batches, .seconds = s->epoch_seconds, .loss = row->loss,
                      .accuracy = row->accuracy, .val_loss = row->val_loss, .val_accuracy = row->val_accuracy,
                      .lr = lr};
  emit(s, &end);
  return CN_OK;
}

/* Keras callbacks at the end of an epoch, in the order Keras runs them. */
static int end_of_epoch_callbacks(fit_state *s) {
  const cn_history_row *row = &s->history[s->epoch];
  int e = s->epoch + 1;
  char path[4200];
  const char *dataset_meta[] = {CN_CHECKPOINT_KEY_DATASET, s->ds->name, NULL};
  double value = metric(row, s->ckpt_metric);
  if (!s->ckpt_best_only || cn_monitor_improved(&s->ckpt, value)) {
    path_in(s, CN_RUN_BEST, path, sizeof path);
    if (s->ckpt_best_only)
      message(s, "Epoch %d: %s improved from %.5f to %.5f, saving model to %s", e, s->ckpt_monitor, s->ckpt.best,
              value, path);
    s->ckpt.best = value;
    s->best_epoch = e;
    ema_in(s);
    int rc = writer(s) ? cn_checkpoint_save(path, s->m, NULL, dataset_meta) : CN_OK;
    ema_out(s);
    if (rc) return rc;
  } else {
    message(s, "Epoch %d: %s did not improve from %.5f", e, s->ckpt_monitor, s->ckpt.best);
  }
  if (s->has_early_stop) {
    int improved;
    if (cn_early_stop_update(&s->early, metric(row, s->early_metric), s->epoch, &improved)) {
      s->stopped = 1;
      message(s, "Epoch %d: early stopping (%s has not improved for %d epochs; best %.5f at epoch %d)", e,
              s->early_monitor, s->early.wait, s->early.mon.best, s->early.best_epoch + 1);
    }
    if (s->early_restore) {
      path_in(s, CN_RUN_EARLY_BEST, path, sizeof path);
      if (improved) {
        ema_in(s);
        int rc = writer(s) ? cn_checkpoint_save(path, s->m, NULL, dataset_meta) : CN_OK;
        ema_out(s);
        if (rc) return rc;
      } else if (s->stopped && writer(s)) { /* the run ends: only the final evaluation uses them */
        message(s, "Restoring model weights from the end of the best epoch: %d.", s->early.best_epoch + 1);
        int rc = cn_checkpoint_restore(path, s->m, NULL, NULL);
        if (rc) return rc;
      }
    }
  }
  if (s->has_reduce_lr) {
    double lr = cn_optim_lr(s->o);
    double next = cn_reduce_lr_update(&s->reduce_lr, metric(row, s->reduce_metric), lr);
    if (next != lr) {
      /* With a schedule, the reduction scales every later scheduled rate. */
      s->plateau *= next / lr;
      cn_optim_set_lr(s->o, (float)next);
      message(s, "Epoch %d: ReduceLROnPlateau reducing learning rate to %g.", e, (double)(float)next);
    }
  }
  return CN_OK;
}

/* ---- set-up and the final evaluation ---- */

/* A resumed run: its folder locked, its model file and settings read, and
 * the two checked against each other. */
static int open_resumed(fit_state *s, cn_run_config *cfg) {
  const cn_fit_options *opt = s->opt;
  if (!opt->run_dir) return cn_fail(CN_EINVAL, "resume: no run folder given");
  struct stat st;
  if (stat(opt->run_dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return cn_fail(CN_ENOTFOUND, "%s: no run folder there to resume", opt->run_dir);
  snprintf(s->dir, sizeof s->dir, "%s", opt->run_dir);
  int rc = writer(s) ? cn_run_lock_take(s->dir, &s->lock) : CN_OK;
  if (!rc) rc = cn_run_read_config(s->dir, cfg);
  char path[4200];
  path_in(s, CN_RUN_MODEL, path, sizeof path);
  if (!rc) rc = cn_spec_load(path, &s->spec);
  if (rc) return rc;
  snprintf(s->spec.name, sizeof s->spec.name, "%s", cfg->model);
  if (cfg->epochs != s->spec.train.epochs)
    return cn_fail(CN_EFORMAT, "%s/" CN_RUN_CONFIG ": epochs is %d, but %s says epochs=%d", s->dir, cfg->epochs, path,
                   s->spec.train.epochs);
  if (cfg->batch != s->spec.train.batch)
    return cn_fail(CN_EFORMAT, "%s/" CN_RUN_CONFIG ": batch is %d, but %s says batch=%d", s->dir, cfg->batch, path,
                   s->spec.train.batch);
  if (opt->epochs > 0) s->spec.train.epochs = opt->epochs;
  return CN_OK;
}

/* After the state is restored: whether there is anything left to train, and
 * the extended epochs written back so the folder's files agree. */
static int continue_resumed(fit_state *s, cn_run_config *cfg) {
  char path[4200];
  path_in(s, CN_RUN_METRICS, path, sizeof path);
  struct stat st;
  int evaluated = stat(path, &st) == 0;
  if (s->stopped && evaluated)
    return cn_fail(CN_EINVAL, "%s had finished: early stopping ended it at epoch %d and %s holds its evaluation",
                   s->dir, s->epoch, path);
  if (s->epoch == s->spec.train.epochs && evaluated)
    return cn_fail(CN_EINVAL, "%s had finished (%d of %d epochs; %s holds its evaluation): extend it with --epochs "
                   "N (more than %d)", s->dir, s->epoch, s->spec.train.epochs, path, s->epoch);
  if (s->spec.train.epochs == cfg->epochs || !writer(s)) return CN_OK;
  /* The shorter run's evaluation no longer describes this one. */
  if (evaluated && unlink(path) != 0) return cn_fail(CN_EIO, "%s: cannot remove: %s", path, strerror(errno));
  char *text = cn_spec_write(&s->spec);
  if (!text) return cn_fail(CN_ENOMEM, "fit: out of memory");
  path_in(s, CN_RUN_MODEL, path, sizeof path);
  int rc = cn_write_file_atomic(path, text, strlen(text));
  free(text);
  cfg->epochs = s->spec.train.epochs;
  if (!rc) rc = cn_run_write_config(s->dir, cfg);
  return rc;
}

/* Both sets against the model's input and outputs, before any image is fed. */
static int check_data(const fit_state *s) {
  cn_shape sh[CN_MAX_LAYERS + 1];
  int rc = cn_spec_check(&s->spec, 0, sh);
  if (rc) return rc;
  const cn_shape out = sh[s->spec.n_layers];
  const int outputs = out.h * out.w * out.c;
  rc = cn_imageset_check(&s->ds->train, s->spec.in_h, s->spec.in_w, s->spec.in_c, outputs);
  if (!rc) rc = cn_imageset_check(&s->ds->test, s->spec.in_h, s->spec.in_w, s->spec.in_c, outputs);
  return rc;
}

/* No validation split: as Keras does when a monitored figure is missing,
 * ReduceLROnPlateau and early stopping on a val_* figure do nothing (said
 * once); a checkpoint by one keeps the last epoch instead of none. */
static void without_validation(fit_state *s) {
  if (s->has_reduce_lr && !strncmp(s->reduce_monitor, "val_", 4)) {
    s->has_reduce_lr = 0;
    message(s, "No validation split (val_split 0): reduce_lr monitors %s, which is not measured; it will not act",
            s->reduce_monitor);
  }
  if (s->has_early_stop && !strncmp(s->early_monitor, "val_", 4)) {
    s->has_early_stop = 0;
    message(s, "No validation split (val_split 0): early_stop monitors %s, which is not measured; it will not act",
            s->early_monitor);
  }
  if (!strncmp(s->ckpt_monitor, "val_", 4)) {
    s->ckpt_best_only = 0;
    message(s, "No validation split (val_split 0): %s is not measured, so " CN_RUN_BEST " keeps the last epoch's "
               "weights", s->ckpt_monitor);
  }
}

static int setup(fit_state *s, const cn_spec *spec) {
  const cn_fit_options *opt = s->opt;
  cn_run_config cfg;
  memset(&cfg, 0, sizeof cfg);
  if (opt->resume) {
    int rc = open_resumed(s, &cfg);
    if (rc) return rc;
  } else {
    if (!spec) return cn_fail(CN_EINVAL, "fit: no model given");
    s->spec = *spec;
  }
  int rc = check_data(s);
  if (!rc) rc = cn_spec_check(&s->spec, s->ds->classes, NULL);
  if (rc) return rc;
  uint64_t seed = opt->resume ? cfg.seed : opt->seed;
  /* The option, else the model's train line, else Keras-tutorial 85/15; the
   * model file records the split when either set it (so old runs' files keep
   * their bytes). */
  double val_split = opt->resume ? cfg.val_split
                     : opt->val_split >= 0 ? opt->val_split
                     : s->spec.train.val_split >= 0 ? s->spec.train.val_split : 0.15;
  if (!opt->resume && (opt->val_split >= 0 || s->spec.train.val_split >= 0)) s->spec.train.val_split = val_split;
  int limit_train = opt->resume ? cfg.limit_train : opt->limit_train;
  int limit_test = opt->resume ? cfg.limit_test : opt->limit_test;
  cn_precision precision = opt->resume ? cfg.precision : opt->precision;
  if (opt->group && precision != CN_PRECISION_FP32)
    return cn_fail(CN_EINVAL, "a batch split across processes trains in fp32 only (bf16 would not give one process's "
                   "sums)");
  if (opt->threads > 0) cn_set_threads(opt->threads);

  int n_use = limit_train > 0 && limit_train < s->ds->train.n ? limit_train : s->ds->train.n;
  rc = cn_split_indices(n_use, val_split, seed, &s->train_idx, &s->n_train, &s->val_idx, &s->n_val);
  if (rc) return rc;
  if (s->n_train < 1 || (val_split > 0 && s->n_val < 1))
    return cn_fail(CN_EINVAL, "a validation split of %g of %d images leaves %d for training and %d for validation",
                   val_split, n_use, s->n_train, s->n_val);
  s->batch = s->spec.train.batch;
  s->batches = (s->n_train + s->batch - 1) / s->batch;
  s->classes = s->ds->classes;
  cn_rng_seed(&s->shuffle, seed, CN_RNG_SHUFFLE);
  s->seed = seed;
  s->val_split = val_split;
  s->limit_test = limit_test;
  s->skip_train_eval = opt->skip_train_eval;
  if (opt->resume && (s->n_train != cfg.n_train || s->n_val != cfg.n_val))
    return cn_fail(CN_EFORMAT, "%s/" CN_RUN_CONFIG ": n_train %d and n_val %d, but its seed, val_split and "
                   "limit_train split the data %d/%d (was it edited?)", s->dir, cfg.n_train, cfg.n_val, s->n_train,
                   s->n_val);

  if ((rc = cn_model_new(&s->spec, seed, &s->m))) return rc;
  if ((rc = cn_model_set_precision(s->m, precision))) return rc;
  if (opt->group) {
    const int unit = cn_model_split_unit(s->m), units = (s->batch + unit - 1) / unit;
    if (opt->group->size > units)
      return cn_fail(CN_EINVAL, "%d processes for batches of %d images: the processes split a batch in whole chunks "
                     "of %d images (the model's weight-gradient chunk), so at most %d can share one; start fewer "
                     "or train with a larger --batch", opt->group->size, s->batch, unit, units);
  }
  int count;
  cn_tensor_ref *tensors = cn_model_tensors(s->m, &count);
  if ((rc = cn_optim_new(&s->spec.train.optim, tensors, count, &s->o))) return rc;
  if ((rc = cn_model_reserve(s->m, s->batch))) return rc;
  if ((rc = cn_model_set_label_smoothing(s->m, s->spec.train.label_smoothing))) return rc;
  if (cn_augment_active(&s->spec.train.augment) &&
      (rc = cn_augmenter_new(&s->spec.train.augment, s->spec.in_h, s->spec.in_w, cn_get_threads(), &s->aug)))
    return rc;
  if (s->spec.train.ema_momentum > 0 && (rc = cn_ema_new(s->m, s->spec.train.ema_momentum, &s->ema))) return rc;
  s->plateau = 1;
  size_t in = (size_t)cn_model_inputs(s->m);
  s->x = malloc(sizeof(float) * in * (size_t)s->batch);
  s->labels = malloc(sizeof(int) * (size_t)s->batch);
  s->order = malloc(sizeof(int) * (size_t)s->n_train);
  s->history = calloc((size_t)s->spec.train.epochs + 1, sizeof *s->history);
  if (s->spec.train.loss == CN_LOSS_CATEGORICAL) s->onehot = malloc(sizeof(float) * (size_t)s->batch * (size_t)s->classes);
  if (!s->x || !s->labels || !s->order || !s->history || (s->spec.train.loss == CN_LOSS_CATEGORICAL && !s->onehot))
    return cn_fail(CN_ENOMEM, "fit: out of memory");

  /* Callbacks; without a checkpoint line, keep the best val_accuracy. */
  s->ckpt_monitor = "val_accuracy";
  s->ckpt_metric = CN_METRIC_VAL_ACCURACY;
  s->ckpt_best_only = 1;
  int ckpt_mode = 0;
  for (int i = 0; i < s->spec.n_callbacks; i++) {
    const cn_callback_spec *c = &s->spec.callbacks[i];
    cn_metric monitor;
    if (!memchr(c->monitor, '\0', sizeof c->monitor))
      return cn_fail(CN_EINVAL, "fit: callback %d (%s): its monitor is not a string", i + 1, cn_callback_name(c->kind));
    if (cn_metric_parse(c->monitor, &monitor)) {
      char why[256]; /* cn_fail writes where cn_last_error points */
      snprintf(why, sizeof why, "%s", cn_last_error());
      return cn_fail(CN_EINVAL, "fit: callback %d (%s): %s", i + 1, cn_callback_name(c->kind), why);
    }
    if (c->kind == CN_CB_CHECKPOINT) {
      s->ckpt_monitor = c->monitor;
      s->ckpt_metric = monitor;
      s->ckpt_best_only = c->save_best_only;
      ckpt_mode = c->mode;
    } else if (c->kind == CN_CB_REDUCE_LR) {
      s->has_reduce_lr = 1;
      s->reduce_monitor = c->monitor;
      s->reduce_metric = monitor;
      cn_reduce_lr_init(&s->reduce_lr, c);
    } else {
      s->has_early_stop = 1;
      s->early_monitor = c->monitor;
      s->early_metric = monitor;
      s->early_restore = c->restore_best;
      cn_early_stop_init(&s->early, c);
    }
  }
  cn_monitor_init(&s->ckpt, s->ckpt_monitor, ckpt_mode, 0.0);
  if (s->n_val == 0) without_validation(s);

  if (opt->resume) {
    if ((rc = cn_run_check_data(s->dir, s->ds, 1, 1)) || (rc = restore_state(s))) return rc;
    return continue_resumed(s, &cfg);
  }

  /* A new run folder with the settings actually applied. */
  if (opt->run_dir) {
    snprintf(s->dir, sizeof s->dir, "%s", opt->run_dir);
  } else {
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(s->dir, sizeof s->dir, "runs/%s-%s", s->spec.name[0] ? s->spec.name : "model", stamp);
    struct stat st;
    for (int k = 2; stat(s->dir, &st) == 0; k++)
      snprintf(s->dir, sizeof s->dir, "runs/%s-%s-%d", s->spec.name[0] ? s->spec.name : "model", stamp, k);
  }
  s->epoch_shuffle = s->shuffle;
  if (!writer(s)) return CN_OK;
  if ((rc = cn_mkdirs(s->dir)) || (rc = cn_run_lock_take(s->dir, &s->lock)) || (rc = cn_run_check_new(s->dir, s->lock)))
    return rc;
  char path[4200];
  char *text = cn_spec_write(&s->spec);
  if (!text) return cn_fail(CN_ENOMEM, "fit: out of memory");
  path_in(s, CN_RUN_MODEL, path, sizeof path);
  rc = cn_write_file_atomic(path, text, strlen(text));
  free(text);
  if (rc) return rc;
  snprintf(cfg.model, sizeof cfg.model, "%s", s->spec.name);
  snprintf(cfg.dataset, sizeof cfg.dataset, "%s", s->ds->name);
  snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", s->ds->dir);
  snprintf(cfg.optimizer, sizeof cfg.optimizer, "%s", cn_opt_name(s->spec.train.optim.kind));
  snprintf(cfg.loss, sizeof cfg.loss, "%s", cn_loss_name(s->spec.train.loss));
  cfg.seed = seed;
  cfg.val_split = val_split;
  cfg.lr = s->spec.train.optim.lr;
  cfg.n_train = s->n_train;
  cfg.n_val = s->n_val;
  cfg.threads = cn_get_threads();
  cfg.processes = opt->group ? opt->group->size : 1;
  cfg.batch = s->batch;
  cfg.epochs = s->spec.train.epochs;
  cfg.limit_train = limit_train;
  cfg.limit_test = limit_test;
  cfg.precision = precision;
  cn_imageset_fingerprint(&s->ds->train, cfg.train_hash);
  cn_imageset_fingerprint(&s->ds->test, cfg.test_hash);
  cfg.train_images = s->ds->train.n;
  cfg.test_images = s->ds->test.n;
  if ((rc = cn_run_write_config(s->dir, &cfg))) return rc;
  if ((rc = cn_run_write_history(s->dir, s->history, 0))) return rc;
  /* A run always holds a checkpoint it can resume from. */
  return save_state(s);
}

/* The best weights, read by rank 0 and given to every rank of a group. */
static int restore_best(fit_state *s) {
  char path[4200];
  path_in(s, CN_RUN_BEST, path, sizeof path);
  const cn_group *g = s->opt->group;
  int rc = agree(s, writer(s) ? cn_checkpoint_restore(path, s->m, NULL, NULL) : CN_OK);
  if (rc || !g) return rc;
  int count;
  cn_tensor_ref *t = cn_model_tensors(s->m, &count);
  for (int i = 0; i < count; i++) g->bcast(g, 0, t[i].data, sizeof(float) * t[i].size);
  return CN_OK;
}

static int final_evaluation(fit_state *s, cn_fit_result *out) {
  int rc = restore_best(s);
  if (rc) return rc;
  const cn_group *g = s->opt->group;
  /* NaN: not evaluated (skip_train_eval) or no validation split */
  cn_eval_result train = {.loss = NAN, .accuracy = NAN}, val = {.loss = NAN, .accuracy = NAN}, test;
  if (!s->skip_train_eval &&
      (rc = cn_evaluate_group(g, s->m, &s->ds->train, s->train_idx, s->n_train, s->batch, NULL, &train)))
    return rc;
  if (s->n_val > 0 && (rc = cn_evaluate_group(g, s->m, &s->ds->train, s->val_idx, s->n_val, s->batch, NULL, &val)))
    return rc;
  int n_test = s->limit_test > 0 && s->limit_test < s->ds->test.n ? s->limit_test : s->ds->test.n;
  float *probs = writer(s) ? malloc(sizeof(float) * (size_t)n_test * (size_t)s->classes) : NULL;
  rc = agree(s, writer(s) && !probs ? cn_fail(CN_ENOMEM, "fit: out of memory for test probabilities") : CN_OK);
  if (!rc) rc = cn_evaluate_group(g, s->m, &s->ds->test, NULL, n_test, s->batch, probs, &test);
  if (!rc && writer(s)) rc = cn_run_write_probs(s->dir, probs, n_test, s->classes, s->ds->test.labels);
  free(probs);
  if (rc) return rc;
  snprintf(out->run_dir, sizeof out->run_dir, "%s", s->dir);
  out->train_loss = train.loss;
  out->train_accuracy = train.accuracy;
  out->val_loss = val.loss;
  out->val_accuracy = val.accuracy;
  out->test_loss = test.loss;
  out->test_accuracy = test.accuracy;
  out->test_n = test.n;
  out->test_accuracy_se = cn_accuracy_se(test.accuracy, test.n);
  out->train_time = s->train_time;
  out->epochs_planned = s->spec.train.epochs;
  out->epochs_run = s->epoch;
  out->seed = s->seed;
  out->val_split = s->val_split;
  out->precision = cn_model_precision(s->m);
  out->best_epoch = s->best_epoch;
  cn_spec_stats stats;
  if ((rc = cn_spec_stats_compute(&s->spec, &stats))) return rc;
  out->weight_number = stats.trainable;
  if (!writer(s)) return CN_OK;
  return cn_run_write_metrics(s->dir, out, s->spec.name, s->ds->name, stats.total, s->seed, &test.confusion);
}

int cn_fit(const cn_spec *spec, const cn_dataset *ds, const cn_fit_options *opt, cn_fit_result *out) {
  fit_state s;
  memset(&s, 0, sizeof s);
  s.opt = opt;
  s.ds = ds;
  memset(out, 0, sizeof *out);
  int rc = agree(&s, setup(&s, spec));
  while (!rc && !s.stopped && s.epoch < s.spec.train.epochs) {
    rc = run_epoch(&s);
    if (!rc) rc = end_of_epoch_callbacks(&s);
    if (!rc) {
      s.epoch++;
      s.batch_done = 0;
      s.epoch_shuffle = s.shuffle; /* the next epoch starts from here */
      rc = writer(&s) ? cn_run_write_history(s.dir, s.history, s.epoch) : CN_OK;
      if (!rc) rc = save_state(&s);
    }
    rc = agree(&s, rc);
  }
  if (!rc) rc = final_evaluation(&s, out);
  if (rc) snprintf(out->run_dir, sizeof out->run_dir, "%s", s.dir);
  cn_run_lock_release(s.lock);
  cn_augmenter_free(s.aug);
  cn_ema_free(s.ema);
  cn_optim_free(s.o);
  cn_model_free(s.m);
  free(s.train_idx);
  free(s.val_idx);
  free(s.order);
  free(s.x);
  free(s.onehot);
  free(s.labels);
  free(s.history);
  return rc;
}
