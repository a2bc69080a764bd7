/* Building a cn_spec in code, with Keras defaults, and the names of
 * activations shared by the parser, writer and summary. */
#include <string.h>

#include "cnist/spec.h"
#include "core/error.h"

cn_optim_spec cn_optim_spec_default(cn_opt_kind kind) {
  cn_optim_spec o;
  memset(&o, 0, sizeof o);
  o.kind = kind;
  switch (kind) {
    case CN_OPT_ADAM:
      o.lr = 0.001f;
      o.beta1 = 0.9f;
      o.beta2 = 0.999f;
      o.eps = 1e-7f;
      break;
    case CN_OPT_RMSPROP:
      o.lr = 0.001f;
      o.rho = 0.9f;
      o.eps = 1e-7f;
      break;
    case CN_OPT_SGD: o.lr = 0.01f; break;
  }
  return o;
}

void cn_spec_init(cn_spec *s, int c, int h, int w) {
  memset(s, 0, sizeof *s);
  s->in_c = c;
  s->in_h = h;
  s->in_w = w;
  s->train.optim = cn_optim_spec_default(CN_OPT_ADAM);
  s->train.batch = 32;
  s->train.epochs = 10;
  s->train.loss = CN_LOSS_SPARSE_CATEGORICAL;
  s->train.schedule = cn_schedule_default(CN_SCHEDULE_CONSTANT);
  s->train.val_split = -1;
}

/* The next free layer slot, zeroed, or NULL (message set) when full. */
static cn_layer_spec *next_layer(cn_spec *s, cn_layer_kind kind) {
  if (s->n_layers >= CN_MAX_LAYERS) {
    cn_fail(CN_EINVAL, "too many layers: a model holds at most %d", CN_MAX_LAYERS);
    return NULL;
  }
  cn_layer_spec *l = &s->layers[s->n_layers++];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  return l;
}

int cn_spec_add_dense(cn_spec *s, int units, cn_act act) {
  if (units <= 0) return cn_fail(CN_EINVAL, "dense: units must be positive, got %d", units);
  cn_layer_spec *l = next_layer(s, CN_LAYER_DENSE);
  if (!l) return CN_EINVAL;
  l->units = units;
  l->act = act;
  return 0;
}

int cn_spec_add_conv2d(cn_spec *s, int filters, int kh, int kw, int stride, int same, cn_act act) {
  if (filters <= 0 || kh <= 0 || kw <= 0 || stride <= 0)
    return cn_fail(CN_EINVAL, "conv2d: filters (%d), kernel (%dx%d) and stride (%d) must be positive",
                   filters, kh, kw, stride);
  cn_layer_spec *l = next_layer(s, CN_LAYER_CONV2D);
  if (!l) return CN_EINVAL;
  l->filters = filters;
  l->kh = kh;
  l->kw = kw;
  l->sh = l->sw = stride;
  l->same = same ? 1 : 0;
  l->act = act;
  return 0;
}

int cn_spec_add_pool(cn_spec *s, cn_layer_kind kind, int size, int stride) {
  if (kind != CN_LAYER_MAXPOOL && kind != CN_LAYER_AVGPOOL)
    return cn_fail(CN_EINVAL, "cn_spec_add_pool: kind must be maxpool or avgpool");
  if (size <= 0 || stride < 0)
    return cn_fail(CN_EINVAL, "%s: size (%d) must be positive and stride (%d) not negative",
                   cn_layer_kind_name(kind), size, stride);
  cn_layer_spec *l = next_layer(s, kind);
  if (!l) return CN_EINVAL;
  l->kh = l->kw = size;
  l->sh = l->sw = stride ? stride : size; /* Keras: strides default to pool_size */
  return 0;
}

int cn_spec_add_batchnorm(cn_spec *s) {
  cn_layer_spec *l = next_layer(s, CN_LAYER_BATCHNORM);
  if (!l) return CN_EINVAL;
  l->momentum = 0.99f;
  l->epsilon = 0.001f;
  return 0;
}

int cn_spec_add_dropout(cn_spec *s, float rate) {
  if (!(rate >= 0.0f && rate < 1.0f))
    return cn_fail(CN_EINVAL, "dropout: rate must be in [0, 1), got %g", (double)rate);
  cn_layer_spec *l = next_layer(s, CN_LAYER_DROPOUT);
  if (!l) return CN_EINVAL;
  l->rate = rate;
  return 0;
}

int cn_spec_add_flatten(cn_spec *s) {
  return next_layer(s, CN_LAYER_FLATTEN) ? 0 : CN_EINVAL;
}

int cn_spec_add_global_avgpool(cn_spec *s) {
  return next_layer(s, CN_LAYER_GLOBAL_AVGPOOL) ? 0 : CN_EINVAL;
}

int cn_spec_add_activation(cn_spec *s, cn_act act) {
  cn_layer_spec *l = next_layer(s, CN_LAYER_ACTIVATION);
  if (!l) return CN_EINVAL;
  l->act = act;
  return 0;
}

void cn_callback_spec_default(cn_callback_spec *c, cn_callback_kind kind) {
  memset(c, 0, sizeof *c);
  c->kind = kind;
  strcpy(c->monitor, "val_loss");
  switch (kind) {
    case CN_CB_CHECKPOINT: c->save_best_only = 1; break;
    case CN_CB_REDUCE_LR:
      c->factor = 0.1f;
      c->patience = 10;
      c->min_delta = 1e-4f;
      break;
    case CN_CB_EARLY_STOP: break;
  }
}
