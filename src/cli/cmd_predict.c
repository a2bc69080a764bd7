/* cnist predict: classify the user's own images (PNG, PGM, PPM) or one image
 * of an IDX file with a trained model, after the MNIST-style preprocessing
 * of the image module. Every image is tried; a bad one is reported and
 * makes the exit status 1 without stopping the others. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cnist/data.h"


typedef struct {
  int json, show, top;
  cn_model *model;
  cn_precision precision;
  int classes;
  int softmax_in_model; /* else the outputs are logits and get a softmax here */
  const char *class_names[CN_MAX_CLASSES];
  char number_names[CN_MAX_CLASSES][12];
  cJSON *predictions; /* --json: the array being filled */
  int failures;
} predictor;

static int usage_text(void) {
  printf("usage: cnist predict RUN|CHECKPOINT IMAGE... [options]\n\n"
         "Classifies your own images of digits (PNG, PGM or PPM; any size, colour or grey,\n"
         "with or without alpha) with a trained model: RUN is a run folder (its\n"
         "best.safetensors is used) or CHECKPOINT a .safetensors file. Each image is\n"
         "prepared as MNIST was: inverted if its background is light, cropped to the ink,\n"
         "scaled to fit 20x20, centred by its centre of mass in 28x28.\n\n"
         "options:\n"
         "  --top K              show the K most likely classes (default 3)\n"
         "  --show               print each image as the model sees it (28x28 text art)\n"
         "  --json               one JSON object: {model, dataset, classes, predictions:\n"
         "                       [{file, top: [{class, name, prob}], probs}]}\n"
         "  --idx FILE --index N also classify image N (from 0) of an IDX images file,\n"
         "                       as it is (IDX images are already MNIST-style)\n");
  cli_precision_help();
  printf("\nExit status 1 when any image could not be read; the others are still classified.\n");
  return 0;
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* RUN or CHECKPOINT to the checkpoint's path and the dataset the model was
 * trained on (from config.json of the run folder; "mnist" when there is
 * none, as for a checkpoint copied out of its run). */
static int resolve_model(const char *arg, char *ckpt, size_t ckpt_size, char *dataset, size_t dataset_size) {
  char run_dir[4096];
  if (is_dir(arg)) {
    snprintf(run_dir, sizeof run_dir, "%s", arg);
    if (cn_run_file_path(arg, CN_RUN_FILE_BEST, ckpt, ckpt_size)) return cli_fail_last();
    if (!is_file(ckpt)) return cli_fail("%s: no %s in this folder (is it a run folder?)", arg, ckpt + strlen(arg) + 1);
  } else {
    snprintf(ckpt, ckpt_size, "%s", arg);
    const char *slash = strrchr(arg, '/');
    snprintf(run_dir, sizeof run_dir, "%.*s", slash ? (int)(slash - arg) : 1, slash ? arg : ".");
  }
  char config[4200], data_dir[4096];
  if (cn_run_file_path(run_dir, CN_RUN_FILE_CONFIG, config, sizeof config)) return cli_fail_last();
  snprintf(dataset, dataset_size, "mnist");
  if (is_file(config) && cn_run_read_dataset(run_dir, dataset, dataset_size, data_dir, sizeof data_dir) != 0)
    return cli_fail_last();
  return 0;
}

static int setup_model(predictor *p, const char *ckpt, const char *dataset) {
  if (cn_checkpoint_load_model(ckpt, &p->model) != 0 || cn_model_set_precision(p->model, p->precision) != 0)
    return cli_fail_last();
  const cn_spec *spec = cn_model_spec(p->model);
  if (spec->in_c != 1 || spec->in_h != CN_MNIST_SIDE || spec->in_w != CN_MNIST_SIDE)
    return cli_fail("%s: the model takes %dx%dx%d input; predict feeds it 28x28x1 images", ckpt, spec->in_h,
                    spec->in_w, spec->in_c);
  p->classes = cn_model_outputs(p->model);
  if (p->classes < 1 || p->classes > CN_MAX_CLASSES)
    return cli_fail("%s: the model has %d outputs; predict handles 1 to %d classes", ckpt, p->classes, CN_MAX_CLASSES);
  p->softmax_in_model = spec->n_layers > 0 && spec->layers[spec->n_layers - 1].act == CN_ACT_SOFTMAX;
  const char *const *names = cn_dataset_class_names(dataset);
  for (int k = 0; k < p->classes; k++) {
    snprintf(p->number_names[k], sizeof p->number_names[k], "%d", k);
    p->class_names[k] = names && p->classes == 10 ? names[k] : p->number_names[k];
  }
  if (p->top > p->classes) p->top = p->classes;
  return 0;
}

static void softmax(float *z, int n) {
  float max = z[0];
  for (int i = 1; i < n; i++) max = z[i] > max ? z[i] : max;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += z[i] = expf(z[i] - max);
  for (int i = 0; i < n; i++) z[i] = (float)(z[i] / sum);
}

/* The k most likely classes, most likely first (ties: lower class first). */
static void top_classes(const float *probs, int n, int k, int *order) {
  for (int i = 0; i < k; i++) {
    int best = -1;
    for (int c = 0; c < n; c++) {
      int taken = 0;
      for (int j = 0; j < i; j++) taken |= order[j] == c;
      if (!taken && (best < 0 || probs[c] > probs[best])) best = c;
    }
    order[i] = best;
  }
}

static double rounded(double x) { return round(x * 1e6) / 1e6; }

/* Reports that `file` failed with `message` (on stderr, and in the JSON). */
static void report_failure(predictor *p, const char *file, const char *message) {
  fprintf(stderr, "cnist: error: %s\n", message);
  if (p->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddStringToObject(o, "error", message);
    cJSON_AddItemToArray(p->predictions, o);
  }
  p->failures++;
}

static void print_preview(const char *file, const uint8_t *preview) {
  char *art = cn_image_ascii(preview, CN_MNIST_SIDE, CN_MNIST_SIDE);
  if (!art) return;
  printf("%s as the model sees it (28x28):\n+", file);
  for (int i = 0; i < 2 * CN_MNIST_SIDE; i++) putchar('-');
  printf("+\n");
  for (char *line = art; *line;) {
    char *end = strchr(line, '\n');
    printf("|%.*s|\n", (int)(end - line), line);
    line = end + 1;
  }
  putchar('+');
  for (int i = 0; i < 2 * CN_MNIST_SIDE; i++) putchar('-');
  printf("+\n");
  free(art);
}

static void add_preview_json(cJSON *o, const uint8_t *preview) {
  char *art = cn_image_ascii(preview, CN_MNIST_SIDE, CN_MNIST_SIDE);
  if (!art) return;
  cJSON *rows = cJSON_AddArrayToObject(o, "preview");
  for (char *line = art; *line;) {
    char *end = strchr(line, '\n');
    *end = '\0';
    cJSON_AddItemToArray(rows, cJSON_CreateString(line));
    line = end + 1;
  }
  free(art);
}

/* Classifies one preprocessed image x (1x28x28) and prints the result. */
static void classify(predictor *p, const char *file, const float *x, const uint8_t *preview) {
  float probs[CN_MAX_CLASSES];
  if (cn_model_predict(p->model, x, 1, probs) != 0) {
    report_failure(p, file, cn_last_error());
    return;
  }
  if (!p->softmax_in_model) softmax(probs, p->classes);
  int order[CN_MAX_CLASSES];
  top_classes(probs, p->classes, p->top, order);

  if (p->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", file);
    cJSON *top = cJSON_AddArrayToObject(o, "top");
    for (int i = 0; i < p->top; i++) {
      cJSON *t = cJSON_CreateObject();
      cJSON_AddNumberToObject(t, "class", order[i]);
      cJSON_AddStringToObject(t, "name", p->class_names[order[i]]);
      cJSON_AddNumberToObject(t, "prob", rounded(probs[order[i]]));
      cJSON_AddItemToArray(top, t);
    }
    cJSON *all = cJSON_AddArrayToObject(o, "probs");
    for (int c = 0; c < p->classes; c++) cJSON_AddItemToArray(all, cJSON_CreateNumber(rounded(probs[c])));
    if (p->show) add_preview_json(o, preview);
    cJSON_AddItemToArray(p->predictions, o);
    return;
  }
  if (p->show) print_preview(file, preview);
  printf("%s:", file);
  for (int i = 0; i < p->top; i++)
    printf("%s %s %.2f%%", i ? "," : "", p->class_names[order[i]], 100.0 * probs[order[i]]);
  printf("\n");
}

static void predict_file(predictor *p, const char *file) {
  cn_gray_image img;
  float x[CN_MNIST_PIXELS];
  uint8_t preview[CN_MNIST_PIXELS];
  int rc = cn_image_load(file, &img);
  if (!rc) {
    rc = cn_image_to_mnist(&img, file, x, preview);
    cn_gray_image_free(&img);
  }
  if (rc) {
    report_failure(p, file, cn_last_error());
    return;
  }
  classify(p, file, x, preview);
}

/* Image `index` of an IDX images file, fed as it is once the file's images
 * are the model's input. */
static void predict_idx(predictor *p, const char *path, long index) {
  char name[4200];
  snprintf(name, sizeof name, "%s[%ld]", path, index);
  cn_idx idx;
  if (cn_idx_read_images(path, &idx) != 0) {
    report_failure(p, name, cn_last_error());
    return;
  }
  cn_imageset set = {.n = idx.dims[0], .rows = idx.dims[1], .cols = idx.dims[2],
                     .channels = idx.ndim == 4 ? idx.dims[3] : 1, .pixels = idx.data};
  snprintf(set.images_path, sizeof set.images_path, "%s", path);
  const cn_spec *spec = cn_model_spec(p->model);
  char message[4400];
  if (cn_imageset_check(&set, spec->in_h, spec->in_w, spec->in_c, 0) != 0) {
    report_failure(p, name, cn_last_error());
  } else if (index >= idx.dims[0]) {
    snprintf(message, sizeof message, "%s: --index %ld is out of range: the file holds %d images (0 to %d)", path,
             index, idx.dims[0], idx.dims[0] - 1);
    report_failure(p, name, message);
  } else {
    const int i = (int)index;
    float x[CN_MNIST_PIXELS];
    if (cn_batch_fill(&set, &i, 1, CN_MNIST_SIDE, CN_MNIST_SIDE, 1, x, NULL) != 0)
      report_failure(p, name, cn_last_error());
    else
      classify(p, name, x, idx.data + (size_t)index * CN_MNIST_PIXELS);
  }
  cn_idx_free(&idx);
}

int cmd_predict(int argc, char **argv) {
  predictor p = {.top = 3};
  const char *model_arg = NULL, *idx_path = NULL;
  int index = -1, n_images = 0;
  const char **images = calloc((size_t)argc, sizeof *images);
  if (!images) return cli_fail("out of memory");
  int rc = 0;
  for (int i = 1; i < argc && !rc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      free(images);
      return usage_text();
    } else if (!strcmp(a, "--json")) {
      p.json = 1;
    } else if (!strcmp(a, "--show")) {
      p.show = 1;
    } else if (!strcmp(a, "--top")) {
      if (!cli_int_arg(argc, argv, &i, &p.top, 1, CN_MAX_CLASSES)) rc = 2;
    } else if (!strcmp(a, "--idx")) {
      if (!cli_str_arg(argc, argv, &i, &idx_path)) rc = 2;
    } else if (!strcmp(a, "--precision")) {
      if (!cli_precision_arg(argc, argv, &i, &p.precision)) rc = 2;
    } else if (!strcmp(a, "--index")) {
      if (!cli_int_arg(argc, argv, &i, &index, 0, 2000000000)) rc = 2;
    } else if (a[0] == '-' && a[1] != '\0') {
      rc = cli_usage("predict: unknown option '%s'", a);
    } else if (!model_arg) {
      model_arg = a;
    } else {
      images[n_images++] = a;
    }
  }
  if (!rc && !model_arg) rc = cli_usage("predict: needs a run folder or checkpoint, then images");
  if (!rc && (idx_path != NULL) != (index >= 0)) rc = cli_usage("predict: --idx FILE and --index N go together");
  if (!rc && n_images == 0 && !idx_path) rc = cli_usage("predict: no images given (IMAGE... or --idx FILE --index N)");
  char ckpt[4200], dataset[64];
  if (!rc) rc = resolve_model(model_arg, ckpt, sizeof ckpt, dataset, sizeof dataset);
  if (!rc) rc = setup_model(&p, ckpt, dataset);
  if (rc) {
    cn_model_free(p.model);
    free(images);
    return rc;
  }

  cJSON *root = NULL;
  if (p.json) {
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", ckpt);
    cJSON_AddStringToObject(root, "dataset", dataset);
    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (int k = 0; k < p.classes; k++) cJSON_AddItemToArray(classes, cJSON_CreateString(p.class_names[k]));
    p.predictions = cJSON_AddArrayToObject(root, "predictions");
  }
  for (int i = 0; i < n_images; i++) predict_file(&p, images[i]);
  if (idx_path) predict_idx(&p, idx_path, index);
  if (root) {
    char *text = cJSON_Print(root);
    if (text) puts(text);
    free(text);
    cJSON_Delete(root);
  }
  cn_model_free(p.model);
  free(images);
  return p.failures ? 1 : 0;
}
