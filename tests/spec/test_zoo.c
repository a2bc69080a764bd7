/* Every zoo model parses, fits 10 classes, has the study's (or its
 * reference's) parameter counts, names its source and accuracy, and survives
 * parse -> write -> parse unchanged. */
#include <stdlib.h>

#include "cnist.h"
#include "test.h"

#define STUDY "source: study 00", "study accuracy: "
static const struct {
  const char *name;
  size_t total, trainable;
  const char *source, *accuracy; /* header lines every model of this group carries */
} expected[] = {
    {"mlp", 101770, 101770, STUDY},     {"mlp_dropout", 101770, 101770, STUDY}, {"mlp512", 407050, 407050, STUDY},
    {"mlp3", 535818, 535818, STUDY},    {"lenet", 61706, 61706, STUDY},         {"custom1", 121994, 121994, STUDY},
    {"custom2", 436202, 435754, STUDY}, {"custom3", 435306, 435306, STUDY},     {"custom4", 435306, 435306, STUDY},
    {"custom5", 436202, 435754, STUDY}, {"cnn_bn", 207626, 207274, STUDY},
    {"deotte", 327242, 326410, "source: github cdeotte/MNIST-CNN-99.75", "published accuracy: "},
    {"best", 327242, 326410, "source: cnist (network: github cdeotte/MNIST-CNN-99.75", "cnist accuracy: "},
    {"fast", 210170, 210170, "source: github tuomaso/train_mnist_fast", "cnist accuracy: "},
    {"fast995", 215194, 215194, "source: cnist (network and optimizer: github tuomaso/train_mnist_fast", "cnist accuracy: "},
    {"fashion", 514330, 512858, "source: cnist (VGG-style blocks", "cnist accuracy: "},
};
#define N_EXPECTED (int)(sizeof expected / sizeof expected[0])

/* The spec with its line numbers cleared, for comparing two parses. */
static void clear_lines(cn_spec *s) {
  s->in_line = 0;
  for (int i = 0; i < s->n_layers; i++) s->layers[i].line = 0;
  for (int i = 0; i < s->n_callbacks; i++) s->callbacks[i].line = 0;
}

static void test_counts(void) {
  CHECK(cn_zoo_count() == N_EXPECTED);
  for (int i = 0; i < N_EXPECTED; i++) {
    cn_spec s;
    cn_spec_stats st;
    int rc = cn_spec_load(expected[i].name, &s);
    CHECK_MSG(rc == 0, "%s: %s", expected[i].name, cn_last_error());
    if (rc) continue;
    CHECK(strcmp(s.name, expected[i].name) == 0);
    CHECK_MSG(cn_spec_check(&s, 10, NULL) == 0, "%s: %s", expected[i].name, cn_last_error());
    CHECK(cn_spec_stats_compute(&s, &st) == 0);
    CHECK_MSG(st.total == expected[i].total && st.trainable == expected[i].trainable &&
                  st.non_trainable == expected[i].total - expected[i].trainable,
              "%s: %zu total, %zu trainable, %zu non-trainable", expected[i].name, st.total, st.trainable,
              st.non_trainable);
    CHECK(s.in_h == 28 && s.in_w == 28 && s.in_c == 1);
    const cn_layer_spec *last = &s.layers[s.n_layers - 1];
    CHECK(last->kind == CN_LAYER_DENSE && last->units == 10 && last->act == CN_ACT_SOFTMAX);
    CHECK_MSG(strstr(s.comment, expected[i].source) != NULL, "%s", expected[i].name);
    CHECK_MSG(strstr(s.comment, expected[i].accuracy) != NULL, "%s", expected[i].name);
  }
}

static void test_round_trip(void) {
  for (int i = 0; i < cn_zoo_count(); i++) {
    const cn_zoo_model *z = cn_zoo_get(i);
    cn_spec a, b;
    CHECK(cn_spec_parse(z->text, "zoo.model", &a) == 0);
    char *text = cn_spec_write(&a);
    CHECK(text != NULL);
    if (!text) continue;
    int rc = cn_spec_parse(text, "zoo.model", &b);
    CHECK_MSG(rc == 0, "%s: %s\n%s", z->name, cn_last_error(), text);
    clear_lines(&a);
    clear_lines(&b);
    CHECK_MSG(memcmp(&a, &b, sizeof a) == 0, "%s changed in the round trip:\n%s", z->name, text);
    char *again = cn_spec_write(&b);
    CHECK(again && strcmp(text, again) == 0); /* the writer's form is a fixed point */
    free(again);
    free(text);
  }
}

static void test_study_settings(void) {
  cn_spec s;
  CHECK(cn_spec_load("mlp", &s) == 0);
  CHECK(s.train.epochs == 20 && s.train.batch == 32 && s.n_callbacks == 3);
  CHECK(s.callbacks[0].kind == CN_CB_CHECKPOINT && strcmp(s.callbacks[0].monitor, "val_accuracy") == 0);
  CHECK(s.callbacks[1].kind == CN_CB_REDUCE_LR && s.callbacks[1].patience == 4);
  CHECK_NEAR(s.callbacks[1].factor, 0.5, 1e-7);
  CHECK_NEAR(s.callbacks[1].min_lr, 1e-4, 1e-10);
  CHECK(s.callbacks[2].kind == CN_CB_EARLY_STOP && s.callbacks[2].patience == 6);
  CHECK(cn_spec_load("mlp512", &s) == 0);
  CHECK(s.train.optim.kind == CN_OPT_RMSPROP && s.train.loss == CN_LOSS_CATEGORICAL);
  CHECK(s.train.batch == 128 && s.train.epochs == 5 && s.n_callbacks == 0);
  CHECK(cn_spec_load("cnn_bn", &s) == 0);
  CHECK_NEAR(s.train.optim.lr, 1e-4, 1e-10);
  CHECK(s.train.epochs == 100);
  CHECK(cn_spec_load("custom4", &s) == 0);
  CHECK(s.train.epochs == 20 && s.n_callbacks == 3);
  /* The speedrun recipe: every image trains, one cycle, tuomaso's Adam. */
  CHECK(cn_spec_load("fast", &s) == 0);
  CHECK(s.train.val_split == 0 && s.train.batch == 128 && s.train.epochs == 1);
  CHECK_NEAR(s.train.label_smoothing, 0.1, 1e-7);
  CHECK(s.train.schedule.kind == CN_SCHEDULE_ONE_CYCLE && s.train.optim.kind == CN_OPT_ADAM);
  CHECK_NEAR(s.train.optim.lr, 0.01, 1e-9);
  CHECK_NEAR(s.train.optim.beta1, 0.7, 1e-7);
  CHECK_NEAR(s.train.optim.beta2, 0.9, 1e-7);
  /* The 99.5% recipe: tuomaso's network, ten epochs with light augmentation. */
  CHECK(cn_spec_load("fast995", &s) == 0);
  CHECK(s.train.val_split == 0 && s.train.batch == 128 && s.train.epochs == 10);
  CHECK(s.train.schedule.kind == CN_SCHEDULE_ONE_CYCLE && s.train.augment.rotation == 10);
  CHECK(cn_zoo_find("nope") == NULL && cn_zoo_get(-1) == NULL && cn_zoo_get(cn_zoo_count()) == NULL);
}

int main(void) {
  test_counts();
  test_round_trip();
  test_study_settings();
  return test_summary();
}
