/* The names of each layer kind: the model file's word and Keras's class and
 * default layer name (the summary prints both, as model.summary() does). */
#include "cnist/spec.h"

static const struct {
  const char *word, *keras_class, *keras_name;
} names[CN_LAYER_KINDS] = {
    [CN_LAYER_DENSE] = {"dense", "Dense", "dense"},
    [CN_LAYER_CONV2D] = {"conv2d", "Conv2D", "conv2d"},
    [CN_LAYER_MAXPOOL] = {"maxpool", "MaxPooling2D", "max_pooling2d"},
    [CN_LAYER_AVGPOOL] = {"avgpool", "AveragePooling2D", "average_pooling2d"},
    [CN_LAYER_BATCHNORM] = {"batchnorm", "BatchNormalization", "batch_normalization"},
    [CN_LAYER_DROPOUT] = {"dropout", "Dropout", "dropout"},
    [CN_LAYER_FLATTEN] = {"flatten", "Flatten", "flatten"},
    [CN_LAYER_ACTIVATION] = {"activation", "Activation", "activation"},
    [CN_LAYER_GLOBAL_AVGPOOL] = {"global_avgpool", "GlobalAveragePooling2D", "global_average_pooling2d"},
};

static int known(cn_layer_kind k) { return (int)k >= 0 && (int)k < CN_LAYER_KINDS && names[k].word; }

const char *cn_layer_kind_name(cn_layer_kind k) { return known(k) ? names[k].word : "?"; }
const char *cn_layer_kind_keras_class(cn_layer_kind k) { return known(k) ? names[k].keras_class : "?"; }
const char *cn_layer_kind_keras_name(cn_layer_kind k) { return known(k) ? names[k].keras_name : "?"; }

/* One table per name: the parser, the writer, checkpoints, config.json,
 * the report and the CLI's messages and help all read these. */
static const char *const optimizers[CN_OPT_KINDS + 1] = {
    [CN_OPT_ADAM] = "adam", [CN_OPT_RMSPROP] = "rmsprop", [CN_OPT_SGD] = "sgd"};
static const char *const losses[CN_LOSS_KINDS + 1] = {
    [CN_LOSS_SPARSE_CATEGORICAL] = "sparse_categorical_crossentropy",
    [CN_LOSS_CATEGORICAL] = "categorical_crossentropy"};
static const char *const acts[CN_ACTS + 1] = {[CN_ACT_NONE] = "linear", [CN_ACT_RELU] = "relu",
                                               [CN_ACT_SIGMOID] = "sigmoid", [CN_ACT_TANH] = "tanh",
                                               [CN_ACT_SOFTMAX] = "softmax"};
static const char *const callbacks[CN_CB_KINDS + 1] = {
    [CN_CB_CHECKPOINT] = "checkpoint", [CN_CB_REDUCE_LR] = "reduce_lr", [CN_CB_EARLY_STOP] = "early_stop"};

const char *const *cn_act_names(void) { return acts; }
const char *const *cn_opt_names(void) { return optimizers; }
const char *const *cn_loss_names(void) { return losses; }
const char *const *cn_callback_names(void) { return callbacks; }

const char *cn_act_name(cn_act a) { return (int)a >= 0 && (int)a < CN_ACTS ? acts[a] : "?"; }
const char *cn_opt_name(cn_opt_kind k) { return (int)k >= 0 && (int)k < CN_OPT_KINDS ? optimizers[k] : "?"; }
const char *cn_loss_name(cn_loss_kind k) { return (int)k >= 0 && (int)k < CN_LOSS_KINDS ? losses[k] : "?"; }
const char *cn_callback_name(cn_callback_kind k) {
  return (int)k >= 0 && (int)k < CN_CB_KINDS ? callbacks[k] : "?";
}
