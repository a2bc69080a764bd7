/* Learning-rate schedules (include/cnist/schedule.h). */
#include "cnist/schedule.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

static const char *const names[] = {
    [CN_SCHEDULE_CONSTANT] = "constant", [CN_SCHEDULE_EXPONENTIAL] = "exponential", [CN_SCHEDULE_STEP] = "step",
    [CN_SCHEDULE_COSINE] = "cosine",     [CN_SCHEDULE_ONE_CYCLE] = "one_cycle",
};
#define KINDS ((int)(sizeof names / sizeof names[0]))

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
  case CN_SCHEDULE_EXPONENTIAL: s.gamma = 0.95; break;
  case CN_SCHEDULE_STEP: s.gamma = 0.1, s.every = 10; break;
  case CN_SCHEDULE_COSINE: s.start = 0, s.final = 0; break;
  case CN_SCHEDULE_ONE_CYCLE: s.warmup = 0.3, s.start = 1.0 / 25, s.final = 1.0 / 25 / 1e4; break;
  case CN_SCHEDULE_CONSTANT: break;
  }
  return s;
}

int cn_schedule_check(const cn_schedule *s) {
  const char *kind = cn_schedule_name(s->kind);
  if ((int)s->kind < 0 || (int)s->kind >= KINDS) return cn_fail(CN_EINVAL, "unknown schedule kind %d", (int)s->kind);
  if (!(s->gamma > 0 && s->gamma <= 1))
    return cn_fail(CN_EINVAL, "schedule %s: gamma=%g must be in (0, 1]", kind, s->gamma);
  if (s->every < 1) return cn_fail(CN_EINVAL, "schedule %s: every=%d must be at least 1", kind, s->every);
  if (!(s->warmup >= 0 && s->warmup < 1))
    return cn_fail(CN_EINVAL, "schedule %s: warmup=%g must be in [0, 1)", kind, s->warmup);
  if (!(s->start >= 0 && s->start <= 1))
    return cn_fail(CN_EINVAL, "schedule %s: start=%g must be in [0, 1]", kind, s->start);
  if (!(s->final >= 0 && s->final <= 1))
    return cn_fail(CN_EINVAL, "schedule %s: final=%g must be in [0, 1]", kind, s->final);
  return CN_OK;
}

/* From a (p = 0) to b (p = 1) along half a cosine. */
static double cosine(double a, double b, double p) { return b + (a - b) * 0.5 * (1 + cos(M_PI * p)); }

double cn_schedule_factor(const cn_schedule *s, int64_t step, int64_t steps_per_epoch, int epochs) {
  const int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
  const double total = (double)steps_per_epoch * epochs;
  switch (s->kind) {
  case CN_SCHEDULE_CONSTANT: return 1;
  case CN_SCHEDULE_EXPONENTIAL: return pow(s->gamma, (double)epoch);
  case CN_SCHEDULE_STEP: return pow(s->gamma, (double)(epoch / s->every));
  case CN_SCHEDULE_COSINE: {
    double warm = s->warmup * total, t = (double)step;
    if (t < warm) return s->start + (1 - s->start) * t / warm;
    double rest = total - 1 - warm;
    return rest > 0 ? cosine(1, s->final, fmin(1, (t - warm) / rest)) : 1;
  }
  case CN_SCHEDULE_ONE_CYCLE: {
    /* PyTorch's phase ends: warmup * total - 1, then total - 1. */
    double up = s->warmup * total - 1, last = total - 1, t = (double)step;
    if (t <= up) return up > 0 ? cosine(s->start, 1, t / up) : 1;
    return last > up ? cosine(1, s->final, fmin(1, (t - up) / (last - up))) : s->final;
  }
  }
  return 1;
}
