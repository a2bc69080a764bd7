/* Shape inference, size limits and parameter/cost statistics for a cn_spec.
 * Everything is computed in doubles first so that absurd sizes are refused
 * before any integer could overflow or any buffer be planned. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cnist/spec.h"
#include "core/error.h"
#include "spec/text.h"

/* One training image's activations and gradients must fit in this. */
#define CN_SPEC_MAX_TRAIN_BYTES (16.0 * 1024 * 1024 * 1024)

/* "FILE:LINE:1: " for a layer read from a file, "layer N (kind): " for one
 * built in code. layer -1 is the input line. */
static const char *where(const cn_spec *s, int layer, char *buf, size_t n) {
  int line = layer < 0 ? s->in_line : s->layers[layer].line;
  if (s->file[0] && line > 0)
    snprintf(buf, n, "%s:%d:1: ", s->file, line);
  else if (layer < 0)
    snprintf(buf, n, "input: ");
  else
    snprintf(buf, n, "layer %d (%s): ", layer + 1, cn_layer_kind_name(s->layers[layer].kind));
  return buf;
}

/* Output length of a window sliding over `in` (Keras conv/pool rules), or -1
 * when a valid window does not fit. */
static int window_out(int in, int k, int stride, int same) {
  if (same) return (in + stride - 1) / stride;
  if (in < k) return -1;
  return (in - k) / stride + 1;
}

static double elems(cn_shape sh) {
  return (double)sh.c * sh.h * sh.w;
}

/* Layer i gets a vector: the output of flatten, dense or global pooling
 * (a 1x1 image from a convolution is still an image). */
static int flat_input(const cn_spec *s, int i, cn_shape in) {
  if (in.h != 1 || in.w != 1 || i == 0) return 0;
  cn_layer_kind k = s->layers[i - 1].kind;
  return k == CN_LAYER_FLATTEN || k == CN_LAYER_DENSE || k == CN_LAYER_GLOBAL_AVGPOOL;
}

/* The shape after layer l given its input, or a failure status. */
static int layer_output(const cn_spec *s, int i, cn_shape in, cn_shape *out) {
  const cn_layer_spec *l = &s->layers[i];
  char at[300];
  *out = in;
  if (l->act < CN_ACT_NONE || l->act > CN_ACT_SOFTMAX)
    return cn_fail(CN_EINVAL, "%sunknown activation %d", where(s, i, at, sizeof at), (int)l->act);
  switch (l->kind) {
    case CN_LAYER_DENSE:
      if (in.h != 1 || in.w != 1)
        return cn_fail(CN_ESHAPE,
                       "%sdense needs a flat input but gets %dx%dx%d (HxWxC); add `flatten` before it",
                       where(s, i, at, sizeof at), in.h, in.w, in.c);
      if (l->units <= 0)
        return cn_fail(CN_ESHAPE, "%sdense needs a positive number of units, not %d",
                       where(s, i, at, sizeof at), l->units);
      *out = (cn_shape){l->units, 1, 1};
      return 0;
    case CN_LAYER_CONV2D:
    case CN_LAYER_MAXPOOL:
    case CN_LAYER_AVGPOOL: {
      int conv = l->kind == CN_LAYER_CONV2D;
      const char *what = conv                          ? "convolution"
                         : l->kind == CN_LAYER_MAXPOOL ? "max pooling"
                                                       : "average pooling";
      if (l->kh <= 0 || l->kw <= 0 || l->sh <= 0 || l->sw <= 0 || (conv && l->filters <= 0))
        return cn_fail(CN_ESHAPE, "%s%s sizes must be positive (window %dx%d, stride %dx%d)",
                       where(s, i, at, sizeof at), what, l->kh, l->kw, l->sh, l->sw);
      if (flat_input(s, i, in))
        return cn_fail(CN_ESHAPE,
                       "%s%s needs an image-shaped input but gets a flat vector of %d; "
                       "put it before `flatten`",
                       where(s, i, at, sizeof at), cn_layer_kind_name(l->kind), in.c);
      int oh = window_out(in.h, l->kh, l->sh, l->same);
      int ow = window_out(in.w, l->kw, l->sw, l->same);
      if (oh < 0 || ow < 0)
        return cn_fail(CN_ESHAPE,
                       "%sa valid %dx%d %s needs an input of at least %dx%d but gets %dx%d; "
                       "use padding=same or a smaller %s",
                       where(s, i, at, sizeof at), l->kh, l->kw, what, l->kh, l->kw, in.h, in.w,
                       conv ? "kernel" : "window");
      *out = (cn_shape){conv ? l->filters : in.c, oh, ow};
      return 0;
    }
    case CN_LAYER_FLATTEN:
      *out = (cn_shape){in.c * in.h * in.w, 1, 1}; /* fits: every tensor is checked < INT_MAX */
      return 0;
    case CN_LAYER_GLOBAL_AVGPOOL:
      if (flat_input(s, i, in))
        return cn_fail(CN_ESHAPE,
                       "%sglobal_avgpool needs an image-shaped input but gets a flat vector of %d; "
                       "put it before `flatten`",
                       where(s, i, at, sizeof at), in.c);
      *out = (cn_shape){in.c, 1, 1};
      return 0;
    case CN_LAYER_DROPOUT:
      if (!(l->rate >= 0.0f && l->rate < 1.0f))
        return cn_fail(CN_ESHAPE, "%sdropout rate must be in [0, 1), not %g", where(s, i, at, sizeof at),
                       (double)l->rate);
      return 0;
    case CN_LAYER_BATCHNORM:
    case CN_LAYER_ACTIVATION: return 0;
  }
  return cn_fail(CN_EINVAL, "%sunknown layer kind %d", where(s, i, at, sizeof at), (int)l->kind);
}

/* Parameters of layer i given its input: trainable and non-trainable. */
static void layer_params(const cn_layer_spec *l, cn_shape in, double *trainable, double *frozen) {
  *trainable = *frozen = 0;
  if (l->kind == CN_LAYER_DENSE) {
    *trainable = elems(in) * l->units + l->units;
  } else if (l->kind == CN_LAYER_CONV2D) {
    *trainable = (double)in.c * l->kh * l->kw * l->filters + l->filters;
  } else if (l->kind == CN_LAYER_BATCHNORM) {
    *trainable = 2.0 * in.c; /* gamma, beta */
    *frozen = 2.0 * in.c;    /* moving mean, moving variance */
  }
}

/* Forward multiply-adds of layer i for one image (dense and conv only). */
static double layer_macs(const cn_layer_spec *l, cn_shape in, cn_shape out) {
  if (l->kind == CN_LAYER_DENSE) return elems(in) * l->units;
  if (l->kind == CN_LAYER_CONV2D) return elems(out) * in.c * l->kh * l->kw;
  return 0;
}

/* Shapes into sh[0..n_layers], refusing sizes that could not be allocated. */
static int infer(const cn_spec *s, cn_shape *sh) {
  char at[300];
  if (s->in_c <= 0 || s->in_h <= 0 || s->in_w <= 0)
    return cn_fail(CN_ESHAPE, "%sinput sizes must be positive, not %dx%dx%d (HxWxC)",
                   where(s, -1, at, sizeof at), s->in_h, s->in_w, s->in_c);
  if (s->n_layers < 0 || s->n_layers > CN_MAX_LAYERS)
    return cn_fail(CN_EINVAL, "a model holds 0 to %d layers, not %d", CN_MAX_LAYERS, s->n_layers);
  sh[0] = (cn_shape){s->in_c, s->in_h, s->in_w};
  double bytes = elems(sh[0]) * 4, params = 0;
  if (elems(sh[0]) > INT_MAX) {
    char need[32];
    cn_format_bytes(elems(sh[0]) * 4, need, sizeof need);
    return cn_fail(CN_ENOMEM, "%san input of %dx%dx%d (HxWxC) needs %s per image; at most %d values fit",
                   where(s, -1, at, sizeof at), s->in_h, s->in_w, s->in_c, need, INT_MAX);
  }
  for (int i = 0; i < s->n_layers; i++) {
    int rc = layer_output(s, i, sh[i], &sh[i + 1]);
    if (rc) return rc;
    double n = elems(sh[i + 1]), tr, fr;
    layer_params(&s->layers[i], sh[i], &tr, &fr);
    params += tr + fr;
    bytes += n * 4 * 2; /* output and its gradient */
    char need[32];
    if (n > INT_MAX) {
      cn_format_bytes(n * 4 * 2, need, sizeof need);
      return cn_fail(CN_ENOMEM,
                     "%sthis layer's output and its gradient need %s per image (%.3g values; at most %d "
                     "fit); use fewer filters or units, or pool/stride earlier",
                     where(s, i, at, sizeof at), need, n, INT_MAX);
    }
    if (bytes > CN_SPEC_MAX_TRAIN_BYTES) {
      cn_format_bytes(bytes, need, sizeof need);
      return cn_fail(CN_ENOMEM,
                     "%straining one image would need %s of activations and gradients up to this "
                     "layer (at most 16 GiB); use fewer filters or units, or pool/stride earlier",
                     where(s, i, at, sizeof at), need);
    }
    if (params > INT_MAX) {
      cn_format_bytes(params * 4 * 4, need, sizeof need);
      return cn_fail(CN_ENOMEM,
                     "%sthe model would have %.3g parameters up to this layer (%s with gradients and "
                     "Adam moments; at most %d parameters); use fewer filters or units",
                     where(s, i, at, sizeof at), params, need, INT_MAX);
    }
  }
  return 0;
}

int cn_spec_check(const cn_spec *s, int classes, cn_shape *shapes) {
  cn_shape sh[CN_MAX_LAYERS + 1];
  int rc = infer(s, sh);
  if (rc) return rc;
  if (classes > 0) {
    char at[300];
    int last = s->n_layers - 1;
    cn_shape out = sh[s->n_layers];
    if (last < 0)
      return cn_fail(CN_ESHAPE,
                     "%sthe model has no layers; end it with `flatten` and `dense %d activation=softmax`",
                     where(s, -1, at, sizeof at), classes);
    if (out.h != 1 || out.w != 1)
      return cn_fail(CN_ESHAPE,
                     "%sthe model ends with a %dx%dx%d (HxWxC) map but the dataset has %d classes; "
                     "end it with `flatten` and `dense %d activation=softmax`",
                     where(s, last, at, sizeof at), out.h, out.w, out.c, classes, classes);
    if (out.c != classes)
      return cn_fail(CN_ESHAPE,
                     "%sthe last layer gives %d outputs but the dataset has %d classes; "
                     "write `dense %d activation=softmax`",
                     where(s, last, at, sizeof at), out.c, classes, classes);
  }
  if (shapes) memcpy(shapes, sh, sizeof(cn_shape) * (size_t)(s->n_layers + 1));
  return 0;
}

int cn_spec_stats_compute(const cn_spec *s, cn_spec_stats *out) {
  cn_shape sh[CN_MAX_LAYERS + 1];
  memset(out, 0, sizeof *out);
  int rc = cn_spec_check(s, 0, sh);
  if (rc) return rc;
  /* infer() bounded every figure, so size_t arithmetic below cannot overflow. */
  size_t bytes = (size_t)sh[0].c * sh[0].h * sh[0].w * sizeof(float);
  for (int i = 0; i < s->n_layers; i++) {
    double tr, fr;
    layer_params(&s->layers[i], sh[i], &tr, &fr);
    out->per_layer[i] = (size_t)tr + (size_t)fr;
    out->trainable += (size_t)tr;
    out->non_trainable += (size_t)fr;
    out->macs_per_image += layer_macs(&s->layers[i], sh[i], sh[i + 1]);
    bytes += (size_t)sh[i + 1].c * sh[i + 1].h * sh[i + 1].w * sizeof(float) * 2;
  }
  out->total = out->trainable + out->non_trainable;
  out->train_bytes_per_image = bytes;
  out->param_bytes = out->total * sizeof(float) * 4; /* values, gradients, two Adam moments */
  return 0;
}
