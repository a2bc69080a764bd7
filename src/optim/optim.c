/* Optimizers: state per trained tensor (Adam m and v, RMSprop ms, SGD
 * velocity) in one allocation carved into named views, and a step that
 * applies the rule of rules.c to every tensor without allocating. */
#include "cnist/optim.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fpmode.h"
#include "optim/rules.h"

/* The step treats all tensors as one array of `total` elements and gives
 * each thread an equal contiguous share (below PARALLEL_MIN elements in all,
 * one thread). Every element is updated from its own values only, so the
 * result does not depend on the thread count. One parallel region for the
 * whole step: split tensor by tensor, each of LeNet-5's was too small to
 * share, and its whole Adam step ran on one thread while the other waited. */
enum { PARALLEL_MIN = 16384 };

#define MAX_SLOTS 2

struct cn_optim {
  cn_optim_spec spec;   /* the settings it was created with */
  float lr;             /* the current learning rate */
  int64_t steps;
  int n;                /* trained tensors (those with a grad) */
  size_t total;         /* their elements, all together */
  cn_tensor_ref *params;
  int slots;            /* state tensors per trained tensor: 0, 1 or 2 */
  float *state;         /* all state values, zeroed at creation */
  cn_tensor_ref *state_refs; /* n*slots views into state, param-major */
};

static int slot_count(const cn_optim_spec *s) {
  switch (s->kind) {
  case CN_OPT_ADAM: return 2;
  case CN_OPT_RMSPROP: return 1;
  case CN_OPT_SGD: return s->momentum > 0.0f ? 1 : 0;
  }
  return 0;
}

static const char *slot_name(const cn_optim_spec *s, int slot) {
  switch (s->kind) {
  case CN_OPT_ADAM: return slot == 0 ? "m" : "v";
  case CN_OPT_RMSPROP: return "ms";
  case CN_OPT_SGD: return "velocity";
  }
  return "";
}

static int in_unit(float x) { return x >= 0.0f && x < 1.0f; }

static int check_spec(const cn_optim_spec *s) {
  if (s->kind != CN_OPT_ADAM && s->kind != CN_OPT_RMSPROP && s->kind != CN_OPT_SGD)
    return cn_fail(CN_EINVAL, "optimizer: unknown kind %d", (int)s->kind);
  if (!isfinite(s->lr) || s->lr < 0.0f)
    return cn_fail(CN_EINVAL, "optimizer: learning rate must be a finite number >= 0, got %g", (double)s->lr);
  switch (s->kind) {
  case CN_OPT_ADAM:
    if (!in_unit(s->beta1) || !in_unit(s->beta2))
      return cn_fail(CN_EINVAL, "adam: beta1 and beta2 must lie in [0, 1), got %g and %g", (double)s->beta1,
                     (double)s->beta2);
    break;
  case CN_OPT_RMSPROP:
    if (!in_unit(s->rho)) return cn_fail(CN_EINVAL, "rmsprop: rho must lie in [0, 1), got %g", (double)s->rho);
    break;
  case CN_OPT_SGD:
    if (!(s->momentum >= 0.0f && s->momentum <= 1.0f))
      return cn_fail(CN_EINVAL, "sgd: momentum must lie in [0, 1], got %g", (double)s->momentum);
    break;
  }
  if (!(s->weight_decay >= 0.0f && s->weight_decay < 1.0f))
    return cn_fail(CN_EINVAL, "optimizer: weight_decay must lie in [0, 1), got %g", (double)s->weight_decay);
  if (s->kind != CN_OPT_SGD && !(isfinite(s->eps) && s->eps >= 0.0f))
    return cn_fail(CN_EINVAL, "optimizer: epsilon must be a finite number >= 0, got %g", (double)s->eps);
  return CN_OK;
}

int cn_optim_new(const cn_optim_spec *spec, const cn_tensor_ref *params, int count, cn_optim **out) {
  *out = NULL;
  if (!spec || count < 0 || (count > 0 && !params))
    return cn_fail(CN_EINVAL, "cn_optim_new: needs a spec and %d tensors", count);
  int rc = check_spec(spec);
  if (rc) return rc;
  cn_optim *o = calloc(1, sizeof *o);
  if (!o) return cn_fail(CN_ENOMEM, "optimizer: out of memory");
  o->spec = *spec;
  o->lr = spec->lr;
  const int slots = o->slots = slot_count(spec);
  int trained = 0;
  size_t total = 0;
  for (int i = 0; i < count; i++) {
    if (!params[i].grad) continue;
    if (!params[i].data) {
      cn_optim_free(o);
      return cn_fail(CN_EINVAL, "optimizer: tensor %s has a grad but no data", params[i].name);
    }
    trained++;
    if (params[i].size > (SIZE_MAX / sizeof(float)) / MAX_SLOTS - total) {
      cn_optim_free(o);
      return cn_fail(CN_ENOMEM, "optimizer: state for %d tensors would not fit in memory", count);
    }
    total += params[i].size;
  }
  o->total = total;
  o->params = calloc(trained ? (size_t)trained : 1, sizeof *o->params);
  o->state_refs = calloc(trained && o->slots ? (size_t)trained * (size_t)o->slots : 1, sizeof *o->state_refs);
  o->state = o->slots && total ? calloc(total * (size_t)o->slots, sizeof(float)) : NULL;
  if (!o->params || !o->state_refs || (o->slots && total && !o->state)) {
    cn_optim_free(o);
    return cn_fail(CN_ENOMEM, "optimizer: out of memory for the state of %zu values", total * (size_t)slots);
  }
  float *next = o->state;
  for (int i = 0; i < count; i++) {
    if (!params[i].grad) continue;
    cn_tensor_ref *p = &o->params[o->n];
    *p = params[i];
    for (int s = 0; s < o->slots; s++) {
      cn_tensor_ref *r = &o->state_refs[o->n * o->slots + s];
      int len = snprintf(r->name, sizeof r->name, "optim.%s.%s", p->name, slot_name(spec, s));
      if (len < 0 || (size_t)len >= sizeof r->name) {
        int bad = cn_fail(CN_EINVAL, "optimizer: tensor name \"%s\" is too long for its state names", p->name);
        cn_optim_free(o);
        return bad;
      }
      r->ndim = p->ndim;
      memcpy(r->shape, p->shape, sizeof r->shape);
      r->size = p->size;
      r->data = next;
      r->grad = NULL;
      next += p->size;
    }
    o->n++;
  }
  *out = o;
  return CN_OK;
}

void cn_optim_free(cn_optim *o) {
  if (!o) return;
  free(o->params);
  free(o->state_refs);
  free(o->state);
  free(o);
}

/* One tensor's update. */
static void update(const cn_optim *o, const cn_tensor_ref *p, float *s0, float *s1, size_t from, size_t to,
                   float alpha) {
  const cn_optim_spec *s = &o->spec;
  float *w = p->data + from;
  const float *g = p->grad + from;
  size_t n = to - from;
  if (s->weight_decay > 0.0f) cn_rule_decay(w, n, o->lr * s->weight_decay);
  switch (s->kind) {
  case CN_OPT_ADAM: cn_rule_adam(w, s0 + from, s1 + from, g, n, alpha, s->beta1, s->beta2, s->eps); break;
  case CN_OPT_RMSPROP: cn_rule_rmsprop(w, s0 + from, g, n, o->lr, s->rho, s->eps); break;
  case CN_OPT_SGD:
    if (o->slots)
      cn_rule_momentum(w, s0 + from, g, n, o->lr, s->momentum, s->nesterov);
    else
      cn_rule_sgd(w, g, n, o->lr);
    break;
  }
}

void cn_optim_step(cn_optim *o) {
  /* Adam's bias correction, with t counted from 1 as Keras does; in double,
   * rounded once to float. */
  float alpha = 0.0f;
  if (o->spec.kind == CN_OPT_ADAM) {
    double t = (double)(o->steps + 1);
    alpha = (float)((double)o->lr * sqrt(1.0 - pow((double)o->spec.beta2, t)) /
                    (1.0 - pow((double)o->spec.beta1, t)));
  }
  const size_t total = o->total;
  const int nt = total < PARALLEL_MIN ? 1 : omp_get_max_threads();
#pragma omp parallel num_threads(nt)
  {
    const unsigned saved = cn_fp_flush_begin(); /* as the passes run */
    const size_t t = (size_t)omp_get_thread_num(), nth = (size_t)omp_get_num_threads();
    const size_t lo = total * t / nth, hi = total * (t + 1) / nth;
    size_t start = 0; /* where tensor i begins in the concatenation */
    for (int i = 0; i < o->n && start < hi; i++) {
      const cn_tensor_ref *p = &o->params[i];
      const size_t end = start + p->size;
      if (end > lo) {
        float *s0 = o->slots > 0 ? o->state_refs[i * o->slots].data : NULL;
        float *s1 = o->slots > 1 ? o->state_refs[i * o->slots + 1].data : NULL;
        update(o, p, s0, s1, (lo > start ? lo : start) - start, (hi < end ? hi : end) - start, alpha);
      }
      start = end;
    }
    cn_fp_flush_end(saved);
  }
  o->steps++;
}

void cn_optim_set_lr(cn_optim *o, float lr) { o->lr = lr; }
float cn_optim_lr(const cn_optim *o) { return o->lr; }
const cn_optim_spec *cn_optim_get_spec(const cn_optim *o) { return &o->spec; }
int64_t cn_optim_steps(const cn_optim *o) { return o->steps; }
void cn_optim_set_steps(cn_optim *o, int64_t steps) { o->steps = steps; }

cn_tensor_ref *cn_optim_state(cn_optim *o, int *count) {
  *count = o->n * o->slots;
  return o->state_refs;
}
