/* Test-time augmentation: each image evaluated under a fixed list of views
 * and its probabilities averaged, in the order of the views, so the result
 * does not depend on the thread count or the batch size. */
#include <math.h>
#include <stdlib.h>

#include "cnist/ensemble.h"
#include "core/error.h"
#include "data/augment.h"
#include "train/evaluate.h"

/* A view as the warp takes it: the inverse mapping's matrix and the shift
 * of the content. */
typedef struct {
  float m[4], tx, ty;
} view;

static view view_of(int v) {
  const float r = 10.0f * 3.14159265358979f / 180.0f, c = cosf(r), s = sinf(r);
  switch (v) {
    case 1: return (view){{1, 0, 0, 1}, 1, 0};
    case 2: return (view){{1, 0, 0, 1}, -1, 0};
    case 3: return (view){{1, 0, 0, 1}, 0, 1};
    case 4: return (view){{1, 0, 0, 1}, 0, -1};
    case 5: return (view){{c, s, -s, c}, 0, 0};  /* inverse of a +10 degree rotation */
    case 6: return (view){{c, -s, s, c}, 0, 0};
    case 7: return (view){{1 / 0.9f, 0, 0, 1 / 0.9f}, 0, 0};
    case 8: return (view){{1 / 1.1f, 0, 0, 1 / 1.1f}, 0, 0};
    default: return (view){{1, 0, 0, 1}, 0, 0};
  }
}

int cn_evaluate_tta(cn_model *m, const cn_imageset *set, const int *idx, int count, int batch, int views,
                    float *probs, cn_eval_result *out) {
  if (views < 1 || views > CN_TTA_MAX_VIEWS)
    return cn_fail(CN_EINVAL, "test-time augmentation takes 1 to %d views, not %d", CN_TTA_MAX_VIEWS, views);
  if (views == 1) return cn_evaluate(m, set, idx, count, batch, probs, out);
  int classes = cn_model_outputs(m);
  const cn_spec *spec = cn_model_spec(m);
  int rc = cn_eval_begin(m, set, count, batch, out);
  if (rc) return rc;
  size_t in = (size_t)cn_model_inputs(m), plane = (size_t)spec->in_h * (size_t)spec->in_w;
  float *x = malloc(sizeof(float) * in * (size_t)batch), *xv = malloc(sizeof(float) * in * (size_t)batch);
  float *p = malloc(sizeof(float) * (size_t)classes * (size_t)batch);
  double *mean = malloc(sizeof(double) * (size_t)classes * (size_t)batch);
  int *labels = malloc(sizeof(int) * (size_t)batch), *ids = malloc(sizeof(int) * (size_t)batch);
  if (!x || !xv || !p || !mean || !labels || !ids) {
    rc = cn_fail(CN_ENOMEM, "evaluate: out of memory for a batch of %d", batch);
    goto done;
  }
  double loss_sum = 0.0, ignored_loss = 0.0;
  int correct = 0, ignored_correct = 0;
  for (int start = 0; start < count && !rc; start += batch) {
    int n = count - start < batch ? count - start : batch;
    for (int i = 0; i < n; i++) ids[i] = idx ? idx[start + i] : start + i;
    rc = cn_batch_fill(set, ids, n, spec->in_h, spec->in_w, spec->in_c, x, labels);
    for (size_t j = 0; j < (size_t)n * (size_t)classes; j++) mean[j] = 0.0;
    for (int v = 0; v < views && !rc; v++) {
      view w = view_of(v);
      for (size_t pl = 0; pl < (size_t)n * (size_t)spec->in_c; pl++) /* each channel plane alike */
        cn_augment_warp(x + pl * plane, xv + pl * plane, spec->in_h, spec->in_w, w.m, w.tx, w.ty, NULL, NULL, 0);
      rc = cn_model_eval_batch(m, xv, labels, n, p, &ignored_loss, &ignored_correct);
      for (size_t j = 0; j < (size_t)n * (size_t)classes && !rc; j++) mean[j] += p[j];
    }
    if (rc) break;
    for (int i = 0; i < n; i++) {
      float *row = p + (size_t)i * (size_t)classes;
      for (int k = 0; k < classes; k++) row[k] = (float)(mean[(size_t)i * classes + k] / views);
      loss_sum -= log(fmax(mean[(size_t)i * classes + labels[i]] / views, 1e-30));
    }
    correct += cn_eval_tally(out, p, labels, n, probs, start);
  }
  cn_eval_end(out, count, loss_sum, correct);
done:
  free(x);
  free(xv);
  free(p);
  free(mean);
  free(labels);
  free(ids);
  return rc;
}
