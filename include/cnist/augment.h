/* Data augmentation on the fly, in the batcher: random affine transforms
 * (rotation, zoom per axis, shear, translation) sampled bilinearly, elastic
 * distortion (Simard et al. 2003) and random erasing (Zhong et al. 2017).
 *
 * Every image draws its own transform from (seed, epoch, image index), so
 * an augmented batch is the same at any thread count, in any batch split,
 * and after a resume: nothing carries over from one image to the next. */
#ifndef CNIST_AUGMENT_H
#define CNIST_AUGMENT_H

#include <stdint.h>

#include "cnist/data.h"
#include "cnist/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The settings (cn_augment, cn_augment_check) are in cnist/spec.h: the
 * model file's augment line. Holds a checked cn_augment and the scratch memory of up to `threads`
 * concurrent images of rows x cols (the model's input, one channel), so
 * that filling a batch allocates nothing. */
typedef struct cn_augmenter cn_augmenter;
int cn_augmenter_new(const cn_augment *a, int rows, int cols, int threads, cn_augmenter **out);
void cn_augmenter_free(cn_augmenter *aug);

/* One image: in and out are rows x cols floats in [0, 1] (out may not be
 * in). `worker` (0..threads-1) selects the scratch, so calls with
 * different workers may run at once. */
void cn_augment_image(const cn_augmenter *aug, uint64_t seed, int epoch, int index, int worker, const float *in,
                      float *out);

/* Like cn_batch_fill, then each image idx[b] transformed by its own draw
 * from (seed, epoch, idx[b]); the images are spread over the augmenter's
 * threads. The set's images must be the augmenter's rows x cols x 1 (the
 * model's input: cn_imageset_check's message and CN_ESHAPE otherwise) and
 * the indices in 0..set->n-1 (CN_EINVAL), checked before anything is written. */
int cn_batch_fill_augmented(const cn_imageset *set, const int *idx, int count, const cn_augmenter *aug,
                            uint64_t seed, int epoch, float *x, int *labels);

#ifdef __cplusplus
}
#endif
#endif
