/* The model-file writer: cn_spec -> canonical text. Options equal to their
 * Keras default are left out, so the file reads like the one a user would
 * write; cn_spec_parse() of the result gives the same cn_spec back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnist/spec.h"
#include "core/error.h"
#include "spec/text.h"

/* " key=value" for a float option. */
static void put_float(FILE *f, const char *key, float v) {
  char num[32];
  cn_format_float(v, num, sizeof num);
  fprintf(f, " %s=%s", key, num);
}

/* A stride option when it differs from the default (dh, dw). */
static void put_stride(FILE *f, const cn_layer_spec *l, int dh, int dw) {
  if (l->sh == dh && l->sw == dw) return;
  if (l->sh == l->sw)
    fprintf(f, " stride=%d", l->sh);
  else
    fprintf(f, " stride=%dx%d", l->sh, l->sw);
}

static void put_layer(FILE *f, const cn_layer_spec *l) {
  char num[32];
  fputs(cn_layer_kind_name(l->kind), f);
  switch (l->kind) {
    case CN_LAYER_DENSE: fprintf(f, " %d", l->units); break;
    case CN_LAYER_CONV2D:
      fprintf(f, " %d %dx%d", l->filters, l->kh, l->kw);
      put_stride(f, l, 1, 1);
      break;
    case CN_LAYER_MAXPOOL:
    case CN_LAYER_AVGPOOL:
      fprintf(f, " %dx%d", l->kh, l->kw);
      put_stride(f, l, l->kh, l->kw);
      break;
    case CN_LAYER_BATCHNORM:
      if (l->momentum != 0.99f) put_float(f, "momentum", l->momentum);
      if (l->epsilon != 0.001f) put_float(f, "epsilon", l->epsilon);
      break;
    case CN_LAYER_DROPOUT:
      cn_format_float(l->rate, num, sizeof num);
      fprintf(f, " %s", num);
      break;
    case CN_LAYER_ACTIVATION: fprintf(f, " %s", cn_act_name(l->act)); break;
    case CN_LAYER_FLATTEN:
    case CN_LAYER_GLOBAL_AVGPOOL: break;
  }
  if ((l->kind == CN_LAYER_CONV2D || l->kind == CN_LAYER_MAXPOOL || l->kind == CN_LAYER_AVGPOOL) && l->same)
    fputs(" padding=same", f);
  if ((l->kind == CN_LAYER_CONV2D || l->kind == CN_LAYER_DENSE) && l->act != CN_ACT_NONE)
    fprintf(f, " activation=%s", cn_act_name(l->act));
  fputc('\n', f);
}

static void put_train(FILE *f, const cn_train_spec *t) {
  const cn_optim_spec *o = &t->optim;
  cn_optim_spec d = cn_optim_spec_default(o->kind);
  fprintf(f, "train optimizer=%s", cn_opt_name(o->kind));
  put_float(f, "lr", o->lr);
  fprintf(f, " batch=%d epochs=%d loss=%s", t->batch, t->epochs, cn_loss_name(t->loss));
  if (o->kind == CN_OPT_SGD && o->momentum != d.momentum) put_float(f, "momentum", o->momentum);
  if (o->kind == CN_OPT_SGD && o->nesterov) fputs(" nesterov=true", f);
  if (o->kind == CN_OPT_ADAM && o->beta1 != d.beta1) put_float(f, "beta_1", o->beta1);
  if (o->kind == CN_OPT_ADAM && o->beta2 != d.beta2) put_float(f, "beta_2", o->beta2);
  if (o->kind == CN_OPT_RMSPROP && o->rho != d.rho) put_float(f, "rho", o->rho);
  if (o->kind != CN_OPT_SGD && o->eps != d.eps) put_float(f, "epsilon", o->eps);
  if (o->weight_decay != 0) put_float(f, "weight_decay", o->weight_decay);
  if (t->label_smoothing != 0) put_float(f, "label_smoothing", t->label_smoothing);
  if (t->ema_momentum != 0) put_float(f, "ema_momentum", t->ema_momentum);
  if (t->val_split >= 0) fprintf(f, " val_split=%.15g", t->val_split);
  fputc('\n', f);
}

static void put_augment(FILE *f, const cn_augment *a) {
  if (!cn_augment_active(a)) return;
  fputs("augment", f);
  if (a->rotation != 0) put_float(f, "rotation", a->rotation);
  if (a->zoom != 0) put_float(f, "zoom", a->zoom);
  if (a->shear != 0) put_float(f, "shear", a->shear);
  if (a->shift != 0) put_float(f, "shift", a->shift);
  if (a->elastic_alpha != 0) put_float(f, "elastic_alpha", a->elastic_alpha);
  if (a->elastic_alpha != 0 && a->elastic_sigma != 4) put_float(f, "elastic_sigma", a->elastic_sigma);
  if (a->erase != 0) put_float(f, "erase", a->erase);
  if (a->flip != 0) put_float(f, "flip", a->flip);
  fputc('\n', f);
}

static void put_schedule(FILE *f, const cn_schedule *s) {
  if (s->kind == CN_SCHEDULE_CONSTANT) return;
  cn_schedule d = cn_schedule_default(s->kind);
  fprintf(f, "schedule %s", cn_schedule_name(s->kind));
  if (s->gamma != d.gamma) put_float(f, "gamma", s->gamma);
  if (s->every != d.every) fprintf(f, " every=%d", s->every);
  if (s->warmup != d.warmup) put_float(f, "warmup", s->warmup);
  if (s->start != d.start) put_float(f, "start", s->start);
  if (s->final != d.final) put_float(f, "final", s->final);
  fputc('\n', f);
}

static void put_callback(FILE *f, const cn_callback_spec *c) {
  static const char *const modes[] = {"min", "auto", "max"};
  cn_callback_spec d;
  cn_callback_spec_default(&d, c->kind);
  fprintf(f, "callback %s monitor=%s", cn_callback_name(c->kind), c->monitor);
  if (c->mode != d.mode) fprintf(f, " mode=%s", modes[c->mode + 1]);
  if (c->kind == CN_CB_CHECKPOINT && c->save_best_only != d.save_best_only)
    fprintf(f, " save_best_only=%s", c->save_best_only ? "true" : "false");
  if (c->kind == CN_CB_REDUCE_LR && c->factor != d.factor) put_float(f, "factor", c->factor);
  if (c->kind != CN_CB_CHECKPOINT && c->patience != d.patience) fprintf(f, " patience=%d", c->patience);
  if (c->kind == CN_CB_REDUCE_LR && c->min_lr != d.min_lr) put_float(f, "min_lr", c->min_lr);
  if (c->kind != CN_CB_CHECKPOINT && c->min_delta != d.min_delta) put_float(f, "min_delta", c->min_delta);
  if (c->kind == CN_CB_REDUCE_LR && c->cooldown != d.cooldown) fprintf(f, " cooldown=%d", c->cooldown);
  if (c->kind == CN_CB_EARLY_STOP && c->restore_best) fputs(" restore_best_weights=true", f);
  fputc('\n', f);
}

/* The settings the writer turns into words must be ones it knows. */
static int check_settings(const cn_spec *s) {
  const cn_train_spec *t = &s->train;
  if ((unsigned)t->optim.kind >= CN_OPT_KINDS || (unsigned)t->loss >= CN_LOSS_KINDS)
    return cn_fail(CN_EINVAL, "cn_spec_write: unknown optimizer (%d) or loss (%d)", (int)t->optim.kind,
                   (int)t->loss);
  if (cn_augment_check(&t->augment) || cn_schedule_check(&t->schedule)) return CN_EINVAL;
  if (s->n_callbacks < 0 || s->n_callbacks > CN_MAX_CALLBACKS)
    return cn_fail(CN_EINVAL, "cn_spec_write: %d callbacks (at most %d)", s->n_callbacks, CN_MAX_CALLBACKS);
  for (int i = 0; i < s->n_callbacks; i++) {
    const cn_callback_spec *c = &s->callbacks[i];
    cn_metric monitor;
    if ((unsigned)c->kind >= CN_CB_KINDS || c->mode < -1 || c->mode > 1 ||
        !memchr(c->monitor, '\0', sizeof c->monitor) || cn_metric_parse(c->monitor, &monitor))
      return cn_fail(CN_EINVAL, "cn_spec_write: callback %d has an unknown kind (%d), mode (%d) or monitor",
                     i + 1, (int)c->kind, c->mode);
  }
  return 0;
}

char *cn_spec_write(const cn_spec *s) {
  if (cn_spec_check(s, 0, NULL) || check_settings(s)) return NULL;
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  if (!f) {
    cn_fail(CN_ENOMEM, "cn_spec_write: out of memory");
    return NULL;
  }
  /* One '#' line per comment line, empty ones included (also one after a
   * last '\n'), so that parsing the text gives the same comment back. */
  const char *c = s->comment;
  while (*s->comment) {
    const char *nl = strchr(c, '\n');
    int len = nl ? (int)(nl - c) : (int)strlen(c);
    if (len)
      fprintf(f, "# %.*s\n", len, c);
    else
      fputs("#\n", f);
    if (!nl) break;
    c = nl + 1;
  }
  fprintf(f, "input %dx%dx%d\n", s->in_h, s->in_w, s->in_c);
  for (int i = 0; i < s->n_layers; i++) put_layer(f, &s->layers[i]);
  fputc('\n', f);
  put_train(f, &s->train);
  put_augment(f, &s->train.augment);
  put_schedule(f, &s->train.schedule);
  for (int i = 0; i < s->n_callbacks; i++) put_callback(f, &s->callbacks[i]);
  if (fclose(f) != 0) {
    free(text);
    cn_fail(CN_ENOMEM, "cn_spec_write: out of memory");
    return NULL;
  }
  return text;
}
