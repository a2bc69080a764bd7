/* Internal: the element-wise update rules, one function per rule. Each
 * updates n values in place from their gradients; every element depends on
 * its own values only, so any split of [0, n) gives bit-identical results. */
#ifndef CN_OPTIM_RULES_H
#define CN_OPTIM_RULES_H

#include <stddef.h>

/* Decoupled weight decay, before any rule's update: w -= lr*weight_decay*w. */
void cn_rule_decay(float *restrict w, size_t n, float rate);
/* Plain SGD (Keras momentum=0): w -= lr*g. */
void cn_rule_sgd(float *restrict w, const float *restrict g, size_t n, float lr);

/* SGD with momentum (Keras): v = momentum*v - lr*g; w += v.
 * Nesterov: v as above, then w += momentum*v - lr*g. */
void cn_rule_momentum(float *restrict w, float *restrict v, const float *restrict g, size_t n, float lr,
                      float momentum, int nesterov);

/* Adam as tf.keras computes it: m += (g - m)*(1 - beta1);
 * v += (g*g - v)*(1 - beta2); w -= m*alpha / (sqrt(v) + eps), where
 * alpha = lr*sqrt(1 - beta2^t)/(1 - beta1^t) is computed once per step by the
 * caller and eps is the paper's "epsilon hat" (not scaled by the bias
 * correction). */
void cn_rule_adam(float *restrict w, float *restrict m, float *restrict v, const float *restrict g, size_t n,
                  float alpha, float beta1, float beta2, float eps);

/* RMSprop as tf.keras 2.x (momentum 0, not centered):
 * ms = rho*ms + (1 - rho)*g*g; w -= lr*g / (sqrt(ms) + eps). */
void cn_rule_rmsprop(float *restrict w, float *restrict ms, const float *restrict g, size_t n, float lr,
                     float rho, float eps);

#endif
