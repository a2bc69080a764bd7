/* Building a model from a cn_spec: layer geometry from the spec's shape
 * inference, every parameter in one allocation carved into named tensors in
 * checkpoint order, and Keras's initialisation from the seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "engine/gemm.h"
#include "engine/model_impl.h"

/* Where each tensor sits in the parameter block, filled while listing the
 * tensors and used once the block exists. */
typedef struct {
  size_t next;                     /* floats used so far */
  size_t offset[CN_MAX_TENSORS];
  unsigned char trainable[CN_MAX_TENSORS];
} layout;

/* Appends tensor `name` of layer l at the next cache line of the block. */
static void add_tensor(cn_model *m, layout *lay, const cn_layer *l, const char *name, int ndim, const int *shape,
                       int trainable) {
  int i = m->n_tensors++;
  cn_tensor_ref *t = &m->tensors[i];
  snprintf(t->name, sizeof t->name, "%d.%s", l->index, name);
  t->ndim = ndim;
  t->size = 1;
  for (int d = 0; d < ndim; d++) {
    t->shape[d] = shape[d];
    t->size *= (size_t)shape[d];
  }
  lay->offset[i] = lay->next;
  lay->trainable[i] = (unsigned char)trainable;
  lay->next += cn_round_floats(t->size);
  m->param_count += t->size;
}

/* Lists layer l's tensors with their shapes (PyTorch layouts). */
static void list_tensors(cn_model *m, layout *lay, const cn_layer *l) {
  switch (l->s.kind) {
  case CN_LAYER_DENSE:
    add_tensor(m, lay, l, "weight", 2, (int[]){l->out_size, l->in_size}, 1);
    add_tensor(m, lay, l, "bias", 1, (int[]){l->out_size}, 1);
    break;
  case CN_LAYER_CONV2D:
    add_tensor(m, lay, l, "weight", 4, (int[]){l->out.c, l->in.c, l->s.kh, l->s.kw}, 1);
    add_tensor(m, lay, l, "bias", 1, (int[]){l->out.c}, 1);
    break;
  case CN_LAYER_BATCHNORM:
    add_tensor(m, lay, l, "weight", 1, (int[]){l->in.c}, 1);
    add_tensor(m, lay, l, "bias", 1, (int[]){l->in.c}, 1);
    add_tensor(m, lay, l, "running_mean", 1, (int[]){l->in.c}, 0);
    add_tensor(m, lay, l, "running_var", 1, (int[]){l->in.c}, 0);
    break;
  default:
    break;
  }
}

/* Points the tensors into the block and gives each layer its views. */
static void bind_tensors(cn_model *m, const layout *lay) {
  float *values = m->param_block, *grads = m->param_block + m->param_floats;
  for (int i = 0; i < m->n_tensors; i++) {
    m->tensors[i].data = values + lay->offset[i];
    m->tensors[i].grad = lay->trainable[i] ? grads + lay->offset[i] : NULL;
  }
  int next = 0;
  for (int i = 0; i < m->n_layers; i++) {
    cn_layer *l = &m->layers[i];
    cn_layer_kind k = l->s.kind;
    int count = k == CN_LAYER_BATCHNORM ? 4 : k == CN_LAYER_DENSE || k == CN_LAYER_CONV2D ? 2 : 0;
    if (count == 0) continue;
    l->w = m->tensors[next].data;
    l->dw = m->tensors[next].grad;
    l->b = m->tensors[next + 1].data;
    l->db = m->tensors[next + 1].grad;
    if (count == 4) {
      l->run_mean = m->tensors[next + 2].data;
      l->run_var = m->tensors[next + 3].data;
    }
    next += count;
  }
}

/* A final softmax (inline or its own layer) is fused with the loss; it
 * needs a flat output, or the loss would mix positions. */
static int setup_final_softmax(cn_model *m) {
  m->n_run = m->n_layers;
  if (m->n_layers == 0) return 0;
  cn_layer *last = &m->layers[m->n_layers - 1];
  if (last->act != CN_ACT_SOFTMAX) return 0;
  cn_shape out = m->shapes[m->n_layers];
  if (out.h != 1 || out.w != 1)
    return cn_fail(CN_ESHAPE,
                   "layer %d (%s): the model ends in a softmax over a %dx%dx%d (HxWxC) map; "
                   "the loss needs one row of class scores per image: add `flatten` and `dense` before the softmax",
                   m->n_layers, cn_layer_kind_name(last->s.kind), out.h, out.w, out.c);
  m->final_softmax = 1;
  if (last->s.kind == CN_LAYER_ACTIVATION)
    m->n_run = m->n_layers - 1;
  else
    last->act = CN_ACT_NONE;
  return 0;
}

/* `batchnorm` then `activation relu`: batch norm applies the relu itself
 * (one pass over the activations instead of two, each way) and the
 * activation layer becomes an alias of its input, as flatten is. The
 * arithmetic is the same, so are the results. */
static void fuse_batchnorm_relu(cn_model *m) {
  for (int i = 0; i + 1 < m->n_run; i++) {
    cn_layer *bn = &m->layers[i], *act = &m->layers[i + 1];
    if (bn->s.kind == CN_LAYER_BATCHNORM && act->s.kind == CN_LAYER_ACTIVATION && act->act == CN_ACT_RELU) {
      bn->act = CN_ACT_RELU;
      act->ops = NULL;
    }
  }
}

/* A convolution with relu then a max pool: the pool's backward sends each
 * gradient to one pixel and can test that pixel's sign as it goes, so the
 * convolution skips its own pass of relu's derivative over its output.
 * The same tests on the same values: the same results. */
static void fuse_relu_maxpool(cn_model *m) {
  for (int i = 0; i + 1 < m->n_run; i++) {
    cn_layer *conv = &m->layers[i], *pool = &m->layers[i + 1];
    if (conv->ops == &cn_conv2d_ops && conv->act == CN_ACT_RELU && pool->s.kind == CN_LAYER_MAXPOOL) {
      conv->dy_is_preact = 1;
      pool->relu_below = 1;
    }
  }
}

int cn_model_new(const cn_spec *spec, uint64_t seed, cn_model **out) {
  *out = NULL;
  cn_model *m = calloc(1, sizeof *m);
  if (!m) return cn_fail(CN_ENOMEM, "model: out of memory");
  int rc = cn_spec_check(spec, 0, m->shapes);
  if (rc) {
    free(m);
    return rc;
  }
  m->spec = *spec;
  m->n_layers = spec->n_layers;
  layout lay = {0};
  int has_params = 0;
  for (int i = 0; i < m->n_layers; i++) {
    cn_layer *l = &m->layers[i];
    cn_layer_setup(l, &spec->layers[i], i, m->shapes[i], m->shapes[i + 1]);
    m->needs_dx[i] = has_params;
    if (l->ops && l->ops->param_floats(l) > 0) has_params = 1;
    list_tensors(m, &lay, l);
  }
  rc = setup_final_softmax(m);
  if (rc) {
    free(m);
    return rc;
  }
  fuse_batchnorm_relu(m);
  fuse_relu_maxpool(m);
  cn_shape in = m->shapes[0], o = m->shapes[m->n_layers];
  m->inputs = in.c * in.h * in.w;
  m->outputs = o.c * o.h * o.w;
  m->param_floats = lay.next;
  size_t bytes = cn_round_floats(2 * lay.next + 1) * sizeof(float);
  char what[160];
  snprintf(what, sizeof what, "model %s: its parameters with their gradients", spec->name);
  if ((rc = cn_check_fits_in_memory((double)bytes, what))) {
    free(m);
    return rc;
  }
  m->param_block = aligned_alloc(64, bytes);
  if (!m->param_block) {
    free(m);
    return cn_fail(CN_ENOMEM, "model %s: cannot allocate %zu bytes of parameters", spec->name, bytes);
  }
  memset(m->param_block, 0, bytes);
  bind_tensors(m, &lay);
  cn_rng init;
  cn_rng_seed(&init, seed, CN_RNG_INIT);
  for (int i = 0; i < m->n_layers; i++)
    if (m->layers[i].ops) m->layers[i].ops->init(&m->layers[i], &init);
  cn_rng_seed(&m->dropout_rng, seed, CN_RNG_DROPOUT);
  *out = m;
  return 0;
}

void cn_model_free(cn_model *m) {
  if (!m) return;
  free(m->arena);
  free(m->param_block);
  free(m);
}

const cn_spec *cn_model_spec(const cn_model *m) { return &m->spec; }
int cn_model_outputs(const cn_model *m) { return m->outputs; }
int cn_model_inputs(const cn_model *m) { return m->inputs; }

cn_tensor_ref *cn_model_tensors(cn_model *m, int *count) {
  *count = m->n_tensors;
  return m->tensors;
}

size_t cn_model_param_count(const cn_model *m) { return m->param_count; }
cn_rng *cn_model_rng(cn_model *m) { return &m->dropout_rng; }

int cn_model_set_precision(cn_model *m, cn_precision p) {
  if (p != CN_PRECISION_FP32 && p != CN_PRECISION_BF16)
    return cn_fail(CN_EINVAL, "model %s: unknown precision %d", m->spec.name, (int)p);
  if (p == CN_PRECISION_BF16 && !cn_gemm_bf16_available())
    return cn_fail(CN_EINVAL,
                   "model %s: bf16 needs a CPU with AVX512-BF16 and a build for it (-march=native on such a CPU); "
                   "this build has only fp32",
                   m->spec.name);
  m->precision = p;
  return 0;
}

cn_precision cn_model_precision(const cn_model *m) { return m->precision; }

int cn_model_set_label_smoothing(cn_model *m, float smoothing) {
  if (!(smoothing >= 0 && smoothing < 1))
    return cn_fail(CN_EINVAL, "model %s: label smoothing %g must be in [0, 1)", m->spec.name, (double)smoothing);
  m->label_smoothing = smoothing;
  return CN_OK;
}

/* The one table of precision names (config.json, metrics.json, the CLI). */
static const char *const precisions[CN_PRECISIONS + 1] = {[CN_PRECISION_FP32] = "fp32", [CN_PRECISION_BF16] = "bf16"};

const char *const *cn_precision_names(void) { return precisions; }

int cn_precision_parse(const char *name, cn_precision *out) {
  for (int p = 0; name && p < CN_PRECISIONS; p++)
    if (strcmp(name, precisions[p]) == 0) {
      *out = (cn_precision)p;
      return CN_OK;
    }
  return cn_fail(CN_EINVAL, "unknown precision \"%s\": use fp32 or bf16", name ? name : "");
}

const char *cn_precision_name(cn_precision p) { return precisions[p == CN_PRECISION_BF16 ? p : CN_PRECISION_FP32]; }
