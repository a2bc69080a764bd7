/* The model as a whole: tensor names and shapes (the checkpoint contract),
 * Keras initialisation, determinism, batches smaller than planned, thread
 * count independence and how a pass's pieces go to the threads, no
 * allocation in the batch loop, and the errors. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "engine_test.h"

/* ---- counting allocations: this executable's malloc family forwards to
 * glibc's and counts the calls made while `counting` is set. OpenMP
 * allocates through the same symbols, so its first-use set-up is done
 * before counting starts. AddressSanitizer owns malloc itself, so
 * under it only the buffer addresses are checked. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#if defined(__GLIBC__) && !defined(UNDER_ASAN)
#define CAN_COUNT_ALLOCATIONS 1
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
static volatile int counting;
static volatile long allocations;

void *malloc(size_t n) {
  if (counting) allocations++;
  return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
  if (counting) allocations++;
  return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
  if (counting) allocations++;
  return __libc_realloc(p, n);
}
void *aligned_alloc(size_t align, size_t n) {
  if (counting) allocations++;
  return __libc_memalign(align, n);
}
int posix_memalign(void **p, size_t align, size_t n) {
  if (counting) allocations++;
  *p = __libc_memalign(align, n);
  return *p ? 0 : 12; /* ENOMEM */
}
#else
#define CAN_COUNT_ALLOCATIONS 0
static int counting;
static long allocations;
#endif

/* A LeNet-like model with every layer kind, sized so that 2 threads split
 * every layer. */
static void every_layer_spec(cn_spec *s) {
  cn_spec_init(s, 1, 28, 28);
  cn_spec_add_conv2d(s, 8, 5, 5, 1, 1, CN_ACT_RELU);
  cn_spec_add_batchnorm(s);
  cn_spec_add_pool(s, CN_LAYER_MAXPOOL, 2, 0);
  cn_spec_add_conv2d(s, 16, 3, 3, 2, 0, CN_ACT_TANH);
  cn_spec_add_pool(s, CN_LAYER_AVGPOOL, 2, 0);
  cn_spec_add_dropout(s, 0.3f);
  cn_spec_add_flatten(s);
  cn_spec_add_dense(s, 64, CN_ACT_SIGMOID);
  cn_spec_add_batchnorm(s);
  cn_spec_add_activation(s, CN_ACT_RELU);
  cn_spec_add_dense(s, 10, CN_ACT_SOFTMAX);
}

static void fake_batch(float *x, int *labels, int n, uint64_t seed) {
  cn_rng rng;
  cn_rng_seed(&rng, seed, 9);
  fill_uniform(x, (size_t)n * 784, 0.0f, 1.0f, &rng);
  for (int i = 0; i < n; i++) labels[i] = (int)cn_rng_below(&rng, 10);
}

/* w -= lr * g over the trainable tensors: the optimizer step by hand. */
static void sgd_step(cn_model *m, float lr) {
  int count;
  cn_tensor_ref *t = cn_model_tensors(m, &count);
  for (int k = 0; k < count; k++)
    if (t[k].grad)
      for (size_t i = 0; i < t[k].size; i++) t[k].data[i] -= lr * t[k].grad[i];
}

static int same_tensors(cn_model *a, cn_model *b) {
  int ca, cb;
  cn_tensor_ref *ta = cn_model_tensors(a, &ca), *tb = cn_model_tensors(b, &cb);
  if (ca != cb) return 0;
  for (int k = 0; k < ca; k++)
    if (ta[k].size != tb[k].size || memcmp(ta[k].data, tb[k].data, sizeof(float) * ta[k].size) != 0) return 0;
  return 1;
}

/* `steps` SGD steps on fake batches of 32, the pixels shifted by `shift`. */
static void train_steps(cn_model *m, int steps, float shift) {
  float *x = malloc(sizeof(float) * 32 * 784);
  int labels[32];
  for (int step = 0; step < steps; step++) {
    fake_batch(x, labels, 32, (uint64_t)step);
    for (int i = 0; i < 32 * 784; i++) x[i] += shift;
    float loss;
    CHECK(cn_model_train_batch(m, x, labels, NULL, 32, &loss, NULL) == 0);
    sgd_step(m, 0.05f);
  }
  free(x);
}

/* Trains a fresh model with `seed` for `steps` batches of 32 and returns it. */
static cn_model *trained(uint64_t seed, int steps) {
  cn_spec s;
  every_layer_spec(&s);
  cn_model *m;
  if (cn_model_new(&s, seed, &m)) return NULL;
  train_steps(m, steps, 0.0f);
  return m;
}

static void test_tensors(void) {
  cn_spec s;
  cn_spec_init(&s, 1, 28, 28);
  cn_spec_add_conv2d(&s, 6, 5, 3, 1, 1, CN_ACT_RELU);
  cn_spec_add_batchnorm(&s);
  cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, 2, 0);
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, 10, CN_ACT_SOFTMAX);
  cn_model *m;
  CHECK(cn_model_new(&s, 1, &m) == 0);
  int count;
  cn_tensor_ref *t = cn_model_tensors(m, &count);
  CHECK(count == 8);
  const char *names[8] = {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                          "4.weight", "4.bias"};
  const int ndims[8] = {4, 1, 1, 1, 1, 1, 2, 1};
  const int shapes[8][4] = {{6, 1, 5, 3}, {6}, {6}, {6}, {6}, {6}, {10, 6 * 14 * 14}, {10}};
  size_t total = 0;
  for (int k = 0; k < count && k < 8; k++) {
    CHECK_MSG(strcmp(t[k].name, names[k]) == 0, "tensor %d is %s, want %s", k, t[k].name, names[k]);
    CHECK(t[k].ndim == ndims[k]);
    size_t size = 1;
    for (int d = 0; d < ndims[k]; d++) {
      CHECK(t[k].shape[d] == shapes[k][d]);
      size *= (size_t)shapes[k][d];
    }
    CHECK(t[k].size == size);
    CHECK(((uintptr_t)t[k].data & 63) == 0);
    CHECK((t[k].grad == NULL) == (k == 4 || k == 5));
    total += size;
  }
  CHECK(cn_model_param_count(m) == total);
  cn_spec_stats st;
  CHECK(cn_spec_stats_compute(&s, &st) == 0);
  CHECK(st.total == total);
  CHECK(cn_model_inputs(m) == 784 && cn_model_outputs(m) == 10);
  CHECK(cn_model_spec(m)->n_layers == 5);

  /* Keras initialisation: glorot-uniform kernels, zero biases, BN 1/0/0/1 */
  double limit_conv = sqrt(6.0 / (1 * 5 * 3 + 6 * 5 * 3)), limit_dense = sqrt(6.0 / (1176 + 10));
  double ss = 0.0, mx = 0.0;
  for (size_t i = 0; i < t[6].size; i++) {
    ss += (double)t[6].data[i] * t[6].data[i];
    mx = fmax(mx, fabs(t[6].data[i]));
  }
  CHECK(mx <= limit_dense && mx > 0.95 * limit_dense);
  CHECK_NEAR(ss / (double)t[6].size, limit_dense * limit_dense / 3.0, 0.05 * limit_dense * limit_dense / 3.0);
  mx = 0.0;
  for (size_t i = 0; i < t[0].size; i++) mx = fmax(mx, fabs(t[0].data[i]));
  CHECK(mx <= limit_conv && mx > 0.8 * limit_conv);
  int init_ok = 1;
  for (int c = 0; c < 6; c++)
    init_ok &= t[1].data[c] == 0.0f && t[2].data[c] == 1.0f && t[3].data[c] == 0.0f && t[4].data[c] == 0.0f &&
               t[5].data[c] == 1.0f;
  for (int c = 0; c < 10; c++) init_ok &= t[7].data[c] == 0.0f;
  CHECK(init_ok);
  cn_model_free(m);
}

static void test_determinism(void) {
  cn_set_threads(1);
  cn_model *a = trained(11, 0), *b = trained(11, 0), *c = trained(12, 0);
  CHECK(a && b && c);
  CHECK(same_tensors(a, b));
  CHECK(!same_tensors(a, c));
  cn_model_free(a);
  cn_model_free(b);
  cn_model_free(c);
  /* 10 steps at 1 thread, twice: bit-identical weights */
  a = trained(11, 10);
  b = trained(11, 10);
  CHECK(a && b && same_tensors(a, b));
  /* and at 2 threads: whichever thread takes a piece of a pass, every sum
   * has one order, so the result does not depend on the thread count */
  cn_set_threads(2);
  c = trained(11, 10);
  CHECK(c && same_tensors(a, c));
  cn_set_threads(1);
  cn_model_free(a);
  cn_model_free(b);
  cn_model_free(c);
}

/* A convolution with relu then max pooling, where the pool applies relu's
 * derivative for the convolution (model.c), trains to the same bits as the
 * same network with relu as its own layer between them (no fusion there):
 * the 2x2 pool (its kept picks) and a 3x3 stride-2 `same` pool (the
 * general loop). Inputs start at 0, so relu leaves many zeros and windows
 * of zeros ties. */
static cn_model *conv_pool_trained(int fused, int size, int stride, int same, int steps) {
  cn_spec s;
  cn_spec_init(&s, 1, 28, 28);
  cn_spec_add_conv2d(&s, 6, 5, 5, 1, 0, fused ? CN_ACT_RELU : CN_ACT_NONE);
  if (!fused) cn_spec_add_activation(&s, CN_ACT_RELU);
  cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, size, stride);
  s.layers[s.n_layers - 1].same = same;
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, 10, CN_ACT_SOFTMAX);
  cn_model *m;
  if (cn_model_new(&s, 4, &m)) return NULL;
  CHECK(m->layers[0].dy_is_preact == fused && m->layers[fused ? 1 : 2].relu_below == fused);
  train_steps(m, steps, -0.5f); /* so relu cuts about half */
  return m;
}

/* cn_parallel_items: what each thread took, item by item. */
enum { ITEMS = 1000 };
typedef struct {
  int unit, seen[ITEMS], taker[ITEMS], misaligned, slow_first;
} items_probe;

static void take_items(void *ctx, int t, int lo, int hi) {
  items_probe *p = ctx;
  if (lo % p->unit) p->misaligned++;
  if (t == 0 && p->slow_first) { /* a slow core: the other thread should take the rest meanwhile */
    p->slow_first = 0;
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  for (int i = lo; i < hi; i++) {
    p->seen[i]++;
    p->taker[i] = t;
  }
}

static void test_parallel_items(void) {
  const int counts[] = {0, 1, 7, 64, 999, ITEMS}, units[] = {1, 3, 8};
  for (size_t a = 0; a < sizeof counts / sizeof counts[0]; a++)
    for (size_t b = 0; b < sizeof units / sizeof units[0]; b++)
      for (int nt = 1; nt <= 3; nt++) {
        static items_probe p;
        memset(&p, 0, sizeof p);
        p.unit = units[b];
        cn_parallel_items(nt, counts[a], units[b], take_items, &p);
        int wrong = 0;
        for (int i = 0; i < ITEMS; i++) wrong += p.seen[i] != (i < counts[a]);
        CHECK_MSG(!wrong && !p.misaligned, "%d items in units of %d on %d threads: %d taken other than once, %d pieces "
                  "not at a whole unit", counts[a], units[b], nt, wrong, p.misaligned);
      }
  /* thread 0 stalls in its first piece: thread 1 takes most of the others */
  static items_probe p;
  memset(&p, 0, sizeof p);
  p.unit = 1;
  p.slow_first = 1;
  cn_parallel_items(2, ITEMS, 1, take_items, &p);
  int by_second = 0;
  for (int i = 0; i < ITEMS; i++) by_second += p.taker[i] == 1;
  CHECK_MSG(by_second > ITEMS / 2, "thread 1 took %d of %d items while thread 0 stalled", by_second, ITEMS);
}

static void test_relu_maxpool_fusion(void) {
  const int pools[2][3] = {{2, 2, 0}, {3, 2, 1}};
  for (int threads = 1; threads <= 2; threads++) {
    cn_set_threads(threads);
    for (int k = 0; k < 2; k++) {
      cn_model *a = conv_pool_trained(1, pools[k][0], pools[k][1], pools[k][2], 5);
      cn_model *b = conv_pool_trained(0, pools[k][0], pools[k][1], pools[k][2], 5);
      CHECK_MSG(a && b && same_tensors(a, b), "conv relu + maxpool %dx%d stride %d, %d threads: the fused backward "
                "gives other weights than relu as its own layer", pools[k][0], pools[k][0], pools[k][1], threads);
      cn_model_free(a);
      cn_model_free(b);
    }
  }
  cn_set_threads(1);
}

/* A batch smaller than planned gives each image the same result, bit for
 * bit, as a full batch; and training on it reads no stale planned data. */
static void test_small_batch(void) {
  cn_spec s;
  every_layer_spec(&s);
  cn_model *m, *fresh;
  CHECK(cn_model_new(&s, 3, &m) == 0);
  CHECK(cn_model_new(&s, 3, &fresh) == 0);
  float *x = malloc(sizeof(float) * 32 * 784);
  int labels[32];
  fake_batch(x, labels, 32, 1);
  CHECK(cn_model_reserve(m, 32) == 0);
  float full[320], part[50], one[10];
  CHECK(cn_model_predict(m, x, 32, full) == 0);
  CHECK(cn_model_predict(m, x + 27 * 784, 5, part) == 0);
  CHECK(memcmp(part, full + 270, sizeof part) == 0);
  CHECK(cn_model_predict(m, x + 31 * 784, 1, one) == 0);
  CHECK(memcmp(one, full + 310, sizeof one) == 0);
  /* more images than planned are run in planned-size chunks */
  CHECK(cn_model_reserve(fresh, 8) == 0);
  float chunked[320];
  CHECK(cn_model_predict(fresh, x, 32, chunked) == 0);
  CHECK(memcmp(chunked, full, sizeof full) == 0);
  CHECK(fresh->planned_batch == 8);
  /* train on 5 images with a plan for 32, and on a model planned for 5 */
  CHECK(cn_model_train_batch(m, x, labels, NULL, 32, NULL, NULL) == 0);
  cn_model_free(fresh);
  CHECK(cn_model_new(&s, 3, &fresh) == 0);
  cn_rng_seed(cn_model_rng(m), 99, 1);
  cn_rng_seed(cn_model_rng(fresh), 99, 1);
  float la, lb;
  CHECK(cn_model_train_batch(m, x, labels, NULL, 5, &la, NULL) == 0);
  CHECK(cn_model_train_batch(fresh, x, labels, NULL, 5, &lb, NULL) == 0);
  CHECK(la == lb);
  int count;
  cn_tensor_ref *ta = cn_model_tensors(m, &count), *tb = cn_model_tensors(fresh, &count);
  int same = 1;
  for (int k = 0; k < count; k++)
    if (ta[k].grad) same &= memcmp(ta[k].grad, tb[k].grad, sizeof(float) * ta[k].size) == 0;
  CHECK(same);
  CHECK(fresh->planned_batch == 5 && m->planned_batch == 32);
  free(x);
  cn_model_free(m);
  cn_model_free(fresh);
}

/* Once planned, training, evaluation and prediction allocate nothing and
 * keep their buffers. */
static void test_no_allocation(void) {
  cn_spec s;
  every_layer_spec(&s);
  cn_model *m;
  CHECK(cn_model_new(&s, 3, &m) == 0);
  float *x = malloc(sizeof(float) * 32 * 784), probs[320];
  int labels[32];
  fake_batch(x, labels, 32, 1);
  CHECK(cn_model_reserve(m, 32) == 0);
  CHECK(cn_model_train_batch(m, x, labels, NULL, 32, NULL, NULL) == 0); /* OpenMP set-up */
  const float *arena = m->arena;
  double loss_sum = 0.0;
  int correct = 0;
  allocations = 0;
  counting = 1;
  for (int step = 0; step < 5; step++) {
    cn_model_train_batch(m, x, labels, NULL, 32 - step, NULL, NULL);
    cn_model_eval_batch(m, x, labels, 32, probs, &loss_sum, &correct);
    cn_model_predict(m, x, 7, probs);
  }
  counting = 0;
  if (CAN_COUNT_ALLOCATIONS) CHECK_MSG(allocations == 0, "%ld allocations in the batch loop", allocations);
  CHECK(m->arena == arena);
  free(x);
  cn_model_free(m);
}

static void test_labels_and_eval(void) {
  cn_spec s;
  cn_spec_init(&s, 1, 28, 28);
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, 32, CN_ACT_RELU);
  cn_spec_add_dense(&s, 10, CN_ACT_SOFTMAX);
  cn_model *a, *b;
  CHECK(cn_model_new(&s, 4, &a) == 0);
  CHECK(cn_model_new(&s, 4, &b) == 0);
  float *x = malloc(sizeof(float) * 16 * 784), onehot[160] = {0}, probs[160], pred[160];
  int labels[16];
  fake_batch(x, labels, 16, 2);
  for (int i = 0; i < 16; i++) onehot[i * 10 + labels[i]] = 1.0f;
  float la, lb;
  int ca, cb;
  CHECK(cn_model_train_batch(a, x, labels, NULL, 16, &la, &ca) == 0);
  CHECK(cn_model_train_batch(b, x, NULL, onehot, 16, &lb, &cb) == 0);
  CHECK(la == lb && ca == cb);
  CHECK(same_tensors(a, b));
  int count;
  cn_tensor_ref *ta = cn_model_tensors(a, &count), *tb = cn_model_tensors(b, &count);
  CHECK(memcmp(ta[0].grad, tb[0].grad, sizeof(float) * ta[0].size) == 0);
  /* no dropout or batch norm: eval's loss is the training loss */
  double sum = 0.0;
  int correct = 0;
  CHECK(cn_model_eval_batch(a, x, labels, 16, probs, &sum, &correct) == 0);
  CHECK_NEAR(sum / 16, la, 1e-5);
  CHECK(correct == ca);
  CHECK(cn_model_predict(a, x, 16, pred) == 0);
  CHECK(memcmp(probs, pred, sizeof probs) == 0);

  /* label smoothing: the training loss of b (smoothing 0.1) is a's loss
   * with the targets 0.9 t + 0.01, computed here from a's probabilities */
  CHECK_ERROR(cn_model_set_label_smoothing(b, 1.0f), CN_EINVAL, "label smoothing 1");
  CHECK(cn_model_set_label_smoothing(b, 0.1f) == CN_OK);
  CHECK(cn_model_predict(b, x, 16, pred) == 0);
  double smooth_want = 0.0;
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 10; j++) smooth_want -= (0.9 * (j == labels[i]) + 0.01) * log((double)pred[i * 10 + j]) / 16;
  CHECK(cn_model_train_batch(b, x, labels, NULL, 16, &lb, NULL) == 0);
  CHECK_NEAR(lb, smooth_want, 1e-4);

  /* errors */
  CHECK_ERROR(cn_model_train_batch(a, x, labels, onehot, 16, NULL, NULL), CN_EINVAL, "exactly one");
  CHECK_ERROR(cn_model_train_batch(a, x, NULL, NULL, 16, NULL, NULL), CN_EINVAL, "exactly one");
  labels[3] = 10;
  CHECK_ERROR(cn_model_train_batch(a, x, labels, NULL, 16, NULL, NULL), CN_EINVAL, "label 10 of image 3");
  CHECK_ERROR(cn_model_eval_batch(a, x, labels, 16, NULL, &sum, &correct), CN_EINVAL, "label 10");
  labels[3] = 1;
  CHECK_ERROR(cn_model_train_batch(a, x, labels, NULL, 0, NULL, NULL), CN_EINVAL, "at least one image");
  CHECK_ERROR(cn_model_predict(a, NULL, 4, pred), CN_EINVAL, "no input");
  ta[2].data[5] = NAN; /* in the last layer: relu would turn a NaN into 0 */
  CHECK_ERROR(cn_model_train_batch(a, x, labels, NULL, 16, NULL, NULL), CN_EDIVERGED, "NaN");
  cn_model_free(a);
  cn_model_free(b);

  /* a softmax over a map cannot be the loss's input */
  cn_spec_init(&s, 1, 4, 4);
  cn_spec_add_conv2d(&s, 3, 3, 3, 1, 1, CN_ACT_SOFTMAX);
  CHECK_ERROR(cn_model_new(&s, 1, &a), CN_ESHAPE, "softmax over a 4x4x3");
  CHECK(a == NULL);
  /* shape errors come from the spec's check */
  cn_spec_init(&s, 1, 4, 4);
  cn_spec_add_dense(&s, 3, CN_ACT_NONE);
  CHECK(cn_model_new(&s, 1, &a) == CN_ESHAPE);
  free(x);
}

/* The parameter count is stated twice, by the spec's shape rules and by
 * each layer's ops; for every zoo model they agree. */
static void test_zoo_param_counts(void) {
  for (int i = 0; i < cn_zoo_count(); i++) {
    cn_spec s;
    cn_spec_stats st;
    cn_model *m;
    CHECK(cn_spec_load(cn_zoo_get(i)->name, &s) == 0);
    CHECK(cn_spec_stats_compute(&s, &st) == 0);
    CHECK(cn_model_new(&s, 1, &m) == 0);
    CHECK_MSG(cn_model_param_count(m) == st.total, "%s: model %zu, spec %zu", s.name, cn_model_param_count(m),
              st.total);
    cn_model_free(m);
  }
}

int main(void) {
  test_zoo_param_counts();
  test_tensors();
  test_determinism();
  test_parallel_items();
  test_relu_maxpool_fusion();
  test_small_batch();
  test_no_allocation();
  test_labels_and_eval();
  return test_summary();
}
