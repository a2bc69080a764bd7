/* The training settings of the augment and schedule lines: defaults,
 * range checks and names (include/cnist/spec.h). */
#include <string.h>

#include "cnist/spec.h"
#include "core/error.h"

int cn_augment_active(const cn_augment *a) {
  return a && (a->rotation > 0 || a->zoom > 0 || a->shear > 0 || a->shift > 0 || a->elastic_alpha > 0 ||
               a->erase > 0 || a->flip > 0);
}

static int in_range(const char *name, float v, float lo, float hi) {
  if (!(v >= lo && v <= hi)) /* also refuses NaN */
    return cn_fail(CN_EINVAL, "augmentation %s=%g is out of range: it must be in [%g, %g]", name, (double)v,
                   (double)lo, (double)hi);
  return CN_OK;
}

int cn_augment_check(const cn_augment *a) {
  int rc = in_range("rotation", a->rotation, 0, 180);
  if (!rc) rc = in_range("zoom", a->zoom, 0, 0.9f);
  if (!rc) rc = in_range("shear", a->shear, 0, 60);
  if (!rc) rc = in_range("shift", a->shift, 0, 0.5f);
  if (!rc) rc = in_range("elastic_alpha", a->elastic_alpha, 0, 1000);
  if (!rc && a->elastic_alpha > 0) rc = in_range("elastic_sigma", a->elastic_sigma, 0.5f, 10);
  if (!rc) rc = in_range("erase", a->erase, 0, 1);
  if (!rc) rc = in_range("flip", a->flip, 0, 1);
  return rc;
}

static const char *const metrics[CN_METRICS + 1] = {
    [CN_METRIC_LOSS] = "loss", [CN_METRIC_ACCURACY] = "accuracy", [CN_METRIC_VAL_LOSS] = "val_loss",
    [CN_METRIC_VAL_ACCURACY] = "val_accuracy"};

const char *const *cn_metric_names(void) { return metrics; }

int cn_metric_parse(const char *name, cn_metric *out) {
  for (int k = 0; name && k < CN_METRICS; k++)
    if (strcmp(name, metrics[k]) == 0) {
      *out = (cn_metric)k;
      return CN_OK;
    }
  return cn_fail(CN_EINVAL, "unknown monitor \"%s\": use loss, accuracy, val_loss or val_accuracy", name ? name : "");
}

static const char *const names[CN_SCHEDULE_KINDS + 1] = {
    [CN_SCHEDULE_CONSTANT] = "constant", [CN_SCHEDULE_EXPONENTIAL] = "exponential", [CN_SCHEDULE_STEP] = "step",
    [CN_SCHEDULE_COSINE] = "cosine",     [CN_SCHEDULE_ONE_CYCLE] = "one_cycle",
};
#define KINDS CN_SCHEDULE_KINDS

const char *const *cn_schedule_names(void) { return names; }

const char *cn_schedule_name(cn_schedule_kind kind) {
  return (int)kind >= 0 && (int)kind < KINDS ? names[kind] : "?";
}

int cn_schedule_parse(const char *name, cn_schedule_kind *out) {
  for (int k = 0; k < KINDS; k++)
    if (strcmp(name, names[k]) == 0) {
      *out = (cn_schedule_kind)k;
      return CN_OK;
    }
  return cn_fail(CN_EINVAL, "unknown schedule \"%s\": use constant, exponential, step, cosine or one_cycle", name);
}

cn_schedule cn_schedule_default(cn_schedule_kind kind) {
  cn_schedule s = {.kind = kind, .gamma = 1, .every = 1, .warmup = 0, .start = 1, .final = 1};
  switch (kind) {
  case CN_SCHEDULE_EXPONENTIAL: s.gamma = 0.95f; break;
  case CN_SCHEDULE_STEP: s.gamma = 0.1f, s.every = 10; break;
  case CN_SCHEDULE_COSINE: s.start = 0, s.final = 0; break;
  case CN_SCHEDULE_ONE_CYCLE: s.warmup = 0.3f, s.start = 1.0f / 25, s.final = 1.0f / 25 / 1e4f; break;
  case CN_SCHEDULE_CONSTANT: break;
  }
  return s;
}

int cn_schedule_check(const cn_schedule *s) {
  const char *kind = cn_schedule_name(s->kind);
  if ((int)s->kind < 0 || (int)s->kind >= KINDS) return cn_fail(CN_EINVAL, "unknown schedule kind %d", (int)s->kind);
  if (!(s->gamma > 0 && s->gamma <= 1))
    return cn_fail(CN_EINVAL, "schedule %s: gamma=%g must be in (0, 1]", kind, (double)s->gamma);
  if (s->every < 1) return cn_fail(CN_EINVAL, "schedule %s: every=%d must be at least 1", kind, s->every);
  if (!(s->warmup >= 0 && s->warmup < 1))
    return cn_fail(CN_EINVAL, "schedule %s: warmup=%g must be in [0, 1)", kind, (double)s->warmup);
  if (!(s->start >= 0 && s->start <= 1))
    return cn_fail(CN_EINVAL, "schedule %s: start=%g must be in [0, 1]", kind, (double)s->start);
  if (!(s->final >= 0 && s->final <= 1))
    return cn_fail(CN_EINVAL, "schedule %s: final=%g must be in [0, 1]", kind, (double)s->final);
  return CN_OK;
}

