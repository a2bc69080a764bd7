/* Finite-difference gradient checks: every layer with respect to its input
 * and each parameter, the loss with both label kinds, and a whole model
 * (conv, batch norm, max pooling, dropout with a fixed mask, dense,
 * softmax) through cn_model_train_batch.
 *
 * The engine computes in float32, so the central difference
 * (f(v+h) - f(v-h)) / 2h carries rounding noise of about eps*|f|/h
 * (eps = 6e-8) besides its O(h^2) truncation error. Layers are checked on
 * f = sum_j r_j y_j with fixed random r, evaluated in double from the float
 * outputs; with h = 1e-2 (1e-3 for batch norm, whose curvature is larger,
 * and for the whole model) both errors stay below 1e-3 of the gradient's
 * scale. A value passes when
 * |analytic - numeric| <= ATOL + RTOL * max(|analytic|, |numeric|); the
 * worst ratio to that bound is printed. Kinks (relu at 0, max-pool ties)
 * are kept out of reach of the h steps: relu inputs are at least 0.1 from
 * 0, max-pool inputs at least 0.05 apart, and the whole-model test checks
 * that no step moved a pooled value across its window's gap. */
#include "engine_test.h"

#define RTOL 1e-2
#define ATOL 1e-3

static double worst_ratio;

static void compare(double analytic, double numeric, const char *what, const char *tensor, int index) {
  double bound = ATOL + RTOL * fmax(fabs(analytic), fabs(numeric));
  double ratio = fabs(analytic - numeric) / bound;
  if (ratio > worst_ratio) worst_ratio = ratio;
  CHECK_MSG(ratio <= 1.0, "%s: d/d%s[%d]: analytic %.6g, numeric %.6g", what, tensor, index, analytic, numeric);
}

/* f = sum r_j y_j after a training forward with the dropout generator reset
 * to `mask`, so every evaluation draws the same mask. */
static double objective(one_layer *t, const float *r, const cn_rng *mask) {
  *t->pass.rng = *mask;
  one_layer_forward(t, 1);
  double f = 0.0;
  for (size_t j = 0; j < (size_t)t->n * t->l->out_size; j++) f += (double)r[j] * t->y[j];
  return f;
}

/* Central differences of f over up to `samples` entries of v (spread evenly). */
static void check_tensor(one_layer *t, const float *r, const cn_rng *mask, float *v, const float *analytic,
                         size_t len, double h, const char *what, const char *tensor) {
  size_t step = len > 60 ? len / 60 : 1;
  for (size_t i = 0; i < len; i += step) {
    float keep = v[i];
    v[i] = keep + (float)h;
    double hi = (double)v[i] - keep; /* the step actually taken in float */
    double fp = objective(t, r, mask);
    v[i] = keep - (float)h;
    double lo = (double)keep - v[i];
    double fm = objective(t, r, mask);
    v[i] = keep;
    compare(analytic[i], (fp - fm) / (hi + lo), what, tensor, (int)i);
  }
}

/* Checks layer 0 of spec on n images of x (filled by the caller through
 * init_x, or uniform in [-1, 1)). */
static void check_layer(const cn_spec *spec, int n, double h, const char *what,
                        void (*init_x)(float *x, size_t len, cn_rng *rng)) {
  one_layer t;
  int rc = one_layer_open(&t, spec, n);
  CHECK_MSG(rc == 0, "%s: %s", what, cn_last_error());
  if (rc) return;
  cn_rng rng;
  cn_rng_seed(&rng, 42, 9);
  size_t in_len = (size_t)n * t.l->in_size, out_len = (size_t)n * t.l->out_size;
  if (init_x)
    init_x(t.x, in_len, &rng);
  else
    fill_uniform(t.x, in_len, -1.0f, 1.0f, &rng);
  if (t.l->s.kind == CN_LAYER_BATCHNORM) { /* gamma and beta away from 1 and 0 */
    fill_uniform(t.l->w, (size_t)t.l->in.c, 0.5f, 1.5f, &rng);
    fill_uniform(t.l->b, (size_t)t.l->in.c, -0.5f, 0.5f, &rng);
  }
  float *r = malloc(sizeof(float) * out_len);
  fill_uniform(r, out_len, -1.0f, 1.0f, &rng);
  cn_rng mask = *t.pass.rng;
  objective(&t, r, &mask);
  memcpy(t.dy, r, sizeof(float) * out_len);
  t.l->ops->backward(t.l, t.x, t.y, t.dy, t.dx, n, &t.pass);
  size_t np = t.l->ops->param_floats(t.l);
  float *dx = malloc(sizeof(float) * in_len), *dw = NULL, *db = NULL;
  memcpy(dx, t.dx, sizeof(float) * in_len);
  size_t wl = 0, bl = 0;
  if (np) {
    bl = t.l->s.kind == CN_LAYER_DENSE ? (size_t)t.l->out_size : (size_t)t.l->out.c;
    wl = t.l->s.kind == CN_LAYER_BATCHNORM ? (size_t)t.l->in.c : np - bl;
    dw = malloc(sizeof(float) * wl);
    db = malloc(sizeof(float) * bl);
    memcpy(dw, t.l->dw, sizeof(float) * wl);
    memcpy(db, t.l->db, sizeof(float) * bl);
  }
  check_tensor(&t, r, &mask, t.x, dx, in_len, h, what, "x");
  if (np) {
    check_tensor(&t, r, &mask, t.l->w, dw, wl, h, what, "weight");
    check_tensor(&t, r, &mask, t.l->b, db, bl, h, what, "bias");
  }
  free(r);
  free(dx);
  free(dw);
  free(db);
  one_layer_close(&t);
}

/* Values at least 0.1 away from relu's kink. */
static void away_from_zero(float *x, size_t len, cn_rng *rng) {
  for (size_t i = 0; i < len; i++) {
    float v = 0.1f + 0.9f * cn_rng_uniform(rng);
    x[i] = cn_rng_uniform(rng) < 0.5f ? -v : v;
  }
}

/* A shuffled ladder of values 0.05 apart: no two close to a max-pool tie. */
static void distinct(float *x, size_t len, cn_rng *rng) {
  int *idx = malloc(sizeof(int) * len);
  for (size_t i = 0; i < len; i++) idx[i] = (int)i;
  cn_rng_shuffle(rng, idx, (int)len);
  for (size_t i = 0; i < len; i++) x[i] = 0.05f * (float)idx[i] - 0.025f * (float)len;
  free(idx);
}

static void test_dense(void) {
  const cn_act acts[4] = {CN_ACT_NONE, CN_ACT_SIGMOID, CN_ACT_TANH, CN_ACT_SOFTMAX};
  const char *names[4] = {"dense", "dense sigmoid", "dense tanh", "dense softmax (Jacobian)"};
  for (int a = 0; a < 4; a++) {
    cn_spec s;
    cn_spec_init(&s, 7, 1, 1);
    cn_spec_add_dense(&s, 5, acts[a]);
    check_layer(&s, 3, 1e-2, names[a], NULL);
  }
}

static void conv_case(int c, int h, int w, int f, int kh, int kw, int sh, int sw, int same, cn_act act,
                      const char *what) {
  cn_spec s;
  cn_spec_init(&s, c, h, w);
  cn_spec_add_conv2d(&s, f, kh, kw, sh, same, act);
  s.layers[0].sw = sw;
  check_layer(&s, 2, 1e-2, what, NULL);
}

static void test_conv(void) {
  conv_case(2, 6, 5, 3, 3, 3, 1, 1, 0, CN_ACT_NONE, "conv valid 3x3");
  conv_case(2, 5, 6, 3, 3, 3, 1, 1, 1, CN_ACT_NONE, "conv same 3x3");
  conv_case(2, 7, 7, 3, 3, 3, 2, 2, 1, CN_ACT_NONE, "conv same 3x3 stride 2");
  conv_case(2, 7, 8, 2, 3, 3, 2, 2, 0, CN_ACT_NONE, "conv valid 3x3 stride 2");
  conv_case(2, 5, 5, 3, 2, 2, 1, 1, 1, CN_ACT_NONE, "conv same 2x2 (even kernel)");
  conv_case(3, 6, 7, 2, 2, 3, 2, 1, 1, CN_ACT_NONE, "conv same 2x3 stride 2x1 (rectangular)");
  conv_case(1, 8, 8, 4, 5, 5, 1, 1, 1, CN_ACT_TANH, "conv 1 channel same 5x5 tanh");
  conv_case(2, 5, 5, 3, 3, 3, 1, 1, 1, CN_ACT_SIGMOID, "conv same 3x3 sigmoid");
  /* more filters than twice the channels: dx through the column gradient
   * added back row by row instead of the flipped convolution */
  conv_case(2, 6, 5, 5, 3, 3, 1, 1, 1, CN_ACT_NONE, "conv same 3x3, dx via columns");
  conv_case(2, 6, 6, 5, 2, 2, 1, 1, 0, CN_ACT_NONE, "conv valid 2x2, dx via columns");
  conv_case(2, 5, 6, 5, 2, 3, 1, 1, 1, CN_ACT_NONE, "conv same 2x3 (asymmetric padding), dx via columns");
  conv_case(3, 9, 9, 16, 5, 5, 1, 1, 0, CN_ACT_TANH, "conv valid 5x5 tanh, dx via columns (lenet's second)");
  /* 3x3 with 8 or more channels each way: Winograd F(4x4, 3x3) for y, dx and dW */
  conv_case(8, 5, 6, 8, 3, 3, 1, 1, 1, CN_ACT_TANH, "conv same 3x3 8->8 tanh (Winograd)");
  conv_case(9, 7, 5, 10, 3, 3, 1, 1, 0, CN_ACT_NONE, "conv valid 3x3 9->10 (Winograd, odd maps)");
  /* strides above 1 (Deotte's 5x5 stride 2, and a stride that leaves the
   * last columns unread) */
  conv_case(3, 8, 8, 4, 5, 5, 2, 2, 1, CN_ACT_TANH, "conv same 5x5 stride 2 tanh");
  conv_case(2, 9, 10, 3, 4, 4, 3, 3, 0, CN_ACT_NONE, "conv valid 4x4 stride 3 (last column unread)");
  /* one window the size of the input (Deotte's last conv): the dense path */
  conv_case(3, 4, 4, 5, 4, 4, 1, 1, 0, CN_ACT_RELU, "conv valid 4x4 on 4x4 (whole input) relu");
  conv_case(2, 3, 5, 4, 3, 5, 2, 2, 1, CN_ACT_TANH, "conv same 3x5 stride 2 on 3x5 (whole input) tanh");
}

static void pool_case(cn_layer_kind kind, int c, int h, int w, int size, int stride, int same, const char *what) {
  cn_spec s;
  cn_spec_init(&s, c, h, w);
  cn_spec_add_pool(&s, kind, size, stride);
  s.layers[0].same = same;
  check_layer(&s, 2, 1e-2, what, kind == CN_LAYER_MAXPOOL ? distinct : NULL);
}

static void test_pool(void) {
  pool_case(CN_LAYER_MAXPOOL, 2, 5, 5, 2, 0, 0, "maxpool 2x2 floor");
  pool_case(CN_LAYER_MAXPOOL, 2, 5, 6, 3, 2, 1, "maxpool same 3x3 stride 2");
  pool_case(CN_LAYER_MAXPOOL, 1, 5, 5, 3, 1, 0, "maxpool 3x3 stride 1 (overlapping)");
  pool_case(CN_LAYER_AVGPOOL, 2, 5, 5, 2, 0, 0, "avgpool 2x2 floor");
  pool_case(CN_LAYER_AVGPOOL, 2, 5, 6, 3, 2, 1, "avgpool same 3x3 stride 2");
  cn_spec s;
  cn_spec_init(&s, 3, 5, 6);
  cn_spec_add_global_avgpool(&s);
  check_layer(&s, 2, 1e-2, "global_avgpool 5x6x3", NULL);
  cn_spec_init(&s, 4, 1, 7);
  cn_spec_add_global_avgpool(&s);
  check_layer(&s, 3, 1e-2, "global_avgpool 1x7x4", NULL);
}

static void test_batchnorm(void) {
  cn_spec s;
  cn_spec_init(&s, 3, 4, 4);
  cn_spec_add_batchnorm(&s);
  check_layer(&s, 2, 1e-3, "batchnorm after conv (training)", NULL);
  cn_spec_init(&s, 5, 1, 1);
  cn_spec_add_batchnorm(&s);
  check_layer(&s, 4, 1e-3, "batchnorm after dense (training)", NULL);
  /* followed by relu, which the model fuses into the batch norm layer */
  cn_spec_init(&s, 3, 4, 4);
  cn_spec_add_batchnorm(&s);
  cn_spec_add_activation(&s, CN_ACT_RELU);
  cn_model *fused;
  CHECK(cn_model_new(&s, 1, &fused) == 0);
  CHECK(fused->layers[0].act == CN_ACT_RELU && fused->layers[1].ops == NULL); /* the fusion took place */
  cn_model_free(fused);
  check_layer(&s, 2, 1e-3, "batchnorm with its relu fused, after conv (training)", NULL);
  cn_spec_init(&s, 5, 1, 1);
  cn_spec_add_batchnorm(&s);
  cn_spec_add_activation(&s, CN_ACT_RELU);
  check_layer(&s, 4, 1e-3, "batchnorm with its relu fused, after dense (training)", NULL);
}

static void test_dropout(void) {
  cn_spec s;
  cn_spec_init(&s, 2, 4, 4);
  cn_spec_add_dropout(&s, 0.3f);
  check_layer(&s, 2, 1e-2, "dropout (fixed mask)", NULL);
}

static void test_activation_layers(void) {
  const cn_act acts[4] = {CN_ACT_RELU, CN_ACT_SIGMOID, CN_ACT_TANH, CN_ACT_SOFTMAX};
  const char *names[4] = {"relu layer", "sigmoid layer", "tanh layer", "softmax layer (flat)"};
  for (int a = 0; a < 4; a++) {
    cn_spec s;
    cn_spec_init(&s, 6, 1, 1);
    cn_spec_add_activation(&s, acts[a]);
    check_layer(&s, 3, 1e-2, names[a], acts[a] == CN_ACT_RELU ? away_from_zero : NULL);
  }
  cn_spec s;
  cn_spec_init(&s, 3, 2, 2);
  cn_spec_add_activation(&s, CN_ACT_SOFTMAX);
  check_layer(&s, 2, 1e-2, "softmax layer (over channels)", NULL);
}

/* The loss against central differences of its own value, and its value
 * against a direct double-precision evaluation. */
static void test_loss(void) {
  enum { N = 4, K = 5 };
  cn_rng rng;
  cn_rng_seed(&rng, 7, 9);
  float z[N * K], onehot[N * K], soft[N * K], probs[N * K], g[N * K];
  fill_uniform(z, N * K, -3.0f, 3.0f, &rng);
  const int labels[N] = {0, 3, 4, 1};
  memset(onehot, 0, sizeof onehot);
  for (int i = 0; i < N; i++) onehot[i * K + labels[i]] = 1.0f;
  for (int i = 0; i < N * K; i++) soft[i] = onehot[i] * 0.9f + 0.02f; /* label smoothing */
  const float *targets[3] = {NULL, onehot, soft};
  const char *names[3] = {"loss (sparse labels)", "loss (one-hot)", "loss (smoothed targets)"};
  for (int kind = 0; kind < 3; kind++) {
    const int *lab = kind == 0 ? labels : NULL;
    const float *t = targets[kind];
    float loss = cn_softmax_cross_entropy(z, N, K, lab, t, probs, g);
    double want = 0.0;
    for (int i = 0; i < N; i++) {
      double mx = -1e30, sum = 0.0;
      for (int j = 0; j < K; j++) mx = fmax(mx, z[i * K + j]);
      for (int j = 0; j < K; j++) sum += exp(z[i * K + j] - mx);
      for (int j = 0; j < K; j++) {
        double tj = lab ? (j == lab[i]) : t[i * K + j];
        want -= tj * (z[i * K + j] - mx - log(sum)) / N;
      }
      double ps = 0.0;
      for (int j = 0; j < K; j++) ps += probs[i * K + j];
      CHECK_NEAR(ps, 1.0, 1e-6);
    }
    CHECK_NEAR(loss, want, 1e-6);
    for (int i = 0; i < N * K; i++) {
      float keep = z[i];
      z[i] = keep + 1e-2f;
      double fp = cn_softmax_cross_entropy(z, N, K, lab, t, NULL, NULL);
      z[i] = keep - 1e-2f;
      double fm = cn_softmax_cross_entropy(z, N, K, lab, t, NULL, NULL);
      z[i] = keep;
      compare(g[i], (fp - fm) / 2e-2, names[kind], "logits", i);
    }
  }
  /* Smoothing 0.1 over 5 classes makes the targets 0.9 t + 0.02: the soft
   * targets above, from integer labels and from one-hot rows alike; its
   * gradient against central differences of its own value; and smoothing 0
   * gives the plain loss's bits. */
  float want_g[N * K], got_g[N * K];
  float want = cn_softmax_cross_entropy(z, N, K, NULL, soft, NULL, want_g);
  for (int kind = 0; kind < 2; kind++) {
    const int *lab = kind == 0 ? labels : NULL;
    const float *t = kind == 0 ? NULL : onehot;
    CHECK_NEAR(cn_softmax_cross_entropy_smoothed(z, N, K, lab, t, 0.1f, NULL, got_g), want, 1e-6);
    for (int i = 0; i < N * K; i++) CHECK_NEAR(got_g[i], want_g[i], 1e-7);
    for (int i = 0; i < N * K; i++) {
      float keep = z[i];
      z[i] = keep + 1e-2f;
      double fp = cn_softmax_cross_entropy_smoothed(z, N, K, lab, t, 0.1f, NULL, NULL);
      z[i] = keep - 1e-2f;
      double fm = cn_softmax_cross_entropy_smoothed(z, N, K, lab, t, 0.1f, NULL, NULL);
      z[i] = keep;
      compare(got_g[i], (fp - fm) / 2e-2, "loss (label smoothing 0.1)", "logits", i);
    }
  }
  float plain = cn_softmax_cross_entropy(z, N, K, labels, NULL, NULL, want_g);
  CHECK(cn_softmax_cross_entropy_smoothed(z, N, K, labels, NULL, 0.0f, NULL, got_g) == plain);
  CHECK(memcmp(want_g, got_g, sizeof got_g) == 0);

  /* huge logits: no overflow, the loss of the right class is ~0 */
  const float big[2] = {1000.0f, -1000.0f};
  const int right = 0;
  float p[2];
  CHECK_NEAR(cn_softmax_cross_entropy(big, 1, 2, &right, NULL, p, NULL), 0.0, 1e-6);
  CHECK(p[0] == 1.0f && p[1] == 0.0f);
  const int wrong = 1;
  CHECK_NEAR(cn_softmax_cross_entropy(big, 1, 2, &wrong, NULL, NULL, NULL), 2000.0, 1e-3);
}

/* The smallest gap between the largest and second largest value of any
 * 2x2 window of v [planes, h, w]: how far values may move before a max-pool
 * window changes its winner. */
static float smallest_gap(const float *v, int planes, int h, int w) {
  float gap = INFINITY;
  for (int p = 0; p < planes; p++)
    for (int y = 0; y + 1 < h; y += 2)
      for (int x = 0; x + 1 < w; x += 2) {
        const float *r = v + ((size_t)p * h + y) * w + x;
        float q[4] = {r[0], r[1], r[w], r[w + 1]}, a = -INFINITY, b = -INFINITY;
        for (int i = 0; i < 4; i++) {
          if (q[i] > a) {
            b = a;
            a = q[i];
          } else if (q[i] > b) {
            b = q[i];
          }
        }
        gap = fminf(gap, a - b);
      }
  return gap;
}

static float largest_change(const float *a, const float *b, size_t n) {
  float d = 0.0f;
  for (size_t i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
  return d;
}

/* The whole model: conv, batch norm, max pooling, dropout (mask fixed by
 * resetting the dropout generator before each evaluation), flatten, dense,
 * softmax fused with the loss, through cn_model_train_batch. Max pooling is
 * a kink wherever a window's two largest values meet; the test checks that
 * no step moved the pooled values by half the smallest gap, so every
 * difference was taken on one smooth piece. */
static void test_model(void) {
  enum { N = 2, C = 2, H = 6, W = 6 };
  const double h = 1e-3;
  cn_spec s;
  cn_spec_init(&s, 1, H, W);
  cn_spec_add_conv2d(&s, C, 3, 3, 1, 1, CN_ACT_TANH);
  cn_spec_add_batchnorm(&s);
  cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, 2, 0);
  cn_spec_add_dropout(&s, 0.25f);
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, 6, CN_ACT_TANH);
  cn_spec_add_dense(&s, 4, CN_ACT_SOFTMAX);
  cn_model *m;
  CHECK(cn_model_new(&s, 3, &m) == 0);
  cn_rng rng;
  cn_rng_seed(&rng, 5, 9);
  float x[N * H * W];
  fill_uniform(x, N * H * W, 0.0f, 1.0f, &rng);
  const int labels[N] = {2, 0};
  cn_rng mask = *cn_model_rng(m);
  float loss;
  CHECK(cn_model_train_batch(m, x, labels, NULL, N, &loss, NULL) == 0);
  const size_t pooled_len = (size_t)N * C * H * W;
  float pooled[N * C * H * W];
  memcpy(pooled, m->act[1], sizeof pooled);
  const float gap = smallest_gap(pooled, N * C, H, W);
  float moved = 0.0f;
  int count;
  cn_tensor_ref *t = cn_model_tensors(m, &count);
  /* every gradient is saved first: each evaluation below overwrites them */
  float *analytic[CN_MAX_TENSORS] = {0};
  for (int k = 0; k < count; k++)
    if (t[k].grad) {
      analytic[k] = malloc(sizeof(float) * t[k].size);
      memcpy(analytic[k], t[k].grad, sizeof(float) * t[k].size);
    }
  for (int k = 0; k < count; k++) {
    if (!t[k].grad) continue;
    size_t step = t[k].size > 25 ? t[k].size / 25 : 1;
    for (size_t i = 0; i < t[k].size; i += step) {
      float keep = t[k].data[i], lp, lm;
      t[k].data[i] = keep + (float)h;
      double hp = (double)t[k].data[i] - keep;
      *cn_model_rng(m) = mask;
      cn_model_train_batch(m, x, labels, NULL, N, &lp, NULL);
      moved = fmaxf(moved, largest_change(m->act[1], pooled, pooled_len));
      t[k].data[i] = keep - (float)h;
      double hm = (double)keep - t[k].data[i];
      *cn_model_rng(m) = mask;
      cn_model_train_batch(m, x, labels, NULL, N, &lm, NULL);
      moved = fmaxf(moved, largest_change(m->act[1], pooled, pooled_len));
      t[k].data[i] = keep;
      compare(analytic[k][i], ((double)lp - lm) / (hp + hm), "whole model", t[k].name, (int)i);
    }
    free(analytic[k]);
  }
  CHECK_MSG(moved < gap / 2, "a step moved pooled values by %g; the smallest max-pool gap is %g", moved, gap);
  printf("whole model: loss %.4f, smallest max-pool gap %.4f, largest move %.5f\n", loss, gap, moved);
  cn_model_free(m);
}

int main(void) {
  cn_set_threads(1);
  test_dense();
  test_conv();
  test_pool();
  test_batchnorm();
  test_dropout();
  test_activation_layers();
  test_loss();
  test_model();
  printf("worst |analytic - numeric| / (%g + %g max(|a|, |n|)): %.3f\n", ATOL, RTOL, worst_ratio);
  return test_summary();
}
