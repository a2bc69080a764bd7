/* Data whose images are not the model's input, or whose labels reach past
 * its outputs, is refused by name before a byte is fed (issue 17); a
 * 47-class dataset trains on a model with 47 outputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli/cli_run.h"

static int run(const char *args) { return cli_run_shell("", args); }

static void put_u32(FILE *f, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) fputc((int)(v >> s) & 0xff, f);
}

/* images (n x side x side [x channels]) and labels i % classes under dir/prefix. */
static void write_set(const char *dir, const char *prefix, int n, int side, int channels, int classes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  put_u32(f, channels > 1 ? 0x804 : 0x803);
  put_u32(f, (uint32_t)n), put_u32(f, (uint32_t)side), put_u32(f, (uint32_t)side);
  if (channels > 1) put_u32(f, (uint32_t)channels);
  for (long i = 0; i < (long)n * side * side * channels; i++) fputc((int)((i * 37 + i / 784) % 256), f);
  fclose(f);
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
  f = fopen(path, "wb");
  if (!f) return;
  put_u32(f, 0x801), put_u32(f, (uint32_t)n);
  for (int i = 0; i < n; i++) fputc(i % classes, f);
  fclose(f);
}

static void write_dataset(const char *dir, int side, int channels, int classes) {
  mkdir(CN_BINARY_DIR "/test-tmp", 0777);
  mkdir(CN_TEST_TMP, 0777);
  mkdir(dir, 0777);
  write_set(dir, "train", 200, side, channels, classes);
  write_set(dir, "t10k", 60, side, channels, classes);
}

int main(void) {
  const char *d32 = CN_TEST_TMP "/d32", *d32c = CN_TEST_TMP "/d32c", *d47 = CN_TEST_TMP "/d47";
  /* A run folder left by an earlier pass of this test would be refused. */
  CHECK(system("rm -rf '" CN_TEST_TMP "/run'") == 0);
  write_dataset(d32, 32, 1, 10);
  write_dataset(d32c, 32, 3, 47);
  write_dataset(d47, 28, 1, 47);
  const char *common = "--epochs 1 --quiet --threads 1 --run-dir '" CN_TEST_TMP "/run'";
  char args[4096];

  /* 32x32 images on lenet and mlp (28x28x1): refused, naming both and the file (was a heap overflow). */
  const char *models[] = {"lenet", "mlp"};
  for (int i = 0; i < 2; i++) {
    snprintf(args, sizeof args, "train %s --data '%s' %s", models[i], d32, common);
    CHECK(run(args) == 1);
    CHECK(cli_output_has("the model takes 28x28x1 images; " CN_TEST_TMP "/d32/train-images-idx3-ubyte holds 32x32x1"));
  }
  snprintf(args, sizeof args, "train lenet --data '%s' %s", d32c, common);
  CHECK(run(args) == 1);
  CHECK(cli_output_has("the model takes 28x28x1 images; " CN_TEST_TMP "/d32c/train-images-idx3-ubyte holds 32x32x3"));

  /* A model file whose input is not the data's, on 28x28x1 data: 32x32x1 and 28x28x3. */
  const char *inputs[] = {"32x32x1", "28x28x3"};
  for (int i = 0; i < 2; i++) {
    char model[256];
    snprintf(model, sizeof model, CN_TEST_TMP "/in%d.model", i);
    FILE *f = fopen(model, "w");
    if (!f) continue;
    fprintf(f, "input %s\nflatten\ndense 47 activation=softmax\ntrain batch=32 epochs=1\n", inputs[i]);
    fclose(f);
    snprintf(args, sizeof args, "train '%s' --data '%s' %s", model, d47, common);
    CHECK(run(args) == 1);
    char needle[4200];
    snprintf(needle, sizeof needle, "the model takes %s images; %s/train-images-idx3-ubyte holds 28x28x1", inputs[i],
             d47);
    CHECK(cli_output_has(needle));
  }

  /* 47 classes on a 10-output model: refused with both numbers. */
  snprintf(args, sizeof args, "train mlp --data '%s' %s", d47, common);
  CHECK(run(args) == 1);
  CHECK(cli_output_has("/d47/train-labels-idx1-ubyte: label 10 (item 10) is beyond the model's 10 outputs"));

  /* ... and trains on a model with 47 outputs; eval of the run reads the same data. */
  const char *model47 = CN_TEST_TMP "/mlp47.model";
  FILE *f = fopen(model47, "w");
  if (f) {
    fprintf(f, "input 28x28x1\nflatten\ndense 32 activation=relu\ndense 47 activation=softmax\n"
               "train optimizer=adam lr=0.001 batch=32 epochs=1\n");
    fclose(f);
  }
  snprintf(args, sizeof args, "train '%s' --data '%s' %s", model47, d47, common);
  CHECK(run(args) == 0);
  CHECK(run("eval '" CN_TEST_TMP "/run' --json") == 0);
  CHECK(cli_output_has("\"name\":\t\"46\""));
  /* its bare checkpoint knows it was trained on data of its own, which must be named */
  CHECK(run("eval '" CN_TEST_TMP "/run/best.safetensors'") == 1);
  CHECK(cli_output_has("/run/best.safetensors was trained on data of its own (train.dataset \"own\"): name that "
                       "data's folder with --data DIR"));
  snprintf(args, sizeof args, "eval '" CN_TEST_TMP "/run/best.safetensors' --data '%s'", d47);
  CHECK(run(args) == 0 && cli_output_has("own test: loss "));
  /* eval of that checkpoint on 32x32 data: refused. */
  snprintf(args, sizeof args, "eval '" CN_TEST_TMP "/run' --data '%s'", d32);
  CHECK(run(args) == 1);
  CHECK(cli_output_has("the model takes 28x28x1 images; " CN_TEST_TMP "/d32/t10k-images-idx3-ubyte holds 32x32x1"));
  /* predict --idx of a 3-channel file: refused. */
  CHECK(run("predict '" CN_TEST_TMP "/run' --idx '" CN_TEST_TMP "/d32c/t10k-images-idx3-ubyte' --index 0") == 1);
  CHECK(cli_output_has("holds 32x32x3"));
  return test_summary();
}
