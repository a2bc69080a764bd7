/* The error analysis: a seeded sample of the first run's misclassified test
 * digits with every run's class probabilities (the study's
 * plot_predicted_sample), and the digits that every run gets wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "report/sections.h"
#include "report/svg.h"

/* Tick labels for probability bars: class names when short, else numbers. */
static const char *const *short_class_names(const cn_report_ctx *ctx) {
  for (int k = 0; k < ctx->classes; k++)
    if (strlen(cn_report_class_name(ctx, k)) > 2) return ctx->index_names;
  return ctx->class_names;
}

/* One run's probabilities for test image i as a small bar chart whose title
 * names the predicted class and its probability. */
static void probability_bars(cn_strbuf *b, const cn_report_ctx *ctx, const cn_report_run *r, int i) {
  int c = r->classes, pred = r->predicted[i], truth = r->labels[i];
  double values[CN_MAX_CLASSES];
  const char *colors[CN_MAX_CLASSES];
  for (int k = 0; k < c; k++) {
    values[k] = r->probs[(size_t)i * (size_t)c + (size_t)k];
    colors[k] = NULL;
  }
  colors[pred] = pred == truth ? CN_COLOR_RIGHT : CN_COLOR_WRONG;
  char title[160];
  snprintf(title, sizeof title, "%s: %s (%.0f%%)", r->name, cn_report_class_name(ctx, pred), 100 * values[pred]);
  cn_svg_bar_chart chart = {.title = title,
                            .xlabel = "class",
                            .ylabel = "probability",
                            .width = c <= 10 ? 190 : 320,
                            .height = 150,
                            .n = c,
                            .values = values,
                            .categories = short_class_names(ctx),
                            .color = CN_COLOR_BAR,
                            .colors = colors,
                            .ymax = 1,
                            .emphasize = truth,
                            .emphasize_color = CN_COLOR_RIGHT,
                            .font = 10};
  cn_strbuf_put(b, "<figure>");
  cn_svg_draw_bar_chart(b, &chart);
  cn_strbuf_put(b, "</figure>\n");
}

/* The digit itself, or its index when the dataset is not at hand. */
static int digit(cn_strbuf *b, const cn_report_ctx *ctx, int i, int scale) {
  char alt[96];
  snprintf(alt, sizeof alt, "test digit %d, a %s", i, cn_report_class_name(ctx, ctx->runs[0]->labels[i]));
  if (ctx->have_test_digits) return cn_report_digit_img(b, &ctx->ds.test, i, scale, alt);
  cn_strbuf_printf(b, "<div class=\"digit\" style=\"width:%dpx;height:%dpx;background:#e4e7eb;border-radius:3px;"
                      "display:flex;align-items:center;justify-content:center;margin:0 auto\">#%d</div>",
                   28 * scale, 28 * scale, i);
  return CN_OK;
}

static void sort_ints(int *v, int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
      int t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
}

static int samples(cn_strbuf *b, const cn_report_ctx *ctx, int *errors, int n_errors) {
  const cn_report_run *first = ctx->runs[0];
  int want = ctx->opt->samples < n_errors ? ctx->opt->samples : n_errors;
  cn_strbuf_put(b, "<h3>Misclassified by ");
  cn_strbuf_escaped(b, first->name);
  cn_strbuf_printf(b, " <small>&middot; %d of its %d errors, drawn with seed %llu</small></h3>\n", want, n_errors,
                   (unsigned long long)ctx->opt->seed);
  /* A partial Fisher-Yates shuffle: the first `want` entries become the sample. */
  cn_rng rng;
  cn_rng_seed(&rng, ctx->opt->seed, 0x5e1ec7);
  for (int k = 0; k < want; k++) {
    int j = k + (int)cn_rng_below(&rng, (uint32_t)(n_errors - k));
    int t = errors[k];
    errors[k] = errors[j];
    errors[j] = t;
  }
  sort_ints(errors, want);
  cn_strbuf_put(b, "<div class=\"cards\">\n");
  for (int s = 0; s < want; s++) {
    int i = errors[s];
    cn_strbuf_put(b, "<div class=\"sample\"><div class=\"who\">");
    int rc = digit(b, ctx, i, 4);
    if (rc) return rc;
    cn_strbuf_put(b, "<div>actual: <b>");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, first->labels[i]));
    cn_strbuf_printf(b, "</b></div><div class=\"muted\">test #%d</div></div>\n", i);
    for (int r = 0; r < ctx->n_runs; r++)
      if (ctx->comparable[r]) probability_bars(b, ctx, ctx->runs[r], i);
    cn_strbuf_put(b, "</div>\n");
  }
  cn_strbuf_put(b, "</div>\n");
  return CN_OK;
}

static int common_errors(cn_strbuf *b, const cn_report_ctx *ctx) {
  const cn_report_run *first = ctx->runs[0];
  int n_common = 0, shown = 0, n_compared = 0;
  for (int r = 0; r < ctx->n_runs; r++) n_compared += ctx->comparable[r];
  for (int i = 0; i < first->test_n; i++) {
    int all = 1;
    for (int r = 0; r < ctx->n_runs && all; r++)
      if (ctx->comparable[r]) all = ctx->runs[r]->predicted[i] != first->labels[i];
    n_common += all;
  }
  if (n_compared > 1)
    cn_strbuf_printf(b, "<h3>Wrong in every run <small>&middot; %d test digit%s that all %d runs misclassify", n_common,
                     n_common == 1 ? "" : "s", n_compared);
  else
    cn_strbuf_printf(b, "<h3>Every error <small>&middot; with one run, all %d of its misclassified digits", n_common);
  if (n_common > ctx->opt->max_common_errors) cn_strbuf_printf(b, "; the first %d shown", ctx->opt->max_common_errors);
  cn_strbuf_put(b, "</small></h3>\n");
  if (n_compared > 1) {
    cn_strbuf_put(b, "<p class=\"muted\">Under each digit: its true class, then each run's prediction in the order ");
    int k = 0;
    for (int r = 0; r < ctx->n_runs; r++) {
      if (!ctx->comparable[r]) continue;
      cn_strbuf_put(b, k++ ? " / " : "");
      cn_strbuf_escaped(b, ctx->runs[r]->name);
    }
    cn_strbuf_put(b, ". Hover for the probabilities.</p>\n");
  }
  if (n_common == 0) {
    cn_strbuf_put(b, "<p class=\"muted\">None: for every test digit, at least one run is right.</p>\n");
    return CN_OK;
  }
  cn_strbuf_put(b, "<div class=\"tiles\">\n");
  for (int i = 0; i < first->test_n && shown < ctx->opt->max_common_errors; i++) {
    int all = 1;
    for (int r = 0; r < ctx->n_runs && all; r++)
      if (ctx->comparable[r]) all = ctx->runs[r]->predicted[i] != first->labels[i];
    if (!all) continue;
    shown++;
    /* The tooltip: each run's prediction and its probability. */
    cn_strbuf_printf(b, "<div class=\"tile\" title=\"test #%d:", i);
    for (int r = 0; r < ctx->n_runs; r++) {
      const cn_report_run *run = ctx->runs[r];
      if (!ctx->comparable[r]) continue;
      int p = run->predicted[i];
      cn_strbuf_put(b, " ");
      cn_strbuf_escaped(b, run->name);
      cn_strbuf_put(b, " ");
      cn_strbuf_escaped(b, cn_report_class_name(ctx, p));
      cn_strbuf_printf(b, " (%.0f%%)", 100.0 * run->probs[(size_t)i * (size_t)run->classes + (size_t)p]);
    }
    cn_strbuf_put(b, "\">");
    int rc = digit(b, ctx, i, 2);
    if (rc) return rc;
    cn_strbuf_put(b, "<div>");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, first->labels[i]));
    cn_strbuf_put(b, " &rarr; <span class=\"bad\">");
    int k = 0;
    for (int r = 0; r < ctx->n_runs; r++) {
      if (!ctx->comparable[r]) continue;
      cn_strbuf_put(b, k++ ? "/" : "");
      cn_strbuf_escaped(b, cn_report_class_name(ctx, ctx->runs[r]->predicted[i]));
    }
    cn_strbuf_put(b, "</span></div></div>\n");
  }
  cn_strbuf_put(b, "</div>\n");
  return CN_OK;
}

int cn_report_section_errors(cn_strbuf *b, const cn_report_ctx *ctx) {
  const cn_report_run *first = ctx->runs[0];
  cn_strbuf_put(b, "<section id=\"errors\">\n<h2>Error analysis</h2>\n<p class=\"lead\">Test digits that ");
  cn_strbuf_escaped(b, first->name);
  cn_strbuf_put(b, " gets wrong, each with every run's predicted probabilities for the classes. The predicted "
                   "class's bar is <b style=\"color:" CN_COLOR_WRONG "\">red</b> when wrong and <b style=\"color:"
                   CN_COLOR_RIGHT "\">green</b> when right; the true class is underlined.</p>\n");
  if (!ctx->have_test_digits && ctx->data_note[0]) {
    cn_strbuf_put(b, "<div class=\"note\">");
    cn_strbuf_escaped(b, ctx->data_note);
    cn_strbuf_put(b, "</div>\n");
  }
  for (int r = 0; r < ctx->n_runs; r++)
    if (!ctx->comparable[r]) {
      cn_strbuf_put(b, "<div class=\"note\">");
      cn_strbuf_escaped(b, ctx->runs[r]->name);
      cn_strbuf_put(b, " was tested on other images than ");
      cn_strbuf_escaped(b, first->name);
      cn_strbuf_put(b, " (a different dataset or test limit), so it is left out of this section.</div>\n");
    }
  int *errors = malloc(sizeof *errors * (size_t)first->test_n);
  if (!errors) return cn_fail(CN_ENOMEM, "report: out of memory");
  int n_errors = 0;
  for (int i = 0; i < first->test_n; i++)
    if (first->predicted[i] != first->labels[i]) errors[n_errors++] = i;
  int rc = CN_OK;
  if (n_errors == 0) {
    cn_strbuf_put(b, "<p>");
    cn_strbuf_escaped(b, first->name);
    cn_strbuf_put(b, " classifies every test digit correctly.</p>\n");
  } else {
    if (ctx->opt->samples > 0) rc = samples(b, ctx, errors, n_errors);
    if (!rc) rc = common_errors(b, ctx);
  }
  free(errors);
  cn_strbuf_put(b, "</section>\n");
  return rc;
}
