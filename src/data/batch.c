/* Batches: uint8 images to the float32 NCHW input of a model, and the check
 * that a set's images are that input. Filling runs in the training loop, so
 * it allocates nothing. */
#include <stdio.h>

#include "cnist/data.h"
#include "core/error.h"

int cn_imageset_check(const cn_imageset *set, int h, int w, int c, int outputs) {
  const char *images = set->images_path[0] ? set->images_path : "the image set";
  if (set->rows != h || set->cols != w || set->channels != c)
    return cn_fail(CN_ESHAPE, "the model takes %dx%dx%d images; %s holds %dx%dx%d (HxWxC)", h, w, c, images,
                   set->rows, set->cols, set->channels);
  if (outputs <= 0) return CN_OK;
  if (outputs > CN_MAX_CLASSES)
    return cn_fail(CN_ESHAPE, "the model has %d outputs; cnist handles at most %d classes", outputs, CN_MAX_CLASSES);
  if (!set->labels) return CN_OK;
  const char *labels = set->labels_path[0] ? set->labels_path : "the image set's labels";
  for (int i = 0; i < set->n; i++)
    if (set->labels[i] >= outputs)
      return cn_fail(CN_ESHAPE, "%s: label %d (item %d) is beyond the model's %d outputs (classes 0..%d)", labels,
                     set->labels[i], i, outputs, outputs - 1);
  return CN_OK;
}

int cn_batch_fill(const cn_imageset *set, const int *idx, int count, int h, int w, int c, float *x, int *labels) {
  int rc = cn_imageset_check(set, h, w, c, 0);
  if (rc) return rc;
  if (labels && !set->labels) return cn_fail(CN_EINVAL, "batch: %s has no labels", set->images_path);
  for (int b = 0; b < count; b++)
    if (idx[b] < 0 || idx[b] >= set->n)
      return cn_fail(CN_EINVAL, "batch: image index %d is outside the set's 0..%d", idx[b], set->n - 1);
  const size_t pixels = (size_t)h * (size_t)w, values = pixels * (size_t)c;
  for (int b = 0; b < count; b++) {
    /* x: [count, c, h, w]; image idx[b] (h x w x c, channels last) becomes sample b. */
    const uint8_t *src = set->pixels + (size_t)idx[b] * values;
    float *dst = x + (size_t)b * values;
    if (c == 1) {
      for (size_t j = 0; j < pixels; j++) dst[j] = (float)src[j] / 255.0f;
    } else {
      for (size_t j = 0; j < pixels; j++)
        for (int k = 0; k < c; k++) dst[(size_t)k * pixels + j] = (float)src[j * (size_t)c + (size_t)k] / 255.0f;
    }
    if (labels) labels[b] = set->labels[idx[b]];
  }
  return CN_OK;
}
