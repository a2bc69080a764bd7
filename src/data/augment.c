/* Augmentation (include/cnist/augment.h). Each output pixel is read from
 * the input through the inverse mapping: in = M (out - c) + c - t (the content moves by +t), plus an
 * elastic displacement when asked for, sampled bilinearly with zeros
 * outside the image (MNIST's background). M = R(rotation) S(shear)
 * Z(zoom x, zoom y), as Keras's ImageDataGenerator composes it. */
#include "cnist/augment.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/augment.h"

/* The augmentation's own RNG stream: xor'ed into the seed so that no
 * (epoch, image) stream can coincide with the init, dropout, split or
 * shuffle streams of the same seed. */
#define AUGMENT_SEED_SALT 0xa0761d6478bd642fULL
#define ELASTIC_MAX_RADIUS 30 /* 3 sigma of the largest sigma allowed */

struct cn_augmenter {
  cn_augment a;
  int rows, cols, threads;
  int radius;     /* of the Gaussian kernel: ceil(3 sigma) */
  float *kernel;  /* 2 radius + 1 weights summing to 1 */
  float *scratch; /* per worker: the float image, dx, dy, and the padded field the blur reads */
};

/* Per thread: the image, the two displacement fields, and a field with
 * `radius` zeros on every side (the blur's input). */
static size_t scratch_floats(int rows, int cols, int radius) {
  return 3 * (size_t)rows * (size_t)cols + (size_t)(rows + 2 * radius) * (size_t)(cols + 2 * radius);
}

int cn_augmenter_new(const cn_augment *a, int rows, int cols, int threads, cn_augmenter **out) {
  *out = NULL;
  int rc = cn_augment_check(a);
  if (rc) return rc;
  if (rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096 || threads <= 0 || threads > 1024)
    return cn_fail(CN_EINVAL, "augmentation: bad image size %dx%d or thread count %d", rows, cols, threads);
  cn_augmenter *g = calloc(1, sizeof *g);
  if (!g) return cn_fail(CN_ENOMEM, "augmentation: out of memory");
  g->a = *a;
  g->rows = rows, g->cols = cols, g->threads = threads;
  g->radius = a->elastic_alpha > 0 ? (int)ceilf(3 * a->elastic_sigma) : 0;
  g->kernel = malloc(sizeof *g->kernel * (size_t)(2 * g->radius + 1));
  g->scratch = malloc(sizeof *g->scratch * scratch_floats(rows, cols, g->radius) * (size_t)threads);
  if (!g->kernel || !g->scratch) {
    cn_augmenter_free(g);
    return cn_fail(CN_ENOMEM, "augmentation: out of memory for %d threads of %dx%d images", threads, rows, cols);
  }
  if (g->radius > 0) {
    const double var = (double)a->elastic_sigma * a->elastic_sigma;
    double sum = 0;
    for (int i = -g->radius; i <= g->radius; i++) sum += exp(-0.5 * i * i / var);
    for (int i = -g->radius; i <= g->radius; i++) g->kernel[i + g->radius] = (float)(exp(-0.5 * i * i / var) / sum);
  } else {
    g->kernel[0] = 1;
  }
  *out = g;
  return CN_OK;
}

void cn_augmenter_free(cn_augmenter *g) {
  if (!g) return;
  free(g->kernel);
  free(g->scratch);
  free(g);
}

/* Uniform in [-r, r]. */
static float symmetric(cn_rng *rng, float r) { return (2 * cn_rng_uniform(rng) - 1) * r; }

/* field = Gaussian(sigma) * field, separable, zeros outside. Each sum runs
 * over every tap in order, reading the zeros of the padded copy where the
 * tap falls outside: s + 0 is s (s is never -0), so this is the sum of the
 * taps inside, as one row of lanes at a time. pad holds (h+2r) x (w+2r). */
static void blur(const cn_augmenter *g, float *restrict field, float *restrict pad) {
  const int h = g->rows, w = g->cols, r = g->radius, pw = w + 2 * r, taps = 2 * r + 1;
  const float *restrict kernel = g->kernel;
  memset(pad, 0, sizeof(float) * (size_t)(h + 2 * r) * (size_t)pw);
  for (int y = 0; y < h; y++) memcpy(pad + (size_t)(y + r) * pw + r, field + (size_t)y * w, sizeof(float) * (size_t)w);
  for (int y = 0; y < h; y++) { /* along rows */
    float *restrict s = field + (size_t)y * w;
    const float *restrict row = pad + (size_t)(y + r) * pw;
    for (int x = 0; x < w; x++) s[x] = 0;
    for (int k = 0; k < taps; k++)
      for (int x = 0; x < w; x++) s[x] += kernel[k] * row[x + k];
  }
  for (int y = 0; y < h; y++) memcpy(pad + (size_t)(y + r) * pw + r, field + (size_t)y * w, sizeof(float) * (size_t)w);
  for (int y = 0; y < h; y++) { /* down columns */
    float *restrict s = field + (size_t)y * w;
    for (int x = 0; x < w; x++) s[x] = 0;
    for (int k = 0; k < taps; k++) {
      const float *restrict row = pad + (size_t)(y + k) * pw + r;
      for (int x = 0; x < w; x++) s[x] += kernel[k] * row[x];
    }
  }
}

static float bilinear(const float *img, int h, int w, float y, float x) {
  if (!(y > -1 && y < h && x > -1 && x < w)) return 0; /* also NaN */
  int y0 = (int)floorf(y), x0 = (int)floorf(x);
  float fy = y - (float)y0, fx = x - (float)x0;
  float v00 = 0, v01 = 0, v10 = 0, v11 = 0;
  if (y0 >= 0 && x0 >= 0) v00 = img[y0 * w + x0];
  if (y0 >= 0 && x0 + 1 < w) v01 = img[y0 * w + x0 + 1];
  if (y0 + 1 < h && x0 >= 0) v10 = img[(y0 + 1) * w + x0];
  if (y0 + 1 < h && x0 + 1 < w) v11 = img[(y0 + 1) * w + x0 + 1];
  return (1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11);
}

void cn_augment_warp(const float *in, float *out, int h, int w, const float m[4], float tx, float ty, const float *dx,
                     const float *dy, float alpha) {
  const float cx = 0.5f * (float)(w - 1), cy = 0.5f * (float)(h - 1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float u = (float)x - cx, v = (float)y - cy;
      float sx = m[0] * u + m[1] * v + cx - tx, sy = m[2] * u + m[3] * v + cy - ty;
      if (dx) sx += alpha * dx[y * w + x], sy += alpha * dy[y * w + x];
      out[y * w + x] = bilinear(in, h, w, sy, sx);
    }
}

/* Random erasing: one rectangle of 2-40% of the area, aspect ratio
 * log-uniform in [0.3, 3.3], filled with uniform noise; up to 10 draws
 * for one that fits (Zhong et al. 2017's defaults). */
static void erase(cn_rng *rng, float *out, int h, int w) {
  for (int attempt = 0; attempt < 10; attempt++) {
    float area = (0.02f + 0.38f * cn_rng_uniform(rng)) * (float)(h * w);
    float aspect = expf(logf(0.3f) + (logf(1 / 0.3f) - logf(0.3f)) * cn_rng_uniform(rng));
    int eh = (int)lroundf(sqrtf(area * aspect)), ew = (int)lroundf(sqrtf(area / aspect));
    if (eh < 1 || ew < 1 || eh > h || ew > w) continue;
    int y0 = (int)cn_rng_below(rng, (uint32_t)(h - eh + 1)), x0 = (int)cn_rng_below(rng, (uint32_t)(w - ew + 1));
    for (int y = y0; y < y0 + eh; y++)
      for (int x = x0; x < x0 + ew; x++) out[y * w + x] = cn_rng_uniform(rng);
    return;
  }
}

/* Left to right, in place. */
static void mirror(float *img, int h, int w) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w / 2; x++) {
      float t = img[y * w + x];
      img[y * w + x] = img[y * w + w - 1 - x];
      img[y * w + w - 1 - x] = t;
    }
}

void cn_augment_image(const cn_augmenter *g, uint64_t seed, int epoch, int index, int worker, const float *in,
                      float *out) {
  const int h = g->rows, w = g->cols;
  const cn_augment *a = &g->a;
  cn_rng rng;
  cn_rng_seed(&rng, seed ^ AUGMENT_SEED_SALT, ((uint64_t)(uint32_t)epoch << 32) | (uint32_t)index);

  /* The draws, always in this order. */
  const float deg = 3.14159265358979f / 180;
  float theta = symmetric(&rng, a->rotation) * deg;
  float shear = symmetric(&rng, a->shear) * deg;
  float zx = 1 + symmetric(&rng, a->zoom), zy = 1 + symmetric(&rng, a->zoom);
  float tx = symmetric(&rng, a->shift) * (float)w, ty = symmetric(&rng, a->shift) * (float)h;
  int do_erase = a->erase > 0 && cn_rng_uniform(&rng) < a->erase;
  /* Drawn last, and only when asked for, so that models without flips
   * draw exactly what they drew before the option existed. */
  int do_flip = a->flip > 0 && cn_rng_uniform(&rng) < a->flip;

  float *dx = NULL, *dy = NULL;
  if (a->elastic_alpha > 0) {
    float *scratch = g->scratch + scratch_floats(h, w, g->radius) * (size_t)worker + (size_t)h * w;
    dx = scratch, dy = scratch + (size_t)h * w;
    float *pad = dy + (size_t)h * w;
    for (int i = 0; i < h * w; i++) dx[i] = symmetric(&rng, 1);
    for (int i = 0; i < h * w; i++) dy[i] = symmetric(&rng, 1);
    blur(g, dx, pad);
    blur(g, dy, pad);
  }

  /* M = R S Z: [cos -sin; sin cos] [1 -sin(sh); 0 cos(sh)] diag(zx, zy). */
  float c = cosf(theta), s = sinf(theta), ssh = sinf(shear), csh = cosf(shear);
  const float m[4] = {c * zx, (-c * ssh - s * csh) * zy, s * zx, (-s * ssh + c * csh) * zy};
  cn_augment_warp(in, out, h, w, m, tx, ty, dx, dy, a->elastic_alpha);
  if (do_flip) mirror(out, h, w);
  if (do_erase) erase(&rng, out, h, w);
}

int cn_batch_fill_augmented(const cn_imageset *set, const int *idx, int count, const cn_augmenter *g, uint64_t seed,
                            int epoch, float *x, int *labels) {
  /* The augmenter is set up for the model's input, so this is the feed check. */
  int rc = cn_imageset_check(set, g->rows, g->cols, 1, 0);
  if (rc) return rc;
  if (labels && !set->labels) return cn_fail(CN_EINVAL, "batch: %s has no labels", set->images_path);
  for (int b = 0; b < count; b++)
    if (idx[b] < 0 || idx[b] >= set->n)
      return cn_fail(CN_EINVAL, "batch: image index %d is outside the set's 0..%d", idx[b], set->n - 1);
  const size_t pixels = (size_t)set->rows * (size_t)set->cols;
#pragma omp parallel for num_threads(g->threads) schedule(dynamic, 4)
  for (int b = 0; b < count; b++) {
    int worker = omp_get_thread_num();
    float *img = g->scratch + scratch_floats(g->rows, g->cols, g->radius) * (size_t)worker;
    const uint8_t *src = set->pixels + (size_t)idx[b] * pixels;
    for (size_t j = 0; j < pixels; j++) img[j] = (float)src[j] / 255.0f;
    cn_augment_image(g, seed, epoch, idx[b], worker, img, x + (size_t)b * pixels);
  }
  if (labels)
    for (int b = 0; b < count; b++) labels[b] = set->labels[idx[b]];
  return CN_OK;
}
