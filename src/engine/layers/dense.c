/* Dense (fully connected): y = act(x W^T + b), weight [out, in] as PyTorch
 * stores it. Threads split the columns of each product (output units for
 * y, inputs for dW and dx) in whole GEMM panels; each value is summed in
 * one fixed order (gemm.h), so the result does not depend on the batch
 * size or the thread count. The weight gradient sums over the images in
 * order, one chain of multiply-adds per weight, so a batch split across
 * processes continues the chain the rank before relayed (layer.h). */
#include "engine/gemm.h"
#include "engine/layer.h"

/* Below this many multiply-adds a pass runs on one thread: waking a second
 * one costs more than it saves. */
#define DENSE_PARALLEL_MACS 65536.0

static size_t dense_params(const cn_layer *l) { return (size_t)l->in_size * l->out_size + (size_t)l->out_size; }

/* One GEMM scratch per thread. */
static size_t dense_work(const cn_layer *l, int max_batch, int threads) {
  (void)l;
  (void)max_batch;
  return (size_t)threads * cn_round_floats(cn_gemm_scratch_floats());
}

static void dense_init(cn_layer *l, cn_rng *rng) {
  cn_glorot_uniform(l->w, (size_t)l->out_size * l->in_size, l->in_size, l->out_size, rng);
  for (int o = 0; o < l->out_size; o++) l->b[o] = 0.0f;
}

static int dense_threads(const cn_layer *l, int n, const cn_pass *p) {
  double macs = (double)n * l->in_size * l->out_size;
  return macs < DENSE_PARALLEL_MACS ? 1 : p->threads;
}

/* Thread t's share [lo, hi) of `cols` columns, in whole panels of the
 * multiply the pass uses. */
static void split_columns(int cols, int t, int nt, cn_precision prec, int *lo, int *hi) {
  const int width = prec == CN_PRECISION_BF16 ? CN_GEMM_BF16_NR : CN_GEMM_NR;
  int panels = (cols + width - 1) / width;
  cn_split(panels, t, nt, lo, hi);
  *lo *= width;
  *hi = *hi * width < cols ? *hi * width : cols;
}

static float *scratch_of(const cn_pass *p, int t) { return p->work + (size_t)t * cn_round_floats(cn_gemm_scratch_floats()); }

/* Rows of x per thread from which the bf16 forward pass splits the batch
 * (each thread packs only its own images, and all of W) rather than the
 * output units (each thread packs all images and its part of W): below it,
 * packing W twice costs more than it saves. */
#define DENSE_BF16_ROW_SPLIT 128

/* x [n, in] -> y [n, out]: y[:, lo:hi] = x . W[lo:hi, :]^T + b[lo:hi], in
 * fp32 as dot products of rows (no transposed copy of W: one image is
 * cheap), in bf16 through the packed multiply */
static void dense_forward_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  const cn_layer *l = j->l;
  const int in = l->in_size, out = l->out_size;
  if (j->p->precision == CN_PRECISION_BF16 && j->n >= DENSE_BF16_ROW_SPLIT * nt) {
    int r0, r1;
    cn_split(j->n, t, nt, &r0, &r1);
    const cn_epilogue ep = {NULL, l->b, l->act == CN_ACT_RELU};
    cn_gemm_bf16(r1 - r0, out, in, cn_mat(j->x + (size_t)r0 * in, in, 1), cn_mat(l->w, 1, in),
                 j->y + (size_t)r0 * out, out, 0, &ep, scratch_of(j->p, t));
    return;
  }
  int lo, hi;
  split_columns(out, t, nt, j->p->precision, &lo, &hi);
  if (hi <= lo) return;
  const cn_epilogue ep = {NULL, l->b + lo, l->act == CN_ACT_RELU};
  const float *w = l->w + (size_t)lo * in;
  if (j->p->precision == CN_PRECISION_BF16)
    cn_gemm_bf16(j->n, hi - lo, in, cn_mat(j->x, in, 1), cn_mat(w, 1, in), j->y + lo, out, 0, &ep,
                 scratch_of(j->p, t));
  else
    cn_gemm_dot(j->n, hi - lo, in, j->x, in, w, in, j->y + lo, out, &ep);
}

static void dense_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  cn_job j = {l, x, y, NULL, NULL, n, training, p};
  cn_parallel(dense_threads(l, n, p), dense_forward_part, &j);
  if (l->act != CN_ACT_RELU) cn_act_forward(l->act, y, n, l->out);
}

/* dW[:, lo:hi] (+)= dy^T . x[:, lo:hi] (adding to the relayed sum when
 * j->training is 1 here); dx[:, lo:hi] = dy . W[:, lo:hi] */
static void dense_backward_part(void *ctx, int t, int nt) {
  const cn_job *j = ctx;
  const cn_layer *l = j->l;
  const int in = l->in_size, out = l->out_size, n = j->n;
  cn_gemm_fn *gemm = cn_gemm_for(j->p->precision);
  int lo, hi;
  split_columns(in, t, nt, j->p->precision, &lo, &hi);
  if (hi <= lo) return;
  gemm(out, hi - lo, n, cn_mat(j->dy, 1, out), cn_mat(j->x + lo, in, 1), l->dw + lo, in, j->training, NULL,
       scratch_of(j->p, t));
  if (j->dx)
    gemm(n, hi - lo, out, cn_mat(j->dy, out, 1), cn_mat(l->w + lo, in, 1), j->dx + lo, in, 0, NULL,
         scratch_of(j->p, t));
}

/* dy [n, out] (becomes d pre-activation) -> dW [out, in], db [out], dx [n, in] */
static void dense_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                           const cn_pass *p) {
  const int out = l->out_size;
  cn_act_backward(l->act, y, dy, n, l->out);
  const size_t w_bytes = sizeof(float) * (size_t)out * l->in_size, b_bytes = sizeof(float) * (size_t)out;
  float *restrict db = l->db;
  if (!cn_relay_in(p, db, b_bytes))
    for (int o = 0; o < out; o++) db[o] = 0.0f;
  for (int i = 0; i < n; i++) {
    const float *restrict di = dy + (size_t)i * out;
    for (int o = 0; o < out; o++) db[o] += di[o];
  }
  cn_relay_out(p, db, b_bytes);
  const int relayed = cn_relay_in(p, l->dw, w_bytes);
  cn_job j = {l, x, (float *)y, dy, dx, n, relayed, p};
  cn_parallel(dense_threads(l, n, p), dense_backward_part, &j);
  cn_relay_out(p, l->dw, w_bytes);
}

const cn_layer_ops cn_dense_ops = {dense_params, cn_layer_no_state, dense_work, dense_init, dense_forward,
                                   dense_backward};
/* Per image, such a convolution is one dot product per filter: as a conv
 * it ran one matrix-vector product per image and added its weight
 * gradient one image at a time; as a dense layer the batch is one GEMM. */
const cn_layer_ops cn_conv2d_whole_ops = {dense_params, cn_layer_no_state, dense_work, cn_conv_init, dense_forward,
                                          dense_backward};
