/* Building models in code, shape inference and parameter counts. */
#include "cnist.h"
#include "test.h"

/* LeNet as in docs/ARCHITECTURE.md: 61,706 params. */
static void lenet(cn_spec *s) {
  cn_spec_init(s, 1, 28, 28);
  cn_spec_add_conv2d(s, 6, 5, 5, 1, 1, CN_ACT_RELU);
  cn_spec_add_pool(s, CN_LAYER_MAXPOOL, 2, 0);
  cn_spec_add_conv2d(s, 16, 5, 5, 1, 0, CN_ACT_RELU);
  cn_spec_add_pool(s, CN_LAYER_MAXPOOL, 2, 0);
  cn_spec_add_flatten(s);
  cn_spec_add_dense(s, 120, CN_ACT_RELU);
  cn_spec_add_dense(s, 84, CN_ACT_RELU);
  cn_spec_add_dense(s, 10, CN_ACT_SOFTMAX);
}

static void test_defaults(void) {
  cn_spec s;
  cn_spec_init(&s, 1, 28, 28);
  CHECK(s.train.optim.kind == CN_OPT_ADAM);
  CHECK_NEAR(s.train.optim.lr, 1e-3, 1e-9);
  CHECK(s.train.batch == 32 && s.train.epochs == 10);
  CHECK(s.train.loss == CN_LOSS_SPARSE_CATEGORICAL);
  cn_optim_spec r = cn_optim_spec_default(CN_OPT_RMSPROP);
  CHECK_NEAR(r.rho, 0.9, 1e-7);
  CHECK_NEAR(r.eps, 1e-7, 1e-12);
  cn_optim_spec g = cn_optim_spec_default(CN_OPT_SGD);
  CHECK_NEAR(g.lr, 0.01, 1e-9);
  CHECK(g.momentum == 0 && g.nesterov == 0);
  cn_optim_spec a = cn_optim_spec_default(CN_OPT_ADAM);
  CHECK_NEAR(a.beta1, 0.9, 1e-7);
  CHECK_NEAR(a.beta2, 0.999, 1e-7);
  CHECK(cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, 3, 0) == 0);
  CHECK(s.layers[0].sh == 3 && s.layers[0].sw == 3 && s.layers[0].same == 0);
  CHECK(cn_spec_add_batchnorm(&s) == 0);
  CHECK_NEAR(s.layers[1].momentum, 0.99, 1e-7);
  CHECK_NEAR(s.layers[1].epsilon, 0.001, 1e-9);
  CHECK_ERROR(cn_spec_add_dropout(&s, 1.0f), CN_EINVAL, "[0, 1)");
  CHECK_ERROR(cn_spec_add_dense(&s, 0, CN_ACT_NONE), CN_EINVAL, "positive");
  CHECK(strcmp(cn_layer_kind_name(CN_LAYER_CONV2D), "conv2d") == 0);
  CHECK(strcmp(cn_act_name(CN_ACT_NONE), "linear") == 0);
  for (int i = s.n_layers; i < CN_MAX_LAYERS; i++) cn_spec_add_flatten(&s);
  CHECK_ERROR(cn_spec_add_flatten(&s), CN_EINVAL, "too many layers");
}

static void test_lenet(void) {
  cn_spec s;
  cn_shape sh[CN_MAX_LAYERS + 1];
  lenet(&s);
  CHECK(cn_spec_check(&s, 10, sh) == 0);
  CHECK(sh[1].c == 6 && sh[1].h == 28 && sh[1].w == 28);
  CHECK(sh[2].h == 14 && sh[3].h == 10 && sh[4].h == 5);
  CHECK(sh[5].c == 400 && sh[5].h == 1 && sh[5].w == 1);
  CHECK(sh[8].c == 10);
  cn_spec_stats st;
  CHECK(cn_spec_stats_compute(&s, &st) == 0);
  CHECK(st.total == 61706 && st.trainable == 61706 && st.non_trainable == 0);
  CHECK(st.per_layer[0] == 156 && st.per_layer[2] == 2416 && st.per_layer[5] == 48120);
  /* 28*28*6*25 + 10*10*16*150 + 400*120 + 120*84 + 84*10 */
  CHECK_NEAR(st.macs_per_image, 117600 + 240000 + 48000 + 10080 + 840, 0.5);
  CHECK(st.param_bytes == 61706u * 16);
  /* input 784, then outputs 4704 1176 1600 400 400 120 84 10, each twice */
  CHECK(st.train_bytes_per_image == (784 + 2 * (4704 + 1176 + 1600 + 400 + 400 + 120 + 84 + 10)) * 4);
  CHECK_ERROR(cn_spec_check(&s, 12, NULL), CN_ESHAPE,
              "layer 8 (dense): the last layer gives 10 outputs but the dataset has 12 classes");
}

static void test_shape_rules(void) {
  cn_spec s;
  cn_shape sh[CN_MAX_LAYERS + 1];
  cn_spec_init(&s, 1, 7, 7);
  cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, 2, 0);       /* Keras floors: 7 -> 3 */
  cn_spec_add_conv2d(&s, 4, 3, 3, 2, 1, CN_ACT_NONE); /* same: ceil(3/2) = 2 */
  CHECK(cn_spec_check(&s, 0, sh) == 0);
  CHECK(sh[1].h == 3 && sh[1].w == 3 && sh[2].h == 2 && sh[2].c == 4);
  cn_spec_add_batchnorm(&s);
  cn_spec_stats st;
  CHECK(cn_spec_stats_compute(&s, &st) == 0);
  CHECK(st.per_layer[2] == 16 && st.non_trainable == 8);

  cn_spec_init(&s, 1, 3, 3);
  cn_spec_add_conv2d(&s, 4, 5, 5, 1, 0, CN_ACT_RELU);
  CHECK_ERROR(cn_spec_check(&s, 0, NULL), CN_ESHAPE,
              "layer 1 (conv2d): a valid 5x5 convolution needs an input of at least 5x5 but gets 3x3; use "
              "padding=same or a smaller kernel");
  cn_spec_init(&s, 1, 28, 28);
  cn_spec_add_dense(&s, 10, CN_ACT_SOFTMAX);
  CHECK_ERROR(cn_spec_check(&s, 0, NULL), CN_ESHAPE, "add `flatten` before it");
  cn_spec_init(&s, 1, 100000, 100000);
  CHECK_ERROR(cn_spec_check(&s, 0, NULL), CN_ENOMEM,
              "input: an input of 100000x100000x1 (HxWxC) needs 37.3 GiB");
  /* global average pooling: HxWxC -> C, no parameters; only on images */
  cn_spec_init(&s, 1, 8, 8);
  cn_spec_add_conv2d(&s, 6, 3, 3, 1, 0, CN_ACT_RELU);
  cn_spec_add_global_avgpool(&s);
  cn_spec_add_dense(&s, 10, CN_ACT_SOFTMAX);
  CHECK(cn_spec_check(&s, 10, sh) == 0);
  CHECK(sh[2].c == 6 && sh[2].h == 1 && sh[2].w == 1);
  CHECK(cn_spec_stats_compute(&s, &st) == 0);
  CHECK(st.per_layer[1] == 0 && st.total == 6 * 9 + 6 + 6 * 10 + 10);
  cn_spec_init(&s, 1, 8, 8);
  cn_spec_add_flatten(&s);
  cn_spec_add_global_avgpool(&s);
  CHECK_ERROR(cn_spec_check(&s, 0, NULL), CN_ESHAPE,
              "layer 2 (global_avgpool): global_avgpool needs an image-shaped input but gets a flat vector of 64");
  cn_spec_init(&s, 1, 20000, 20000);
  cn_spec_add_conv2d(&s, 1000, 3, 3, 1, 1, CN_ACT_RELU);
  CHECK_ERROR(cn_spec_check(&s, 0, NULL), CN_ENOMEM, "layer 1 (conv2d)");
}

int main(void) {
  test_defaults();
  test_lenet();
  test_shape_rules();
  return test_summary();
}
