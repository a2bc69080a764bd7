/* The Winograd F(4x4, 3x3) convolution (src/engine/layers/conv_winograd.c)
 * against the definition, computed in double:
 * - the forward pass (bias, relu) and the input gradient, on even and odd
 *   maps, `same` and `valid` padding, and more output than input channels
 *   and the reverse, to within float rounding of the transforms;
 * - the weight gradient (in the transformed domain too), likewise;
 * - each image's result does not depend on the images beside it (batch of
 *   7 against each image alone) or on the thread count: bit for bit.
 * The finite-difference checks of these layers are in test_gradcheck. */
#include <math.h>

#include "engine/layers/conv.h"
#include "engine_test.h"

typedef struct {
  int c, h, w, f, same, n;
  const char *what;
} geometry;

/* |got - want| <= 1e-5 of the sum of the magnitudes of the terms (the
 * scale of rounding in any order of summation) + 1e-6. */
static int close_to(float got, double want, double scale) { return fabs(got - want) <= 1e-5 * scale + 1e-6; }

/* y, dx and dW of the definition for the layer's input x, weights and dy. */
static void reference(const cn_layer *l, int n, const float *x, const float *dy, double *y, double *y_scale,
                      double *dx, double *dx_scale, double *dw, double *dw_scale) {
  const int C = l->in.c, H = l->in.h, W = l->in.w, F = l->out.c, OH = l->out.h, OW = l->out.w;
  const size_t in = (size_t)l->in_size, out = (size_t)l->out_size;
  memset(dx, 0, sizeof(double) * n * in);
  memset(dx_scale, 0, sizeof(double) * n * in);
  memset(dw, 0, sizeof(double) * F * C * 9);
  memset(dw_scale, 0, sizeof(double) * F * C * 9);
  for (int i = 0; i < n; i++)
    for (int f = 0; f < F; f++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          double s = l->b[f], scale = fabs(l->b[f]);
          const size_t o = i * out + ((size_t)f * OH + oy) * OW + ox;
          for (int c = 0; c < C; c++)
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++) {
                const int iy = oy - l->pad_t + ky, ix = ox - l->pad_l + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const size_t at = i * in + ((size_t)c * H + iy) * W + ix, k = (((size_t)f * C + c) * 3 + ky) * 3 + kx;
                s += (double)l->w[k] * x[at];
                scale += fabs((double)l->w[k] * x[at]);
                dx[at] += (double)l->w[k] * dy[o];
                dx_scale[at] += fabs((double)l->w[k] * dy[o]);
                dw[k] += (double)x[at] * dy[o];
                dw_scale[k] += fabs((double)x[at] * dy[o]);
              }
          y[o] = s > 0 ? s : 0; /* relu */
          y_scale[o] = scale;
        }
}

/* One layer through the engine with `threads` threads: y, dx, dW. */
static void run(const geometry *g, int n, int threads, const float *x, const float *dy, float *y, float *dx, float *dw,
                one_layer *t) {
  cn_set_threads(threads);
  cn_spec s;
  cn_spec_init(&s, g->c, g->h, g->w);
  cn_spec_add_conv2d(&s, g->f, 3, 3, 1, g->same, CN_ACT_RELU);
  CHECK(one_layer_open(t, &s, n) == 0);
  cn_rng rng;
  cn_rng_seed(&rng, 7, 9);
  fill_uniform(t->l->w, (size_t)g->f * g->c * 9, -0.5f, 0.5f, &rng);
  fill_uniform(t->l->b, (size_t)g->f, -0.5f, 0.5f, &rng);
  memcpy(t->x, x, sizeof(float) * n * t->l->in_size);
  one_layer_forward(t, 1);
  memcpy(y, t->y, sizeof(float) * n * t->l->out_size);
  memcpy(t->dy, dy, sizeof(float) * n * t->l->out_size);
  t->l->ops->backward(t->l, t->x, t->y, t->dy, t->dx, n, &t->pass);
  memcpy(dx, t->dx, sizeof(float) * n * t->l->in_size);
  memcpy(dw, t->l->dw, sizeof(float) * g->f * g->c * 9);
}

static void test_geometry(const geometry *g) {
  one_layer t;
  cn_spec s;
  cn_spec_init(&s, g->c, g->h, g->w);
  cn_spec_add_conv2d(&s, g->f, 3, 3, 1, g->same, CN_ACT_RELU);
  CHECK(one_layer_open(&t, &s, g->n) == 0);
  const cn_conv_geo geo = cn_conv_geometry(t.l);
  CHECK_MSG(cn_wino_fits(&geo), "%s: not a Winograd layer", g->what);
  const size_t in = (size_t)t.l->in_size, out = (size_t)t.l->out_size, nw = (size_t)g->f * g->c * 9;
  const int n = g->n;
  one_layer_close(&t);

  float *x = malloc(sizeof(float) * n * in), *dy = malloc(sizeof(float) * n * out);
  cn_rng rng;
  cn_rng_seed(&rng, 3, 9);
  fill_uniform(x, n * in, -1.0f, 1.0f, &rng);
  fill_uniform(dy, n * out, -1.0f, 1.0f, &rng);
  float *y = malloc(sizeof(float) * n * out), *dx = malloc(sizeof(float) * n * in), *dw = malloc(sizeof(float) * nw);
  run(g, n, 1, x, dy, y, dx, dw, &t);

  /* the definition, with dy masked by relu as the layer does */
  double *ry = malloc(sizeof(double) * n * out), *rys = malloc(sizeof(double) * n * out);
  double *rdx = malloc(sizeof(double) * n * in), *rdxs = malloc(sizeof(double) * n * in);
  double *rdw = malloc(sizeof(double) * nw), *rdws = malloc(sizeof(double) * nw);
  float *masked = malloc(sizeof(float) * n * out);
  for (size_t i = 0; i < n * out; i++) masked[i] = y[i] > 0 ? dy[i] : 0.0f;
  reference(t.l, n, x, masked, ry, rys, rdx, rdxs, rdw, rdws);
  int bad_y = 0, bad_dx = 0, bad_dw = 0;
  for (size_t i = 0; i < n * out; i++) bad_y += !close_to(y[i], ry[i], rys[i]);
  for (size_t i = 0; i < n * in; i++) bad_dx += !close_to(dx[i], rdx[i], rdxs[i]);
  for (size_t i = 0; i < nw; i++) bad_dw += !close_to(dw[i], rdw[i], rdws[i]);
  CHECK_MSG(bad_y == 0, "%s: %d of %zu outputs differ from the definition", g->what, bad_y, n * out);
  CHECK_MSG(bad_dx == 0, "%s: %d of %zu input gradients differ from the definition", g->what, bad_dx, n * in);
  CHECK_MSG(bad_dw == 0, "%s: %d of %zu weight gradients differ from the definition", g->what, bad_dw, nw);
  one_layer_close(&t);

  /* each image alone, and the batch on 2 threads: the same bits */
  float *y1 = malloc(sizeof(float) * out), *dx1 = malloc(sizeof(float) * in), *dw1 = malloc(sizeof(float) * nw);
  int moved = 0;
  for (int i = 0; i < n; i++) {
    run(g, 1, 1, x + i * in, dy + i * out, y1, dx1, dw1, &t);
    moved += memcmp(y1, y + i * out, sizeof(float) * out) != 0;
    moved += memcmp(dx1, dx + i * in, sizeof(float) * in) != 0;
    one_layer_close(&t);
  }
  CHECK_MSG(moved == 0, "%s: %d results of an image alone differ from the same image in a batch", g->what, moved);
  float *y2 = malloc(sizeof(float) * n * out), *dx2 = malloc(sizeof(float) * n * in), *dw2 = malloc(sizeof(float) * nw);
  run(g, n, 2, x, dy, y2, dx2, dw2, &t);
  one_layer_close(&t);
  CHECK_MSG(!memcmp(y2, y, sizeof(float) * n * out) && !memcmp(dx2, dx, sizeof(float) * n * in) &&
                !memcmp(dw2, dw, sizeof(float) * nw),
            "%s: 2 threads differ from 1", g->what);
  printf("%-40s %zu outputs, %zu input gradients, %zu weight gradients checked\n", g->what, n * out, n * in, nw);
  free(x), free(dy), free(y), free(dx), free(dw), free(ry), free(rys), free(rdx), free(rdxs), free(rdw), free(rdws);
  free(masked), free(y1), free(dx1), free(dw1), free(y2), free(dx2), free(dw2);
}

int main(void) {
  const geometry cases[] = {
      {8, 28, 28, 8, 1, 3, "same 28x28, 8 -> 8 (one image a call)"},
      {16, 14, 14, 32, 1, 7, "same 14x14, 16 -> 32 (cnn_bn's second)"},
      {12, 7, 7, 9, 1, 7, "same 7x7 (odd: a half tile), 12 -> 9"},
      {9, 14, 14, 10, 0, 5, "valid 14x14 -> 12x12, 9 -> 10"},
      {10, 6, 9, 8, 0, 6, "valid 6x9 -> 4x7, 10 -> 8"},
      {8, 5, 3, 12, 1, 7, "same 5x3, 8 -> 12"},
      {8, 40, 37, 8, 1, 2, "same 40x37 (tile rows over 16 lanes)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_geometry(&cases[i]);
  return test_summary();
}
