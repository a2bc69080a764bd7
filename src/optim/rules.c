/* The update rules of tf.keras 2.x optimizers (see rules.h), written as
 * restrict-qualified loops the compiler vectorises. */
#include "optim/rules.h"

#include <math.h>

void cn_rule_decay(float *restrict w, size_t n, float rate) {
  for (size_t i = 0; i < n; i++) w[i] -= rate * w[i];
}

void cn_rule_sgd(float *restrict w, const float *restrict g, size_t n, float lr) {
  for (size_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

void cn_rule_momentum(float *restrict w, float *restrict v, const float *restrict g, size_t n, float lr,
                      float momentum, int nesterov) {
  if (nesterov) {
    for (size_t i = 0; i < n; i++) {
      float step = lr * g[i];
      float vi = momentum * v[i] - step;
      v[i] = vi;
      w[i] += momentum * vi - step;
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      float vi = momentum * v[i] - lr * g[i];
      v[i] = vi;
      w[i] += vi;
    }
  }
}

void cn_rule_adam(float *restrict w, float *restrict m, float *restrict v, const float *restrict g, size_t n,
                  float alpha, float beta1, float beta2, float eps) {
  const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
  for (size_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = m[i] + (gi - m[i]) * one_minus_b1;
    float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    w[i] -= (mi * alpha) / (sqrtf(vi) + eps);
  }
}

void cn_rule_rmsprop(float *restrict w, float *restrict ms, const float *restrict g, size_t n, float lr,
                     float rho, float eps) {
  const float one_minus_rho = 1.0f - rho;
  for (size_t i = 0; i < n; i++) {
    float gi = g[i];
    float si = rho * ms[i] + one_minus_rho * (gi * gi);
    ms[i] = si;
    w[i] -= lr * gi / (sqrtf(si) + eps);
  }
}
