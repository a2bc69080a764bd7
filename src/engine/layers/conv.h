/* Internal to conv2d: the convolution's geometry and its three ways of
 * turning images into GEMMs (gemm.h).
 *
 * - Stride 1 (conv_shifted.c): the image is zero-padded once, and each row
 *   k = (c, ky, kx) of the im2col matrix is then a plain shifted row of the
 *   padded image, provided the output is laid out with the padded width
 *   ("padded-width layout": output pixel (oy, ox) at column oy*wp + ox,
 *   columns ox >= ow unused). GEMMs read those rows in place: no im2col
 *   matrix is ever written. The input gradient is the same convolution of
 *   the padded output gradient with the flipped, transposed weights.
 * - Any stride (conv2d.c): an explicit im2col matrix per image.
 * - 3x3 stride 1 with enough channels, fp32 (conv_winograd.c): Winograd's
 *   F(4x4, 3x3) for the forward pass and both gradients, 3 to 4 times
 *   fewer multiplies, on channels-last copies of the images.
 *
 * The first two produce the weight gradient transposed, dWt [c*kh*kw, f],
 * which the layer sums over images and transposes once per batch;
 * Winograd's is summed transformed, dU' [36][f, c], and transformed back
 * once per batch. */
#ifndef CN_ENGINE_CONV_H
#define CN_ENGINE_CONV_H

#include "engine/gemm.h"
#include "engine/layer.h"

typedef struct {
  int c, h, w;   /* input */
  int f, oh, ow; /* output */
  int kh, kw, sh, sw, pt, pl;
  int k;         /* rows of an im2col matrix: c*kh*kw */
  int npix;      /* oh*ow */
} cn_conv_geo;

cn_conv_geo cn_conv_geometry(const cn_layer *l);

/* ---- stride 1 (conv_shifted.c) ---- */

/* Scratch floats one thread needs for one image (need_dx: the backward pass
 * computes the input gradient). */
/* Images per chunk of this layer's weight gradient at this precision: a
 * batch split across processes splits in multiples of it. */
int cn_conv_split_unit(const cn_layer *l, cn_precision precision);

size_t cn_conv1_work_floats(const cn_conv_geo *g, int need_dx);
/* Floats of the flipped weights the input gradient uses. */
size_t cn_conv1_flipped_floats(const cn_conv_geo *g);

/* y [f, oh, ow] = act(W [f, k] . x [c, h, w] + bias) */
void cn_conv1_forward(const cn_conv_geo *g, const float *w, const float *bias, cn_act act, const float *x, float *y,
                      float *work, cn_gemm_fn *gemm);
/* wf [c, f, kh, kw] = W [f, c, kh-1-ky, kw-1-kx]: the weights of the
 * convolution that maps dy to dx. */
void cn_conv1_flip(const cn_conv_geo *g, const float *w, float *wf);
/* dwt [k, f] (+)= im2col(x) [k, npix] . dy^T [npix, f]; dx [c, h, w] (when
 * not NULL) = the convolution of dy [f, oh, ow] with wf. */
void cn_conv1_backward(const cn_conv_geo *g, const float *wf, const float *x, const float *dy, float *dwt,
                       int accumulate, float *dx, float *work, cn_gemm_fn *gemm);

/* The other way to dx, for layers with few input channels: dcol [k, ncols]
 * = W^T . dy in the padded-width layout, then each of its rows added back
 * where the forward pass read it (the adjoint of the shifted rows).
 * dcol holds cn_conv1_columns_floats(g) floats; work is the same per-thread
 * scratch as cn_conv1_backward's (its padded-input buffer is reused). */
size_t cn_conv1_columns_floats(const cn_conv_geo *g);
void cn_conv1_backward_dx_by_columns(const cn_conv_geo *g, const float *w, const float *dy, float *dx, float *work,
                                     float *dcol, cn_gemm_fn *gemm);

/* ---- Winograd F(4x4, 3x3) (conv_winograd.c) ---- */

/* Both channel counts at least this: with fewer, the 36 GEMMs over the
 * channels are too short to gain over the shifted-row GEMM. */
#define CN_WINO_MIN_CHANNELS 8
/* Images one call takes at most (their tiles side by side), and the
 * chunk of images whose weight gradient is summed into one partial. */
#define CN_WINO_MAX_IMAGES 8

/* 1 when layer g can go through Winograd (3x3, stride 1, channels). */
int cn_wino_fits(const cn_conv_geo *g);
/* Images per call: enough for wide GEMMs on small maps. */
int cn_wino_images(const cn_conv_geo *g);
/* Floats of one set of transformed kernels, forward [36][c, f] or input
 * gradient [36][f, c] (the last dimension rounded up to 16). */
size_t cn_wino_weights_floats(const cn_conv_geo *g);
/* Floats of the transformed weight gradient dU' [36][f, c] (c rounded up
 * to 16). */
size_t cn_wino_gradient_floats(const cn_conv_geo *g);
/* Per-thread scratch for cn_wino_forward and cn_wino_backward_dx. */
size_t cn_wino_work_floats(const cn_conv_geo *g);
/* The transformed kernels of w [f, c, 3, 3] into u, rows [lo, hi) of
 * them: for the forward pass (for_dx 0) U' [36][c, f], rows c; for the
 * input gradient (for_dx 1) of the flipped kernels, U' [36][f, c], rows f. */
void cn_wino_weights(const cn_conv_geo *g, const float *w, int for_dx, int lo, int hi, float *u);
/* y [nimg][f, oh, ow] = act(conv(x [nimg][c, h, w]) + bias), relu or none;
 * nimg <= cn_wino_images(g). */
void cn_wino_forward(const cn_conv_geo *g, const float *u, const float *bias, int relu, const float *x, int nimg,
                     float *y, float *work);
/* dx [nimg][c, h, w] from dy [nimg][f, oh, ow] (d pre-activation). */
void cn_wino_backward_dx(const cn_conv_geo *g, const float *u_dx, const float *dy, int nimg, float *dx, float *work);
/* The weight gradient in the transformed domain: du [36][f, c] (+)=
 * dM^T . V over the tiles of nimg images, x [nimg][c, h, w] and
 * dy [nimg][f, oh, ow]; du holds cn_wino_gradient_floats(g) floats. */
void cn_wino_backward_dw(const cn_conv_geo *g, const float *x, const float *dy, int nimg, int accumulate, float *du,
                         float *work);
/* dw [f, c*9 + ky*3 + kx] = the weight gradient G'^T dU' G' of du,
 * filters f in [lo, hi). */
void cn_wino_weight_gradient(const cn_conv_geo *g, const float *du, int lo, int hi, float *dw);

#endif
