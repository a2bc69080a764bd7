/* What every layer kind shares: geometry from the spec line and the shapes,
 * the ops table of each kind, Keras's glorot-uniform draw, and the no-op
 * entries of kinds without parameters. */
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <string.h>

#include "core/fpmode.h"
#include "engine/layer.h"

/* Keras `same` puts the odd padding pixel after: pad_before = total / 2.
 * With `valid` the total is 0, so one formula serves both. */
static int pad_before(int in, int out, int k, int stride) {
  int total = (out - 1) * stride + k - in;
  return total > 0 ? total / 2 : 0;
}

void cn_layer_setup(cn_layer *l, const cn_layer_spec *s, int index, cn_shape in, cn_shape out) {
  memset(l, 0, sizeof *l);
  l->s = *s;
  l->index = index;
  l->in = in;
  l->out = out;
  l->in_size = in.c * in.h * in.w;
  l->out_size = out.c * out.h * out.w;
  l->act = s->kind == CN_LAYER_DENSE || s->kind == CN_LAYER_CONV2D || s->kind == CN_LAYER_ACTIVATION
               ? s->act
               : CN_ACT_NONE;
  switch (s->kind) {
  case CN_LAYER_DENSE: l->ops = &cn_dense_ops; break;
  case CN_LAYER_CONV2D:
    /* one window covering the whole input (then there is no padding either) */
    l->ops = out.h == 1 && out.w == 1 && s->kh == in.h && s->kw == in.w ? &cn_conv2d_whole_ops : &cn_conv2d_ops;
    break;
  case CN_LAYER_MAXPOOL: l->ops = &cn_maxpool_ops; break;
  case CN_LAYER_AVGPOOL: l->ops = &cn_avgpool_ops; break;
  case CN_LAYER_BATCHNORM: l->ops = &cn_batchnorm_ops; break;
  case CN_LAYER_DROPOUT: l->ops = &cn_dropout_ops; break;
  case CN_LAYER_ACTIVATION: l->ops = &cn_activation_ops; break;
  case CN_LAYER_FLATTEN: l->ops = NULL; break;
  case CN_LAYER_GLOBAL_AVGPOOL:
    /* average pooling with one window the size of the input */
    l->ops = &cn_avgpool_ops;
    l->s.kh = l->s.sh = in.h;
    l->s.kw = l->s.sw = in.w;
    l->s.same = 0;
    break;
  }
  if (s->kind == CN_LAYER_CONV2D || s->kind == CN_LAYER_MAXPOOL || s->kind == CN_LAYER_AVGPOOL) {
    l->pad_t = pad_before(in.h, out.h, s->kh, s->sh);
    l->pad_l = pad_before(in.w, out.w, s->kw, s->sw);
  }
}

void cn_glorot_uniform(float *w, size_t count, double fan_in, double fan_out, cn_rng *rng) {
  double limit = sqrt(6.0 / (fan_in + fan_out));
  for (size_t i = 0; i < count; i++) w[i] = (float)((2.0 * cn_rng_uniform(rng) - 1.0) * limit);
}

/* Every body runs with denormals flushed (core/fpmode.h), on every thread. */
void cn_parallel(int nt, void (*body)(void *ctx, int t, int nt), void *ctx) {
  if (nt <= 1) {
    const unsigned saved = cn_fp_flush_begin();
    body(ctx, 0, 1);
    cn_fp_flush_end(saved);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const unsigned saved = cn_fp_flush_begin();
    body(ctx, omp_get_thread_num(), omp_get_num_threads());
    cn_fp_flush_end(saved);
  }
}

/* Pieces per thread: enough that the last piece is a small share of the
 * work, few enough that taking one (an atomic add) costs nothing. */
#define PIECES_PER_THREAD 8

void cn_parallel_items(int nt, int n, int unit, void (*body)(void *ctx, int t, int lo, int hi), void *ctx) {
  const int units = (n + unit - 1) / unit;
  if (nt > units) nt = units;
  if (nt <= 1) {
    const unsigned saved = cn_fp_flush_begin();
    if (n > 0) body(ctx, 0, 0, n);
    cn_fp_flush_end(saved);
    return;
  }
  const int piece = unit * ((units + PIECES_PER_THREAD * nt - 1) / (PIECES_PER_THREAD * nt));
  atomic_int next = 0;
#pragma omp parallel num_threads(nt)
  {
    const unsigned saved = cn_fp_flush_begin();
    const int t = omp_get_thread_num();
    for (int lo; (lo = atomic_fetch_add_explicit(&next, piece, memory_order_relaxed)) < n;)
      body(ctx, t, lo, n - lo < piece ? n : lo + piece);
    cn_fp_flush_end(saved);
  }
}

size_t cn_layer_no_params(const cn_layer *l) {
  (void)l;
  return 0;
}

size_t cn_layer_no_state(const cn_layer *l, int max_batch) {
  (void)l;
  (void)max_batch;
  return 0;
}

size_t cn_layer_no_work(const cn_layer *l, int max_batch, int threads) {
  (void)l;
  (void)max_batch;
  (void)threads;
  return 0;
}

void cn_layer_no_init(cn_layer *l, cn_rng *rng) {
  (void)l;
  (void)rng;
}
