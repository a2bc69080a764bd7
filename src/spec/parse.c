/* The model-file parser: text -> cn_spec. One line at a time: a tokenizer
 * that remembers columns, a table of line kinds with their arguments and
 * allowed options, and one small handler per kind. Every error reads
 * "FILE:LINE:COL: what is wrong; what to write instead". */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnist/spec.h"
#include "core/error.h"
#include "core/utf8.h"
#include "spec/text.h"

#define MAX_LINE_CHARS 4096
#define MAX_WORDS 32
#define MAX_BATCH 1000000
#define MAX_EPOCHS 1000000

typedef struct {
  const char *p; /* not NUL-terminated */
  int len;
  int col; /* 1-based, in characters */
} token;

typedef struct {
  token key, val;
} option;

typedef struct {
  const char *file;
  int line;
  cn_spec *s;
  int train_line;       /* line of the train line, 0 before it */
  int callback_line[3]; /* line of each callback kind, 0 before it */
  int augment_line, schedule_line;
  int col_shift; /* an override's: the columns of the line kind's word, which the user did not type */
} parser;

static int fail_at(const parser *p, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail_at(const parser *p, int col, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->line == 0) /* an override from the command line: one line, no file */
    return cn_fail(CN_EFORMAT, "%s, column %d: %s", p->file, col > p->col_shift ? col - p->col_shift : 1, msg);
  return cn_fail(CN_EFORMAT, "%s:%d:%d: %s", p->file, p->line, col, msg);
}

static int tok_is(token t, const char *word) {
  return (size_t)t.len == strlen(word) && memcmp(t.p, word, (size_t)t.len) == 0;
}

/* ---- values ---- */

/* A whole number in [lo, hi]; `what` names it, `example` shows a good line. */
static int parse_int(const parser *p, token t, const char *what, int lo, int hi, const char *example,
                     int *out) {
  char buf[64];
  char *end;
  if (t.len == 0 || t.len >= (int)sizeof buf)
    return fail_at(p, t.col, "'%.*s' is not a whole number for %s; write e.g. `%s`", t.len, t.p, what,
                   example);
  memcpy(buf, t.p, (size_t)t.len);
  buf[t.len] = '\0';
  errno = 0;
  long v = strtol(buf, &end, 10);
  if (*end != '\0')
    return fail_at(p, t.col, "'%s' is not a whole number for %s; write e.g. `%s`", buf, what, example);
  if (errno == ERANGE || v < lo || v > hi) {
    int too_large = errno == ERANGE ? buf[0] != '-' : v > hi;
    if (hi == INT_MAX && too_large)
      return fail_at(p, t.col, "%s %s is too large (at most %d); write e.g. `%s`", what, buf, hi, example);
    if (hi == INT_MAX)
      return fail_at(p, t.col, "%s must be at least %d, not %s; write e.g. `%s`", what, lo, buf, example);
    return fail_at(p, t.col, "%s must be from %d to %d, not %s; write e.g. `%s`", what, lo, hi, buf, example);
  }
  *out = (int)v;
  return 0;
}

/* A finite number in the interval lo..hi (each end open or closed); hi may
 * be INFINITY. Checked after rounding to float, as the spec stores it. */
static int parse_float(const parser *p, token t, const char *what, double lo, int lo_open, double hi,
                       int hi_open, const char *example, float *out) {
  char buf[64];
  char *end;
  if (t.len == 0 || t.len >= (int)sizeof buf)
    return fail_at(p, t.col, "'%.*s' is not a number for %s; write e.g. `%s`", t.len, t.p, what, example);
  memcpy(buf, t.p, (size_t)t.len);
  buf[t.len] = '\0';
  double d = strtod(buf, &end);
  if (*end != '\0' || !isfinite(d))
    return fail_at(p, t.col, "'%s' is not a number for %s; write e.g. `%s`", buf, what, example);
  float f = (float)d;
  if (!isfinite(f))
    return fail_at(p, t.col, "'%s' is too large for %s; write e.g. `%s`", buf, what, example);
  double v = f;
  int below = lo_open ? v <= lo : v < lo;
  int above = hi_open ? v >= hi : v > hi;
  if (below || above) {
    if (isinf(hi))
      return fail_at(p, t.col, "%s must be %s %g, not %s; write e.g. `%s`", what,
                     lo_open ? "greater than" : "at least", lo, buf, example);
    return fail_at(p, t.col, "%s must be in %c%g, %g%c, not %s; write e.g. `%s`", what, lo_open ? '(' : '[',
                   lo, hi, hi_open ? ')' : ']', buf, example);
  }
  *out = f;
  return 0;
}

/* "28x28x1" (n = 3) or "5x5" (n = 2); allow_single also takes "5" for 5x5. */
static int parse_dims(const parser *p, token t, int n, int allow_single, const char *what,
                      const char *example, int *out) {
  const char *form =
      n == 3 ? "HxWxC (three whole numbers joined by x)" : "HxW (two whole numbers joined by x)";
  const char *q = t.p, *stop = t.p + t.len;
  int got = 0;
  for (;;) {
    const char *x = memchr(q, 'x', (size_t)(stop - q));
    const char *part_end = x ? x : stop;
    char buf[16], *end;
    size_t len = (size_t)(part_end - q);
    if (got == n || len == 0 || len >= sizeof buf || !(*q == '-' || (*q >= '0' && *q <= '9')))
      return fail_at(p, t.col, "'%.*s' is not %s; write e.g. `%s`", t.len, t.p, form, example);
    memcpy(buf, q, len);
    buf[len] = '\0';
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (*end != '\0')
      return fail_at(p, t.col, "'%.*s' is not %s; write e.g. `%s`", t.len, t.p, form, example);
    if ((errno == ERANGE && *q != '-') || v > INT_MAX)
      return fail_at(p, t.col + (int)(q - t.p), "%s %s is too large (at most %d); write e.g. `%s`", what, buf,
                     INT_MAX, example);
    if (errno == ERANGE || v < 1)
      return fail_at(p, t.col + (int)(q - t.p), "%s must be at least 1, not %s; write e.g. `%s`", what, buf,
                     example);
    out[got++] = (int)v;
    if (!x) break;
    q = x + 1;
  }
  if (got == 1 && allow_single) {
    out[1] = out[0];
    return 0;
  }
  if (got != n) return fail_at(p, t.col, "'%.*s' is not %s; write e.g. `%s`", t.len, t.p, form, example);
  return 0;
}

/* One of names[] (NULL-terminated); *out gets its index. */
static int parse_word(const parser *p, token t, const char *what, const char *const *names, int *out) {
  char expected[256] = "";
  for (int i = 0; names[i]; i++) {
    if (tok_is(t, names[i])) {
      *out = i;
      return 0;
    }
    size_t n = strlen(expected);
    snprintf(expected + n, sizeof expected - n, "%s%s", i ? ", " : "", names[i]);
  }
  return fail_at(p, t.col, "unknown %s '%.*s'; expected one of %s", what, t.len, t.p, expected);
}

static int parse_bool(const parser *p, token t, const char *what, int *out) {
  static const char *const names[] = {"false", "true", NULL};
  return parse_word(p, t, what, names, out);
}

static int parse_act(const parser *p, token t, cn_act *out) {
  int i = 0;
  if (parse_word(p, t, "activation", cn_act_names(), &i)) return CN_EFORMAT;
  *out = (cn_act)i;
  return 0;
}

static int parse_mode(const parser *p, token t, int *out) {
  static const char *const names[] = {"min", "auto", "max", NULL};
  int i = 0;
  if (parse_word(p, t, "mode", names, &i)) return CN_EFORMAT;
  *out = i - 1;
  return 0;
}

/* ---- options ---- */

static const option *find_opt(const option *o, int n, const char *key) {
  for (int i = 0; i < n; i++)
    if (tok_is(o[i].key, key)) return &o[i];
  return NULL;
}

/* Refuses options not in allowed[] (NULL-terminated) and repeated ones. */
static int check_options(const parser *p, const option *o, int n, const char *const *allowed,
                         const char *owner) {
  for (int i = 0; i < n; i++) {
    int ok = 0;
    for (int k = 0; allowed[k] && !ok; k++) ok = tok_is(o[i].key, allowed[k]);
    if (!ok) {
      char list[256] = "";
      for (int k = 0; allowed[k]; k++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", allowed[k]);
      }
      if (!allowed[0])
        return fail_at(p, o[i].key.col, "unknown option '%.*s'; %s takes no options", o[i].key.len,
                       o[i].key.p, owner);
      return fail_at(p, o[i].key.col, "unknown option '%.*s' for %s; expected one of %s", o[i].key.len,
                     o[i].key.p, owner, list);
    }
    for (int j = 0; j < i; j++)
      if (o[j].key.len == o[i].key.len && !memcmp(o[j].key.p, o[i].key.p, (size_t)o[i].key.len))
        return fail_at(p, o[i].key.col, "option '%.*s' given twice; keep one", o[i].key.len, o[i].key.p);
  }
  return 0;
}

/* "S" or "SHxSW" for a stride option. */
static int parse_stride(const parser *p, const option *o, const char *example, int *sh, int *sw) {
  int d[2] = {0, 0};
  if (parse_dims(p, o->val, 2, 1, "stride", example, d)) return CN_EFORMAT;
  *sh = d[0];
  *sw = d[1];
  return 0;
}

static int parse_padding(const parser *p, const option *o, int *same) {
  static const char *const names[] = {"valid", "same", NULL};
  return parse_word(p, o->val, "padding", names, same);
}

/* ---- line kinds ---- */

typedef struct line_kind line_kind;
typedef int (*line_handler)(parser *p, const line_kind *k, const token *pos, int npos, const option *o,
                            int nopt);

struct line_kind {
  const char *word;
  int layer; /* a layer line, which must come after the input line */
  int min_pos, max_pos;
  const char *args;    /* the positional arguments, for messages */
  const char *example; /* a good line */
  const char *options[16];
  line_handler handle;
};

static cn_layer_spec *new_layer(parser *p, cn_layer_kind kind) {
  if (p->s->n_layers == CN_MAX_LAYERS) {
    fail_at(p, 1, "too many layers: a model holds at most %d", CN_MAX_LAYERS);
    return NULL;
  }
  cn_layer_spec *l = &p->s->layers[p->s->n_layers++];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->line = p->line;
  return l;
}

static int on_input(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)npos, (void)o, (void)nopt;
  int d[3] = {0, 0, 0};
  if (p->s->in_line) return fail_at(p, 1, "a second input line (line %d has one); keep one", p->s->in_line);
  if (parse_dims(p, pos[0], 3, 0, "input size", k->example, d)) return CN_EFORMAT;
  p->s->in_h = d[0];
  p->s->in_w = d[1];
  p->s->in_c = d[2];
  p->s->in_line = p->line;
  return 0;
}

static int on_conv2d(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)npos;
  int filters = 0, kern[2] = {0, 0}, sh = 1, sw = 1, same = 0;
  cn_act act = CN_ACT_NONE;
  const option *opt;
  if (parse_int(p, pos[0], "filters", 1, INT_MAX, k->example, &filters)) return CN_EFORMAT;
  if (parse_dims(p, pos[1], 2, 1, "kernel size", k->example, kern)) return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "stride")) && parse_stride(p, opt, "conv2d 32 3x3 stride=2", &sh, &sw))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "padding")) && parse_padding(p, opt, &same)) return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "activation")) && parse_act(p, opt->val, &act)) return CN_EFORMAT;
  cn_layer_spec *l = new_layer(p, CN_LAYER_CONV2D);
  if (!l) return CN_EFORMAT;
  l->filters = filters;
  l->kh = kern[0];
  l->kw = kern[1];
  l->sh = sh;
  l->sw = sw;
  l->same = same;
  l->act = act;
  return 0;
}

static int on_pool(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  int win[2] = {2, 2}, stride[2] = {0, 0}, same = 0;
  const option *opt;
  if (npos == 1 && parse_dims(p, pos[0], 2, 1, "pool size", k->example, win)) return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "stride")) &&
      parse_stride(p, opt, "maxpool 2x2 stride=2", &stride[0], &stride[1]))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "padding")) && parse_padding(p, opt, &same)) return CN_EFORMAT;
  cn_layer_spec *l = new_layer(p, strcmp(k->word, "maxpool") == 0 ? CN_LAYER_MAXPOOL : CN_LAYER_AVGPOOL);
  if (!l) return CN_EFORMAT;
  l->kh = win[0];
  l->kw = win[1];
  l->sh = stride[0] ? stride[0] : win[0]; /* Keras: strides default to pool_size */
  l->sw = stride[1] ? stride[1] : win[1];
  l->same = same;
  return 0;
}

static int on_batchnorm(parser *p, const line_kind *k, const token *pos, int npos, const option *o,
                        int nopt) {
  (void)k, (void)pos, (void)npos;
  float momentum = 0.99f, epsilon = 0.001f;
  const option *opt;
  if ((opt = find_opt(o, nopt, "momentum")) &&
      parse_float(p, opt->val, "momentum", 0, 0, 1, 1, "batchnorm momentum=0.99", &momentum))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "epsilon")) &&
      parse_float(p, opt->val, "epsilon", 0, 1, INFINITY, 1, "batchnorm epsilon=0.001", &epsilon))
    return CN_EFORMAT;
  cn_layer_spec *l = new_layer(p, CN_LAYER_BATCHNORM);
  if (!l) return CN_EFORMAT;
  l->momentum = momentum;
  l->epsilon = epsilon;
  return 0;
}

static int on_dropout(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)npos, (void)o, (void)nopt;
  float rate = 0;
  if (parse_float(p, pos[0], "dropout rate", 0, 0, 1, 1, k->example, &rate)) return CN_EFORMAT;
  cn_layer_spec *l = new_layer(p, CN_LAYER_DROPOUT);
  if (!l) return CN_EFORMAT;
  l->rate = rate;
  return 0;
}

/* A layer line with nothing after its word: flatten, global_avgpool. */
static int on_bare_layer(parser *p, const line_kind *k, const token *pos, int npos, const option *o,
                         int nopt) {
  (void)pos, (void)npos, (void)o, (void)nopt;
  cn_layer_kind kind = strcmp(k->word, "flatten") == 0 ? CN_LAYER_FLATTEN : CN_LAYER_GLOBAL_AVGPOOL;
  return new_layer(p, kind) ? 0 : CN_EFORMAT;
}

static int on_dense(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)npos;
  int units = 0;
  cn_act act = CN_ACT_NONE;
  const option *opt;
  if (parse_int(p, pos[0], "units", 1, INT_MAX, k->example, &units)) return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "activation")) && parse_act(p, opt->val, &act)) return CN_EFORMAT;
  cn_layer_spec *l = new_layer(p, CN_LAYER_DENSE);
  if (!l) return CN_EFORMAT;
  l->units = units;
  l->act = act;
  return 0;
}

static int on_activation(parser *p, const line_kind *k, const token *pos, int npos, const option *o,
                         int nopt) {
  (void)k, (void)npos, (void)o, (void)nopt;
  cn_act act = CN_ACT_NONE;
  if (parse_act(p, pos[0], &act)) return CN_EFORMAT;
  cn_layer_spec *l = new_layer(p, CN_LAYER_ACTIVATION);
  if (!l) return CN_EFORMAT;
  l->act = act;
  return 0;
}

/* An optimizer option that only one optimizer takes. */
static int optimizer_only(const parser *p, const option *opt, cn_opt_kind have, cn_opt_kind want) {
  if (opt && have != want)
    return fail_at(p, opt->key.col, "%.*s applies to optimizer=%s only; remove it or write optimizer=%s",
                   opt->key.len, opt->key.p, cn_opt_name(want), cn_opt_name(want));
  return 0;
}

static int on_train(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)pos, (void)npos;
  cn_train_spec *t = &p->s->train;
  const option *opt;
  int i = 0;
  if (p->train_line)
    return fail_at(p, 1, "a second train line (line %d has one); merge them into one line", p->train_line);
  p->train_line = p->line;
  cn_opt_kind kind = CN_OPT_ADAM;
  if ((opt = find_opt(o, nopt, "optimizer"))) {
    if (parse_word(p, opt->val, "optimizer", cn_opt_names(), &i)) return CN_EFORMAT;
    kind = (cn_opt_kind)i;
  }
  t->optim = cn_optim_spec_default(kind); /* the other options override its defaults */
  if ((opt = find_opt(o, nopt, "lr")) &&
      parse_float(p, opt->val, "lr", 0, 1, INFINITY, 1, k->example, &t->optim.lr))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "batch")) &&
      parse_int(p, opt->val, "batch", 1, MAX_BATCH, k->example, &t->batch))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "epochs")) &&
      parse_int(p, opt->val, "epochs", 1, MAX_EPOCHS, k->example, &t->epochs))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "loss"))) {
    if (parse_word(p, opt->val, "loss", cn_loss_names(), &i)) return CN_EFORMAT;
    t->loss = (cn_loss_kind)i;
  }
  const option *mom = find_opt(o, nopt, "momentum"), *nest = find_opt(o, nopt, "nesterov");
  const option *b1 = find_opt(o, nopt, "beta_1"), *b2 = find_opt(o, nopt, "beta_2");
  const option *rho = find_opt(o, nopt, "rho"), *eps = find_opt(o, nopt, "epsilon");
  if (optimizer_only(p, mom, kind, CN_OPT_SGD) || optimizer_only(p, nest, kind, CN_OPT_SGD) ||
      optimizer_only(p, b1, kind, CN_OPT_ADAM) || optimizer_only(p, b2, kind, CN_OPT_ADAM) ||
      optimizer_only(p, rho, kind, CN_OPT_RMSPROP))
    return CN_EFORMAT;
  if (eps && kind == CN_OPT_SGD)
    return fail_at(p, eps->key.col, "epsilon applies to optimizer=adam or rmsprop only; remove it");
  if (mom && parse_float(p, mom->val, "momentum", 0, 0, 1, 1, "train optimizer=sgd momentum=0.9",
                         &t->optim.momentum))
    return CN_EFORMAT;
  if (nest && parse_bool(p, nest->val, "nesterov value", &t->optim.nesterov)) return CN_EFORMAT;
  if (b1 && parse_float(p, b1->val, "beta_1", 0, 0, 1, 1, "train optimizer=adam beta_1=0.9", &t->optim.beta1))
    return CN_EFORMAT;
  if (b2 &&
      parse_float(p, b2->val, "beta_2", 0, 0, 1, 1, "train optimizer=adam beta_2=0.999", &t->optim.beta2))
    return CN_EFORMAT;
  if (rho && parse_float(p, rho->val, "rho", 0, 0, 1, 1, "train optimizer=rmsprop rho=0.9", &t->optim.rho))
    return CN_EFORMAT;
  if (eps && parse_float(p, eps->val, "epsilon", 0, 1, INFINITY, 1, "train epsilon=1e-07", &t->optim.eps))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "weight_decay")) &&
      parse_float(p, opt->val, "weight_decay", 0, 0, 1, 1, "train optimizer=adam weight_decay=0.0001",
                  &t->optim.weight_decay))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "label_smoothing")) &&
      parse_float(p, opt->val, "label_smoothing", 0, 0, 1, 1, "train label_smoothing=0.1", &t->label_smoothing))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "ema_momentum")) &&
      parse_float(p, opt->val, "ema_momentum", 0, 0, 1, 1, "train ema_momentum=0.999", &t->ema_momentum))
    return CN_EFORMAT;
  float split;
  if ((opt = find_opt(o, nopt, "val_split"))) {
    if (parse_float(p, opt->val, "val_split", 0, 0, 0.9, 0, "train val_split=0", &split)) return CN_EFORMAT;
    char buf[64]; /* parse_float checked the token: a number, shorter than this */
    snprintf(buf, sizeof buf, "%.*s", opt->val.len, opt->val.p);
    t->val_split = strtod(buf, NULL); /* the decimal written, not its float (0.15, not 0.150000006) */
  }
  return 0;
}

/* `augment rotation=10 zoom=0.1 shift=0.1 ...`: each option's range is
 * cn_augment_check's. */
static int on_augment(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)pos, (void)npos;
  if (p->augment_line)
    return fail_at(p, 1, "a second augment line (line %d has one); merge them into one line", p->augment_line);
  p->augment_line = p->line;
  cn_augment *a = &p->s->train.augment;
  const struct {
    const char *key;
    double hi;
    float *to;
  } fields[] = {{"rotation", 180, &a->rotation},       {"zoom", 0.9, &a->zoom},
                {"shear", 60, &a->shear},              {"shift", 0.5, &a->shift},
                {"elastic_alpha", 1000, &a->elastic_alpha}, {"elastic_sigma", 10, &a->elastic_sigma},
                {"erase", 1, &a->erase},               {"flip", 1, &a->flip}};
  memset(a, 0, sizeof *a);
  a->elastic_sigma = 4; /* Simard et al.'s */
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const option *opt = find_opt(o, nopt, fields[i].key);
    if (opt && parse_float(p, opt->val, fields[i].key, 0, 0, fields[i].hi, 0, k->example, fields[i].to))
      return CN_EFORMAT;
  }
  const option *sigma = find_opt(o, nopt, "elastic_sigma");
  if (sigma && a->elastic_alpha == 0)
    return fail_at(p, sigma->key.col, "elastic_sigma needs elastic_alpha; write e.g. `augment elastic_alpha=34 elastic_sigma=4`");
  if (sigma && a->elastic_sigma < 0.5f)
    return fail_at(p, sigma->val.col, "elastic_sigma must be at least 0.5; write e.g. `augment elastic_alpha=34 elastic_sigma=4`");
  if (!cn_augment_active(a))
    return fail_at(p, 1, "an augment line that asks for nothing; write e.g. `%s` or remove the line", k->example);
  return 0;
}

/* `schedule KIND [options]`: each option belongs to the kinds that use it. */
static int on_schedule(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)npos;
  if (p->schedule_line)
    return fail_at(p, 1, "a second schedule line (line %d has one); keep one", p->schedule_line);
  p->schedule_line = p->line;
  int i = 0;
  if (parse_word(p, pos[0], "schedule", cn_schedule_names(), &i)) return CN_EFORMAT;
  cn_schedule *s = &p->s->train.schedule;
  *s = cn_schedule_default((cn_schedule_kind)i);
  const int decays = s->kind == CN_SCHEDULE_EXPONENTIAL || s->kind == CN_SCHEDULE_STEP;
  const int anneals = s->kind == CN_SCHEDULE_COSINE || s->kind == CN_SCHEDULE_ONE_CYCLE;
  const struct {
    const char *key;
    int applies;
    const char *kinds;
  } rules[] = {{"gamma", decays, "exponential or step"},
               {"every", s->kind == CN_SCHEDULE_STEP, "step"},
               {"warmup", anneals, "cosine or one_cycle"},
               {"start", anneals, "cosine or one_cycle"},
               {"final", anneals, "cosine or one_cycle"}};
  for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
    const option *opt = find_opt(o, nopt, rules[r].key);
    if (opt && !rules[r].applies)
      return fail_at(p, opt->key.col, "%s applies to schedule %s only; remove it", rules[r].key, rules[r].kinds);
  }
  const option *opt;
  if ((opt = find_opt(o, nopt, "gamma")) && parse_float(p, opt->val, "gamma", 0, 1, 1, 0, "schedule exponential gamma=0.95", &s->gamma))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "every")) &&
      parse_int(p, opt->val, "every", 1, MAX_EPOCHS, "schedule step gamma=0.1 every=10", &s->every))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "warmup")) && parse_float(p, opt->val, "warmup", 0, 0, 1, 1, "schedule one_cycle warmup=0.3", &s->warmup))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "start")) && parse_float(p, opt->val, "start", 0, 0, 1, 0, "schedule one_cycle start=0.04", &s->start))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "final")) && parse_float(p, opt->val, "final", 0, 0, 1, 0, "schedule cosine final=0", &s->final))
    return CN_EFORMAT;
  (void)k;
  return 0;
}

static int on_callback(parser *p, const line_kind *k, const token *pos, int npos, const option *o, int nopt) {
  (void)k, (void)npos;
  static const char *const allowed[CN_CB_KINDS][8] = {
      {"monitor", "mode", "save_best_only", NULL},
      {"monitor", "factor", "patience", "min_lr", "min_delta", "cooldown", "mode", NULL},
      {"monitor", "patience", "min_delta", "restore_best_weights", "mode", NULL}};
  const option *opt;
  int i = 0;
  if (parse_word(p, pos[0], "callback", cn_callback_names(), &i)) return CN_EFORMAT;
  char owner[64];
  snprintf(owner, sizeof owner, "callback %s", cn_callback_name((cn_callback_kind)i));
  if (check_options(p, o, nopt, allowed[i], owner)) return CN_EFORMAT;
  if (p->callback_line[i])
    return fail_at(p, 1, "a second %s (line %d has one); keep one", owner, p->callback_line[i]);
  p->callback_line[i] = p->line;
  cn_callback_spec c;
  cn_callback_spec_default(&c, (cn_callback_kind)i);
  c.line = p->line;
  if ((opt = find_opt(o, nopt, "monitor"))) {
    int m = 0;
    if (parse_word(p, opt->val, "monitor", cn_metric_names(), &m)) return CN_EFORMAT;
    snprintf(c.monitor, sizeof c.monitor, "%s", cn_metric_names()[m]);
  }
  if ((opt = find_opt(o, nopt, "mode")) && parse_mode(p, opt->val, &c.mode)) return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "save_best_only")) &&
      parse_bool(p, opt->val, "save_best_only value", &c.save_best_only))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "factor")) &&
      parse_float(p, opt->val, "factor", 0, 1, 1, 1, "callback reduce_lr factor=0.5", &c.factor))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "patience")) &&
      parse_int(p, opt->val, "patience", 0, INT_MAX, "callback early_stop patience=6", &c.patience))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "min_lr")) &&
      parse_float(p, opt->val, "min_lr", 0, 0, INFINITY, 1, "callback reduce_lr min_lr=0.0001", &c.min_lr))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "min_delta")) &&
      parse_float(p, opt->val, "min_delta", 0, 0, INFINITY, 1, "callback early_stop min_delta=0.001",
                  &c.min_delta))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "cooldown")) &&
      parse_int(p, opt->val, "cooldown", 0, INT_MAX, "callback reduce_lr cooldown=2", &c.cooldown))
    return CN_EFORMAT;
  if ((opt = find_opt(o, nopt, "restore_best_weights")) &&
      parse_bool(p, opt->val, "restore_best_weights value", &c.restore_best))
    return CN_EFORMAT;
  p->s->callbacks[p->s->n_callbacks++] = c; /* at most one per kind: always fits */
  return 0;
}

/* clang-format off */
static const line_kind line_kinds[] = {
  /* word      layer pos   args             example */
  {"input",      0, 1, 1, "HxWxC",         "input 28x28x1",                  {NULL}, on_input},
  {"conv2d",     1, 2, 2, "FILTERS KHxKW", "conv2d 32 3x3 activation=relu",
   {"stride", "padding", "activation", NULL}, on_conv2d},
  {"maxpool",    1, 0, 1, "[SIZE]",        "maxpool 2x2",                    {"stride", "padding", NULL}, on_pool},
  {"avgpool",    1, 0, 1, "[SIZE]",        "avgpool 2x2",                    {"stride", "padding", NULL}, on_pool},
  {"batchnorm",  1, 0, 0, "",              "batchnorm",                      {"momentum", "epsilon", NULL}, on_batchnorm},
  {"dropout",    1, 1, 1, "RATE",          "dropout 0.25",                   {NULL}, on_dropout},
  {"flatten",    1, 0, 0, "",              "flatten",                        {NULL}, on_bare_layer},
  {"global_avgpool", 1, 0, 0, "",          "global_avgpool",                 {NULL}, on_bare_layer},
  {"dense",      1, 1, 1, "UNITS",         "dense 128 activation=relu",      {"activation", NULL}, on_dense},
  {"activation", 1, 1, 1, "NAME",          "activation relu",                {NULL}, on_activation},
  {"train",      0, 0, 0, "",              "train optimizer=adam lr=0.001 batch=32 epochs=10",
   {"optimizer", "lr", "batch", "epochs", "loss", "momentum", "nesterov", "beta_1", "beta_2", "rho",
    "epsilon", "weight_decay", "label_smoothing", "ema_momentum", "val_split", NULL},
   on_train},
  {"augment",    0, 0, 0, "",              "augment rotation=10 zoom=0.1 shift=0.1",
   {"rotation", "zoom", "shear", "shift", "elastic_alpha", "elastic_sigma", "erase", "flip", NULL},
   on_augment},
  {"schedule",   0, 1, 1, "KIND",          "schedule exponential gamma=0.95",
   {"gamma", "every", "warmup", "start", "final", NULL}, on_schedule},
  /* each callback kind checks its own options */
  {"callback",   0, 1, 1, "KIND",          "callback early_stop monitor=val_accuracy patience=6", {NULL}, on_callback},
};
/* clang-format on */
#define N_LINE_KINDS (int)(sizeof line_kinds / sizeof line_kinds[0])

/* A well-formed use of an option, for "missing value" messages. */
static const char *option_example(token key) {
  static const char *const examples[] = {
      "stride=2", "padding=same", "activation=relu", "momentum=0.99", "epsilon=0.001", "optimizer=adam",
      "lr=0.001", "batch=32", "epochs=10", "loss=sparse_categorical_crossentropy", "nesterov=true",
      "beta_1=0.9", "beta_2=0.999", "rho=0.9", "monitor=val_accuracy", "mode=max", "save_best_only=true",
      "factor=0.5", "patience=4", "min_lr=0.0001", "min_delta=0.0001", "cooldown=0",
      "restore_best_weights=true", "weight_decay=0.0001", "label_smoothing=0.1", "ema_momentum=0.999", "val_split=0",
      "rotation=10", "zoom=0.1", "shear=10", "shift=0.1", "elastic_alpha=34", "elastic_sigma=4", "erase=0.5",
      "flip=0.5",      "gamma=0.95", "every=10", "warmup=0.3", "start=0.04", "final=0", NULL};
  for (int i = 0; examples[i]; i++)
    if (!strncmp(examples[i], key.p, (size_t)key.len) && examples[i][key.len] == '=') return examples[i];
  return "key=value";
}

/* ---- lines ---- */

/* Splits one line (without its newline) into words, up to a '#' comment. */
static int tokenize(const parser *p, const char *line, int len, token *words, int *n) {
  int col = 1;
  *n = 0;
  for (int i = 0; i < len;) {
    unsigned char c = (unsigned char)line[i];
    if (c == '#') break;
    if (c == ' ' || c == '\t') {
      i++;
      col++;
      continue;
    }
    if (*n == MAX_WORDS) return fail_at(p, col, "too many words on one line (at most %d)", MAX_WORDS);
    token t = {line + i, 0, col};
    while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '#') {
      if (((unsigned char)line[i] & 0xC0) != 0x80) col++;
      i++;
    }
    t.len = (int)(line + i - t.p);
    words[(*n)++] = t;
  }
  return 0;
}

static int parse_line(parser *p, const char *line, int len) {
  token w[MAX_WORDS];
  int n;
  if (tokenize(p, line, len, w, &n)) return CN_EFORMAT;
  if (n == 0) return 0;
  const line_kind *k = NULL;
  for (int i = 0; i < N_LINE_KINDS && !k; i++)
    if (tok_is(w[0], line_kinds[i].word)) k = &line_kinds[i];
  if (!k) {
    /* the words from the table: input and the layers, then the settings lines */
    char layers[256] = "input", settings[160] = "";
    for (int i = 0; i < N_LINE_KINDS; i++) {
      const char *word = line_kinds[i].word;
      if (line_kinds[i].layer)
        snprintf(layers + strlen(layers), sizeof layers - strlen(layers), ", %s", word);
      else if (strcmp(word, "input") != 0)
        snprintf(settings + strlen(settings), sizeof settings - strlen(settings), "%s`%s`", settings[0] ? ", " : "",
                 word);
    }
    return fail_at(p, w[0].col, "unknown layer '%.*s'; expected one of %s (settings go on %s lines)", w[0].len,
                   w[0].p, layers, settings);
  }
  if (k->layer && !p->s->in_line)
    return fail_at(p, w[0].col, "%s before the input line; start the model with `input 28x28x1`", k->word);

  token pos[MAX_WORDS];
  option opt[MAX_WORDS];
  int npos = 0, nopt = 0;
  for (int i = 1; i < n; i++) {
    const char *eq = memchr(w[i].p, '=', (size_t)w[i].len);
    if (!eq) {
      if (nopt > 0)
        return fail_at(p, w[i].col, "'%.*s' after the options; write %s %s first, then key=value options",
                       w[i].len, w[i].p, k->word, k->args);
      if (npos == k->max_pos)
        return fail_at(p, w[i].col, "unexpected '%.*s'; %s takes %s, e.g. `%s`", w[i].len, w[i].p, k->word,
                       k->max_pos ? k->args : "no arguments", k->example);
      pos[npos++] = w[i];
      continue;
    }
    option o = {{w[i].p, (int)(eq - w[i].p), w[i].col}, {eq + 1, (int)(w[i].p + w[i].len - eq - 1), 0}};
    o.val.col = w[i].col + (int)cn_utf8_chars(o.key.p, (size_t)o.key.len) + 1;
    if (o.key.len == 0) return fail_at(p, w[i].col, "'=' without an option name before it; write key=value");
    if (o.val.len == 0)
      return fail_at(p, o.val.col, "missing value for %.*s; write e.g. `%s`", o.key.len, o.key.p,
                     option_example(o.key));
    opt[nopt++] = o;
  }
  if (npos < k->min_pos) {
    int col = w[n - 1].col + w[n - 1].len;
    if (nopt) col = opt[0].key.col;
    return fail_at(p, col, "%s needs %s, e.g. `%s`", k->word, k->args, k->example);
  }
  if (k->handle != on_callback && check_options(p, opt, nopt, k->options, k->word)) return CN_EFORMAT;
  return k->handle(p, k, pos, npos, opt, nopt);
}

int cn_spec_override(cn_spec *s, const char *kind, const char *options, const char *origin) {
  if (strcmp(kind, "augment") != 0 && strcmp(kind, "schedule") != 0)
    return cn_fail(CN_EINVAL, "%s: only the augment and schedule lines can be overridden, not '%s'", origin, kind);
  size_t len = strlen(options);
  if (len > MAX_LINE_CHARS || cn_utf8_invalid_at(options, len) < len || memchr(options, '\n', len) ||
      memchr(options, '\r', len))
    return cn_fail(CN_EINVAL, "%s: not one line of UTF-8 text of at most %d characters", origin, MAX_LINE_CHARS);
  char line[MAX_LINE_CHARS + 16];
  int n = snprintf(line, sizeof line, "%s %s", kind, options);
  cn_spec copy = *s; /* s changes only when the whole line is good */
  parser p = {origin, 0, &copy, 0, {0, 0, 0}, 0, 0, (int)strlen(kind) + 1};
  if (parse_line(&p, line, n)) return CN_EFORMAT;
  int rc = cn_spec_check(&copy, 0, NULL);
  if (rc) return rc;
  *s = copy;
  return CN_OK;
}

/* Keeps the leading '#' block as comment text, one line per line, without
 * the '#' and one following space. Lines that would overflow are dropped. */
static void keep_comment(cn_spec *s, const char *line, int len) {
  line++, len--;
  if (len > 0 && *line == ' ') line++, len--;
  size_t used = strlen(s->comment);
  size_t need = (size_t)len + (used ? 1 : 0);
  if (used + need >= sizeof s->comment) return;
  if (used) s->comment[used++] = '\n';
  memcpy(s->comment + used, line, (size_t)len);
  s->comment[used + (size_t)len] = '\0';
}

/* The file's stem: "models/lenet.model" -> "lenet". */
static void stem(const char *file, char *out, size_t n) {
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  const char *dot = strrchr(base, '.');
  size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  if (len >= n) len = n - 1;
  memcpy(out, base, len);
  out[len] = '\0';
}

/* Bytes up to the line's end (CR, LF or the text's end). Not strcspn:
 * a checking libc (ASan's strict_string_checks) reads the whole rest of
 * the text on every call, which makes parsing a long file quadratic. */
static size_t line_length(const char *line) {
  size_t n = 0;
  while (line[n] && line[n] != '\r' && line[n] != '\n') n++;
  return n;
}

int cn_spec_parse(const char *text, const char *filename, cn_spec *out) {
  parser p = {filename, 0, out, 0, {0, 0, 0}, 0, 0, 0};
  cn_spec_init(out, 0, 0, 0);
  snprintf(out->file, sizeof out->file, "%s", filename);
  stem(filename, out->name, sizeof out->name);
  int in_header = 1;
  /* A UTF-8 byte-order mark (some Windows editors write one) is not text. */
  if (!strncmp(text, "\xef\xbb\xbf", 3)) text += 3;
  /* Lines end with LF, CRLF or a lone CR (old Mac files), whatever the
   * editor that saved the file. */
  for (const char *line = text; *line;) {
    size_t len = line_length(line);
    const char *next = line + len;
    if (*next) next += next[0] == '\r' && next[1] == '\n' ? 2 : 1;
    p.line++;
    if (cn_utf8_chars(line, len) > MAX_LINE_CHARS)
      return fail_at(&p, MAX_LINE_CHARS + 1,
                     "line longer than %d characters; split it or shorten its comment", MAX_LINE_CHARS);
    size_t bad = cn_utf8_invalid_at(line, len);
    if (bad < len) /* the line is short, so its column fits an int */
      return fail_at(&p, (int)cn_utf8_chars(line, bad) + 1,
                     "invalid UTF-8 byte 0x%02x; save the file as UTF-8 text", (unsigned char)line[bad]);
    if (in_header && len > 0 && line[0] == '#')
      keep_comment(out, line, (int)len);
    else
      in_header = 0;
    if (parse_line(&p, line, (int)len)) return CN_EFORMAT;
    line = next;
  }
  if (!out->in_line) {
    p.line = 1;
    return fail_at(&p, 1, "no input line; start the model with `input 28x28x1`");
  }
  return cn_spec_check(out, 0, NULL);
}
