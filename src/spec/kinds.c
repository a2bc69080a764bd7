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
