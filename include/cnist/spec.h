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
  CN_LAYER_ACTIVATION,
  CN_LAYER_GLOBAL_AVGPOOL /* the mean of each channel: HxWxC -> C (Keras GlobalAveragePooling2D) */
} cn_layer_kind;
#define CN_LAYER_KINDS (CN_LAYER_GLOBAL_AVGPOOL + 1)

typedef enum { CN_ACT_NONE, CN_ACT_RELU, CN_ACT_SIGMOID, CN_ACT_TANH, CN_ACT_SOFTMAX } cn_act;
#define CN_ACTS (CN_ACT_SOFTMAX + 1)

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
#define CN_OPT_KINDS (CN_OPT_SGD + 1)

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
#define CN_LOSS_KINDS (CN_LOSS_CATEGORICAL + 1)

/* ---- training settings the model file's augment and schedule lines
 * describe; the batcher (augment.h) and the fit loop (optim.h) apply them ---- */

/* Data augmentation, drawn per image by the batcher (cnist/augment.h). */
/* What to draw; all zero means no augmentation. Ranges follow Keras's
 * ImageDataGenerator: rotation and shear in degrees, each uniform in
 * [-r, r]; zoom scales each axis independently by a factor uniform in
 * [1 - zoom, 1 + zoom]; shift moves each axis by up to that fraction of
 * the image's size. */
typedef struct {
  float rotation;      /* degrees, 0..180 */
  float zoom;          /* 0..0.9 */
  float shear;         /* degrees, 0..60 */
  float shift;         /* fraction of the size, 0..0.5 */
  float elastic_alpha; /* displacement scale in pixels (Simard: 34); 0: off */
  float elastic_sigma; /* smoothing of the displacement field in pixels (Simard: 4), 0.5..10 */
  float erase;         /* probability of erasing one rectangle, 0..1 */
  float flip;          /* probability of mirroring left to right, 0..1 (clothes, not digits) */
} cn_augment;

/* Checks every field against the ranges above; CN_EINVAL names the first
 * field out of range. */
int cn_augment_check(const cn_augment *a);
/* 1 when a asks for anything (a NULL a asks for nothing). */
int cn_augment_active(const cn_augment *a);

/* Learning-rate schedules: the factor by which the optimizer's initial
 * rate is multiplied at each step. A schedule is a function of the step
 * alone, so a resumed run continues it exactly; ReduceLROnPlateau, when
 * also asked for, multiplies the scheduled rate by its own reductions (the
 * rate of a step is lr * schedule factor * plateau factor).
 *
 *   constant     1
 *   exponential  gamma^e at epoch e (0-based), as Keras's
 *                LearningRateScheduler(lambda e: lr * gamma**e)
 *   step         gamma^floor(e / every)
 *   cosine       a linear warm-up from `start` to 1 over the first `warmup`
 *                fraction of all steps, then half a cosine from 1 down to
 *                `final` at the last step (Loshchilov & Hutter's SGDR
 *                without restarts)
 *   one_cycle    PyTorch's OneCycleLR (cosine annealing, two phases): from
 *                `start` up to 1 over the first `warmup` fraction of all
 *                steps, then down to `final`, each phase half a cosine
 *                (Smith & Topin 2017)
 */
typedef enum {
  CN_SCHEDULE_CONSTANT,
  CN_SCHEDULE_EXPONENTIAL,
  CN_SCHEDULE_STEP,
  CN_SCHEDULE_COSINE,
  CN_SCHEDULE_ONE_CYCLE
} cn_schedule_kind;
#define CN_SCHEDULE_KINDS (CN_SCHEDULE_ONE_CYCLE + 1)

typedef struct {
  cn_schedule_kind kind;
  int every;    /* step: epochs between two drops, >= 1 */
  float gamma;  /* exponential, step: the factor per epoch or per `every` epochs, in (0, 1] */
  float warmup; /* cosine, one_cycle: fraction of all steps spent rising, in [0, 1) */
  float start;  /* cosine, one_cycle: the first step's factor, in [0, 1] */
  float final;  /* cosine, one_cycle: the last step's factor, in [0, 1] */
} cn_schedule;

/* The defaults of each kind: exponential gamma 0.95 (Deotte's MNIST
 * recipe); step gamma 0.1 every 10 epochs; cosine no warm-up, final 0;
 * one_cycle warm-up 0.3, start 1/25, final 1/25/1e4 (PyTorch's). */
cn_schedule cn_schedule_default(cn_schedule_kind kind);
/* CN_EINVAL naming the first field out of range. */
int cn_schedule_check(const cn_schedule *s);
/* "constant", "exponential", "step", "cosine", "one_cycle". */
const char *cn_schedule_name(cn_schedule_kind kind);
const char *const *cn_schedule_names(void); /* the names in the enum's order, NULL-terminated */
/* The kind named `name`, or CN_EINVAL listing the names. */
int cn_schedule_parse(const char *name, cn_schedule_kind *out);

typedef struct {
  cn_optim_spec optim;
  int batch;             /* default 32 */
  int epochs;            /* default 10 */
  cn_loss_kind loss;
  float label_smoothing; /* of the training loss, [0, 1): 0 */
  float ema_momentum;    /* weight averaging's decay (Keras's use_ema/ema_momentum), [0, 1): 0 is off */
  cn_augment augment;    /* the `augment` line: all zero without one */
  cn_schedule schedule;  /* the `schedule` line: constant without one */
  double val_split;      /* fraction of the training images held out for validation, [0, 0.9]; 0: none
                          * (every image trains); -1: not set (the fit options' or 0.15) */
} cn_train_spec;

typedef enum { CN_CB_CHECKPOINT, CN_CB_REDUCE_LR, CN_CB_EARLY_STOP } cn_callback_kind;
#define CN_CB_KINDS (CN_CB_EARLY_STOP + 1)

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

/* The figures a callback can monitor: history.csv's columns of one epoch. */
typedef enum { CN_METRIC_LOSS, CN_METRIC_ACCURACY, CN_METRIC_VAL_LOSS, CN_METRIC_VAL_ACCURACY } cn_metric;
#define CN_METRICS (CN_METRIC_VAL_ACCURACY + 1)
const char *const *cn_metric_names(void); /* in the enum's order, NULL-terminated */
/* The metric named `name`, or CN_EINVAL listing the names. */
int cn_metric_parse(const char *name, cn_metric *out);

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
int cn_spec_add_global_avgpool(cn_spec *s);
int cn_spec_add_activation(cn_spec *s, cn_act act);

/* Parses model-file text. filename is used in messages, which read
 * "FILE:LINE:COL: what is wrong; what to write instead". */
int cn_spec_parse(const char *text, const char *filename, cn_spec *out);
/* Replaces s's augment or schedule settings (kind "augment" or "schedule")
 * with what that model-file line would say after its word ("rotation=15
 * zoom=0.1", "cosine warmup=0.02"), as the command line's --augment and
 * --schedule do; origin names it in messages ("option --augment, column 1:
 * ..."). s is unchanged when the line is refused. */
int cn_spec_override(cn_spec *s, const char *kind, const char *options, const char *origin);
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

const char *cn_layer_kind_name(cn_layer_kind k);  /* the model-file word: "dense", "conv2d", ... */
/* Keras's class and default layer name of a kind ("MaxPooling2D", "max_pooling2d"). */
const char *cn_layer_kind_keras_class(cn_layer_kind k);
const char *cn_layer_kind_keras_name(cn_layer_kind k);
const char *cn_act_name(cn_act a);                /* "relu", ..., "linear" for NONE */
const char *const *cn_act_names(void);            /* in the enum's order, NULL-terminated */

/* The model file's words for optimizers ("adam", "rmsprop", "sgd"), losses
 * ("sparse_categorical_crossentropy", "categorical_crossentropy") and
 * callbacks ("checkpoint", "reduce_lr", "early_stop"): one table each
 * (src/spec/kinds.c), which the parser, the writer, checkpoints
 * (cnist.optim), config.json, the report and the CLI all use. A kind out
 * of range is "?". The _names lists are the words in the enum's order,
 * NULL-terminated, for messages and help texts. */
const char *cn_opt_name(cn_opt_kind k);
const char *cn_loss_name(cn_loss_kind k);
const char *cn_callback_name(cn_callback_kind k);
const char *const *cn_opt_names(void);
const char *const *cn_loss_names(void);
const char *const *cn_callback_names(void);

#ifdef __cplusplus
}
#endif
#endif
