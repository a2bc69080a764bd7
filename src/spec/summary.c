/* The Keras-style model summary: one row per layer with Keras's layer names,
 * output shapes printed channels-last as Keras does, parameter counts, then
 * totals, forward cost and the memory a training batch needs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnist/spec.h"
#include "core/error.h"
#include "spec/text.h"

/* "(None, 28, 28, 32)" for maps (Keras is channels-last), "(None, 128)" for vectors. */
static void keras_shape(cn_shape s, int flat, char *buf, size_t n) {
  if (flat)
    snprintf(buf, n, "(None, %d)", s.c);
  else
    snprintf(buf, n, "(None, %d, %d, %d)", s.h, s.w, s.c);
}

static void rule(FILE *f, char c, int width) {
  for (int i = 0; i < width; i++) fputc(c, f);
  fputc('\n', f);
}

char *cn_spec_summary(const cn_spec *s) {
  cn_shape sh[CN_MAX_LAYERS + 1];
  cn_spec_stats st;
  if (cn_spec_check(s, 0, sh) || cn_spec_stats_compute(s, &st)) return NULL;

  char names[CN_MAX_LAYERS][64], shapes[CN_MAX_LAYERS][64];
  int count[CN_LAYER_KINDS] = {0};
  int name_w = (int)strlen("Layer (type)"), shape_w = (int)strlen("Output Shape"),
      param_w = (int)strlen("Param #");
  int flat = s->in_h == 1 && s->in_w == 1; /* vectors stay vectors once flattened, densed or pooled globally */
  for (int i = 0; i < s->n_layers; i++) {
    const cn_layer_spec *l = &s->layers[i];
    int k = count[l->kind]++;
    if (k)
      snprintf(names[i], sizeof names[i], "%s_%d (%s)", cn_layer_kind_keras_name(l->kind), k,
               cn_layer_kind_keras_class(l->kind));
    else
      snprintf(names[i], sizeof names[i], "%s (%s)", cn_layer_kind_keras_name(l->kind),
               cn_layer_kind_keras_class(l->kind));
    if (l->kind == CN_LAYER_FLATTEN || l->kind == CN_LAYER_DENSE || l->kind == CN_LAYER_GLOBAL_AVGPOOL) flat = 1;
    keras_shape(sh[i + 1], flat, shapes[i], sizeof shapes[i]);
    if ((int)strlen(names[i]) > name_w) name_w = (int)strlen(names[i]);
    if ((int)strlen(shapes[i]) > shape_w) shape_w = (int)strlen(shapes[i]);
  }
  char num[32], num2[32], num3[32];
  cn_format_thousands(num, sizeof num, (double)st.total);
  if ((int)strlen(num) > param_w) param_w = (int)strlen(num);
  int width = 1 + name_w + 3 + shape_w + 3 + param_w;

  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  if (!f) {
    cn_fail(CN_ENOMEM, "cn_spec_summary: out of memory");
    return NULL;
  }
  fprintf(f, "Model: \"%s\"\n", s->name[0] ? s->name : "sequential");
  rule(f, '_', width);
  fprintf(f, " %-*s   %-*s   %*s\n", name_w, "Layer (type)", shape_w, "Output Shape", param_w, "Param #");
  rule(f, '=', width);
  for (int i = 0; i < s->n_layers; i++) {
    cn_format_thousands(num, sizeof num, (double)st.per_layer[i]);
    fprintf(f, " %-*s   %-*s   %*s\n", name_w, names[i], shape_w, shapes[i], param_w, num);
  }
  rule(f, '=', width);
  cn_format_thousands(num, sizeof num, (double)st.total);
  cn_format_bytes((double)st.total * sizeof(float), num2, sizeof num2);
  fprintf(f, "Total params: %s (%s)\n", num, num2);
  cn_format_thousands(num, sizeof num, (double)st.trainable);
  fprintf(f, "Trainable params: %s\n", num);
  cn_format_thousands(num, sizeof num, (double)st.non_trainable);
  fprintf(f, "Non-trainable params: %s\n", num);
  rule(f, '_', width);
  cn_format_thousands(num, sizeof num, (double)(size_t)st.macs_per_image);
  fprintf(f, "Forward multiply-adds per image: %s\n", num);
  int batch = s->train.batch;
  cn_format_bytes((double)st.train_bytes_per_image * batch + (double)st.param_bytes, num, sizeof num);
  cn_format_bytes((double)st.train_bytes_per_image * batch, num2, sizeof num2);
  cn_format_bytes((double)st.param_bytes, num3, sizeof num3);
  fprintf(f,
          "Training memory at batch %d: %s (activations and gradients %s, parameters with gradients and Adam "
          "moments %s)\n",
          batch, num, num2, num3);
  if (fclose(f) != 0) {
    free(text);
    cn_fail(CN_ENOMEM, "cn_spec_summary: out of memory");
    return NULL;
  }
  return text;
}
