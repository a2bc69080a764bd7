/* Softmax cross-entropy fused with its gradient. Each row is shifted by its
 * maximum before exponentiating (log-sum-exp), so large logits neither
 * overflow nor lose the loss to rounding. */
#include <float.h>
#include <math.h>

#include "engine/model_impl.h"

/* exp(z_j - max) and their sum, in double: the one softmax both the loss
 * and predict use, so their probabilities agree bit for bit. */
static double exp_shifted(const float *restrict z, int k, float *mx_out) {
  float mx = -FLT_MAX;
  for (int j = 0; j < k; j++) mx = fmaxf(mx, z[j]);
  double sum = 0.0;
  for (int j = 0; j < k; j++) sum += exp((double)(z[j] - mx));
  *mx_out = mx;
  return sum;
}

void cn_softmax_rows(const float *z, int n, int k, float *probs) {
  for (int i = 0; i < n; i++) {
    const float *restrict zi = z + (size_t)i * k;
    float mx;
    const double sum = exp_shifted(zi, k, &mx);
    for (int j = 0; j < k; j++) probs[(size_t)i * k + j] = (float)(exp((double)(zi[j] - mx)) / sum);
  }
}

/* Label smoothing (Szegedy et al. 2016) replaces the targets t by
 * (1 - s) t + s sum(t) / k. At s = 0 this is the plain loss, computed the
 * plain way, so runs without smoothing keep their bits. */
static void smoothed(const float *logits, int n, int k, const int *labels, const float *onehot, float s,
                     int mean_of, double *total_io, float *probs, float *dlogits) {
  double total = *total_io;
  const float inv_n = 1.0f / (float)mean_of;
  for (int i = 0; i < n; i++) {
    const float *restrict z = logits + (size_t)i * k;
    const float *t = onehot ? onehot + (size_t)i * k : NULL;
    float mx;
    const double sum = exp_shifted(z, k, &mx);
    const double log_sum = log(sum);
    float tsum = 1.0f;
    if (t) {
      tsum = 0.0f;
      for (int j = 0; j < k; j++) tsum += t[j];
    }
    const float spread = s * tsum / (float)k;
    for (int j = 0; j < k; j++) {
      const float tj = (1 - s) * (t ? t[j] : (j == labels[i] ? 1.0f : 0.0f)) + spread;
      total += (double)tj * (log_sum - (double)(z[j] - mx));
      const float p = (float)(exp((double)(z[j] - mx)) / sum);
      if (probs) probs[(size_t)i * k + j] = p;
      if (dlogits) dlogits[(size_t)i * k + j] = (p * tsum - tj) * inv_n;
    }
  }
  *total_io = total;
}

static void plain(const float *logits, int n, int k, const int *labels, const float *onehot, int mean_of,
                  double *total_io, float *probs, float *dlogits) {
  double total = *total_io;
  const float inv_n = 1.0f / (float)mean_of;
  for (int i = 0; i < n; i++) {
    const float *restrict z = logits + (size_t)i * k;
    float mx;
    const double sum = exp_shifted(z, k, &mx);
    const double log_sum = log(sum);
    /* loss_i = -sum_j t_j (z_j - mx - log_sum); t is one-hot for sparse labels */
    const float *t = onehot ? onehot + (size_t)i * k : NULL;
    float tsum = 1.0f;
    if (labels) {
      total += log_sum - (double)(z[labels[i]] - mx);
    } else {
      tsum = 0.0f;
      for (int j = 0; j < k; j++) {
        tsum += t[j];
        if (t[j] != 0.0f) total += (double)t[j] * (log_sum - (double)(z[j] - mx));
      }
    }
    /* d loss_i / d z_j = p_j * sum(t) - t_j, divided by n for the mean */
    for (int j = 0; j < k; j++) {
      const float p = (float)(exp((double)(z[j] - mx)) / sum);
      if (probs) probs[(size_t)i * k + j] = p;
      if (dlogits) {
        const float tj = labels ? (j == labels[i] ? 1.0f : 0.0f) : t[j];
        dlogits[(size_t)i * k + j] = (p * tsum - tj) * inv_n;
      }
    }
  }
  *total_io = total;
}

void cn_cross_entropy_sum(const float *logits, int n, int k, const int *labels, const float *onehot, float smoothing,
                          int mean_of, double *total, float *probs, float *dlogits) {
  if (smoothing > 0)
    smoothed(logits, n, k, labels, onehot, smoothing, mean_of, total, probs, dlogits);
  else
    plain(logits, n, k, labels, onehot, mean_of, total, probs, dlogits);
}

float cn_softmax_cross_entropy_smoothed(const float *logits, int n, int k, const int *labels, const float *onehot,
                                        float smoothing, float *probs, float *dlogits) {
  double total = 0.0;
  cn_cross_entropy_sum(logits, n, k, labels, onehot, smoothing, n, &total, probs, dlogits);
  return (float)(total / n);
}

float cn_softmax_cross_entropy(const float *logits, int n, int k, const int *labels, const float *onehot,
                               float *probs, float *dlogits) {
  return cn_softmax_cross_entropy_smoothed(logits, n, k, labels, onehot, 0.0f, probs, dlogits);
}
