/* 2-D convolution (cross-correlation, as Keras and PyTorch compute it):
 * y = act(W * x + b), weight [f, c, kh, kw], Keras `same`/`valid` padding
 * with the odd padding pixel after (layer.c). Each image becomes GEMMs
 * (conv.h): stride 1 through shifted rows of the padded image
 * (conv_shifted.c), other strides through an explicit im2col matrix here:
 *   y_i [f, oh*ow] = W [f, c*kh*kw] . col_i [c*kh*kw, oh*ow],
 * bias and relu applied as the GEMM's tiles are stored. fp32 3x3 layers
 * with enough channels take the forward pass and both gradients through
 * Winograd's F(4x4, 3x3) instead (conv_winograd.c).
 * Threads take whole images. Weight gradients are summed per fixed chunk of
 * images (CONV_GRAD_CHUNK, or CN_WINO_MAX_IMAGES for Winograd), then the
 * chunks in order; with gemm.h's fixed summation order the result does not
 * depend on the thread count, and a batch split across processes in whole
 * chunks (cn_conv_split_unit) relays the chunks' sum on in that order. */
#include <string.h>

#include "engine/layers/conv.h"

#define CONV_GRAD_CHUNK 4
/* Below this many multiply-adds a pass runs on one thread. */
#define CONV_PARALLEL_MACS 65536.0

cn_conv_geo cn_conv_geometry(const cn_layer *l) {
  cn_conv_geo g = {l->in.c, l->in.h, l->in.w, l->out.c, l->out.h, l->out.w, l->s.kh, l->s.kw,
                   l->s.sh, l->s.sw, l->pad_t, l->pad_l, 0, 0};
  g.k = g.c * g.kh * g.kw;
  g.npix = g.oh * g.ow;
  return g;
}

static int stride1(const cn_conv_geo *g) { return g->sh == 1 && g->sw == 1; }

/* Winograd for this pass: fp32 only, so the bf16 option keeps its own
 * (measured) arithmetic. */
static int winograd(const cn_conv_geo *g, const cn_pass *p) {
  return p->precision == CN_PRECISION_FP32 && cn_wino_fits(g);
}

/* The input gradient of a stride-1 layer: the flipped convolution packs
 * about one float per c multiply-adds, the column gradient (added back
 * row by row) moves about one per f; take the cheaper. */
static int dx_by_flipped_conv(const cn_conv_geo *g) { return stride1(g) && 2 * g->c >= g->f; }

/* The output columns [lo, hi) whose input column ox*sw - pl + kx lies
 * inside [0, w); 0 <= lo <= hi <= ow. */
static void valid_columns(const cn_conv_geo *g, int kx, int *lo, int *hi) {
  int a = g->pl - kx > 0 ? (g->pl - kx + g->sw - 1) / g->sw : 0;
  int b = g->w + g->pl - kx > 0 ? (g->w + g->pl - kx + g->sw - 1) / g->sw : 0;
  if (a > g->ow) a = g->ow;
  if (b > g->ow) b = g->ow;
  *lo = a;
  *hi = b > a ? b : a;
}

/* x [c, h, w] -> col [c*kh*kw, oh*ow], zeros where the window leaves the image. */
static void im2col(const cn_conv_geo *g, const float *restrict x, float *restrict col) {
  for (int c = 0; c < g->c; c++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        float *restrict row = col + (size_t)((c * g->kh + ky) * g->kw + kx) * g->npix;
        int lo, hi;
        valid_columns(g, kx, &lo, &hi);
        for (int oy = 0; oy < g->oh; oy++) {
          float *restrict r = row + (size_t)oy * g->ow;
          int iy = oy * g->sh - g->pt + ky;
          if (iy < 0 || iy >= g->h) {
            for (int ox = 0; ox < g->ow; ox++) r[ox] = 0.0f;
            continue;
          }
          const float *restrict xr = x + ((size_t)c * g->h + iy) * g->w - g->pl + kx;
          for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
          if (g->sw == 1)
            for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox];
          else
            for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox * g->sw];
          for (int ox = hi; ox < g->ow; ox++) r[ox] = 0.0f;
        }
      }
}

/* The adjoint of im2col: dx [c, h, w] = sum of col entries that read each pixel. */
static void col2im(const cn_conv_geo *g, const float *restrict col, float *restrict dx) {
  memset(dx, 0, sizeof(float) * (size_t)g->c * g->h * g->w);
  for (int c = 0; c < g->c; c++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        const float *restrict row = col + (size_t)((c * g->kh + ky) * g->kw + kx) * g->npix;
        int lo, hi;
        valid_columns(g, kx, &lo, &hi);
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->pt + ky;
          if (iy < 0 || iy >= g->h) continue;
          const float *restrict r = row + (size_t)oy * g->ow;
          float *restrict xr = dx + ((size_t)c * g->h + iy) * g->w - g->pl + kx;
          if (g->sw == 1)
            for (int ox = lo; ox < hi; ox++) xr[ox] += r[ox];
          else
            for (int ox = lo; ox < hi; ox++) xr[ox * g->sw] += r[ox];
        }
      }
}

static size_t conv_params(const cn_layer *l) {
  cn_conv_geo g = cn_conv_geometry(l);
  return (size_t)g.f * g.k + (size_t)g.f;
}

/* Images per chunk of the weight gradient: Winograd's are larger, so that
 * its transformed partials (36 planes of f x c) are fewer and each call's
 * GEMM sums over more tiles. */
static int chunk_size(const cn_conv_geo *g, const cn_pass *p) {
  return winograd(g, p) ? CN_WINO_MAX_IMAGES : CONV_GRAD_CHUNK;
}
static int chunks_of(int n, int size) { return (n + size - 1) / size; }
/* The most chunks a pass can have: the work block is laid out for these. */
static int chunks(int n) { return chunks_of(n, CONV_GRAD_CHUNK); }

/* Scratch of one thread: an im2col matrix, its gradient and GEMM scratch,
 * or for stride 1 conv_shifted.c's buffers (and the column gradient when
 * dx goes through it), or Winograd's, whichever is more (a pass uses one
 * or the other, the precision decides). */
static size_t per_thread(const cn_conv_geo *g) {
  size_t cols = cn_round_floats((size_t)g->k * g->npix), direct;
  if (!stride1(g)) return 2 * cols + cn_round_floats(cn_gemm_scratch_floats());
  if (dx_by_flipped_conv(g))
    direct = cn_round_floats(cn_conv1_work_floats(g, 1));
  else
    direct = cn_round_floats(cn_conv1_work_floats(g, 0)) + cn_round_floats(cn_conv1_columns_floats(g));
  const size_t wino = cn_wino_fits(g) ? cn_round_floats(cn_wino_work_floats(g)) : 0;
  return direct > wino ? direct : wino;
}

/* One partial per chunk of images: its weight part, dWt [k, f], or for
 * Winograd dU' [36][f, c] (transformed back to dW once, after the chunks
 * are summed), then db [f]. */
static size_t partial_weights(const cn_conv_geo *g, int wino) {
  return wino ? cn_wino_gradient_floats(g) : (size_t)g->k * g->f;
}
static size_t partial_floats(const cn_conv_geo *g) {
  const size_t direct = partial_weights(g, 0), wino = cn_wino_fits(g) ? partial_weights(g, 1) : 0;
  return cn_round_floats((direct > wino ? direct : wino) + (size_t)g->f);
}

/* The work block: every thread's scratch, the chunk partials, the sum
 * relayed from the rank before (a split batch), the flipped weights
 * (stride 1), Winograd's transformed weights (forward, then input
 * gradient). */
static float *thread_work(const cn_pass *p, const cn_conv_geo *g, int t) { return p->work + (size_t)t * per_thread(g); }
static float *partials_of(const cn_pass *p, const cn_conv_geo *g) { return thread_work(p, g, p->threads); }
static float *relayed_of(const cn_pass *p, const cn_conv_geo *g, int n) {
  return partials_of(p, g) + (size_t)chunks(n) * partial_floats(g);
}
static float *flipped_of(const cn_pass *p, const cn_conv_geo *g, int n) { return relayed_of(p, g, n) + partial_floats(g); }
static size_t flipped_floats(const cn_conv_geo *g) {
  return dx_by_flipped_conv(g) ? cn_round_floats(cn_conv1_flipped_floats(g)) : 0;
}
static float *wino_weights_of(const cn_pass *p, const cn_conv_geo *g, int n, int for_dx) {
  return flipped_of(p, g, n) + flipped_floats(g) + (for_dx ? cn_round_floats(cn_wino_weights_floats(g)) : 0);
}
/* A stride-1 thread's column gradient, after conv_shifted.c's buffers. */
static float *dcol_of(const cn_pass *p, const cn_conv_geo *g, int t) {
  return thread_work(p, g, t) + cn_round_floats(cn_conv1_work_floats(g, 0));
}

static size_t conv_work(const cn_layer *l, int max_batch, int threads) {
  cn_conv_geo g = cn_conv_geometry(l);
  return (size_t)threads * per_thread(&g) + (size_t)(chunks(max_batch) + 1) * partial_floats(&g) + flipped_floats(&g) +
         (cn_wino_fits(&g) ? 2 * cn_round_floats(cn_wino_weights_floats(&g)) : 0);
}

void cn_conv_init(cn_layer *l, cn_rng *rng) {
  cn_conv_geo g = cn_conv_geometry(l);
  /* Keras: fan_in = c*kh*kw, fan_out = f*kh*kw */
  cn_glorot_uniform(l->w, (size_t)g.f * g.k, (double)g.k, (double)g.f * g.kh * g.kw, rng);
  for (int f = 0; f < g.f; f++) l->b[f] = 0.0f;
}

/* Threads for a pass over n images that splits `units` ways (images, or
 * chunks of them): no more threads than units, so one image does not wake
 * a thread that has nothing to do. */
static int conv_threads(const cn_conv_geo *g, int n, int units, const cn_pass *p) {
  double macs = (double)n * g->f * g->k * g->npix;
  if (macs < CONV_PARALLEL_MACS) return 1;
  return p->threads < units ? p->threads : units;
}

/* Winograd's transformed weights, rows [lo, hi) of them */
typedef struct {
  const cn_conv_geo *g;
  const float *w;
  float *u;
  int for_dx;
} wino_weights_job;

static void wino_weights_part(void *ctx, int t, int nt) {
  const wino_weights_job *j = ctx;
  int lo, hi;
  cn_split(j->for_dx ? j->g->f : j->g->c, t, nt, &lo, &hi);
  cn_wino_weights(j->g, j->w, j->for_dx, lo, hi, j->u);
}

static void wino_weights(const cn_conv_geo *g, const float *w, int for_dx, float *u, const cn_pass *p) {
  wino_weights_job j = {g, w, u, for_dx};
  const int rows = for_dx ? g->f : g->c, nt = p->threads < rows ? p->threads : rows;
  cn_parallel((double)g->f * g->c < 1024 ? 1 : nt, wino_weights_part, &j);
}

/* Winograd forward of images [lo, hi), cn_wino_images(g) per call */
static void wino_forward_images(const cn_job *j, const cn_conv_geo *g, int lo, int hi, float *work) {
  const cn_layer *l = j->l;
  const float *u = wino_weights_of(j->p, g, j->n, 0);
  const int step = cn_wino_images(g);
  for (int i = lo; i < hi; i += step) {
    const int nimg = hi - i < step ? hi - i : step;
    cn_wino_forward(g, u, l->b, l->act == CN_ACT_RELU, j->x + (size_t)i * l->in_size, nimg,
                    j->y + (size_t)i * l->out_size, work);
  }
}

/* x [n, c, h, w] -> y [n, f, oh, ow], images [lo, hi) of n */
static void conv_forward_part(void *ctx, int t, int lo, int hi) {
  const cn_job *j = ctx;
  const cn_layer *l = j->l;
  const cn_conv_geo g = cn_conv_geometry(l);
  const size_t in_size = (size_t)l->in_size, out_size = (size_t)l->out_size;
  const cn_epilogue ep = {l->b, NULL, l->act == CN_ACT_RELU};
  float *work = thread_work(j->p, &g, t);
  float *col = work, *scratch = col + 2 * cn_round_floats((size_t)g.k * g.npix);
  cn_gemm_fn *gemm = cn_gemm_for(j->p->precision);
  if (winograd(&g, j->p)) {
    wino_forward_images(j, &g, lo, hi, work);
    if (l->act != CN_ACT_RELU)
      for (int i = lo; i < hi; i++) cn_act_forward(l->act, j->y + (size_t)i * out_size, 1, l->out);
    return;
  }
  for (int i = lo; i < hi; i++) {
    const float *xi = j->x + (size_t)i * in_size;
    float *yi = j->y + (size_t)i * out_size;
    if (stride1(&g)) {
      cn_conv1_forward(&g, l->w, l->b, l->act, xi, yi, work, gemm);
    } else {
      im2col(&g, xi, col);
      gemm(g.f, g.npix, g.k, cn_mat(l->w, g.k, 1), cn_mat(col, g.npix, 1), yi, g.npix, 0, &ep, scratch);
    }
    if (l->act != CN_ACT_RELU) cn_act_forward(l->act, yi, 1, l->out);
  }
}

static void conv_forward(cn_layer *l, const float *x, float *y, int n, int training, const cn_pass *p) {
  const cn_conv_geo g = cn_conv_geometry(l);
  cn_job j = {l, x, y, NULL, NULL, n, training, p};
  if (winograd(&g, p)) wino_weights(&g, l->w, 0, wino_weights_of(p, &g, n, 0), p);
  /* Winograd's images go in whole groups, as one thread would take them */
  cn_parallel_items(conv_threads(&g, n, n, p), n, winograd(&g, p) ? cn_wino_images(&g) : 1, conv_forward_part, &j);
}

/* dy [n, f, oh, ow] (becomes d pre-activation) -> one partial (dWt [k, f]
 * or Winograd's dU, and db [f]) per chunk of images, dx [n, c, h, w];
 * chunks [lo, hi) */
static void conv_backward_part(void *ctx, int t, int lo, int hi) {
  const cn_job *j = ctx;
  const cn_layer *l = j->l;
  const cn_conv_geo g = cn_conv_geometry(l);
  const size_t in_size = (size_t)l->in_size, out_size = (size_t)l->out_size;
  const size_t cols = cn_round_floats((size_t)g.k * g.npix);
  float *work = thread_work(j->p, &g, t), *col = work, *dcol = col + cols, *scratch = dcol + cols;
  const float *wf = flipped_of(j->p, &g, j->n);
  cn_gemm_fn *gemm = cn_gemm_for(j->p->precision);
  const int wino = winograd(&g, j->p), step = cn_wino_images(&g);
  const float *u_dx = wino_weights_of(j->p, &g, j->n, 1);
  const int size = chunk_size(&g, j->p);
  for (int ch = lo; ch < hi; ch++) {
    float *dwt = partials_of(j->p, &g) + (size_t)ch * partial_floats(&g), *restrict db = dwt + partial_weights(&g, wino);
    int first = ch * size, last = first + size < j->n ? first + size : j->n;
    for (int f = 0; f < g.f; f++) db[f] = 0.0f;
    for (int i = first; i < last; i++) {
      const float *xi = j->x + (size_t)i * in_size;
      float *dyi = j->dy + (size_t)i * out_size, *dxi = j->dx ? j->dx + (size_t)i * in_size : NULL;
      if (!l->dy_is_preact) cn_act_backward(l->act, j->y + (size_t)i * out_size, dyi, 1, l->out);
      for (int f = 0; f < g.f; f++) db[f] += cn_sum(dyi + (size_t)f * g.npix, g.npix);
      if (wino) continue; /* below, for the chunk's images at once */
      if (stride1(&g)) {
        const int flipped = dx_by_flipped_conv(&g);
        cn_conv1_backward(&g, wf, xi, dyi, dwt, i != first, flipped ? dxi : NULL, work, gemm);
        if (dxi && !flipped) cn_conv1_backward_dx_by_columns(&g, l->w, dyi, dxi, work, dcol_of(j->p, &g, t), gemm);
        continue;
      }
      im2col(&g, xi, col);
      /* dWt [k, f] (+)= col [k, npix] . dy_i^T [npix, f] */
      gemm(g.k, g.f, g.npix, cn_mat(col, g.npix, 1), cn_mat(dyi, 1, g.npix), dwt, g.f, i != first, NULL, scratch);
      if (dxi) {
        /* dcol [k, npix] = W^T [k, f] . dy_i [f, npix] */
        gemm(g.k, g.npix, g.f, cn_mat(l->w, 1, g.k), cn_mat(dyi, g.npix, 1), dcol, g.npix, 0, NULL, scratch);
        col2im(&g, dcol, dxi);
      }
    }
    if (wino) /* dWt is dU here */
      for (int i = first; i < last; i += step) {
        const int nimg = last - i < step ? last - i : step;
        cn_wino_backward_dw(&g, j->x + (size_t)i * in_size, j->dy + (size_t)i * out_size, nimg, i != first, dwt, work);
        if (j->dx)
          cn_wino_backward_dx(&g, u_dx, j->dy + (size_t)i * out_size, nimg, j->dx + (size_t)i * in_size, work);
      }
  }
}

/* The sum of the chunk partials: acc, which is chunk 0's partial (from =
 * 1) or the sum relayed from the rank before (from = 0), collects chunks
 * [from, chunks) in order. */
typedef struct {
  const cn_job *j;
  float *acc;
  int from;
} conv_sum;

/* Winograd: the chunk partials dU and db summed into acc; floats [lo, hi)
 * of them. */
static void wino_reduce_part(void *ctx, int t, int nt) {
  const conv_sum *sum = ctx;
  const cn_job *j = sum->j;
  const cn_conv_geo g = cn_conv_geometry(j->l);
  const size_t stride = partial_floats(&g);
  const float *part = partials_of(j->p, &g);
  float *restrict acc = sum->acc;
  const int nchunks = chunks_of(j->n, chunk_size(&g, j->p)), total = (int)(partial_weights(&g, 1) + (size_t)g.f);
  int lo, hi;
  cn_split(total, t, nt, &lo, &hi);
  for (int c = sum->from; c < nchunks; c++) {
    const float *restrict pc = part + (size_t)c * stride;
    for (int q = lo; q < hi; q++) acc[q] += pc[q];
  }
}

/* Winograd: dW [f, k] = G^T dU G of the summed dU, and db; filters [lo, hi). */
static void wino_gradient_part(void *ctx, int t, int nt) {
  const conv_sum *sum = ctx;
  const cn_job *j = sum->j;
  const cn_conv_geo g = cn_conv_geometry(j->l);
  const float *du = sum->acc, *db = du + partial_weights(&g, 1);
  int lo, hi;
  cn_split(g.f, t, nt, &lo, &hi);
  cn_wino_weight_gradient(&g, du, lo, hi, j->l->dw);
  for (int f = lo; f < hi; f++) j->l->db[f] = db[f];
}

/* dW [f, k] = the sum of the chunk partials dWt [k, f] into acc, and db
 * likewise; rows k in [lo, hi). */
static void conv_reduce_part(void *ctx, int t, int nt) {
  const conv_sum *sum = ctx;
  const cn_job *j = sum->j;
  const cn_conv_geo g = cn_conv_geometry(j->l);
  const size_t stride = partial_floats(&g);
  const float *part = partials_of(j->p, &g);
  const int nchunks = chunks(j->n);
  int lo, hi;
  cn_split(g.k + 1, t, nt, &lo, &hi); /* row k = g.k is the bias */
  for (int k = lo; k < hi; k++) {
    float *restrict row = sum->acc + (size_t)k * g.f;
    for (int c = sum->from; c < nchunks; c++) {
      const float *restrict pc = part + (size_t)c * stride + (size_t)k * g.f;
      for (int f = 0; f < g.f; f++) row[f] += pc[f];
    }
    for (int f = 0; f < g.f; f++) {
      if (k < g.k)
        j->l->dw[(size_t)f * g.k + k] = row[f];
      else
        j->l->db[f] = row[f];
    }
  }
}

static void conv_backward(cn_layer *l, const float *x, const float *y, float *dy, float *dx, int n,
                          const cn_pass *p) {
  const cn_conv_geo g = cn_conv_geometry(l);
  if (dx && winograd(&g, p))
    wino_weights(&g, l->w, 1, wino_weights_of(p, &g, n, 1), p);
  else if (dx && dx_by_flipped_conv(&g))
    cn_conv1_flip(&g, l->w, flipped_of(p, &g, n));
  cn_job j = {l, x, (float *)y, dy, dx, n, 1, p};
  const int nchunks = chunks_of(n, chunk_size(&g, p));
  cn_parallel_items(conv_threads(&g, n, nchunks, p), nchunks, 1, conv_backward_part, &j);
  const int wino = winograd(&g, p);
  const size_t bytes = sizeof(float) * (partial_weights(&g, wino) + (size_t)g.f);
  conv_sum sum = {&j, partials_of(p, &g), 1};
  if (cn_relay_in(p, relayed_of(p, &g, n), bytes)) sum = (conv_sum){&j, relayed_of(p, &g, n), 0};
  if (wino) {
    cn_parallel(conv_threads(&g, n, g.f, p), wino_reduce_part, &sum);
    cn_relay_out(p, sum.acc, bytes);
    cn_parallel(conv_threads(&g, n, g.f, p), wino_gradient_part, &sum);
  } else {
    cn_parallel(conv_threads(&g, n, g.k + 1, p), conv_reduce_part, &sum);
    cn_relay_out(p, sum.acc, bytes);
  }
}

int cn_conv_split_unit(const cn_layer *l, cn_precision precision) {
  const cn_conv_geo g = cn_conv_geometry(l);
  return precision == CN_PRECISION_FP32 && cn_wino_fits(&g) ? CN_WINO_MAX_IMAGES : CONV_GRAD_CHUNK;
}

const cn_layer_ops cn_conv2d_ops = {conv_params, cn_layer_no_state, conv_work, cn_conv_init, conv_forward,
                                    conv_backward};
