/* The optimizers: each rule's first three steps against the tf.keras formula
 * evaluated here in double, with the learning rate changed between steps;
 * state tensor names; skipped tensors; the same result at 1 and 2 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnist/optim.h"
#include "test.h"

enum { N = 5, STEPS = 3 };

static const float w0[N] = {0.5f, -1.25f, 2.0f, 0.0f, -0.03125f};
/* One gradient per step, signs and sizes varied (one exact zero). */
static const float grads[STEPS][N] = {
    {0.1f, -0.4f, 1.5f, 0.0f, -2.0f},
    {-0.3f, 0.25f, 0.5f, 1e-3f, -1.0f},
    {0.2f, 0.05f, -1.0f, -0.5f, 3.0f},
};
/* The learning rate of each step: it changes after the first and second. */
static const float lrs[STEPS] = {0.01f, 0.005f, 0.02f};

typedef struct {
  float w[N], g[N];
  float frozen[N]; /* a tensor without grad: must stay as it is */
  cn_tensor_ref refs[2];
} fixture;

static void fixture_init(fixture *f) {
  memcpy(f->w, w0, sizeof f->w);
  memcpy(f->frozen, w0, sizeof f->frozen);
  memset(f->refs, 0, sizeof f->refs);
  strcpy(f->refs[0].name, "0.weight");
  f->refs[0].ndim = 1;
  f->refs[0].shape[0] = N;
  f->refs[0].size = N;
  f->refs[0].data = f->w;
  f->refs[0].grad = f->g;
  strcpy(f->refs[1].name, "1.running_mean");
  f->refs[1].ndim = 1;
  f->refs[1].shape[0] = N;
  f->refs[1].size = N;
  f->refs[1].data = f->frozen;
  f->refs[1].grad = NULL;
}

static cn_optim_spec spec_of(cn_opt_kind kind) {
  cn_optim_spec s;
  memset(&s, 0, sizeof s);
  s.kind = kind;
  s.lr = lrs[0];
  s.beta1 = 0.9f;
  s.beta2 = 0.999f;
  s.rho = 0.9f;
  s.eps = 1e-7f;
  return s;
}

/* Runs STEPS steps, checking the weights after each against `expect`, which
 * advances its double-precision copy of the rule by one step. */
typedef void (*reference_step)(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *a,
                               double *b);

static void run_rule(const char *what, cn_optim_spec spec, reference_step expect) {
  fixture f;
  fixture_init(&f);
  cn_optim *o = NULL;
  CHECK(cn_optim_new(&spec, f.refs, 2, &o) == CN_OK);
  if (!o) return;
  double w[N], a[N] = {0}, b[N] = {0};
  for (int i = 0; i < N; i++) w[i] = w0[i];
  for (int t = 0; t < STEPS; t++) {
    memcpy(f.g, grads[t], sizeof f.g);
    cn_optim_set_lr(o, lrs[t]);
    CHECK(cn_optim_lr(o) == lrs[t]);
    cn_optim_step(o);
    expect(&spec, lrs[t], t + 1, grads[t], w, a, b);
    for (int i = 0; i < N; i++)
      CHECK_MSG(fabs(f.w[i] - w[i]) <= 1e-6 * (1.0 + fabs(w[i])), "%s step %d weight %d: %.9g, formula %.9g", what,
                t + 1, i, (double)f.w[i], w[i]);
  }
  CHECK(cn_optim_steps(o) == STEPS);
  CHECK(memcmp(f.frozen, w0, sizeof w0) == 0);
  /* The state holds the formula's moments too. */
  int count = 0;
  cn_tensor_ref *state = cn_optim_state(o, &count);
  for (int s = 0; s < count; s++) {
    const double *ref = s == 0 ? a : b;
    for (int i = 0; i < N; i++)
      CHECK_MSG(fabs(state[s].data[i] - ref[i]) <= 1e-6 * (1.0 + fabs(ref[i])), "%s %s[%d]: %.9g, formula %.9g",
                what, state[s].name, i, (double)state[s].data[i], ref[i]);
  }
  cn_optim_free(o);
}

static void sgd_plain(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *a, double *b) {
  (void)s, (void)t, (void)a, (void)b;
  for (int i = 0; i < N; i++) w[i] -= lr * g[i];
}

/* Keras: v = momentum*v - lr*g; w += v (Nesterov: w += momentum*v - lr*g). */
static void sgd_momentum(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *v,
                         double *b) {
  (void)t, (void)b;
  double mu = s->momentum;
  for (int i = 0; i < N; i++) {
    v[i] = mu * v[i] - lr * g[i];
    w[i] += s->nesterov ? mu * v[i] - lr * g[i] : v[i];
  }
}

/* tf.keras Adam: epsilon is "epsilon hat", outside the bias correction. */
static void adam(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *m, double *v) {
  double b1 = s->beta1, b2 = s->beta2, eps = s->eps;
  double alpha = lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t));
  for (int i = 0; i < N; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * (double)g[i] * g[i];
    w[i] -= alpha * m[i] / (sqrt(v[i]) + eps);
  }
}

/* tf.keras 2.x RMSprop, momentum 0, not centered. */
static void rmsprop(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *ms, double *b) {
  (void)t, (void)b;
  double rho = s->rho, eps = s->eps;
  for (int i = 0; i < N; i++) {
    ms[i] = rho * ms[i] + (1 - rho) * (double)g[i] * g[i];
    w[i] -= lr * g[i] / (sqrt(ms[i]) + eps);
  }
}

static void check_state_names(void) {
  fixture f;
  fixture_init(&f);
  struct {
    cn_optim_spec spec;
    int count;
    const char *names[2];
  } cases[4];
  cases[0].spec = spec_of(CN_OPT_ADAM);
  cases[0].count = 2;
  cases[0].names[0] = "optim.0.weight.m";
  cases[0].names[1] = "optim.0.weight.v";
  cases[1].spec = spec_of(CN_OPT_RMSPROP);
  cases[1].count = 1;
  cases[1].names[0] = "optim.0.weight.ms";
  cases[2].spec = spec_of(CN_OPT_SGD);
  cases[2].spec.momentum = 0.9f;
  cases[2].count = 1;
  cases[2].names[0] = "optim.0.weight.velocity";
  cases[3].spec = spec_of(CN_OPT_SGD);
  cases[3].count = 0;
  for (int c = 0; c < 4; c++) {
    cn_optim *o = NULL;
    CHECK(cn_optim_new(&cases[c].spec, f.refs, 2, &o) == CN_OK);
    if (!o) continue;
    int count = -1;
    cn_tensor_ref *state = cn_optim_state(o, &count);
    CHECK_MSG(count == cases[c].count, "case %d: %d state tensors", c, count);
    for (int s = 0; s < count && s < cases[c].count; s++) {
      CHECK_MSG(strcmp(state[s].name, cases[c].names[s]) == 0, "%s", state[s].name);
      CHECK(state[s].ndim == 1 && state[s].shape[0] == N && state[s].size == N && state[s].grad == NULL);
      for (int i = 0; i < N; i++) CHECK(state[s].data[i] == 0.0f);
    }
    CHECK(cn_optim_get_spec(o)->kind == cases[c].spec.kind);
    cn_optim_free(o);
  }
}

static void check_rejects(void) {
  fixture f;
  fixture_init(&f);
  cn_optim *o = NULL;
  cn_optim_spec s = spec_of(CN_OPT_ADAM);
  s.beta1 = 1.0f;
  CHECK_ERROR(cn_optim_new(&s, f.refs, 2, &o), CN_EINVAL, "beta1");
  CHECK(o == NULL);
  s = spec_of(CN_OPT_SGD);
  s.lr = NAN;
  CHECK_ERROR(cn_optim_new(&s, f.refs, 2, &o), CN_EINVAL, "learning rate");
  s = spec_of(CN_OPT_RMSPROP);
  s.rho = -0.5f;
  CHECK_ERROR(cn_optim_new(&s, f.refs, 2, &o), CN_EINVAL, "rho");
  s = spec_of(CN_OPT_ADAM);
  strcpy(f.refs[0].name, "a_tensor_name_long_enough_to_overflow_state");
  CHECK_ERROR(cn_optim_new(&s, f.refs, 2, &o), CN_EINVAL, "too long");
  CHECK(o == NULL);
}

/* Adam restarted from a saved step count continues the bias correction. */
static void check_resumed_steps(void) {
  fixture f;
  fixture_init(&f);
  cn_optim_spec s = spec_of(CN_OPT_ADAM);
  cn_optim *o = NULL;
  CHECK(cn_optim_new(&s, f.refs, 2, &o) == CN_OK);
  if (!o) return;
  cn_optim_set_steps(o, 9);
  memcpy(f.g, grads[0], sizeof f.g);
  cn_optim_step(o);
  CHECK(cn_optim_steps(o) == 10);
  double w[N], m[N] = {0}, v[N] = {0};
  for (int i = 0; i < N; i++) w[i] = w0[i];
  adam(&s, s.lr, 10, grads[0], w, m, v);
  for (int i = 0; i < N; i++) CHECK_NEAR(f.w[i], w[i], 1e-6);
  cn_optim_free(o);
}

/* Tensors of odd sizes, so that the threads' shares of their concatenation
 * start inside tensors and at unaligned elements, give the same bits at 1, 2
 * and 3 threads (the step splits all tensors as one array). */
static void check_threads(void) {
  enum { TENSORS = 4, RUNS = 3 };
  const size_t sizes[TENSORS] = {7, 300001, 13, 40003};
  size_t n = 0;
  for (int i = 0; i < TENSORS; i++) n += sizes[i];
  float *w[RUNS], *g = malloc(n * sizeof *g);
  int ok = g != NULL;
  for (int run = 0; run < RUNS; run++) ok &= (w[run] = malloc(n * sizeof(float))) != NULL;
  if (!ok) {
    CHECK(!"out of memory");
    free(g);
    for (int run = 0; run < RUNS; run++) free(w[run]);
    return;
  }
  for (size_t i = 0; i < n; i++) g[i] = sinf((float)i * 0.37f);
  for (int run = 0; run < RUNS; run++) {
    cn_set_threads(run + 1);
    for (size_t i = 0; i < n; i++) w[run][i] = cosf((float)i * 0.11f);
    cn_tensor_ref refs[TENSORS];
    memset(refs, 0, sizeof refs);
    for (int i = 0, at = 0; i < TENSORS; at += (int)sizes[i], i++) {
      snprintf(refs[i].name, sizeof refs[i].name, "t%d", i);
      refs[i].ndim = 1;
      refs[i].shape[0] = (int)sizes[i];
      refs[i].size = sizes[i];
      refs[i].data = w[run] + at;
      refs[i].grad = g + at;
    }
    cn_optim_spec s = spec_of(CN_OPT_ADAM);
    s.weight_decay = 0.01f;
    cn_optim *o = NULL;
    CHECK(cn_optim_new(&s, refs, TENSORS, &o) == CN_OK);
    if (!o) break;
    for (int t = 0; t < 3; t++) cn_optim_step(o);
    cn_optim_free(o);
  }
  cn_set_threads(0);
  for (int run = 1; run < RUNS; run++)
    CHECK_MSG(memcmp(w[0], w[run], n * sizeof(float)) == 0, "%d threads changed the step's bits", run + 1);
  free(g);
  for (int run = 0; run < RUNS; run++) free(w[run]);
}

/* Decoupled weight decay (PyTorch's AdamW, Keras's weight_decay): the
 * weights shrink by lr*wd*w first, then the rule runs on the shrunk
 * weights with the unchanged gradient. */
static void decay(const cn_optim_spec *s, double lr, double *w) {
  for (int i = 0; i < N; i++) w[i] -= lr * s->weight_decay * w[i];
}
static void adamw(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *m, double *v) {
  decay(s, lr, w);
  adam(s, lr, t, g, w, m, v);
}
static void sgd_decayed(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *a, double *b) {
  decay(s, lr, w);
  sgd_momentum(s, lr, t, g, w, a, b);
}
static void rmsprop_decayed(const cn_optim_spec *s, double lr, int t, const float *g, double *w, double *a,
                            double *b) {
  decay(s, lr, w);
  rmsprop(s, lr, t, g, w, a, b);
}

static void check_weight_decay(void) {
  cn_optim_spec s = spec_of(CN_OPT_ADAM);
  s.weight_decay = 0.5f; /* large, so that the order of decay and update shows */
  run_rule("adamw", s, adamw);
  s = spec_of(CN_OPT_SGD);
  s.momentum = 0.9f, s.weight_decay = 0.25f;
  run_rule("sgd momentum, weight decay", s, sgd_decayed);
  s = spec_of(CN_OPT_RMSPROP);
  s.weight_decay = 0.25f;
  run_rule("rmsprop, weight decay", s, rmsprop_decayed);
  fixture f;
  fixture_init(&f);
  cn_optim *o = NULL;
  s.weight_decay = 1.5f;
  CHECK_ERROR(cn_optim_new(&s, f.refs, 2, &o), CN_EINVAL, "weight_decay must lie in [0, 1), got 1.5");
  s.weight_decay = NAN;
  CHECK_ERROR(cn_optim_new(&s, f.refs, 2, &o), CN_EINVAL, "weight_decay");
  CHECK(o == NULL);
}

int main(void) {
  cn_optim_spec s = spec_of(CN_OPT_SGD);
  run_rule("sgd", s, sgd_plain);
  s.momentum = 0.9f;
  run_rule("sgd momentum", s, sgd_momentum);
  s.nesterov = 1;
  run_rule("sgd nesterov", s, sgd_momentum);
  run_rule("adam", spec_of(CN_OPT_ADAM), adam);
  s = spec_of(CN_OPT_ADAM);
  s.beta1 = 0.5f;
  s.beta2 = 0.75f;
  s.eps = 0.1f; /* large enough that where epsilon sits shows */
  run_rule("adam (other betas, large epsilon)", s, adam);
  s = spec_of(CN_OPT_ADAM);
  s.beta1 = 0.7f; /* the fast recipe's (tuomaso/train_mnist_fast) */
  s.beta2 = 0.9f;
  run_rule("adam (betas 0.7/0.9)", s, adam);
  run_rule("rmsprop", spec_of(CN_OPT_RMSPROP), rmsprop);
  s = spec_of(CN_OPT_RMSPROP);
  s.eps = 0.1f;
  run_rule("rmsprop (large epsilon)", s, rmsprop);
  check_weight_decay();
  check_state_names();
  check_rejects();
  check_resumed_steps();
  check_threads();
  return test_summary();
}
