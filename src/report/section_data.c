/* The report's dataset section (sample digits, class distribution: the
 * study's show_images and plot_distribution) and model section (each
 * model's layers as boxes with output shapes and parameter counts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "report/sections.h"
#include "report/svg.h"

/* ---- the dataset ---- */

static int sample_grid(cn_strbuf *b, const cn_report_ctx *ctx) {
  const cn_imageset *set = &ctx->ds.train;
  int want = ctx->opt->grid_digits < set->n ? ctx->opt->grid_digits : set->n;
  if (want <= 0) return CN_OK;
  int *pick = malloc(sizeof *pick * (size_t)want);
  if (!pick) return cn_fail(CN_ENOMEM, "report: out of memory");
  /* Distinct random images: rejection is cheap when want << n. */
  cn_rng rng;
  cn_rng_seed(&rng, ctx->opt->seed, 0xda7a);
  for (int k = 0; k < want; k++) {
    int again;
    do {
      pick[k] = (int)cn_rng_below(&rng, (uint32_t)set->n);
      again = 0;
      for (int j = 0; j < k; j++) again |= pick[j] == pick[k];
    } while (again);
  }
  cn_strbuf_printf(b, "<h3>Sample digits <small>&middot; %d training images drawn with seed %llu, with their "
                      "labels</small></h3>\n<div class=\"tiles\">\n",
                   want, (unsigned long long)ctx->opt->seed);
  int rc = CN_OK;
  for (int k = 0; k < want && !rc; k++) {
    char alt[96];
    snprintf(alt, sizeof alt, "training digit %d, a %s", pick[k], cn_report_class_name(ctx, set->labels[pick[k]]));
    cn_strbuf_printf(b, "<div class=\"tile\" title=\"training image #%d\">", pick[k]);
    rc = cn_report_digit_img(b, set, pick[k], 2, alt);
    cn_strbuf_put(b, "<b>");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, set->labels[pick[k]]));
    cn_strbuf_put(b, "</b></div>\n");
  }
  cn_strbuf_put(b, "</div>\n");
  free(pick);
  return rc;
}

/* Class counts of labels[0..n) as bars labelled with their share. */
static void distribution(cn_strbuf *b, const cn_report_ctx *ctx, const uint8_t *labels, int n, const char *title,
                         const char *color) {
  int c = ctx->classes;
  double counts[CN_MAX_CLASSES] = {0};
  char text[CN_MAX_CLASSES][16];
  const char *bar_labels[CN_MAX_CLASSES];
  for (int i = 0; i < n; i++) counts[labels[i]]++;
  for (int k = 0; k < c; k++) {
    snprintf(text[k], sizeof text[k], "%.1f%%", n ? 100.0 * counts[k] / n : 0.0);
    bar_labels[k] = text[k];
  }
  int short_names = 1;
  for (int k = 0; k < c; k++) short_names &= strlen(cn_report_class_name(ctx, k)) <= 2;
  cn_svg_bar_chart chart = {.title = title,
                            .xlabel = "class",
                            .ylabel = "images",
                            .width = 560,
                            .height = 300,
                            .n = c,
                            .values = counts,
                            .categories = short_names ? ctx->class_names : ctx->index_names,
                            .color = color,
                            .bar_labels = c <= 16 ? bar_labels : NULL,
                            .emphasize = -1,
                            .font = 12};
  cn_strbuf_put(b, "<figure>");
  cn_svg_draw_bar_chart(b, &chart);
  cn_strbuf_put(b, "</figure>\n");
}

int cn_report_section_dataset(cn_strbuf *b, const cn_report_ctx *ctx) {
  const cn_report_run *first = ctx->runs[0];
  cn_strbuf_put(b, "<section id=\"dataset\">\n<h2>The dataset</h2>\n<p class=\"lead\">");
  cn_strbuf_escaped(b, first->dataset);
  if (ctx->have_data) {
    char train[32], test[32];
    cn_format_thousands(train, sizeof train, ctx->ds.train.n);
    cn_format_thousands(test, sizeof test, ctx->ds.test.n);
    cn_strbuf_printf(b, ": %s training and %s test images of %d\xc3\x97%d grey pixels in %d classes, read from ", train,
                     test, ctx->ds.train.rows, ctx->ds.train.cols, ctx->ds.classes);
    cn_strbuf_put(b, "<span class=\"path\">");
    cn_strbuf_escaped(b, ctx->ds.dir);
    cn_strbuf_put(b, "</span>. Each run holds out part of the training images for validation.");
  } else {
    cn_strbuf_put(b, ": the dataset the first run names in its " CN_RUN_CONFIG ".");
  }
  cn_strbuf_put(b, "</p>\n");
  if (ctx->data_note[0]) {
    cn_strbuf_put(b, "<div class=\"note\">");
    cn_strbuf_escaped(b, ctx->data_note);
    cn_strbuf_put(b, "</div>\n");
  }
  int rc = ctx->have_data ? sample_grid(b, ctx) : CN_OK;
  if (rc) return rc;
  cn_strbuf_put(b, "<h3>Class distribution <small>&middot; images per class, with each class's share</small></h3>\n"
                   "<div class=\"grid2 block\">\n");
  char title[96], count[32];
  if (ctx->have_data) {
    cn_format_thousands(count, sizeof count, ctx->ds.train.n);
    snprintf(title, sizeof title, "Train (%s images)", count);
    distribution(b, ctx, ctx->ds.train.labels, ctx->ds.train.n, title, "#0f8b8d");
  }
  /* The test labels are in test_probs.bin, so this chart needs no dataset. */
  cn_format_thousands(count, sizeof count, first->test_n);
  snprintf(title, sizeof title, "Test (%s images)", count);
  distribution(b, ctx, first->labels, first->test_n, title, "#f08a5d");
  cn_strbuf_put(b, "</div>\n</section>\n");
  return CN_OK;
}

/* ---- the models ---- */

#define DIAGRAM_WIDTH 360

static const char *kind_color(cn_layer_kind k) {
  switch (k) {
  case CN_LAYER_CONV2D: return "#3b5bdb";
  case CN_LAYER_MAXPOOL:
  case CN_LAYER_AVGPOOL:
  case CN_LAYER_GLOBAL_AVGPOOL: return "#0ca678";
  case CN_LAYER_DENSE: return "#7048e8";
  case CN_LAYER_BATCHNORM: return "#f59f00";
  case CN_LAYER_DROPOUT: return "#adb5bd";
  case CN_LAYER_FLATTEN: return "#868e96";
  default: return "#e8590c";
  }
}

static void shape_text(char *out, size_t size, cn_shape s) {
  if (s.h == 1 && s.w == 1)
    snprintf(out, size, "%d", s.c);
  else
    snprintf(out, size, "%d\xc3\x97%d\xc3\x97%d", s.h, s.w, s.c); /* h x w x c, as the model file writes input */
}

/* The layer's name and its settings, as the model file would say them. */
static void layer_text(const cn_layer_spec *l, char *head, size_t head_size, char *detail, size_t detail_size) {
  const char *kind = cn_layer_kind_name(l->kind);
  detail[0] = '\0';
  switch (l->kind) {
  case CN_LAYER_DENSE:
    snprintf(head, head_size, "%s %d", kind, l->units);
    if (l->act != CN_ACT_NONE) snprintf(detail, detail_size, "%s", cn_act_name(l->act));
    break;
  case CN_LAYER_CONV2D:
    snprintf(head, head_size, "%s %d \xc2\xb7 %d\xc3\x97%d", kind, l->filters, l->kh, l->kw);
    snprintf(detail, detail_size, "%s%s", l->same ? "padding same" : "padding valid",
             l->act != CN_ACT_NONE ? " \xc2\xb7 " : "");
    if (l->act != CN_ACT_NONE)
      snprintf(detail + strlen(detail), detail_size - strlen(detail), "%s", cn_act_name(l->act));
    if (l->sh != 1 || l->sw != 1)
      snprintf(detail + strlen(detail), detail_size - strlen(detail), " \xc2\xb7 stride %d", l->sh);
    break;
  case CN_LAYER_MAXPOOL:
  case CN_LAYER_AVGPOOL:
    snprintf(head, head_size, "%s %d\xc3\x97%d", kind, l->kh, l->kw);
    if (l->sh != l->kh || l->sw != l->kw) snprintf(detail, detail_size, "stride %d", l->sh);
    break;
  case CN_LAYER_BATCHNORM:
    snprintf(head, head_size, "%s", kind);
    snprintf(detail, detail_size, "momentum %g \xc2\xb7 epsilon %g", (double)l->momentum, (double)l->epsilon);
    break;
  case CN_LAYER_DROPOUT: snprintf(head, head_size, "%s %g", kind, (double)l->rate); break;
  case CN_LAYER_ACTIVATION: snprintf(head, head_size, "%s %s", kind, cn_act_name(l->act)); break;
  default: snprintf(head, head_size, "%s", kind);
  }
}

static void layer_box(cn_strbuf *b, double y, const char *color, const char *head, const char *detail,
                      const char *shape, const char *params) {
  const double x = 8, w = DIAGRAM_WIDTH - 16, h = 46;
  cn_svg_rect(b, x, y, w, h, "#ffffff", "#cbd2d9", 6);
  cn_svg_rect(b, x, y, 7, h, color, NULL, 0);
  cn_svg_text(b, x + 18, y + (detail[0] ? 19 : 28), 13, "start", 600, "#1f2933", head);
  if (detail[0]) cn_svg_text(b, x + 18, y + 36, 11, "start", 400, "#52606d", detail);
  cn_svg_text(b, x + w - 12, y + (params[0] ? 19 : 28), 13, "end", 600, "#1f2933", shape);
  if (params[0]) cn_svg_text(b, x + w - 12, y + 36, 11, "end", 400, "#52606d", params);
}

static void arrow(cn_strbuf *b, double y0, double y1) {
  const double x = DIAGRAM_WIDTH / 2;
  cn_svg_line(b, x, y0, x, y1 - 5, "#9aa5b1", 1.5, 0);
  cn_strbuf_printf(b, "<path d=\"M %.1f %.1f L %.1f %.1f L %.1f %.1f Z\" fill=\"#9aa5b1\"/>\n", x - 4.5, y1 - 7, x + 4.5,
                   y1 - 7, x, y1);
}

static void model_diagram(cn_strbuf *b, const cn_report_run *r) {
  const cn_spec *s = &r->spec;
  const double box = 46, gap = 20, top = 34;
  int height = (int)(top + (s->n_layers + 1) * (box + gap) - gap + 74);
  char title[200], shape[48], params[48], head[96], detail[96], count[32];
  snprintf(title, sizeof title, "%s: layers with output shapes and parameters", r->name);
  cn_svg_begin(b, DIAGRAM_WIDTH, height, title);
  cn_svg_text(b, 8, 18, 12, "start", 400, "#52606d", "layer");
  cn_svg_text(b, DIAGRAM_WIDTH - 8, 18, 12, "end", 400, "#52606d", "output shape \xc2\xb7 params");

  snprintf(head, sizeof head, "input");
  shape_text(shape, sizeof shape, r->shapes[0]);
  layer_box(b, top, "#343a40", head, "", shape, "");
  for (int i = 0; i < s->n_layers; i++) {
    double y = top + (i + 1) * (box + gap);
    arrow(b, y - gap, y);
    layer_text(&s->layers[i], head, sizeof head, detail, sizeof detail);
    shape_text(shape, sizeof shape, r->shapes[i + 1]);
    params[0] = '\0';
    if (r->stats.per_layer[i] > 0) {
      cn_format_thousands(count, sizeof count, (double)r->stats.per_layer[i]);
      snprintf(params, sizeof params, "%s params", count);
    }
    layer_box(b, y, kind_color(s->layers[i].kind), head, detail, shape, params);
  }
  double y = top + (s->n_layers + 1) * (box + gap) - gap + 26;
  char total[32], trainable[32], frozen[32], line[160];
  cn_format_thousands(total, sizeof total, (double)r->stats.total);
  cn_format_thousands(trainable, sizeof trainable, (double)r->stats.trainable);
  cn_format_thousands(frozen, sizeof frozen, (double)r->stats.non_trainable);
  snprintf(line, sizeof line, "Total params: %s", total);
  cn_svg_text(b, 8, y, 13, "start", 600, "#1f2933", line);
  snprintf(line, sizeof line, "trainable %s \xc2\xb7 non-trainable %s", trainable, frozen);
  cn_svg_text(b, 8, y + 18, 11, "start", 400, "#52606d", line);
  snprintf(line, sizeof line, "%.2f million multiply-adds per image", r->stats.macs_per_image / 1e6);
  cn_svg_text(b, 8, y + 34, 11, "start", 400, "#52606d", line);
  cn_svg_end(b);
}

int cn_report_section_models(cn_strbuf *b, const cn_report_ctx *ctx) {
  cn_strbuf_put(b, "<section id=\"models\">\n<h2>Model structure</h2>\n<p class=\"lead\">Each model's layers from "
                   "input to output, with the shape each one produces (height\xc3\x97width\xc3\x97" "channels, or "
                   "features after flatten) and its parameters, counted as Keras does.</p>\n<div class=\"models\">\n");
  for (int i = 0; i < ctx->n_runs; i++) {
    const cn_report_run *r = ctx->runs[i];
    int shown = 0; /* the same model in two runs is drawn once */
    for (int j = 0; j < i; j++) shown |= strcmp(ctx->runs[j]->model, r->model) == 0;
    if (shown) continue;
    const cn_train_spec *t = &r->spec.train;
    cn_strbuf_put(b, "<figure class=\"block\"><h3 style=\"margin-top:0\">");
    cn_strbuf_escaped(b, r->model);
    cn_strbuf_printf(b, " <small>&middot; %s lr %g &middot; batch %d</small></h3>\n", cn_opt_name(t->optim.kind),
                     (double)t->optim.lr, t->batch);
    model_diagram(b, r);
    cn_strbuf_put(b, "</figure>\n");
  }
  cn_strbuf_put(b, "</div>\n</section>\n");
  return CN_OK;
}
