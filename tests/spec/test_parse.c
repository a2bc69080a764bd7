/* The model-file parser: what it accepts, and one test per kind of mistake
 * with the exact FILE:LINE:COL and the advice the message gives. */
#include <stdlib.h>
#include <sys/stat.h>

#include "cnist.h"
#include "test.h"

/* Parsing `text` as m.model fails with `code` and a message starting with `prefix`. */
#define CHECK_PARSE_ERROR(text, code, prefix)                                                     \
  do {                                                                                            \
    cn_spec s_;                                                                                   \
    int rc_ = cn_spec_parse((text), "m.model", &s_);                                              \
    const char *m_ = cn_last_error();                                                             \
    CHECK_MSG(rc_ == (code) && strncmp(m_, (prefix), strlen(prefix)) == 0,                        \
              "status %d, message \"%s\"; wanted %d, \"%s...\"", rc_, m_, (int)(code), (prefix)); \
  } while (0)

static void test_accepts(void) {
  cn_spec s;
  const char *text =
      "# a test model\n"
      "#\n"
      "#  indented\n"
      "input 32x30x3   # trailing comment\r\n"
      "\n"
      "\tconv2d 8 3 stride=2x1 padding=same activation=tanh\n"
      "maxpool 3 stride=1\n"
      "avgpool\n"
      "batchnorm momentum=0.9 epsilon=1e-5\n"
      "activation sigmoid\n"
      "dropout 0\n"
      "flatten\n"
      "dense 10 activation=linear\n"
      "train optimizer=sgd lr=0.05 batch=64 epochs=3 momentum=0.9 nesterov=true "
      "loss=categorical_crossentropy\n"
      "callback early_stop patience=2 min_delta=0.01 restore_best_weights=true mode=min\n"
      "callback reduce_lr monitor=loss cooldown=1\n"
      "callback checkpoint save_best_only=false\n";
  int rc = cn_spec_parse(text, "dir/my.model", &s);
  CHECK_MSG(rc == 0, "%s", cn_last_error());
  CHECK(strcmp(s.name, "my") == 0);
  CHECK(strcmp(s.comment, "a test model\n\n indented") == 0);
  CHECK(s.in_h == 32 && s.in_w == 30 && s.in_c == 3 && s.in_line == 4);
  CHECK(s.n_layers == 8);
  const cn_layer_spec *c = &s.layers[0];
  CHECK(c->kind == CN_LAYER_CONV2D && c->filters == 8 && c->kh == 3 && c->kw == 3);
  CHECK(c->sh == 2 && c->sw == 1 && c->same == 1 && c->act == CN_ACT_TANH && c->line == 6);
  CHECK(s.layers[1].kh == 3 && s.layers[1].sh == 1 && s.layers[1].same == 0);
  CHECK(s.layers[2].kind == CN_LAYER_AVGPOOL && s.layers[2].kh == 2 && s.layers[2].sw == 2);
  CHECK_NEAR(s.layers[3].momentum, 0.9, 1e-7);
  CHECK_NEAR(s.layers[3].epsilon, 1e-5, 1e-10);
  CHECK(s.layers[4].kind == CN_LAYER_ACTIVATION && s.layers[4].act == CN_ACT_SIGMOID);
  CHECK(s.layers[5].kind == CN_LAYER_DROPOUT && s.layers[5].rate == 0.0f);
  CHECK(s.layers[7].units == 10 && s.layers[7].act == CN_ACT_NONE);
  CHECK(s.train.optim.kind == CN_OPT_SGD && s.train.optim.nesterov == 1);
  CHECK_NEAR(s.train.optim.lr, 0.05, 1e-8);
  CHECK_NEAR(s.train.optim.momentum, 0.9, 1e-7);
  CHECK(s.train.batch == 64 && s.train.epochs == 3 && s.train.loss == CN_LOSS_CATEGORICAL);
  CHECK(s.n_callbacks == 3);
  const cn_callback_spec *e = &s.callbacks[0];
  CHECK(e->kind == CN_CB_EARLY_STOP && e->patience == 2 && e->restore_best == 1 && e->mode == -1);
  CHECK(strcmp(e->monitor, "val_loss") == 0 && e->line == 15);
  const cn_callback_spec *r = &s.callbacks[1];
  CHECK(r->kind == CN_CB_REDUCE_LR && r->patience == 10 && r->cooldown == 1 &&
        strcmp(r->monitor, "loss") == 0);
  CHECK_NEAR(r->factor, 0.1, 1e-8);
  CHECK_NEAR(r->min_delta, 1e-4, 1e-10);
  CHECK(s.callbacks[2].save_best_only == 0);
  /* 32x30 -> same, stride 2x1: 16x30 -> pool 3 stride 1: 14x28 -> avgpool 2: 7x14 */
  cn_shape sh[CN_MAX_LAYERS + 1];
  CHECK(cn_spec_check(&s, 10, sh) == 0);
  CHECK(sh[1].h == 16 && sh[1].w == 30 && sh[2].h == 14 && sh[2].w == 28 && sh[3].h == 7 && sh[3].w == 14);
  CHECK(sh[7].c == 8 * 7 * 14);

  /* the writer keeps every non-default setting */
  char *out = cn_spec_write(&s);
  CHECK(out && strstr(out, "conv2d 8 3x3 stride=2x1 padding=same activation=tanh\n"));
  CHECK(out && strstr(out, "maxpool 3x3 stride=1\n") && strstr(out, "avgpool 2x2\n"));
  CHECK(out && strstr(out, "batchnorm momentum=0.9 epsilon=1e-05\n"));
  CHECK(out && strstr(out,
                      "train optimizer=sgd lr=0.05 batch=64 epochs=3 loss=categorical_crossentropy "
                      "momentum=0.9 nesterov=true\n"));
  CHECK(out && strstr(out,
                      "callback early_stop monitor=val_loss mode=min patience=2 min_delta=0.01 "
                      "restore_best_weights=true\n"));
  cn_spec back;
  CHECK(out && cn_spec_parse(out, "dir/my.model", &back) == 0);
  CHECK(back.n_layers == s.n_layers && back.layers[0].sw == 1 && back.callbacks[2].save_best_only == 0);
  free(out);

  /* a model built in code writes and parses too */
  cn_spec code;
  cn_spec_init(&code, 1, 28, 28);
  cn_spec_add_flatten(&code);
  cn_spec_add_dense(&code, 10, CN_ACT_SOFTMAX);
  out = cn_spec_write(&code);
  CHECK(out && strcmp(out,
                      "input 28x28x1\nflatten\ndense 10 activation=softmax\n\ntrain optimizer=adam lr=0.001 "
                      "batch=32 epochs=10 loss=sparse_categorical_crossentropy\n") == 0);
  free(out);

  /* the writer refuses settings it could not write back */
  code.n_callbacks = 1;
  cn_callback_spec_default(&code.callbacks[0], CN_CB_EARLY_STOP);
  code.callbacks[0].mode = 5;
  out = cn_spec_write(&code);
  CHECK(out == NULL && cn_last_status() == CN_EINVAL);
  free(out);
}

static void test_errors(void) {
  CHECK_PARSE_ERROR("input 28x28x1\nconv3d 8 3x3\n", CN_EFORMAT,
                    "m.model:2:1: unknown layer 'conv3d'; expected one of input, conv2d, maxpool, avgpool, "
                    "batchnorm, dropout, flatten, global_avgpool, dense, activation");
  CHECK_PARSE_ERROR(
      "input 28x28x1\nconv2d 8 3x3 strides=2\n", CN_EFORMAT,
      "m.model:2:14: unknown option 'strides' for conv2d; expected one of stride, padding, activation");
  CHECK_PARSE_ERROR("input 28x28x1\nconv2d 8 3x3 padding=\n", CN_EFORMAT,
                    "m.model:2:22: missing value for padding; write e.g. `padding=same`");
  CHECK_PARSE_ERROR("input 28x28x1\nconv2d 8\n", CN_EFORMAT,
                    "m.model:2:9: conv2d needs FILTERS KHxKW, e.g. `conv2d 32 3x3 activation=relu`");
  CHECK_PARSE_ERROR("input 28x28x1\nflatten\ndense 12x\n", CN_EFORMAT,
                    "m.model:3:7: '12x' is not a whole number for units; write e.g. `dense 128");
  CHECK_PARSE_ERROR("input 28x28x1\ntrain lr=0.0o1\n", CN_EFORMAT,
                    "m.model:2:10: '0.0o1' is not a number for lr");
  CHECK_PARSE_ERROR("input 28x28x1\nflatten\ndense 0\n", CN_EFORMAT,
                    "m.model:3:7: units must be at least 1, not 0");
  CHECK_PARSE_ERROR("input 28x28x1\nconv2d -4 3x3\n", CN_EFORMAT,
                    "m.model:2:8: filters must be at least 1, not -4");
  CHECK_PARSE_ERROR("input 28x0x1\n", CN_EFORMAT, "m.model:1:10: input size must be at least 1, not 0");
  CHECK_PARSE_ERROR("input 28x28x1\nflatten\ndropout 1.0\n", CN_EFORMAT,
                    "m.model:3:9: dropout rate must be in [0, 1), not 1.0; write e.g. `dropout 0.25`");
  CHECK_PARSE_ERROR("input 28x28x1\ntrain lr=0\n", CN_EFORMAT,
                    "m.model:2:10: lr must be greater than 0, not 0");
  CHECK_PARSE_ERROR("input 28x28x1\ntrain lr=1e39\n", CN_EFORMAT, "m.model:2:10: '1e39' is too large for lr");
  CHECK_PARSE_ERROR("input 28x28x1\ntrain lr=nan\n", CN_EFORMAT, "m.model:2:10: 'nan' is not a number for lr");
  CHECK_PARSE_ERROR("input 3x3x1\nconv2d 4 5x5\n", CN_ESHAPE,
                    "m.model:2:1: a valid 5x5 convolution needs an input of at least 5x5 but gets 3x3; "
                    "use padding=same or a smaller kernel");
  CHECK_PARSE_ERROR("input 7x7x1\nmaxpool 2\nmaxpool 2\nmaxpool 2\n", CN_ESHAPE,
                    "m.model:4:1: a valid 2x2 max pooling needs an input of at least 2x2 but gets 1x1");
  CHECK_PARSE_ERROR(
      "input 28x28x1\nconv2d 4 3x3\ndense 10\n", CN_ESHAPE,
      "m.model:3:1: dense needs a flat input but gets 26x26x4 (HxWxC); add `flatten` before it");
  CHECK_PARSE_ERROR("train lr=0.1\n", CN_EFORMAT,
                    "m.model:1:1: no input line; start the model with `input 28x28x1`");
  CHECK_PARSE_ERROR("# c\nflatten\ninput 28x28x1\n", CN_EFORMAT,
                    "m.model:2:1: flatten before the input line; start the model with `input 28x28x1`");
  CHECK_PARSE_ERROR("input 28x28x1\ninput 28x28x1\n", CN_EFORMAT,
                    "m.model:2:1: a second input line (line 1 has one)");
  CHECK_PARSE_ERROR("input 28x28\n", CN_EFORMAT, "m.model:1:7: '28x28' is not HxWxC");
  CHECK_PARSE_ERROR("input 28x28x1\nflatten 3\n", CN_EFORMAT,
                    "m.model:2:9: unexpected '3'; flatten takes no arguments");
  CHECK_PARSE_ERROR("input 28x28x1\nflatten\ndense 10 activation=relu activation=softmax\n", CN_EFORMAT,
                    "m.model:3:26: option 'activation' given twice");
  CHECK_PARSE_ERROR(
      "input 28x28x1\nflatten\ndense 10 activation=gelu\n", CN_EFORMAT,
      "m.model:3:21: unknown activation 'gelu'; expected one of linear, relu, sigmoid, tanh, softmax");
  CHECK_PARSE_ERROR("input 28x28x1\ntrain optimizer=adam momentum=0.9\n", CN_EFORMAT,
                    "m.model:2:22: momentum applies to optimizer=sgd only");
  CHECK_PARSE_ERROR("input 28x28x1\ntrain\ntrain\n", CN_EFORMAT,
                    "m.model:3:1: a second train line (line 2 has one)");
  CHECK_PARSE_ERROR(
      "input 28x28x1\ncallback early_stop monitor=val_acc\n", CN_EFORMAT,
      "m.model:2:29: unknown monitor 'val_acc'; expected one of loss, accuracy, val_loss, val_accuracy");
  CHECK_PARSE_ERROR(
      "input 28x28x1\ncallback checkpoint factor=0.5\n", CN_EFORMAT,
      "m.model:2:21: unknown option 'factor' for callback checkpoint; expected one of monitor, mode, "
      "save_best_only");
  CHECK_PARSE_ERROR(
      "input 28x28x1\ncallback lr_schedule\n", CN_EFORMAT,
      "m.model:2:10: unknown callback 'lr_schedule'; expected one of checkpoint, reduce_lr, early_stop");
  CHECK_PARSE_ERROR("input 28x28x1\ncallback early_stop restore_best_weights=yes\n", CN_EFORMAT,
                    "m.model:2:42: unknown restore_best_weights value 'yes'; expected one of false, true");
  CHECK_PARSE_ERROR("input 28x28x1\n# caf\xe9\n", CN_EFORMAT,
                    "m.model:2:6: invalid UTF-8 byte 0xe9; save the file as UTF-8 text");
  CHECK_PARSE_ERROR("input 28x28x1\n# \xc0\xaf overlong\n", CN_EFORMAT,
                    "m.model:2:3: invalid UTF-8 byte 0xc0");
  {
    char *text = malloc(5000);
    strcpy(text, "input 28x28x1\n# ");
    memset(text + 16, 'x', 4200);
    strcpy(text + 4216, "\n");
    CHECK_PARSE_ERROR(text, CN_EFORMAT, "m.model:2:4097: line longer than 4096 characters");
    free(text);
  }
  {
    /* 4096 characters of UTF-8 (three bytes each) are fine */
    char *text = malloc(20000);
    strcpy(text, "input 28x28x1\nflatten\ndense 10\n#");
    char *t = text + strlen(text);
    for (int i = 0; i < 4095; i++) t += sprintf(t, "\xe4\xb8\xad");
    strcpy(t, "\n");
    cn_spec s;
    CHECK_MSG(cn_spec_parse(text, "m.model", &s) == 0, "%s", cn_last_error());
    free(text);
  }
  {
    char text[CN_MAX_LAYERS * 10 + 64] = "input 28x28x1\n";
    for (int i = 0; i <= CN_MAX_LAYERS; i++) strcat(text, "flatten\n");
    CHECK_PARSE_ERROR(text, CN_EFORMAT, "m.model:66:1: too many layers: a model holds at most 64");
  }
}

static void test_sizes(void) {
  /* 28*28*1e9 activations: terabytes for one image, refused before any allocation */
  CHECK_PARSE_ERROR("input 28x28x1\nconv2d 1000000000 3x3 padding=same\nflatten\ndense 10\n", CN_ENOMEM,
                    "m.model:2:1: this layer's output and its gradient need 5.7 TiB per image");
  CHECK_PARSE_ERROR("input 28x28x1\nconv2d 2000000 3x3 padding=same\nconv2d 2000000 3x3 padding=same\n",
                    CN_ENOMEM,
                    "m.model:3:1: training one image would need 23.4 GiB of activations and gradients");
  CHECK_PARSE_ERROR("input 28x28x1\nflatten\ndense 100000\ndense 100000\n", CN_ENOMEM,
                    "m.model:4:1: the model would have 1.01e+10 parameters up to this layer (150.2 GiB");
  CHECK_PARSE_ERROR("input 100000x100000x1\n", CN_ENOMEM,
                    "m.model:1:1: an input of 100000x100000x1 (HxWxC) needs 37.3 GiB");
  CHECK_PARSE_ERROR("input 28x28x1\nconv2d 3000000000 3x3\n", CN_EFORMAT,
                    "m.model:2:8: filters 3000000000 is too large (at most 2147483647)");
}

static void test_classes(void) {
  cn_spec s;
  CHECK(cn_spec_parse("# c\ninput 28x28x1\nflatten\ndense 12 activation=softmax\n", "m.model", &s) == 0);
  CHECK_ERROR(cn_spec_check(&s, 10, NULL), CN_ESHAPE,
              "m.model:4:1: the last layer gives 12 outputs but the dataset has 10 classes; "
              "write `dense 10 activation=softmax`");
  CHECK(cn_spec_check(&s, 12, NULL) == 0);
  CHECK(cn_spec_parse("input 28x28x1\nconv2d 10 3x3\n", "m.model", &s) == 0);
  CHECK_ERROR(cn_spec_check(&s, 10, NULL), CN_ESHAPE,
              "m.model:2:1: the model ends with a 26x26x10 (HxWxC) map");
}

static void write_file(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  fwrite(data, 1, n, f);
  fclose(f);
}

static void test_load(void) {
  cn_spec s;
  mkdir(CN_BINARY_DIR "/test-tmp", 0755);
  mkdir(CN_TEST_TMP, 0755);
  CHECK_ERROR(cn_spec_load(CN_TEST_TMP "/none.model", &s), CN_ENOTFOUND,
              CN_TEST_TMP "/none.model: no such model file, and not a zoo model (zoo: best, cnn_bn, custom1");
  CHECK_ERROR(cn_spec_load(CN_TEST_TMP, &s), CN_EIO, CN_TEST_TMP ": not a model file");
  write_file(CN_TEST_TMP "/nul.model", "input 28x28x1\nfla\0tten\n", 23);
  CHECK_ERROR(cn_spec_load(CN_TEST_TMP "/nul.model", &s), CN_EFORMAT, CN_TEST_TMP "/nul.model:2:4: NUL byte");
  char *big = calloc(1, 1024 * 1024 + 1);
  write_file(CN_TEST_TMP "/big.model", big, 1024 * 1024 + 1);
  free(big);
  CHECK_ERROR(cn_spec_load(CN_TEST_TMP "/big.model", &s), CN_EFORMAT,
              CN_TEST_TMP "/big.model: 1048577 bytes is too large for a model file (at most 1 MiB)");
  const char *ok = "input 28x28x1\nflatten\ndense 10 activation=softmax\n";
  write_file(CN_TEST_TMP "/tiny.model", ok, strlen(ok));
  CHECK(cn_spec_load(CN_TEST_TMP "/tiny.model", &s) == 0);
  CHECK(strcmp(s.name, "tiny") == 0 && strcmp(s.file, CN_TEST_TMP "/tiny.model") == 0);
  write_file(CN_TEST_TMP "/bad.model", "input 28x28x1\nconv3d\n", 21);
  CHECK_ERROR(cn_spec_load(CN_TEST_TMP "/bad.model", &s), CN_EFORMAT,
              CN_TEST_TMP "/bad.model:2:1: unknown layer 'conv3d'");
  CHECK(cn_spec_load("lenet", &s) == 0 && strcmp(s.name, "lenet") == 0);
}

/* The training settings beyond the study: augment and schedule lines, and
 * weight decay, label smoothing and weight averaging on the train line. */
static void test_training_settings(void) {
  const char *text =
      "input 28x28x1\nflatten\ndense 10 activation=softmax\n"
      "train optimizer=adam lr=0.001 weight_decay=0.0001 label_smoothing=0.1 ema_momentum=0.999\n"
      "augment rotation=10 zoom=0.1 shift=0.1 elastic_alpha=34 erase=0.25 flip=0.5\n"
      "schedule one_cycle warmup=0.25 final=0\n";
  cn_spec s, back;
  CHECK_MSG(cn_spec_parse(text, "m.model", &s) == 0, "%s", cn_last_error());
  CHECK_NEAR(s.train.optim.weight_decay, 1e-4, 1e-10);
  CHECK_NEAR(s.train.label_smoothing, 0.1, 1e-7);
  CHECK_NEAR(s.train.ema_momentum, 0.999, 1e-7);
  const cn_augment *a = &s.train.augment;
  CHECK(a->rotation == 10 && a->shear == 0 && a->elastic_alpha == 34 && a->elastic_sigma == 4);
  CHECK_NEAR(a->zoom, 0.1, 1e-7);
  CHECK_NEAR(a->erase, 0.25, 0);
  CHECK_NEAR(a->flip, 0.5, 0);
  const cn_schedule *sc = &s.train.schedule;
  CHECK(sc->kind == CN_SCHEDULE_ONE_CYCLE && sc->warmup == 0.25f && sc->final == 0);
  CHECK_NEAR(sc->start, 0.04, 1e-8); /* the default */
  char *out = cn_spec_write(&s);
  CHECK(out && strstr(out, "weight_decay=0.0001 label_smoothing=0.1 ema_momentum=0.999\n"));
  CHECK(out && strstr(out, "\naugment rotation=10 zoom=0.1 shift=0.1 elastic_alpha=34 erase=0.25 flip=0.5\n"));
  CHECK(out && strstr(out, "\nschedule one_cycle warmup=0.25 final=0\n"));
  CHECK(out && cn_spec_parse(out, "m.model", &back) == 0 && memcmp(&back.train, &s.train, sizeof s.train) == 0);
  free(out);
  /* without the lines: no augmentation, a constant rate */
  CHECK(cn_spec_parse("input 28x28x1\nflatten\ndense 10\n", "m.model", &s) == 0);
  CHECK(!cn_augment_active(&s.train.augment) && s.train.schedule.kind == CN_SCHEDULE_CONSTANT);

  const char *head = "input 28x28x1\nflatten\ndense 10\n";
  char bad[512];
#define BAD(line, prefix)                                \
  snprintf(bad, sizeof bad, "%s%s\n", head, line);     \
  CHECK_PARSE_ERROR(bad, CN_EFORMAT, prefix)
  BAD("augment zoom=1.5", "m.model:4:14: zoom must be in [0, 0.9], not 1.5");
  BAD("augment", "m.model:4:1: an augment line that asks for nothing");
  BAD("augment rotation=0", "m.model:4:1: an augment line that asks for nothing");
  BAD("augment elastic_sigma=4", "m.model:4:9: elastic_sigma needs elastic_alpha");
  BAD("augment elastic_alpha=34 elastic_sigma=0.1", "m.model:4:40: elastic_sigma must be at least 0.5");
  BAD("augment rotation=10 mirror=1", "m.model:4:21: unknown option 'mirror' for augment");
  BAD("augment shift=0.1\naugment zoom=0.1", "m.model:5:1: a second augment line (line 4 has one)");
  BAD("schedule linear", "m.model:4:10: unknown schedule 'linear'; expected one of constant, exponential");
  BAD("schedule", "m.model:4:9: schedule needs KIND");
  BAD("schedule cosine gamma=0.9", "m.model:4:17: gamma applies to schedule exponential or step only");
  BAD("schedule exponential every=3", "m.model:4:22: every applies to schedule step only");
  BAD("schedule exponential gamma=0", "m.model:4:28: gamma must be in (0, 1], not 0");
  BAD("schedule one_cycle warmup=1", "m.model:4:27: warmup must be in [0, 1), not 1");
  BAD("schedule step every=0", "m.model:4:21: every must be from 1 to");
  BAD("schedule step\nschedule cosine", "m.model:5:1: a second schedule line (line 4 has one)");
  BAD("train weight_decay=1", "m.model:4:20: weight_decay must be in [0, 1), not 1");
  BAD("train label_smoothing=-0.1", "m.model:4:23: label_smoothing must be in [0, 1), not -0.1");
  BAD("train ema_momentum=abc", "m.model:4:20: 'abc' is not a number for ema_momentum");
#undef BAD
}

/* Each name table (kinds.c, settings.c) is what the parser takes and the
 * writer writes, one word per kind in the enum's order. */
static int list_length(const char *const *names) {
  int n = 0;
  while (names[n]) n++;
  return n;
}

static void check_word(const char *line, const char *word, int want, int (*kind_of)(const cn_spec *)) {
  char text[256];
  snprintf(text, sizeof text, "input 28x28x1\nflatten\ndense 10 activation=softmax\n%s%s\n", line, word);
  cn_spec s;
  int rc = cn_spec_parse(text, "n.model", &s);
  CHECK_MSG(rc == 0, "%s%s: %s", line, word, cn_last_error());
  if (rc) return;
  CHECK_MSG(kind_of(&s) == want, "%s%s gave kind %d, not %d", line, word, kind_of(&s), want);
  char *back = cn_spec_write(&s), needle[128];
  snprintf(needle, sizeof needle, "%s%s", line, word);
  CHECK_MSG(back && strstr(back, needle), "the writer lost '%s'", needle);
  free(back);
}

static int dense_act_of(const cn_spec *s) { return s->n_layers ? (int)s->layers[s->n_layers - 1].act : -1; }
static int opt_of(const cn_spec *s) { return (int)s->train.optim.kind; }
static int loss_of(const cn_spec *s) { return (int)s->train.loss; }
static int callback_of(const cn_spec *s) { return s->n_callbacks == 1 ? (int)s->callbacks[0].kind : -1; }
static int schedule_of(const cn_spec *s) { return (int)s->train.schedule.kind; }

static void test_name_tables(void) {
  CHECK(list_length(cn_opt_names()) == CN_OPT_KINDS);
  CHECK(list_length(cn_loss_names()) == CN_LOSS_KINDS);
  CHECK(list_length(cn_callback_names()) == CN_CB_KINDS);
  CHECK(list_length(cn_schedule_names()) == CN_SCHEDULE_KINDS);
  CHECK(strcmp(cn_opt_name(CN_OPT_RMSPROP), "rmsprop") == 0);
  CHECK(strcmp(cn_loss_name(CN_LOSS_CATEGORICAL), "categorical_crossentropy") == 0);
  CHECK(strcmp(cn_callback_name(CN_CB_EARLY_STOP), "early_stop") == 0);
  CHECK(strcmp(cn_opt_name((cn_opt_kind)CN_OPT_KINDS), "?") == 0);
  CHECK(strcmp(cn_loss_name((cn_loss_kind)-1), "?") == 0);
  CHECK(strcmp(cn_callback_name((cn_callback_kind)CN_CB_KINDS), "?") == 0);
  CHECK(list_length(cn_act_names()) == CN_ACTS && strcmp(cn_act_name(CN_ACT_NONE), "linear") == 0);
  for (int k = CN_ACT_NONE + 1; k < CN_ACTS; k++) { /* linear is the default, which the writer leaves out */
    CHECK(strcmp(cn_act_names()[k], cn_act_name((cn_act)k)) == 0);
    check_word("dense 10 activation=", cn_act_name((cn_act)k), k, dense_act_of);
  }
  for (int k = 0; k < CN_OPT_KINDS; k++) {
    CHECK(strcmp(cn_opt_names()[k], cn_opt_name((cn_opt_kind)k)) == 0);
    check_word("train optimizer=", cn_opt_name((cn_opt_kind)k), k, opt_of);
  }
  for (int k = 0; k < CN_LOSS_KINDS; k++) {
    CHECK(strcmp(cn_loss_names()[k], cn_loss_name((cn_loss_kind)k)) == 0);
    check_word("train optimizer=adam lr=0.001 batch=32 epochs=10 loss=", cn_loss_name((cn_loss_kind)k), k, loss_of);
  }
  for (int k = 0; k < CN_CB_KINDS; k++) {
    CHECK(strcmp(cn_callback_names()[k], cn_callback_name((cn_callback_kind)k)) == 0);
    check_word("callback ", cn_callback_name((cn_callback_kind)k), k, callback_of);
  }
  /* constant is the default, which the writer leaves out */
  CHECK(strcmp(cn_schedule_names()[CN_SCHEDULE_CONSTANT], "constant") == 0);
  for (int k = CN_SCHEDULE_CONSTANT + 1; k < CN_SCHEDULE_KINDS; k++) {
    CHECK(strcmp(cn_schedule_names()[k], cn_schedule_name((cn_schedule_kind)k)) == 0);
    check_word("schedule ", cn_schedule_name((cn_schedule_kind)k), k, schedule_of);
  }
  CHECK(list_length(cn_metric_names()) == CN_METRICS);
  for (int k = 0; k < CN_METRICS; k++) { /* each monitor name parses to its metric and is written back */
    cn_metric m = CN_METRICS;
    CHECK(cn_metric_parse(cn_metric_names()[k], &m) == 0 && (int)m == k);
    char text[160];
    cn_spec s;
    snprintf(text, sizeof text, "input 28x28x1\nflatten\ndense 10\ncallback early_stop monitor=%s\n", cn_metric_names()[k]);
    CHECK(cn_spec_parse(text, "m.model", &s) == 0 && strcmp(s.callbacks[0].monitor, cn_metric_names()[k]) == 0);
    char *out = cn_spec_write(&s);
    CHECK(out && (k == CN_METRIC_VAL_LOSS || strstr(out, cn_metric_names()[k]))); /* val_loss: the default */
    free(out);
  }
  cn_metric m;
  CHECK(cn_metric_parse("val_acc", &m) == CN_EINVAL && strstr(cn_last_error(), "use loss, accuracy, val_loss or val_accuracy"));
}

/* cn_spec_override: replaces one settings line; a refused line leaves the spec as it was. */
static void test_override(void) {
  cn_spec s, before;
  CHECK(cn_spec_parse("input 28x28x1\nflatten\ndense 10 activation=softmax\naugment rotation=10 erase=0.5\n",
                      "m.model", &s) == 0);
  before = s;
  CHECK(cn_spec_override(&s, "augment", "shift=0.2 rotation=", "option --augment") == CN_EFORMAT);
  CHECK_MSG(strstr(cn_last_error(), "option --augment, column 20: missing value for rotation"), "%s", cn_last_error());
  CHECK(cn_spec_override(&s, "schedule", "cosine warmup=2", "option --schedule") != 0);
  CHECK(cn_spec_override(&s, "train", "lr=1", "option --x") == CN_EINVAL);
  CHECK(cn_spec_override(&s, "augment", "shift=0.1\nflatten", "option --augment") == CN_EINVAL);
  CHECK(memcmp(&s, &before, sizeof s) == 0);
  CHECK_MSG(cn_spec_override(&s, "augment", "shift=0.2", "option --augment") == 0, "%s", cn_last_error());
  CHECK(s.train.augment.rotation == 0 && s.train.augment.erase == 0 && s.train.augment.shift == 0.2f);
  CHECK(cn_spec_override(&s, "schedule", "exponential gamma=0.9", "option --schedule") == 0);
  CHECK(s.train.schedule.kind == CN_SCHEDULE_EXPONENTIAL && s.train.schedule.gamma == 0.9f);
}

int main(void) {
  test_name_tables();
  test_override();
  test_accepts();
  test_training_settings();
  test_errors();
  test_sizes();
  test_classes();
  test_load();
  return test_summary();
}
