/* The model description: what a model file says (layers, training settings,
 * callbacks), the zoo of the study's models, and shape inference. Pure data:
 * no weights are allocated here. The text format is the contract in
 * docs/ARCHITECTURE.md ("The model file"). */
#ifndef CNIST_SPEC_H
#define CNIST_SPEC_H

#include "cnist/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  CN_LAYER_DENSE,
  CN_LAYER_CONV2D,
  CN_LAYER_MAXPOOL,
  CN_LAYER_AVGPOOL,
  CN_LAYER_BATCHNORM,
  CN_LAYER_DROPOUT,
  CN_LAYER_FLATTEN,
  CN_LAYER_ACTIVATION
} cn_layer_kind;

typedef enum { CN_ACT_NONE, CN_ACT_RELU, CN_ACT_SIGMOID, CN_ACT_TANH, CN_ACT_SOFTMAX } cn_act;

/* One layer line. Fields a kind does not use stay 0. */
typedef struct {
  cn_layer_kind kind;
  int units;           /* dense */
  int filters;         /* conv2d */
  int kh, kw;          /* conv2d kernel, pooling window */
  int sh, sw;          /* stride: conv2d default 1, pooling default = window */
  int same;            /* padding: 1 = same (Keras), 0 = valid (the default) */
  cn_act act;          /* inline activation=..., or the activation layer's function */
  float rate;          /* dropout, in [0, 1) */
  float momentum;      /* batchnorm, default 0.99 */
  float epsilon;       /* batchnorm, default 0.001 */
  int line;            /* line in the model file (0 when built in code) */
} cn_layer_spec;

typedef enum { CN_OPT_ADAM, CN_OPT_RMSPROP, CN_OPT_SGD } cn_opt_kind;

/* Optimizer settings, Keras defaults from cn_optim_spec_default(). */
typedef struct {
  cn_opt_kind kind;
  float lr;            /* adam/rmsprop 0.001, sgd 0.01 */
  float beta1, beta2;  /* adam: 0.9, 0.999 */
  float rho;           /* rmsprop: 0.9 */
  float eps;           /* adam, rmsprop: 1e-7 */
  float momentum;      /* sgd: 0 */
  int nesterov;        /* sgd: 0 */
  float weight_decay;  /* decoupled (AdamW, Loshchilov & Hutter 2019), every optimizer: 0 */
} cn_optim_spec;
cn_optim_spec cn_optim_spec_default(cn_opt_kind kind);

typedef enum {
  CN_LOSS_SPARSE_CATEGORICAL, /* integer labels: sparse_categorical_crossentropy */
  CN_LOSS_CATEGORICAL         /* one-hot labels: categorical_crossentropy */
} cn_loss_kind;

typedef struct {
  cn_optim_spec optim;
  int batch;           /* default 32 */
  int epochs;          /* default 10 */
  cn_loss_kind loss;
} cn_train_spec;

typedef enum { CN_CB_CHECKPOINT, CN_CB_REDUCE_LR, CN_CB_EARLY_STOP } cn_callback_kind;

/* A callback line, Keras names and defaults. mode: -1 min, +1 max, 0 auto
 * (max for accuracies, min for losses). */
typedef struct {
  cn_callback_kind kind;
  char monitor[32];    /* loss, accuracy, val_loss (default), val_accuracy */
  int mode;
  int save_best_only;  /* checkpoint: default 1 */
  float factor;        /* reduce_lr: default 0.1 */
  int patience;        /* reduce_lr: 10, early_stop: 0 */
  float min_lr;        /* reduce_lr: 0 */
  float min_delta;     /* reduce_lr: 1e-4, early_stop: 0 */
  int cooldown;        /* reduce_lr: 0 */
  int restore_best;    /* early_stop restore_best_weights: 0 */
  int line;
} cn_callback_spec;

/* A callback with Keras defaults for its kind (monitor val_loss, mode auto). */
void cn_callback_spec_default(cn_callback_spec *c, cn_callback_kind kind);

#define CN_MAX_LAYERS 64
#define CN_MAX_CALLBACKS 8

typedef struct {
  char name[64];          /* zoo name or file stem */
  char comment[1024];     /* the leading '#' comment block, kept by the writer */
  char file[256];         /* file name used in messages ("" when built in code) */
  int in_c, in_h, in_w;   /* input line: 28x28x1 is h=28 w=28 c=1 */
  int in_line;            /* line of the input line (0 when built in code) */
  int n_layers;
  cn_layer_spec layers[CN_MAX_LAYERS];
  cn_train_spec train;
  int n_callbacks;
  cn_callback_spec callbacks[CN_MAX_CALLBACKS];
} cn_spec;

/* Per-image shape of a tensor between layers (NCHW without N). Dense and
 * flatten outputs have h = w = 1 and c = features. */
typedef struct {
  int c, h, w;
} cn_shape;

/* Building a model in code: start from an input shape, add layers. Each
 * returns 0 or CN_EINVAL (too many layers, bad size). The train settings
 * start at Adam 0.001, batch 32, 10 epochs, sparse cross-entropy. */
void cn_spec_init(cn_spec *s, int c, int h, int w);
int cn_spec_add_dense(cn_spec *s, int units, cn_act act);
int cn_spec_add_conv2d(cn_spec *s, int filters, int kh, int kw, int stride, int same, cn_act act);
int cn_spec_add_pool(cn_spec *s, cn_layer_kind kind, int size, int stride);
int cn_spec_add_batchnorm(cn_spec *s);
int cn_spec_add_dropout(cn_spec *s, float rate);
int cn_spec_add_flatten(cn_spec *s);
int cn_spec_add_activation(cn_spec *s, cn_act act);

/* Parses model-file text. filename is used in messages, which read
 * "FILE:LINE:COL: what is wrong; what to write instead". */
int cn_spec_parse(const char *text, const char *filename, cn_spec *out);
/* A zoo name ("lenet") or a path to a model file. */
int cn_spec_load(const char *name_or_path, cn_spec *out);
/* Model-file text for s (malloc'd; caller frees). Parsing it gives s back. */
char *cn_spec_write(const cn_spec *s);

/* Shape inference: checks that every layer fits its input and, when
 * classes > 0, that the last layer has that many outputs. shapes (may be
 * NULL) receives n_layers+1 entries: the input, then each layer's output.
 * Refuses models whose buffers for one image would not fit in memory. */
int cn_spec_check(const cn_spec *s, int classes, cn_shape *shapes);

/* Parameter counts as Keras reports them: batch norm's moving mean and
 * variance count as non-trainable. */
typedef struct {
  size_t total, trainable, non_trainable;
  size_t per_layer[CN_MAX_LAYERS];
  double macs_per_image;          /* forward multiply-adds for one image */
  size_t train_bytes_per_image;   /* input + each layer output and its gradient, one image */
  size_t param_bytes;             /* parameters, gradients, Adam moments */
} cn_spec_stats;
int cn_spec_stats_compute(const cn_spec *s, cn_spec_stats *out);

/* The Keras-style summary table (malloc'd text). */
char *cn_spec_summary(const cn_spec *s);

/* The zoo: models/ compiled in. */
typedef struct {
  const char *name;
  const char *text;
} cn_zoo_model;
int cn_zoo_count(void);
const cn_zoo_model *cn_zoo_get(int i);
const cn_zoo_model *cn_zoo_find(const char *name);

const char *cn_layer_kind_name(cn_layer_kind k);  /* "dense", "conv2d", ... */
const char *cn_act_name(cn_act a);                /* "relu", ..., "linear" for NONE */

#ifdef __cplusplus
}
#endif
#endif
