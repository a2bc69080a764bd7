/* Internal: the interface every layer kind implements, and the buffers the
 * model plans for it. One file per kind under layers/ holds its forward and
 * backward passes side by side.
 *
 * Tensors are float32 NCHW. A layer sees n images: x is [n, in.c, in.h, in.w],
 * y is [n, out.c, out.h, out.w]; dense and flattened tensors have h = w = 1.
 * Nothing here allocates: the model carves parameters, per-layer state and
 * per-thread scratch out of its own blocks (plan.c) and hands out views. */
#ifndef CN_ENGINE_LAYER_H
#define CN_ENGINE_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "cnist/group.h"
#include "cnist/model.h"

/* A training pass over this rank's slice of a batch split across a group
 * (cnist/group.h): images [first, first + n) of total; ranks [0, active)
 * hold images. */
typedef struct {
  const cn_group *g;
  int first, n, total, active;
} cn_slice;

/* What a pass needs besides the layer: the thread count it may use, the
 * scratch block (work_floats(max_batch, threads) floats, 64-byte aligned,
 * shared by all layers since one layer runs at a time), the dropout
 * generator, the precision of the multiplies, and the slice when the batch
 * is split across processes (NULL in one process). */
typedef struct {
  int threads;
  float *work;
  cn_rng *rng;
  cn_precision precision;
  const cn_slice *slice;
} cn_pass;

/* The relay that keeps a sum over the batch in one process's order across
 * a group (relay.c). A layer that sums over images calls, around its own
 * images' terms:
 *   cn_relay_in: 1 when the sum continues one from the rank before (its
 *     running value is then received into acc), 0 when this rank starts
 *     it (rank 0, or no group) and acc must be initialised as one process
 *     does;
 *   cn_relay_out: passes acc on to the next rank that holds images;
 *   cn_relay_share: after cn_relay_out, every rank holding images gets the
 *     finished sum from the last (for sums the pass needs to go on). */
int cn_relay_in(const cn_pass *p, void *acc, size_t bytes);
void cn_relay_out(const cn_pass *p, const void *acc, size_t bytes);
void cn_relay_share(const cn_pass *p, void *acc, size_t bytes);
/* The images the batch sums over: the group's whole batch, or n. */
static inline int cn_pass_total(const cn_pass *p, int n) { return p->slice ? p->slice->total : n; }

typedef struct cn_layer cn_layer;

typedef struct {
  /* Trainable floats (weight then bias) and non-trainable floats (batch
   * norm's moving statistics) this layer owns. */
  size_t (*param_floats)(const cn_layer *l);
  /* Floats kept from forward to backward for batches of up to max_batch
   * (dropout mask, batch statistics), and scratch floats for
   * one pass with `threads` threads (im2col columns, partial gradients). */
  size_t (*state_floats)(const cn_layer *l, int max_batch);
  size_t (*work_floats)(const cn_layer *l, int max_batch, int threads);
  /* Keras initialisation from the init stream. */
  void (*init)(cn_layer *l, cn_rng *rng);
  /* y = f(x) for n images; training selects batch statistics and dropout. */
  void (*forward)(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p);
  /* Given dy (overwritten: the layer may turn it into d(pre-activation)),
   * writes the parameter gradients (overwriting them) and dx when dx is not
   * NULL. x and y are the forward pass's input and output. */
  void (*backward)(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                   const cn_pass *p);
} cn_layer_ops;

struct cn_layer {
  cn_layer_spec s;      /* the spec line (s.act is what the file says) */
  int index;            /* 0-based position in the spec: the tensor name prefix */
  cn_shape in, out;     /* per image */
  int in_size, out_size;/* floats per image */
  int pad_t, pad_l;     /* conv/pool: padding before the first row and column */
  cn_act act;           /* inline activation actually applied: NONE when the
                           model fuses a final softmax with the loss */
  int dy_is_preact;     /* conv2d: the next layer's backward already applied
                           act's derivative (a max pool with relu_below) */
  int relu_below;       /* maxpool: its input is a relu's output, and its
                           backward applies relu's derivative (model.c) */
  const cn_layer_ops *ops;
  /* Parameters: views into the model's parameter and gradient blocks. */
  float *w, *dw;        /* dense [out, in]; conv [f, c, kh, kw]; batchnorm gamma [c] */
  float *b, *db;        /* bias [out] / [f]; batchnorm beta [c] */
  float *run_mean, *run_var; /* batchnorm moving statistics [c] */
  float *state;         /* state_floats(max_batch) floats, 64-byte aligned */
};

extern const cn_layer_ops cn_dense_ops, cn_conv2d_ops, cn_maxpool_ops, cn_avgpool_ops,
    cn_batchnorm_ops, cn_dropout_ops, cn_activation_ops;
/* A conv2d whose one window is its whole input (a 1x1 output, no
 * padding: the 4x4 convolution that ends Deotte's network): a dense layer
 * over the flattened input, the weight [f, c, kh, kw] being [f, c*h*w] in
 * the input's own order; Keras's conv initialisation (cn_conv_init). */
extern const cn_layer_ops cn_conv2d_whole_ops;
void cn_conv_init(cn_layer *l, cn_rng *rng);

/* Fills the geometry and picks the ops of l for spec line s, given the
 * input and output shapes from cn_spec_check. Flatten gets no ops: the
 * model aliases its output to its input. */
void cn_layer_setup(cn_layer *l, const cn_layer_spec *s, int index, cn_shape in, cn_shape out);

/* Element-wise activations on rows of `len` values (len = c*h*w of one
 * image). Softmax is taken over channels at each position, as Keras does on
 * its last (channel) axis; for flat tensors that is the whole row. */
void cn_act_forward(cn_act act, float *y, int n, cn_shape shape);
/* dy <- d(pre-activation) given the activation's output y. */
void cn_act_backward(cn_act act, const float *y, float *dy, int n, cn_shape shape);
/* The same for a run of `len` values of one channel plane (not softmax). */
void cn_act_forward_span(cn_act act, float *y, size_t len);
void cn_act_backward_span(cn_act act, const float *y, float *dy, size_t len);

/* For kinds without parameters, state or scratch. */
size_t cn_layer_no_params(const cn_layer *l);
size_t cn_layer_no_state(const cn_layer *l, int max_batch);
size_t cn_layer_no_work(const cn_layer *l, int max_batch, int threads);
void cn_layer_no_init(cn_layer *l, cn_rng *rng);

/* One pass of one layer, handed to each thread's share of the work. */
typedef struct {
  cn_layer *l;
  const float *x; /* the forward input */
  float *y;       /* the forward output (read-only in backward) */
  float *dy, *dx; /* backward: output gradient (may be overwritten), input gradient or NULL */
  int n, training;
  const cn_pass *p;
} cn_job;

/* Runs body(ctx, t, nt) on nt threads (t = 0..nt-1), or directly on the
 * calling thread when nt is 1: no OpenMP region at all then, which saves
 * the fork and, with LLVM's libomp, an allocation per region. */
void cn_parallel(int nt, void (*body)(void *ctx, int t, int nt), void *ctx);

/* Runs body(ctx, t, lo, hi) over items [0, n) on nt threads, handing the
 * items out in pieces (whole multiples of `unit`, a few per thread) to
 * whichever thread is free first: when one core runs slower than the
 * other (a busy hyperthread sibling, a descheduled vCPU), the faster one
 * takes more pieces instead of waiting at the barrier. Which thread takes
 * a piece never changes its result, so every split gives the same bits as
 * long as each item's work does not depend on the range it came in. */
void cn_parallel_items(int nt, int n, int unit, void (*body)(void *ctx, int t, int lo, int hi), void *ctx);

/* The share [lo, hi) of n items that thread t of nt takes: contiguous and
 * fixed, so every run splits work the same way. */
static inline void cn_split(int n, int t, int nt, int *lo, int *hi) {
  *lo = (int)((long long)n * t / nt);
  *hi = (int)((long long)n * (t + 1) / nt);
}

/* Sums in a fixed order that still vectorises: 16 interleaved partial sums
 * (element j goes to partial j % 16), combined in a fixed tree. A plain
 * `s += x[j]` loop is one serial chain the compiler may not reorder. */
#define CN_LANES 16
static inline float cn_lanes_total(float *acc) {
  for (int w = CN_LANES / 2; w > 0; w /= 2)
    for (int q = 0; q < w; q++) acc[q] += acc[q + w];
  return acc[0];
}

static inline float cn_sum(const float *restrict x, int n) {
  float acc[CN_LANES] = {0};
  int j = 0;
  for (; j + CN_LANES <= n; j += CN_LANES)
    for (int q = 0; q < CN_LANES; q++) acc[q] += x[j + q];
  for (int q = 0; j + q < n; q++) acc[q] += x[j + q];
  return cn_lanes_total(acc);
}

/* sum of (x - mu)^2 */
static inline float cn_sum_sq_dev(const float *restrict x, int n, float mu) {
  float acc[CN_LANES] = {0};
  int j = 0;
  for (; j + CN_LANES <= n; j += CN_LANES)
    for (int q = 0; q < CN_LANES; q++) acc[q] += (x[j + q] - mu) * (x[j + q] - mu);
  for (int q = 0; j + q < n; q++) acc[q] += (x[j + q] - mu) * (x[j + q] - mu);
  return cn_lanes_total(acc);
}

/* sum of a * (b - mu) */
static inline float cn_dot_dev(const float *restrict a, const float *restrict b, int n, float mu) {
  float acc[CN_LANES] = {0};
  int j = 0;
  for (; j + CN_LANES <= n; j += CN_LANES)
    for (int q = 0; q < CN_LANES; q++) acc[q] += a[j + q] * (b[j + q] - mu);
  for (int q = 0; j + q < n; q++) acc[q] += a[j + q] * (b[j + q] - mu);
  return cn_lanes_total(acc);
}

/* Glorot-uniform draws in [-limit, limit) from the init stream. */
void cn_glorot_uniform(float *w, size_t count, double fan_in, double fan_out, cn_rng *rng);

/* Rounds a float count up to whole 64-byte lines, so carved views stay aligned. */
static inline size_t cn_round_floats(size_t n) { return (n + 15) & ~(size_t)15; }

#endif
