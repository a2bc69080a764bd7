/* Augmentation: the warp's geometry against transforms worked out by hand,
 * the draws' ranges, and the same augmented batch at any thread count,
 * batch order and call. */
#include <stdlib.h>

#include "cnist/augment.h"
#include "data/augment.h"
#include "test.h"

enum { H = 28, W = 28 };

/* A deterministic image with no symmetry: pixel (y, x) = (y * 29 + x * 7) % 97 / 96. */
static void pattern(float *img) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) img[y * W + x] = (float)((y * 29 + x * 7) % 97) / 96.0f;
}

static float max_abs_diff(const float *a, const float *b, int n) {
  float d = 0;
  for (int i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
  return d;
}

static void test_warp_geometry(void) {
  float in[H * W], out[H * W], want[H * W];
  pattern(in);
  const float identity[4] = {1, 0, 0, 1};
  cn_augment_warp(in, out, H, W, identity, 0, 0, NULL, NULL, 0);
  CHECK(memcmp(in, out, sizeof in) == 0);

  /* A shift by (3, -2): out(y, x) = in(y + 2, x - 3), zeros where that falls outside. */
  cn_augment_warp(in, out, H, W, identity, 3, -2, NULL, NULL, 0);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int sy = y + 2, sx = x - 3;
      want[y * W + x] = sy < H && sx >= 0 ? in[sy * W + sx] : 0;
    }
  CHECK(memcmp(want, out, sizeof out) == 0);

  /* The inverse mapping rotated by 90 degrees: out(y, x) = in(x, W - 1 - y) on a square image. */
  const float quarter[4] = {0, -1, 1, 0};
  cn_augment_warp(in, out, H, W, quarter, 0, 0, NULL, NULL, 0);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) want[y * W + x] = in[x * W + (W - 1 - y)];
  CHECK(memcmp(want, out, sizeof out) == 0);

  /* Half a pixel to the right: each output is the mean of two neighbours. */
  cn_augment_warp(in, out, H, W, identity, 0.5f, 0, NULL, NULL, 0);
  CHECK_NEAR(out[5 * W + 9], 0.5f * (in[5 * W + 8] + in[5 * W + 9]), 1e-6);
  CHECK_NEAR(out[5 * W + 0], 0.5f * in[5 * W + 0], 1e-6);

  /* A constant displacement field of 1 scaled by alpha 2 reads 2 pixels right and down. */
  float dx[H * W], dy[H * W];
  for (int i = 0; i < H * W; i++) dx[i] = dy[i] = 1;
  cn_augment_warp(in, out, H, W, identity, 0, 0, dx, dy, 2);
  CHECK(out[4 * W + 6] == in[6 * W + 8]);
  CHECK(out[(H - 1) * W + 3] == 0);
}

static void test_check(void) {
  cn_augment a = {0};
  CHECK(cn_augment_check(&a) == CN_OK && !cn_augment_active(&a) && !cn_augment_active(NULL));
  a.rotation = 15;
  CHECK(cn_augment_check(&a) == CN_OK && cn_augment_active(&a));
  a.zoom = 1.5f;
  CHECK_ERROR(cn_augment_check(&a), CN_EINVAL, "zoom=1.5");
  a.zoom = NAN;
  CHECK_ERROR(cn_augment_check(&a), CN_EINVAL, "zoom");
  a.zoom = 0, a.elastic_alpha = 34, a.elastic_sigma = 0;
  CHECK_ERROR(cn_augment_check(&a), CN_EINVAL, "elastic_sigma");
  a.elastic_sigma = 4, a.erase = -0.1f;
  CHECK_ERROR(cn_augment_check(&a), CN_EINVAL, "erase");
  cn_augmenter *g = (cn_augmenter *)&a;
  CHECK_ERROR(cn_augmenter_new(&a, H, W, 1, &g), CN_EINVAL, "erase");
  CHECK(g == NULL);
}

/* Shifts of at most 10% move a centred square without losing its mass. */
static void test_shift_range(void) {
  cn_augment a = {.shift = 0.1f};
  cn_augmenter *g;
  CHECK(cn_augmenter_new(&a, H, W, 1, &g) == CN_OK);
  if (!g) return;
  float in[H * W] = {0}, out[H * W];
  for (int y = 10; y < 18; y++)
    for (int x = 10; x < 18; x++) in[y * W + x] = 1;
  int moved = 0;
  for (int i = 0; i < 50; i++) {
    cn_augment_image(g, 7, 0, i, 0, in, out);
    float mass = 0;
    int first = -1;
    for (int p = 0; p < H * W; p++) {
      mass += out[p];
      if (out[p] > 0 && first < 0) first = p;
    }
    CHECK_NEAR(mass, 64, 1e-3);
    /* The square's top-left corner moved by at most 2.8 pixels each way. */
    CHECK(first / W >= 7 && first / W <= 13 && first % W >= 7 && first % W <= 13);
    moved += first != 10 * W + 10;
  }
  CHECK_MSG(moved > 40, "only %d of 50 draws moved the image", moved);
  cn_augmenter_free(g);
}

/* Erasing with probability 1 changes one rectangle of 2-40% of the image. */
static void test_erase(void) {
  cn_augment a = {.erase = 1};
  cn_augmenter *g;
  CHECK(cn_augmenter_new(&a, H, W, 1, &g) == CN_OK);
  if (!g) return;
  float in[H * W], out[H * W];
  for (int i = 0; i < H * W; i++) in[i] = 2; /* outside the fill's [0, 1) */
  for (int i = 0; i < 20; i++) {
    cn_augment_image(g, 3, 1, i, 0, in, out);
    int y0 = H, y1 = -1, x0 = W, x1 = -1, changed = 0;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        if (out[y * W + x] != 2) {
          changed++;
          y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1, x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
        }
    int box = changed ? (y1 - y0 + 1) * (x1 - x0 + 1) : 0;
    CHECK_MSG(changed == box && box >= 10 && box <= 330, "draw %d: %d pixels changed in a %d-pixel box", i,
              changed, box);
  }
  cn_augmenter_free(g);
}

/* flip=1 mirrors every image exactly; flip=0.5 about half of them; the
 * range is checked. */
static void test_flip(void) {
  cn_augment a = {.flip = 1};
  cn_augmenter *g;
  CHECK(cn_augmenter_new(&a, H, W, 1, &g) == CN_OK);
  if (!g) return;
  float in[H * W], out[H * W], want[H * W];
  pattern(in);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) want[y * W + x] = in[y * W + W - 1 - x];
  cn_augment_image(g, 3, 1, 0, 0, in, out);
  CHECK(memcmp(out, want, sizeof out) == 0);
  cn_augmenter_free(g);

  a.flip = 0.5f;
  CHECK(cn_augmenter_new(&a, H, W, 1, &g) == CN_OK);
  if (!g) return;
  int flipped = 0;
  for (int i = 0; i < 200; i++) {
    cn_augment_image(g, 3, 1, i, 0, in, out);
    if (!memcmp(out, want, sizeof out)) flipped++;
    else CHECK_MSG(!memcmp(out, in, sizeof out), "image %d is neither itself nor its mirror", i);
  }
  CHECK_MSG(flipped > 70 && flipped < 130, "%d of 200 images mirrored at flip=0.5", flipped);
  cn_augmenter_free(g);

  a.flip = 1.5f;
  CHECK_ERROR(cn_augment_check(&a), CN_EINVAL, "flip");
}

/* The same (seed, epoch, image) gives the same batch at 1 and 2 threads
 * and wherever the image sits in the batch; other epochs differ. */
static void test_determinism(void) {
  enum { N = 64 };
  uint8_t *pixels = malloc((size_t)N * H * W);
  uint8_t labels[N];
  if (!pixels) return;
  for (int i = 0; i < N * H * W; i++) pixels[i] = (uint8_t)((i * 131) % 251);
  for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 10);
  cn_imageset set = {.n = N, .rows = H, .cols = W, .channels = 1, .pixels = pixels, .labels = labels};
  cn_augment a = {.rotation = 15, .zoom = 0.15f, .shear = 10, .shift = 0.1f, .elastic_alpha = 34, .elastic_sigma = 4,
                  .erase = 0.5f};
  cn_augmenter *one, *two;
  CHECK(cn_augmenter_new(&a, H, W, 1, &one) == CN_OK);
  CHECK(cn_augmenter_new(&a, H, W, 2, &two) == CN_OK);
  int idx[N], rev[N], lab1[N], lab2[N];
  for (int i = 0; i < N; i++) idx[i] = i, rev[i] = N - 1 - i;
  float *x1 = malloc(sizeof(float) * N * H * W), *x2 = malloc(sizeof(float) * N * H * W);
  if (one && two && x1 && x2) {
    CHECK(cn_batch_fill_augmented(&set, idx, N, one, 5, 2, x1, lab1) == CN_OK);
    CHECK(cn_batch_fill_augmented(&set, idx, N, two, 5, 2, x2, lab2) == CN_OK);
    CHECK(memcmp(x1, x2, sizeof(float) * N * H * W) == 0);
    CHECK(memcmp(lab1, lab2, sizeof lab1) == 0 && lab1[13] == 3);
    CHECK(cn_batch_fill_augmented(&set, rev, N, two, 5, 2, x2, lab2) == CN_OK);
    CHECK(memcmp(x1 + (size_t)5 * H * W, x2 + (size_t)(N - 1 - 5) * H * W, sizeof(float) * H * W) == 0);
    CHECK(lab2[0] == labels[N - 1]);
    CHECK(cn_batch_fill_augmented(&set, idx, N, one, 5, 3, x2, NULL) == CN_OK);
    CHECK(max_abs_diff(x1, x2, N * H * W) > 0.1f);
    float plain[H * W];
    CHECK(cn_batch_fill(&set, idx, 1, H, W, 1, plain, NULL) == CN_OK);
    CHECK(max_abs_diff(x1, plain, H * W) > 0.1f);
    int outside = 0;
    for (int i = 0; i < N * H * W; i++) outside += !(x1[i] >= 0 && x1[i] <= 1);
    CHECK_MSG(outside == 0, "%d pixels outside [0, 1]", outside);
    cn_imageset small = set;
    small.rows = 20;
    CHECK_ERROR(cn_batch_fill_augmented(&small, idx, 1, one, 5, 2, x1, NULL), CN_ESHAPE, "holds 20x28x1");
  }
  cn_augmenter_free(one);
  cn_augmenter_free(two);
  free(x1);
  free(x2);
  free(pixels);
}

int main(void) {
  test_warp_geometry();
  test_check();
  test_shift_range();
  test_erase();
  test_flip();
  test_determinism();
  return test_summary();
}
