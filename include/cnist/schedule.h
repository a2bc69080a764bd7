/* Learning-rate schedules: the factor by which the optimizer's initial
 * rate is multiplied at each step. A schedule is a function of the step
 * alone, so a resumed run continues it exactly; ReduceLROnPlateau, when
 * also asked for, multiplies the scheduled rate by its own reductions (the
 * rate of a step is lr * schedule factor * plateau factor).
 *
 *   constant     1
 *   exponential  gamma^e at epoch e (0-based), as Keras's
 *                LearningRateScheduler(lambda e: lr * gamma**e)
 *   step         gamma^floor(e / every)
 *   cosine       a linear warm-up from `start` to 1 over the first `warmup`
 *                fraction of all steps, then half a cosine from 1 down to
 *                `final` at the last step (Loshchilov & Hutter's SGDR
 *                without restarts)
 *   one_cycle    PyTorch's OneCycleLR (cosine annealing, two phases): from
 *                `start` up to 1 over the first `warmup` fraction of all
 *                steps, then down to `final`, each phase half a cosine
 *                (Smith & Topin 2017)
 */
#ifndef CNIST_SCHEDULE_H
#define CNIST_SCHEDULE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  CN_SCHEDULE_CONSTANT,
  CN_SCHEDULE_EXPONENTIAL,
  CN_SCHEDULE_STEP,
  CN_SCHEDULE_COSINE,
  CN_SCHEDULE_ONE_CYCLE
} cn_schedule_kind;

typedef struct {
  cn_schedule_kind kind;
  double gamma;  /* exponential, step: the factor per epoch or per `every` epochs, in (0, 1] */
  int every;     /* step: epochs between two drops, >= 1 */
  double warmup; /* cosine, one_cycle: fraction of all steps spent rising, in [0, 1) */
  double start;  /* cosine, one_cycle: the first step's factor, in [0, 1] */
  double final;  /* cosine, one_cycle: the last step's factor, in [0, 1] */
} cn_schedule;

/* The defaults of each kind: exponential gamma 0.95 (Deotte's MNIST
 * recipe); step gamma 0.1 every 10 epochs; cosine no warm-up, final 0;
 * one_cycle warm-up 0.3, start 1/25, final 1/25/1e4 (PyTorch's). */
cn_schedule cn_schedule_default(cn_schedule_kind kind);
/* CN_EINVAL naming the first field out of range. */
int cn_schedule_check(const cn_schedule *s);
/* The factor at `step` (0-based over the whole run) of a run of `epochs`
 * epochs of `steps_per_epoch` steps each. */
double cn_schedule_factor(const cn_schedule *s, int64_t step, int64_t steps_per_epoch, int epochs);

/* "constant", "exponential", "step", "cosine", "one_cycle". */
const char *cn_schedule_name(cn_schedule_kind kind);
/* The kind named `name`, or CN_EINVAL listing the names. */
int cn_schedule_parse(const char *name, cn_schedule_kind *out);

#ifdef __cplusplus
}
#endif
#endif
