/* Batch normalisation per channel (after conv: over n*h*w values; after
 * dense or flatten, where h = w = 1: per feature over the n images).
 *
 * Training normalises with the batch mean and the biased batch variance and
 * moves the moving statistics: mean <- momentum*mean + (1-momentum)*batch_mean,
 * var <- momentum*var + (1-momentum)*batch_var*m/(m-1), the unbiased
 * variance of the m values, as PyTorch and tf.keras's fused kernel (the one
 * Keras 2 uses after Conv2D) do. Inference uses the moving statistics.
 * Threads take whole channels, so every sum has one fixed order. A batch
 * split across processes (layer.h) relays those sums rank to rank in the
 * same order, and shares them, since every rank normalises with them.
 *
 * When the model fuses a following relu into it (l->act, see model.c),
 * the output is relu'd as it is written and the incoming gradient masked
 * by that output before the sums. */
#include <math.h>

#include "engine/layer.h"

#define BN_PARALLEL_VALUES 65536.0

static size_t bn_params(const cn_layer *l) { return 4 * (size_t)l->in.c; }

/* The batch mean and 1/sqrt(var + eps) per channel, for backward; then
 * room for two sums per channel in double, which a split batch relays. */
static size_t bn_state(const cn_layer *l, int max_batch) {
  (void)max_batch;
  return 2 * cn_round_floats((size_t)l->in.c) + 4 * cn_round_floats((size_t)l->in.c);
}
static double *relayed_sums(const cn_layer *l) { return (double *)(void *)(l->state + 2 * cn_round_floats((size_t)l->in.c)); }

static void bn_init(cn_layer *l, cn_rng *rng) {
  (void)rng;
  for (int c = 0; c < l->in.c; c++) {
    l->w[c] = 1.0f;
    l->b[c] = 0.0f;
    l->run_mean[c] = 0.0f;
    l->run_var[c] = 1.0f;
  }
}

/* The normalised value as written: relu'd when the model fused a relu in
 * (the same comparison as cn_act_forward_span's, so the same bits). */
static inline float bn_out(float v, int relu) { return relu && !(v > 0.0f) ? 0.0f : v; }

static int bn_threads(const cn_layer *l, int n, const cn_pass *p) {
  return (double)n * l->in_size < BN_PARALLEL_VALUES ? 1 : p->threads;
}

/* Channels per piece of a pass: after dense, whole blocks of lanes. */
static int channel_unit(const cn_layer *l) { return l->in.h * l->in.w == 1 ? CN_LANES : 1; }

/* Batch mean and variance of channel c over n images of S values: the
 * mean first, then the squared deviations from it (more accurate than one
 * pass of sum and sum of squares). */
static void batch_stats(const float *x, int n, int C, int S, int c, double *mean, double *var) {
  const size_t stride = (size_t)C * S;
  const double m = (double)n * S;
  double sum = 0.0, ss = 0.0;
  for (int i = 0; i < n; i++) sum += cn_sum(x + i * stride + (size_t)c * S, S);
  const double mu = sum / m;
  for (int i = 0; i < n; i++) ss += cn_sum_sq_dev(x + i * stride + (size_t)c * S, S, (float)mu);
  *mean = mu;
  *var = ss / m;
}

/* After dense (one value per feature and image): the same sums as
 * batch_stats and the loops below, in the same order, but with the
 * features [lo, hi) side by side, so they run across vector lanes instead
 * of one value at a time. sum/ss are [C] doubles of scratch. */
static void bn_forward_features(cn_layer *l, const float *restrict x, float *restrict y, int n, int training, int lo,
                                int hi, double *restrict sum, double *restrict ss) {
  const int C = l->in.c;
  const float momentum = l->s.momentum, eps = l->s.epsilon;
  float *restrict mean = l->state, *restrict istd = l->state + cn_round_floats((size_t)C);
  float scale[CN_LANES], shift[CN_LANES];
  for (int c0 = lo; c0 < hi; c0 += CN_LANES) {
    const int w = hi - c0 < CN_LANES ? hi - c0 : CN_LANES;
    if (training) {
      for (int q = 0; q < w; q++) sum[q] = ss[q] = 0.0;
      for (int i = 0; i < n; i++)
        for (int q = 0; q < w; q++) sum[q] += (double)x[(size_t)i * C + c0 + q];
      for (int q = 0; q < w; q++) mean[c0 + q] = (float)(sum[q] / n);
      for (int i = 0; i < n; i++)
        for (int q = 0; q < w; q++) {
          const float d = x[(size_t)i * C + c0 + q] - (float)(sum[q] / n);
          ss[q] += (double)(d * d);
        }
      for (int q = 0; q < w; q++) {
        const int c = c0 + q;
        const double mu = sum[q] / n, var = ss[q] / n;
        istd[c] = (float)(1.0 / sqrt(var + eps));
        l->run_mean[c] = momentum * l->run_mean[c] + (1.0f - momentum) * (float)mu;
        l->run_var[c] = momentum * l->run_var[c] + (1.0f - momentum) * (float)(n > 1 ? var * n / (n - 1) : var);
        scale[q] = l->w[c] * istd[c];
        shift[q] = l->b[c] - (float)mu * scale[q];
      }
    } else {
      for (int q = 0; q < w; q++) {
        const int c = c0 + q;
        scale[q] = l->w[c] / sqrtf(l->run_var[c] + eps);
        shift[q] = l->b[c] - l->run_mean[c] * scale[q];
      }
    }
    const int relu = l->act == CN_ACT_RELU;
    for (int i = 0; i < n; i++)
      for (int q = 0; q < w; q++)
        y[(size_t)i * C + c0 + q] = bn_out(x[(size_t)i * C + c0 + q] * scale[q] + shift[q], relu);
  }
}

/* x [n, c, h, w] -> y [n, c, h, w]; channels [lo, hi) */
static void bn_forward_part(void *ctx, int t, int lo, int hi) {
  (void)t;
  const cn_job *j = ctx;
  cn_layer *l = j->l;
  const int C = l->in.c, S = l->in.h * l->in.w, n = j->n, training = j->training;
  const size_t stride = (size_t)C * S;
  const double m = (double)n * S;
  const float momentum = l->s.momentum, eps = l->s.epsilon;
  const float *x = j->x;
  float *y = j->y, *mean = l->state, *istd = l->state + cn_round_floats((size_t)C);
  if (S == 1) {
    double sum[CN_LANES], ss[CN_LANES];
    bn_forward_features(l, x, y, n, training, lo, hi, sum, ss);
    return;
  }
  for (int c = lo; c < hi; c++) {
    float scale, shift;
    if (training) {
      double mu, var;
      batch_stats(x, n, C, S, c, &mu, &var);
      mean[c] = (float)mu;
      istd[c] = (float)(1.0 / sqrt(var + eps));
      l->run_mean[c] = momentum * l->run_mean[c] + (1.0f - momentum) * (float)mu;
      l->run_var[c] = momentum * l->run_var[c] + (1.0f - momentum) * (float)(m > 1 ? var * m / (m - 1) : var);
      scale = l->w[c] * istd[c];
      shift = l->b[c] - (float)mu * scale;
    } else {
      scale = l->w[c] / sqrtf(l->run_var[c] + eps);
      shift = l->b[c] - l->run_mean[c] * scale;
    }
    for (int i = 0; i < n; i++) {
      const float *restrict xc = x + i * stride + (size_t)c * S;
      float *restrict yc = y + i * stride + (size_t)c * S;
      const int relu = l->act == CN_ACT_RELU;
      for (int q = 0; q < S; q++) yc[q] = bn_out(xc[q] * scale + shift, relu);
    }
  }
}

/* bn_backward_part after dense: the same sums in the same order, features
 * [lo, hi) side by side. */
static void bn_backward_features(cn_layer *l, const float *restrict x, const float *restrict y, float *restrict dy,
                                 float *restrict dx, int n, int lo, int hi) {
  const int C = l->in.c;
  const float m = (float)n;
  const float *restrict mean = l->state, *restrict istd = l->state + cn_round_floats((size_t)C);
  float sum_dy[CN_LANES], sum_dy_dev[CN_LANES], k[CN_LANES], slope[CN_LANES];
  for (int c0 = lo; c0 < hi; c0 += CN_LANES) {
    const int w = hi - c0 < CN_LANES ? hi - c0 : CN_LANES;
    for (int i = 0; i < n; i++)
      cn_act_backward_span(l->act, y + (size_t)i * C + c0, dy + (size_t)i * C + c0, (size_t)w);
    for (int q = 0; q < w; q++) sum_dy[q] = sum_dy_dev[q] = 0.0f;
    for (int i = 0; i < n; i++)
      for (int q = 0; q < w; q++) {
        const size_t at = (size_t)i * C + c0 + q;
        sum_dy[q] += dy[at];
        sum_dy_dev[q] += dy[at] * (x[at] - mean[c0 + q]);
      }
    for (int q = 0; q < w; q++) {
      const int c = c0 + q;
      const float sum_dy_xhat = sum_dy_dev[q] * istd[c];
      l->dw[c] = sum_dy_xhat;
      l->db[c] = sum_dy[q];
      k[q] = l->w[c] * istd[c] / m;
      slope[q] = istd[c] * sum_dy_xhat;
    }
    if (!dx) continue;
    for (int i = 0; i < n; i++)
      for (int q = 0; q < w; q++) {
        const size_t at = (size_t)i * C + c0 + q;
        dx[at] = k[q] * (m * dy[at] - sum_dy[q] - (x[at] - mean[c0 + q]) * slope[q]);
      }
  }
}

/* One channel plane of one image: dy masked by the fused relu (when
 * relu), and sum dy and sum dy * (x - mu) of it, in one pass: the same
 * operations in the same order as cn_act_backward_span, cn_sum and
 * cn_dot_dev one after the other, so the same bits. */
static void plane_sums(float *restrict dy, const float *restrict y, const float *restrict x, int n, float mu, int relu,
                       float *sum, float *dot) {
  float acc[CN_LANES] = {0}, acc_dev[CN_LANES] = {0};
  int j = 0;
  for (; j + CN_LANES <= n; j += CN_LANES)
    for (int q = 0; q < CN_LANES; q++) {
      const float d = relu && !(y[j + q] > 0.0f) ? 0.0f : dy[j + q];
      dy[j + q] = d;
      acc[q] += d;
      acc_dev[q] += d * (x[j + q] - mu);
    }
  for (int q = 0; j + q < n; q++) {
    const float d = relu && !(y[j + q] > 0.0f) ? 0.0f : dy[j + q];
    dy[j + q] = d;
    acc[q] += d;
    acc_dev[q] += d * (x[j + q] - mu);
  }
  *sum = cn_lanes_total(acc);
  *dot = cn_lanes_total(acc_dev);
}

/* Training-mode backward, with xhat = (x - mean) * istd over the m values:
 *   dgamma = sum dy * xhat, dbeta = sum dy,
 *   dx = gamma * istd / m * (m * dy - dbeta - xhat * dgamma). */
static void bn_backward_part(void *ctx, int t, int lo, int hi) {
  (void)t;
  const cn_job *j = ctx;
  cn_layer *l = j->l;
  const int C = l->in.c, S = l->in.h * l->in.w, n = j->n;
  const size_t stride = (size_t)C * S;
  const float m = (float)n * (float)S;
  const float *x = j->x, *y = j->y, *mean = l->state, *istd = l->state + cn_round_floats((size_t)C);
  float *dy = j->dy, *dx = j->dx;
  if (S == 1) {
    bn_backward_features(l, x, y, dy, dx, n, lo, hi);
    return;
  }
  for (int c = lo; c < hi; c++) {
    const float mu = mean[c], is = istd[c];
    float sum_dy = 0.0f, sum_dy_dev = 0.0f;
    for (int i = 0; i < n; i++) {
      float s, d;
      plane_sums(dy + i * stride + (size_t)c * S, y + i * stride + (size_t)c * S, x + i * stride + (size_t)c * S, S,
                 mu, l->act == CN_ACT_RELU, &s, &d);
      sum_dy += s;
      sum_dy_dev += d;
    }
    const float sum_dy_xhat = sum_dy_dev * is;
    l->dw[c] = sum_dy_xhat;
    l->db[c] = sum_dy;
    if (!dx) continue;
    const float k = l->w[c] * is / m, slope = is * sum_dy_xhat;
    for (int i = 0; i < n; i++) {
      const float *restrict xc = x + i * stride + (size_t)c * S;
      const float *restrict dc = dy + i * stride + (size_t)c * S;
      float *restrict dxc = dx + i * stride + (size_t)c * S;
      for (int q = 0; q < S; q++) dxc[q] = k * (m * dc[q] - sum_dy - (xc[q] - mu) * slope);
    }
  }
}

/* ---- a batch split across processes: the same sums in the same order,
 * each relayed and shared before the next step needs it ---- */

/* Channel c of image i: S values, `stride` apart when S == 1 (features
 * side by side), else contiguous. */
static const float *plane(const float *t, const cn_layer *l, int i, int c) {
  const int C = l->in.c, S = l->in.h * l->in.w;
  return t + (size_t)i * C * S + (size_t)c * S;
}

/* sums[c] (+)= the images' sums of channel c (pass 0), or of its squared
 * deviations from the mean (pass 1), as batch_stats and
 * bn_forward_features add them; channels [lo, hi). */
typedef struct {
  const cn_job *j;
  int pass, relayed;
} bn_split_job;

static void split_stats_part(void *ctx, int t, int nt) {
  const bn_split_job *sj = ctx;
  const cn_layer *l = sj->j->l;
  const int S = l->in.h * l->in.w, n = sj->j->n;
  const double m = (double)cn_pass_total(sj->j->p, n) * S;
  double *sum = relayed_sums(l), *ss = sum + l->in.c;
  int lo, hi;
  cn_split(l->in.c, t, nt, &lo, &hi);
  for (int c = lo; c < hi; c++) {
    if (sj->pass == 0) {
      if (!sj->relayed) sum[c] = 0.0;
      for (int i = 0; i < n; i++) sum[c] += S == 1 ? (double)*plane(sj->j->x, l, i, c) : cn_sum(plane(sj->j->x, l, i, c), S);
    } else {
      if (!sj->relayed) ss[c] = 0.0;
      const float mu = (float)(sum[c] / m);
      for (int i = 0; i < n; i++) {
        const float *xc = plane(sj->j->x, l, i, c);
        if (S == 1) {
          const float d = *xc - mu;
          ss[c] += (double)(d * d);
        } else {
          ss[c] += cn_sum_sq_dev(xc, S, mu);
        }
      }
    }
  }
}

/* The statistics from the shared sums, the moving averages, and this
 * rank's images normalised; channels [lo, hi). */
static void split_normalise_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  cn_layer *l = j->l;
  const int C = l->in.c, S = l->in.h * l->in.w;
  const double m = (double)cn_pass_total(j->p, j->n) * S;
  const double *sum = relayed_sums(l), *ss = sum + C;
  float *mean = l->state, *istd = l->state + cn_round_floats((size_t)C);
  const float momentum = l->s.momentum;
  int lo, hi;
  cn_split(C, t, nt, &lo, &hi);
  for (int c = lo; c < hi; c++) {
    const double mu = sum[c] / m, var = ss[c] / m;
    mean[c] = (float)mu;
    istd[c] = (float)(1.0 / sqrt(var + l->s.epsilon));
    l->run_mean[c] = momentum * l->run_mean[c] + (1.0f - momentum) * (float)mu;
    l->run_var[c] = momentum * l->run_var[c] + (1.0f - momentum) * (float)(m > 1 ? var * m / (m - 1) : var);
    const float scale = l->w[c] * istd[c], shift = l->b[c] - (float)mu * scale;
    for (int i = 0; i < j->n; i++) {
      const float *xc = plane(j->x, l, i, c);
      float *yc = (float *)plane(j->y, l, i, c);
      const size_t step = S == 1 ? (size_t)C : 1;
      for (int q = 0; q < S; q++) yc[q * step] = bn_out(xc[q * step] * scale + shift, l->act == CN_ACT_RELU);
    }
  }
}

static void bn_forward_split(const cn_job *j) {
  const size_t bytes = sizeof(double) * (size_t)j->l->in.c;
  double *sum = relayed_sums(j->l), *ss = sum + j->l->in.c;
  const int nt = bn_threads(j->l, j->n, j->p);
  bn_split_job sj = {j, 0, cn_relay_in(j->p, sum, bytes)};
  cn_parallel(nt, split_stats_part, &sj);
  cn_relay_out(j->p, sum, bytes);
  cn_relay_share(j->p, sum, bytes);
  sj = (bn_split_job){j, 1, cn_relay_in(j->p, ss, bytes)};
  cn_parallel(nt, split_stats_part, &sj);
  cn_relay_out(j->p, ss, bytes);
  cn_relay_share(j->p, ss, bytes);
  cn_parallel(nt, split_normalise_part, (void *)j);
}

/* dy masked by the fused relu, and sum dy and sum dy * (x - mean) per
 * channel added to the relayed sums (float, as bn_backward_part and
 * bn_backward_features add them); channels [lo, hi). */
static void split_gradient_sums_part(void *ctx, int t, int nt) {
  const bn_split_job *sj = ctx;
  const cn_job *j = sj->j;
  const cn_layer *l = j->l;
  const int C = l->in.c, S = l->in.h * l->in.w;
  float *sums = (float *)(void *)relayed_sums(l), *sum_dy = sums, *sum_dy_dev = sums + C;
  const float *mean = l->state;
  int lo, hi;
  cn_split(C, t, nt, &lo, &hi);
  for (int c = lo; c < hi; c++) {
    if (!sj->relayed) sum_dy[c] = sum_dy_dev[c] = 0.0f;
    for (int i = 0; i < j->n; i++) {
      float *dc = (float *)plane(j->dy, l, i, c);
      const float *yc = plane(j->y, l, i, c), *xc = plane(j->x, l, i, c);
      if (S == 1) {
        cn_act_backward_span(l->act, yc, dc, 1);
        sum_dy[c] += *dc;
        sum_dy_dev[c] += *dc * (*xc - mean[c]);
      } else {
        float s, d;
        plane_sums(dc, yc, xc, S, mean[c], l->act == CN_ACT_RELU, &s, &d);
        sum_dy[c] += s;
        sum_dy_dev[c] += d;
      }
    }
  }
}

/* The parameter gradients and dx from the shared sums; channels [lo, hi). */
static void split_gradient_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  cn_layer *l = j->l;
  const int C = l->in.c, S = l->in.h * l->in.w;
  const float m = (float)cn_pass_total(j->p, j->n) * (float)S;
  const float *sums = (const float *)(const void *)relayed_sums(l), *mean = l->state;
  const float *istd = l->state + cn_round_floats((size_t)C);
  int lo, hi;
  cn_split(C, t, nt, &lo, &hi);
  for (int c = lo; c < hi; c++) {
    const float sum_dy = sums[c], sum_dy_xhat = sums[C + c] * istd[c];
    l->dw[c] = sum_dy_xhat;
    l->db[c] = sum_dy;
    if (!j->dx) continue;
    const float k = l->w[c] * istd[c] / m, slope = istd[c] * sum_dy_xhat;
    const size_t step = S == 1 ? (size_t)C : 1;
    for (int i = 0; i < j->n; i++) {
      const float *xc = plane(j->x, l, i, c), *dc = plane(j->dy, l, i, c);
      float *dxc = (float *)plane(j->dx, l, i, c);
      for (int q = 0; q < S; q++)
        dxc[q * step] = k * (m * dc[q * step] - sum_dy - (xc[q * step] - mean[c]) * slope);
    }
  }
}

static void bn_backward_split(const cn_job *j) {
  const size_t bytes = 2 * sizeof(float) * (size_t)j->l->in.c;
  float *sums = (float *)(void *)relayed_sums(j->l);
  const int nt = bn_threads(j->l, j->n, j->p);
  bn_split_job sj = {j, 0, cn_relay_in(j->p, sums, bytes)};
  cn_parallel(nt, split_gradient_sums_part, &sj);
  cn_relay_out(j->p, sums, bytes);
  cn_relay_share(j->p, sums, bytes);
  cn_parallel(nt, split_gradient_part, (void *)j);
}

static void bn_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  cn_job j = {l, x, y, NULL, NULL, n, training, p};
  if (training && p->slice)
    bn_forward_split(&j);
  else
    cn_parallel_items(bn_threads(l, n, p), l->in.c, channel_unit(l), bn_forward_part, &j);
}

static void bn_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                        const cn_pass *p) {
  cn_job j = {l, x, (float *)y, dy, dx, n, 1, p};
  if (p->slice)
    bn_backward_split(&j);
  else
    cn_parallel_items(bn_threads(l, n, p), l->in.c, channel_unit(l), bn_backward_part, &j);
}

const cn_layer_ops cn_batchnorm_ops = {bn_params, bn_state, cn_layer_no_work, bn_init, bn_forward, bn_backward};
