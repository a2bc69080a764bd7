/* Schedules against values worked out by hand from their definitions
 * (include/cnist/schedule.h), and their names and range checks. */
#include "cnist/optim.h"

#include "cnist/core.h"
#include "test.h"

static void test_epoch_schedules(void) {
  cn_schedule e = cn_schedule_default(CN_SCHEDULE_EXPONENTIAL);
  CHECK(cn_schedule_check(&e) == CN_OK);
  CHECK_NEAR(cn_schedule_factor(&e, 0, 100, 30), 1, 0);
  CHECK_NEAR(cn_schedule_factor(&e, 99, 100, 30), 1, 0);          /* still epoch 0 */
  CHECK_NEAR(cn_schedule_factor(&e, 300, 100, 30), 0.857375, 1e-7); /* 0.95^3, gamma a float */

  cn_schedule s = cn_schedule_default(CN_SCHEDULE_STEP);
  CHECK_NEAR(cn_schedule_factor(&s, 9 * 50 + 49, 50, 30), 1, 0);
  CHECK_NEAR(cn_schedule_factor(&s, 25 * 50, 50, 30), 0.01, 1e-9);

  cn_schedule c = cn_schedule_default(CN_SCHEDULE_CONSTANT);
  CHECK(cn_schedule_factor(&c, 12345, 100, 3) == 1);
}

static void test_cosine(void) {
  cn_schedule c = cn_schedule_default(CN_SCHEDULE_COSINE);
  /* 101 steps: the cosine runs over steps 0..100. */
  CHECK_NEAR(cn_schedule_factor(&c, 0, 101, 1), 1, 1e-15);
  CHECK_NEAR(cn_schedule_factor(&c, 25, 101, 1), 0.8535533905932737, 1e-12); /* (1 + cos(pi/4)) / 2 */
  CHECK_NEAR(cn_schedule_factor(&c, 50, 101, 1), 0.5, 1e-12);
  CHECK_NEAR(cn_schedule_factor(&c, 100, 101, 1), 0, 1e-12);
  c.warmup = 0.1f; /* 100 steps: 10 of linear warm-up from 0 */
  CHECK_NEAR(cn_schedule_factor(&c, 0, 50, 2), 0, 1e-15);
  CHECK_NEAR(cn_schedule_factor(&c, 5, 50, 2), 0.5, 1e-7); /* warmup is a float: 0.1f * 100 is not quite 10 */
  CHECK_NEAR(cn_schedule_factor(&c, 10, 50, 2), 1, 1e-7);
  CHECK_NEAR(cn_schedule_factor(&c, 99, 50, 2), 0, 1e-12);
}

/* PyTorch's OneCycleLR over 100 steps with pct_start 0.25: phase one ends
 * at step 24, phase two at step 99. */
static void test_one_cycle(void) {
  cn_schedule o = cn_schedule_default(CN_SCHEDULE_ONE_CYCLE);
  o.warmup = 0.25f;
  const double start = 1.0f / 25, final = 1.0f / 25 / 1e4f; /* as stored: floats */
  CHECK_NEAR(cn_schedule_factor(&o, 0, 100, 1), start, 1e-15);
  CHECK_NEAR(cn_schedule_factor(&o, 12, 100, 1), 0.52, 1e-8); /* halfway up: (0.04 + 1) / 2 */
  CHECK_NEAR(cn_schedule_factor(&o, 24, 100, 1), 1, 1e-12);
  CHECK_NEAR(cn_schedule_factor(&o, 49, 100, 1), final + 0.75 * (1 - final), 1e-12); /* a third of the way down */
  CHECK_NEAR(cn_schedule_factor(&o, 99, 100, 1), final, 1e-15);
}

static void test_names_and_checks(void) {
  for (int k = CN_SCHEDULE_CONSTANT; k <= CN_SCHEDULE_ONE_CYCLE; k++) {
    cn_schedule_kind back;
    CHECK(cn_schedule_parse(cn_schedule_name((cn_schedule_kind)k), &back) == CN_OK && (int)back == k);
    cn_schedule d = cn_schedule_default((cn_schedule_kind)k);
    CHECK(cn_schedule_check(&d) == CN_OK);
  }
  cn_schedule_kind kind;
  CHECK_ERROR(cn_schedule_parse("linear", &kind), CN_EINVAL, "unknown schedule \"linear\"");
  cn_schedule s = cn_schedule_default(CN_SCHEDULE_EXPONENTIAL);
  s.gamma = 1.5;
  CHECK_ERROR(cn_schedule_check(&s), CN_EINVAL, "gamma=1.5");
  s = cn_schedule_default(CN_SCHEDULE_ONE_CYCLE);
  s.warmup = 1;
  CHECK_ERROR(cn_schedule_check(&s), CN_EINVAL, "warmup=1");
  s.warmup = 0.3f, s.final = NAN;
  CHECK_ERROR(cn_schedule_check(&s), CN_EINVAL, "final");
  s = cn_schedule_default(CN_SCHEDULE_STEP);
  s.every = 0;
  CHECK_ERROR(cn_schedule_check(&s), CN_EINVAL, "every=0");
}

int main(void) {
  test_epoch_schedules();
  test_cosine();
  test_one_cycle();
  test_names_and_checks();
  return test_summary();
}
