/* Learning-rate schedules: the factor of each step (include/cnist/optim.h,
 * the kinds described in include/cnist/spec.h). */
#include <math.h>

#include "cnist/optim.h"

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
