/* Update rules with Keras defaults and formulas: SGD (momentum, Nesterov),
 * Adam, RMSprop. An optimizer updates a list of tensors from their grads; it
 * knows nothing of layers.
 *
 * The formulas are those of tf.keras 2.x (g: gradient, t: step from 1):
 *   SGD       w -= lr*g                       (momentum 0: no state)
 *   momentum  v = momentum*v - lr*g; w += v
 *   Nesterov  v = momentum*v - lr*g; w += momentum*v - lr*g
 *   Adam      m += (g - m)*(1 - beta1); v += (g*g - v)*(1 - beta2);
 *             w -= lr*sqrt(1 - beta2^t)/(1 - beta1^t) * m / (sqrt(v) + eps)
 *             (eps is the paper's "epsilon hat": not bias-corrected)
 *   RMSprop   ms = rho*ms + (1 - rho)*g*g; w -= lr*g / (sqrt(ms) + eps)
 *             (momentum 0, not centered; eps outside the square root)
 * With weight_decay wd > 0 (any optimizer), each step first shrinks the
 * weights, w -= lr*wd*w, then applies the rule above: decoupled weight
 * decay, as Keras's weight_decay and PyTorch's AdamW do it (Loshchilov &
 * Hutter 2019). It applies to every trained tensor (biases and batch norm's
 * gamma and beta too, as in Keras).
 * Every element is updated from its own values only, so results do not
 * depend on the thread count. */
#ifndef CNIST_OPTIM_H
#define CNIST_OPTIM_H

#include "cnist/core.h"
#include "cnist/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cn_optim cn_optim;

/* params: the tensors to update (those with grad == NULL are skipped); the
 * optimizer keeps their data and grad pointers, so those must outlive it.
 * CN_EINVAL for settings out of range (beta1, beta2, rho in [0, 1),
 * momentum in [0, 1], lr and eps finite and >= 0). State starts at zero. */
int cn_optim_new(const cn_optim_spec *spec, const cn_tensor_ref *params, int count, cn_optim **out);
void cn_optim_free(cn_optim *o);

/* One update of every parameter from its grad. No allocation. */
void cn_optim_step(cn_optim *o);

/* The learning rate can change between steps (schedules, ReduceLROnPlateau). */
void cn_optim_set_lr(cn_optim *o, float lr);
float cn_optim_lr(const cn_optim *o);
/* The settings it was created with (lr there is the initial rate). */
const cn_optim_spec *cn_optim_get_spec(const cn_optim *o);

/* Steps taken so far (Adam's bias correction uses it); restored on resume. */
int64_t cn_optim_steps(const cn_optim *o);
void cn_optim_set_steps(cn_optim *o, int64_t steps);

/* The optimizer's state tensors for checkpoints, named
 * "optim.<param name>.<slot>" (slots: m, v for Adam; ms for RMSprop;
 * velocity for SGD with momentum). The array belongs to the optimizer. */
cn_tensor_ref *cn_optim_state(cn_optim *o, int *count);

/* Learning-rate schedules (cn_schedule in cnist/spec.h): the factor by
 * which the initial rate is multiplied at `step` (0-based over the whole
 * run) of a run of `epochs` epochs of `steps_per_epoch` steps each. */
double cn_schedule_factor(const cn_schedule *s, int64_t step, int64_t steps_per_epoch, int epochs);

#ifdef __cplusplus
}
#endif
#endif
