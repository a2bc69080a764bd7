/* Forward values on small cases checked by hand: convolution padding and
 * strides (Keras `same`, including the asymmetric padding of even kernels
 * and strides), pooling floors, batch norm in training versus inference,
 * dropout, activations and flatten order. */
#include <float.h>

#include "engine_test.h"
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* A conv2d on one image with the given weights and bias (as [f, c, kh, kw]). */
static void conv_case(int c, int h, int w, int f, int kh, int kw, int stride, int same, const float *x,
                      const float *wt, const float *bias, int oh, int ow, const float *want, const char *what) {
  cn_spec s;
  cn_spec_init(&s, c, h, w);
  cn_spec_add_conv2d(&s, f, kh, kw, stride, same, CN_ACT_NONE);
  one_layer t;
  CHECK(one_layer_open(&t, &s, 1) == 0);
  CHECK_MSG(t.l->out.h == oh && t.l->out.w == ow, "%s: output %dx%d, want %dx%d", what, t.l->out.h, t.l->out.w, oh,
            ow);
  memcpy(t.l->w, wt, sizeof(float) * (size_t)f * c * kh * kw);
  for (int i = 0; i < f; i++) t.l->b[i] = bias ? bias[i] : 0.0f;
  memcpy(t.x, x, sizeof(float) * (size_t)c * h * w);
  one_layer_forward(&t, 0);
  for (int i = 0; i < f * oh * ow; i++) CHECK_MSG(t.y[i] == want[i], "%s: y[%d] = %g, want %g", what, i, t.y[i], want[i]);
  one_layer_close(&t);
}

static const float x3[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const float ones9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};

static void test_conv(void) {
  /* valid 2x2 on 1..9, weights 1 2 / 3 4, bias 0.5: not flipped (cross-correlation) */
  const float w4[4] = {1, 2, 3, 4};
  const float b[1] = {0.5f};
  const float valid[4] = {1 + 4 + 12 + 20 + 0.5f, 2 + 6 + 15 + 24 + 0.5f, 4 + 10 + 21 + 32 + 0.5f,
                          5 + 12 + 24 + 36 + 0.5f};
  conv_case(1, 3, 3, 1, 2, 2, 1, 0, x3, w4, b, 2, 2, valid, "valid 2x2");

  /* same 3x3 of ones: each output sums its 3x3 neighbourhood, zeros outside */
  const float same3[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  conv_case(1, 3, 3, 1, 3, 3, 1, 1, x3, ones9, NULL, 3, 3, same3, "same 3x3");

  /* same 2x2 (even kernel): one padding row/column, after (Keras), so
   * y[i][j] = x[i][j] + x[i][j+1] + x[i+1][j] + x[i+1][j+1] */
  const float same2[9] = {12, 16, 9, 24, 28, 15, 15, 17, 9};
  conv_case(1, 3, 3, 1, 2, 2, 1, 1, x3, ones9, NULL, 3, 3, same2, "same 2x2 (even kernel)");

  /* same 3x3 stride 2 on 4x4 (1..16): out 2x2, total padding 1, all after */
  float x16[16];
  for (int i = 0; i < 16; i++) x16[i] = (float)(i + 1);
  const float s2[4] = {54, 45, 72, 54};
  conv_case(1, 4, 4, 1, 3, 3, 2, 1, x16, ones9, NULL, 2, 2, s2, "same 3x3 stride 2");

  /* same 3x3 stride 2 on 5x5 (1..25): out 3x3, total padding 2, one each side */
  float x25[25];
  for (int i = 0; i < 25; i++) x25[i] = (float)(i + 1);
  const float s25[9] = {1 + 2 + 6 + 7,      2 + 3 + 4 + 7 + 8 + 9,          4 + 5 + 9 + 10,
                        6 + 7 + 11 + 12 + 16 + 17, 7 + 8 + 9 + 12 + 13 + 14 + 17 + 18 + 19, 9 + 10 + 14 + 15 + 19 + 20,
                        16 + 17 + 21 + 22,  17 + 18 + 19 + 22 + 23 + 24,    19 + 20 + 24 + 25};
  conv_case(1, 5, 5, 1, 3, 3, 2, 1, x25, ones9, NULL, 3, 3, s25, "same 3x3 stride 2 on 5x5");

  /* valid 3x3 stride 2 on 5x5: windows at 0 and 2 */
  const float v25[4] = {1 + 2 + 3 + 6 + 7 + 8 + 11 + 12 + 13, 3 + 4 + 5 + 8 + 9 + 10 + 13 + 14 + 15,
                        11 + 12 + 13 + 16 + 17 + 18 + 21 + 22 + 23, 13 + 14 + 15 + 18 + 19 + 20 + 23 + 24 + 25};
  conv_case(1, 5, 5, 1, 3, 3, 2, 0, x25, ones9, NULL, 2, 2, v25, "valid 3x3 stride 2");

  /* rectangular 1x2 valid on 1..9: y[i][j] = x[i][j] + 10 x[i][j+1] */
  const float w12[2] = {1, 10};
  const float r12[6] = {21, 32, 54, 65, 87, 98};
  conv_case(1, 3, 3, 1, 1, 2, 1, 0, x3, w12, NULL, 3, 2, r12, "valid 1x2");

  /* channels: 2 inputs (1..4 and 10..40 on 2x2), 2 filters of 1x1, weight
   * [f, c]: y_f = w[f,0] x_0 + w[f,1] x_1 + b_f */
  const float xc[8] = {1, 2, 3, 4, 10, 20, 30, 40};
  const float wc[4] = {1, 0.5f, -1, 2};
  const float bc[2] = {0, 1};
  const float yc[8] = {6, 12, 18, 24, 20, 39, 58, 77};
  conv_case(2, 2, 2, 2, 1, 1, 1, 0, xc, wc, bc, 2, 2, yc, "channels 1x1");
  /* one window the size of the input (computed as a dense layer): filter 0
   * weights 1..9, filter 1 all ones */
  const float w_whole[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const float b_whole[2] = {0.5f, -1.0f}, y_whole[2] = {285.5f, 44.0f};
  conv_case(1, 3, 3, 2, 3, 3, 1, 0, x3, w_whole, b_whole, 1, 1, y_whole, "valid 3x3 on 3x3 (whole input)");
  cn_spec whole;
  cn_spec_init(&whole, 1, 3, 3);
  cn_spec_add_conv2d(&whole, 2, 3, 3, 1, 0, CN_ACT_NONE);
  cn_model *m;
  CHECK(cn_model_new(&whole, 1, &m) == 0);
  CHECK(m->layers[0].ops == &cn_conv2d_whole_ops);
  cn_model_free(m);
}

/* A pooling layer on one 1-channel image of x[i] = i. */
static void pool_case(cn_layer_kind kind, int h, int w, int size, int stride, int same, int oh, int ow, const float *want,
                      const char *what) {
  cn_spec s;
  cn_spec_init(&s, 1, h, w);
  cn_spec_add_pool(&s, kind, size, stride);
  s.layers[0].same = same;
  one_layer t;
  CHECK(one_layer_open(&t, &s, 1) == 0);
  CHECK_MSG(t.l->out.h == oh && t.l->out.w == ow, "%s: output %dx%d, want %dx%d", what, t.l->out.h, t.l->out.w, oh,
            ow);
  for (int i = 0; i < h * w; i++) t.x[i] = (float)i;
  one_layer_forward(&t, 0);
  for (int i = 0; i < oh * ow; i++) CHECK_MSG(t.y[i] == want[i], "%s: y[%d] = %g, want %g", what, i, t.y[i], want[i]);
  one_layer_close(&t);
}

static void test_pool(void) {
  /* 7x7 -> 3x3 (floor): the max of each 2x2 window is its bottom-right
   * x[2oy+1][2ox+1]; row and column 6 are dropped */
  float mx[9], av[9];
  for (int oy = 0; oy < 3; oy++)
    for (int ox = 0; ox < 3; ox++) {
      mx[oy * 3 + ox] = (float)((2 * oy + 1) * 7 + 2 * ox + 1);
      av[oy * 3 + ox] = (float)(2 * oy * 7 + 2 * ox) + 4.0f; /* mean of a, a+1, a+7, a+8 */
    }
  pool_case(CN_LAYER_MAXPOOL, 7, 7, 2, 0, 0, 3, 3, mx, "maxpool 7x7 floor");
  pool_case(CN_LAYER_AVGPOOL, 7, 7, 2, 0, 0, 3, 3, av, "avgpool 7x7 floor");
  /* `same` on 3x3 with 2x2: out 2x2, the last window holds only x[2][2] = 8 */
  const float msame[4] = {4, 5, 7, 8};
  const float asame[4] = {2, 3.5f, 6.5f, 8};
  pool_case(CN_LAYER_MAXPOOL, 3, 3, 2, 0, 1, 2, 2, msame, "maxpool same");
  pool_case(CN_LAYER_AVGPOOL, 3, 3, 2, 0, 1, 2, 2, asame, "avgpool same (padding not counted)");
  /* 3x3 window, stride 1 on 4x4: overlapping windows */
  const float m31[4] = {10, 11, 14, 15};
  pool_case(CN_LAYER_MAXPOOL, 4, 4, 3, 1, 0, 2, 2, m31, "maxpool 3x3 stride 1");
}

/* The 2x2 max pool's vector path (8 windows at a time, masked at the end
 * of each row) against its definition, for every row width from 1 to 20
 * windows, odd image widths, and values from {0, 1, 2} so most windows tie:
 * y is the window's maximum; the backward pass gives each window's
 * gradient to its first pixel (row-major) equal to the maximum and zeros
 * every other pixel, including the column and row no window covers; with
 * relu_below, only where that pixel is positive. */
static void test_maxpool_2x2_widths(void) {
  cn_rng rng;
  cn_rng_seed(&rng, 5, 0);
  for (int w = 2; w <= 41; w++)
    for (int relu = 0; relu <= 1; relu++) {
      const int h = 5, oh = 2, ow = w / 2;
      cn_spec s;
      cn_spec_init(&s, 2, h, w);
      cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, 2, 0);
      one_layer t;
      CHECK(one_layer_open(&t, &s, 2) == 0);
      t.l->relu_below = relu; /* as after a relu layer (model.c): only positive picks pass the gradient */
      const int planes = 4;
      for (int i = 0; i < planes * h * w; i++) t.x[i] = (float)(int)(3 * cn_rng_uniform(&rng));
      for (int i = 0; i < planes * oh * ow; i++) t.dy[i] = (float)(i + 1);
      for (int i = 0; i < planes * h * w; i++) t.dx[i] = -7.0f; /* every pixel must be written */
      one_layer_forward(&t, 1);
      t.l->ops->backward(t.l, t.x, t.y, t.dy, t.dx, t.n, &t.pass);
      int bad = 0;
      for (int pl = 0; pl < planes; pl++) {
        const float *x = t.x + pl * h * w, *y = t.y + pl * oh * ow, *dy = t.dy + pl * oh * ow, *dx = t.dx + pl * h * w;
        float want_dx[5 * 41] = {0};
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++) {
            const int p[4] = {2 * oy * w + 2 * ox, 2 * oy * w + 2 * ox + 1, (2 * oy + 1) * w + 2 * ox,
                              (2 * oy + 1) * w + 2 * ox + 1};
            float mx = x[p[0]];
            for (int q = 1; q < 4; q++) mx = x[p[q]] > mx ? x[p[q]] : mx;
            bad += y[oy * ow + ox] != mx;
            for (int q = 0; q < 4; q++)
              if (x[p[q]] == mx) {
                want_dx[p[q]] = relu && !(x[p[q]] > 0.0f) ? 0.0f : dy[oy * ow + ox];
                break;
              }
          }
        for (int i = 0; i < h * w; i++) bad += memcmp(&dx[i], &want_dx[i], sizeof(float)) != 0;
      }
      CHECK_MSG(bad == 0, "maxpool 2x2 on width %d%s: %d values differ from the definition", w,
                relu ? " with relu's derivative" : "", bad);
      one_layer_close(&t);
    }
}

static void test_batchnorm(void) {
  /* 2 images, 1 channel of 1x2: values 1 2 | 3 4 -> mean 2.5, biased var 1.25 */
  cn_spec s;
  cn_spec_init(&s, 1, 1, 2);
  cn_spec_add_batchnorm(&s);
  one_layer t;
  CHECK(one_layer_open(&t, &s, 2) == 0);
  const float x[4] = {1, 2, 3, 4};
  memcpy(t.x, x, sizeof x);
  t.l->w[0] = 2.0f; /* gamma */
  t.l->b[0] = 0.5f; /* beta */
  one_layer_forward(&t, 1);
  for (int i = 0; i < 4; i++) CHECK_NEAR(t.y[i], 2.0 * (x[i] - 2.5) / sqrt(1.25 + 0.001) + 0.5, 1e-6);
  /* moving: 0.99*0 + 0.01*2.5; 0.99*1 + 0.01*(unbiased var 5/3) */
  CHECK_NEAR(t.l->run_mean[0], 0.025, 1e-7);
  CHECK_NEAR(t.l->run_var[0], 0.99 + 0.01 * 5.0 / 3.0, 1e-6);
  one_layer_forward(&t, 0);
  for (int i = 0; i < 4; i++)
    CHECK_NEAR(t.y[i], 2.0 * (x[i] - 0.025) / sqrt(0.99 + 0.01 * 5.0 / 3.0 + 0.001) + 0.5, 1e-5);
  one_layer_close(&t);

  /* after dense (flat input): statistics per feature over the batch */
  cn_spec_init(&s, 2, 1, 1);
  cn_spec_add_batchnorm(&s);
  CHECK(one_layer_open(&t, &s, 2) == 0);
  const float xf[4] = {1, 10, 3, 30}; /* feature 0: 1, 3; feature 1: 10, 30 */
  memcpy(t.x, xf, sizeof xf);
  one_layer_forward(&t, 1);
  double d = 1.0 / sqrt(1.0 + 0.001), e = 10.0 / sqrt(100.0 + 0.001);
  CHECK_NEAR(t.y[0], -d, 1e-6);
  CHECK_NEAR(t.y[2], d, 1e-6);
  CHECK_NEAR(t.y[1], -e, 1e-6);
  CHECK_NEAR(t.y[3], e, 1e-6);
  CHECK_NEAR(t.l->run_mean[1], 0.2, 1e-6);
  one_layer_close(&t);
}

static void test_dropout(void) {
  cn_spec s;
  cn_spec_init(&s, 1, 100, 100);
  cn_spec_add_dropout(&s, 0.25f);
  one_layer t;
  CHECK(one_layer_open(&t, &s, 1) == 0);
  for (int i = 0; i < 10000; i++) t.x[i] = 3.0f;
  one_layer_forward(&t, 1);
  int kept = 0, bad = 0;
  for (int i = 0; i < 10000; i++) {
    if (t.y[i] == 4.0f)
      kept++;
    else if (t.y[i] != 0.0f)
      bad++;
  }
  CHECK(bad == 0);
  CHECK_MSG(kept > 7300 && kept < 7700, "kept %d of 10000 at rate 0.25", kept);
  one_layer_forward(&t, 0);
  for (int i = 0; i < 10000; i++) bad += t.y[i] != 3.0f;
  CHECK(bad == 0);
  one_layer_close(&t);
}

static void test_activations(void) {
  cn_spec s;
  const float x[4] = {-2, -0.5f, 0.5f, 3};
  const cn_act acts[3] = {CN_ACT_RELU, CN_ACT_SIGMOID, CN_ACT_TANH};
  for (int a = 0; a < 3; a++) {
    cn_spec_init(&s, 4, 1, 1);
    cn_spec_add_activation(&s, acts[a]);
    one_layer t;
    CHECK(one_layer_open(&t, &s, 1) == 0);
    memcpy(t.x, x, sizeof x);
    one_layer_forward(&t, 1);
    for (int i = 0; i < 4; i++) {
      double want = acts[a] == CN_ACT_RELU ? (x[i] > 0 ? x[i] : 0)
                    : acts[a] == CN_ACT_SIGMOID ? 1.0 / (1.0 + exp(-x[i]))
                                                : tanh(x[i]);
      CHECK_NEAR(t.y[i], want, 1e-6);
    }
    one_layer_close(&t);
  }
  /* The vectorised sigmoid and tanh against libm in double over [-20, 20]
   * and the extremes, sigmoid within 3 ulp (its tail below 1e-37
   * absolute), tanh within 6 (its bound over every float, activation.c);
   * the same values one place further along give the same bits, so the
   * vector loop and its scalar remainder agree (results do not depend on
   * where a thread's span starts). */
  enum { N = 4099 };
  for (int a = 1; a < 3; a++) {
    cn_spec_init(&s, N + 1, 1, 1);
    cn_spec_add_activation(&s, acts[a]);
    one_layer t;
    CHECK(one_layer_open(&t, &s, 1) == 0);
    const float extremes[] = {0.0f, 1e-30f, -1e-8f, 0.625f, -0.625f, 9.0f, -9.0f, 88.5f, -88.5f, 100.0f, -1e30f, 1e30f};
    const int n_ext = (int)(sizeof extremes / sizeof extremes[0]);
    for (int i = 0; i < N; i++) t.x[i] = i < n_ext ? extremes[i] : -20.0f + 40.0f * (float)(i - n_ext) / (N - n_ext);
    one_layer_forward(&t, 1);
    static float first[N];
    memcpy(first, t.y, sizeof first);
    int far = 0, moved = 0;
    for (int i = 0; i < N; i++) {
      double x = t.x[i], want = a == 1 ? 1.0 / (1.0 + exp(-x)) : tanh(x);
      double ulp = nextafterf((float)fabs(want), INFINITY) - (float)fabs(want);
      if (fabs(first[i] - want) > (a == 1 ? 3 * ulp + 1e-37 : 6 * ulp)) far++;
    }
    memmove(t.x + 1, t.x, sizeof(float) * N);
    one_layer_forward(&t, 1);
    for (int i = 0; i < N; i++) moved += memcmp(&first[i], &t.y[i + 1], sizeof(float)) != 0;
    CHECK_MSG(far == 0, "%s: %d of %d values beyond its bound", a == 1 ? "sigmoid" : "tanh", far, N);
    CHECK_MSG(moved == 0, "%s: %d values changed when moved by one place", a == 1 ? "sigmoid" : "tanh", moved);
    /* NaN stays NaN (no undefined float-to-int conversion on the way: the
     * fuzzer found one under UBSan), infinities saturate */
    for (int i = 0; i < N + 1; i++) t.x[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
    one_layer_forward(&t, 1);
    int wrong = 0;
    for (int i = 0; i < N + 1; i++) {
      float want = i % 3 == 0 ? NAN : i % 3 == 1 ? 1.0f : a == 1 ? 0.0f : -1.0f;
      wrong += i % 3 == 0 ? !isnan(t.y[i]) : fabsf(t.y[i] - want) > 1e-30f;
    }
    CHECK_MSG(wrong == 0, "%s: %d NaN or infinite inputs gave a wrong value", a == 1 ? "sigmoid" : "tanh", wrong);
    one_layer_close(&t);
  }
  /* softmax over channels at each position (Keras's last axis): 2 channels of 1x2 */
  cn_spec_init(&s, 2, 1, 2);
  cn_spec_add_activation(&s, CN_ACT_SOFTMAX);
  one_layer t;
  CHECK(one_layer_open(&t, &s, 1) == 0);
  const float xs[4] = {0, 1, 1000, 1}; /* position 0: (0, 1000); position 1: (1, 1) */
  memcpy(t.x, xs, sizeof xs);
  one_layer_forward(&t, 1);
  CHECK_NEAR(t.y[0], 0.0, 1e-7);
  CHECK_NEAR(t.y[2], 1.0, 1e-7);
  CHECK_NEAR(t.y[1], 0.5, 1e-7);
  CHECK_NEAR(t.y[3], 0.5, 1e-7);
  one_layer_close(&t);
}

/* predict on a model ending in softmax gives probabilities; flatten keeps
 * C, H, W order. */
static void test_model_outputs(void) {
  cn_spec s;
  cn_spec_init(&s, 2, 1, 2);
  cn_spec_add_flatten(&s);
  cn_model *m;
  CHECK(cn_model_new(&s, 1, &m) == 0);
  CHECK(cn_model_outputs(m) == 4 && cn_model_inputs(m) == 4);
  const float x[4] = {1, 2, 3, 4};
  float out[4];
  CHECK(cn_model_predict(m, x, 1, out) == 0);
  CHECK(memcmp(out, x, sizeof x) == 0);
  cn_model_free(m);

  cn_spec_init(&s, 1, 1, 3);
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, 2, CN_ACT_SOFTMAX);
  CHECK(cn_model_new(&s, 1, &m) == 0);
  int count;
  cn_tensor_ref *t = cn_model_tensors(m, &count);
  const float w[6] = {1, 0, 0, 0, 1, 0};
  memcpy(t[0].data, w, sizeof w);
  t[1].data[0] = 0.0f;
  t[1].data[1] = 0.0f;
  const float xi[3] = {2, 1, 7};
  CHECK(cn_model_predict(m, xi, 1, out) == 0);
  CHECK_NEAR(out[0], 1.0 / (1.0 + exp(-1.0)), 1e-6);
  CHECK_NEAR(out[1], 1.0 / (1.0 + exp(1.0)), 1e-6);
  cn_model_free(m);

  /* a standalone final softmax layer is fused the same way */
  cn_spec_init(&s, 1, 1, 3);
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, 2, CN_ACT_NONE);
  cn_spec_add_activation(&s, CN_ACT_SOFTMAX);
  CHECK(cn_model_new(&s, 1, &m) == 0);
  t = cn_model_tensors(m, &count);
  memcpy(t[0].data, w, sizeof w);
  CHECK(cn_model_predict(m, xi, 1, out) == 0);
  CHECK_NEAR(out[0], 1.0 / (1.0 + exp(-1.0)), 1e-6);
  cn_model_free(m);
}

/* Engine work runs with denormals flushed to zero (core/fpmode.h), as
 * TensorFlow's kernels do: a 1x1 convolution of a denormal input gives 0,
 * of FLT_MIN gives FLT_MIN; the caller's floating-point mode is put back. */
static void test_denormals_flushed(void) {
#if defined(__SSE__) || defined(__x86_64__)
  const float tiny[2] = {1e-40f, FLT_MIN}, one = 1.0f, want[2] = {0.0f, FLT_MIN};
  const unsigned before = _mm_getcsr();
  conv_case(1, 1, 2, 1, 1, 1, 1, 0, tiny, &one, NULL, 1, 2, want, "denormal input flushed");
  CHECK_MSG(_mm_getcsr() == before, "MXCSR %#x after the pass, %#x before", _mm_getcsr(), before);
  volatile float d = 1e-40f;
  CHECK_MSG(d * 1.0f != 0.0f, "the caller's thread was left flushing denormals");
#endif
}

int main(void) {
  cn_set_threads(1);
  test_conv();
  test_pool();
  test_maxpool_2x2_widths();
  test_batchnorm();
  test_dropout();
  test_activations();
  test_model_outputs();
  test_denormals_flushed();
  return test_summary();
}
