/* The report's results sections: the leaderboard, the training curves and
 * the confusion matrices with per-class metrics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "report/sections.h"
#include "report/svg.h"

/* ---- leaderboard ---- */

/* A train or validation figure as a table cell; "none" where it was not
 * measured (NaN: no validation split, or the training set left out). */
static void figure_cell(char *out, size_t size, double v) {
  if (isnan(v)) snprintf(out, size, "<span class=\"se\">none</span>");
  else snprintf(out, size, "%.4f", v);
}

/* Run indices by test accuracy, best first; ties keep the order given.
 * (Insertion sort: a handful of runs, and no global state for qsort.) */
static void sort_by_test_accuracy(const cn_report_ctx *ctx, int *order) {
  for (int i = 0; i < ctx->n_runs; i++) {
    int j = i;
    while (j > 0 && ctx->runs[order[j - 1]]->test_accuracy < ctx->runs[i]->test_accuracy) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
}

int cn_report_section_leaderboard(cn_strbuf *b, const cn_report_ctx *ctx) {
  int n = ctx->n_runs;
  int *order = malloc(sizeof *order * (size_t)n);
  const char **labels = malloc(sizeof *labels * (size_t)n);
  double *values = malloc(sizeof *values * (size_t)n), *errors = malloc(sizeof *errors * (size_t)n);
  if (!order || !labels || !values || !errors) {
    free(order);
    free(labels);
    free(values);
    free(errors);
    return cn_fail(CN_ENOMEM, "report: out of memory");
  }
  sort_by_test_accuracy(ctx, order);

  cn_strbuf_put(b, "<section id=\"leaderboard\">\n<h2>Leaderboard</h2>\n<p class=\"lead\">Every run, best test "
                   "accuracy first. The &plusmn; figure is the binomial standard error of the test accuracy: "
                   "differences smaller than about twice it are within chance. Losses are the mean "
                   "cross-entropy; weight_number counts trainable parameters.</p>\n");
  cn_strbuf_put(b, "<div class=\"scroll\"><table>\n<thead><tr><th></th><th class=\"name\">model</th><th>train_loss</th>"
                   "<th>train_accuracy</th><th>val_loss</th><th>val_accuracy</th><th>test_loss</th>"
                   "<th>test_accuracy</th><th>weight_number</th><th>train_time</th><th>epochs</th></tr></thead>\n"
                   "<tbody>\n");
  for (int k = 0; k < n; k++) {
    const cn_report_run *r = ctx->runs[order[k]];
    char weights[32], time_text[32], train_loss[48], train_acc[48], val_loss[48], val_acc[48];
    figure_cell(train_loss, sizeof train_loss, r->train_loss);
    figure_cell(train_acc, sizeof train_acc, r->train_accuracy);
    figure_cell(val_loss, sizeof val_loss, r->val_loss);
    figure_cell(val_acc, sizeof val_acc, r->val_accuracy);
    cn_format_thousands(weights, sizeof weights, r->weight_number);
    cn_report_duration(time_text, sizeof time_text, r->train_time);
    const char *folder = strrchr(r->dir, '/');
    folder = folder && folder[1] ? folder + 1 : r->dir;
    cn_strbuf_printf(b, "<tr%s><td class=\"rank\">%d</td><td class=\"name\"><b>", k == 0 && n > 1 ? " class=\"top\"" : "",
                     k + 1);
    cn_strbuf_escaped(b, r->name);
    cn_strbuf_put(b, "</b><br><span class=\"path\" title=\"");
    cn_strbuf_escaped(b, r->dir);
    cn_strbuf_put(b, "\">");
    cn_strbuf_escaped(b, folder);
    cn_strbuf_printf(b,
                     "</span></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.4f</td>"
                     "<td><b>%.4f</b> <span class=\"se\">&plusmn; %.4f</span></td><td>%s</td><td>%s</td>"
                     "<td>%d <span class=\"se\">(best %d)</span></td></tr>\n",
                     train_loss, train_acc, val_loss, val_acc, r->test_loss, r->test_accuracy,
                     r->test_accuracy_se, weights, time_text, r->epochs_run, r->best_epoch);
    labels[k] = r->name;
    values[k] = r->test_accuracy;
    errors[k] = r->test_accuracy_se;
  }
  cn_strbuf_put(b, "</tbody></table></div>\n");
  if (n > 1) {
    cn_svg_interval_chart chart = {.title = "Test accuracy",
                                   .xlabel = "test accuracy",
                                   .width = 760,
                                   .n = n,
                                   .labels = labels,
                                   .values = values,
                                   .errors = errors,
                                   .color = CN_COLOR_TRAIN,
                                   .series_legend = "test accuracy",
                                   .error_legend = "\xc2\xb1 1 standard error"};
    cn_strbuf_put(b, "<figure class=\"block\" style=\"margin-top:18px;max-width:760px\">");
    cn_svg_draw_interval_chart(b, &chart);
    cn_strbuf_put(b, "</figure>\n");
  }
  cn_strbuf_put(b, "</section>\n");
  free(order);
  free(labels);
  free(values);
  free(errors);
  return CN_OK;
}

/* ---- training curves ---- */

/* One run's accuracy and loss against epoch. */
static int training_run(cn_strbuf *b, const cn_report_run *r) {
  int n = r->n_epochs;
  double *y = malloc(sizeof *y * (size_t)n * 4);
  cn_svg_mark *marks = malloc(sizeof *marks * (size_t)n);
  if (!y || !marks) {
    free(y);
    free(marks);
    return cn_fail(CN_ENOMEM, "report: out of memory");
  }
  double *acc = y, *val_acc = y + n, *loss = y + 2 * n, *val_loss = y + 3 * n;
  int n_marks = 0;
  for (int e = 0; e < n; e++) {
    acc[e] = r->history[e].accuracy;
    val_acc[e] = r->history[e].val_accuracy;
    loss[e] = r->history[e].loss;
    val_loss[e] = r->history[e].val_loss;
    /* A lower rate in epoch e+1 than in epoch e: reduced between them. */
    if (e > 0 && r->history[e].lr < r->history[e - 1].lr) {
      marks[n_marks].x = e + 0.5;
      snprintf(marks[n_marks].label, sizeof marks[n_marks].label, "lr %g", r->history[e].lr);
      n_marks++;
    }
  }
  cn_strbuf_put(b, "<div class=\"run block\"><h3>");
  cn_strbuf_escaped(b, r->name);
  cn_strbuf_printf(b, " <small>&middot; %d epoch%s", n, n == 1 ? "" : "s");
  int has_val = !isnan(r->val_accuracy);
  if (!has_val)
    cn_strbuf_put(b, " &middot; no validation split: the last epoch's weights were kept");
  else if (r->best_epoch >= 1)
    cn_strbuf_printf(b, " &middot; best epoch %d (val_accuracy %.4f, val_loss %.4f)", r->best_epoch,
                     r->history[r->best_epoch - 1].val_accuracy, r->history[r->best_epoch - 1].val_loss);
  cn_strbuf_printf(b, " &middot; lr %g", r->history[0].lr);
  for (int m = 0; m < n_marks; m++) cn_strbuf_printf(b, " &rarr; %g", r->history[(int)marks[m].x].lr);
  cn_strbuf_put(b, "</small></h3>\n<div class=\"grid2\">\n");

  char legend[48];
  snprintf(legend, sizeof legend, "best epoch (%d)", r->best_epoch);
  cn_svg_series acc_series[2] = {{"Training", CN_COLOR_TRAIN, acc, n}, {"Validation", CN_COLOR_VAL, val_acc, n}};
  cn_svg_series loss_series[2] = {{"Training", CN_COLOR_TRAIN, loss, n}, {"Validation", CN_COLOR_VAL, val_loss, n}};
  char title[160];
  cn_svg_line_chart chart = {.title = title,
                             .xlabel = "Epoch",
                             .ylabel = "Accuracy",
                             .width = 560,
                             .height = 330,
                             .ymax = 1,
                             .series = acc_series,
                             .n_series = has_val ? 2 : 1,
                             .marks = marks,
                             .n_marks = n_marks,
                             .marks_legend = "LR reduced",
                             .highlight_x = r->best_epoch,
                             .highlight_legend = legend};
  snprintf(title, sizeof title, "%s: accuracy vs. epochs", r->name);
  cn_strbuf_put(b, "<figure>");
  cn_svg_draw_line_chart(b, &chart);
  cn_strbuf_put(b, "</figure>\n<figure>");
  snprintf(title, sizeof title, "%s: loss vs. epochs", r->name);
  chart.ylabel = "Loss";
  chart.ymax = 0;
  chart.series = loss_series;
  cn_svg_draw_line_chart(b, &chart);
  cn_strbuf_put(b, "</figure>\n</div></div>\n");
  free(y);
  free(marks);
  return CN_OK;
}

int cn_report_section_training(cn_strbuf *b, const cn_report_ctx *ctx) {
  cn_strbuf_put(b, "<section id=\"training\">\n<h2>Training curves</h2>\n<p class=\"lead\">Accuracy and loss "
                   "after each epoch on the training batches and on the held-out validation split. Dashed lines "
                   "mark where ReduceLROnPlateau lowered the learning rate; the shaded epoch is the best one, "
                   "whose weights were kept and tested.</p>\n");
  for (int i = 0; i < ctx->n_runs; i++) {
    int rc = training_run(b, ctx->runs[i]);
    if (rc) return rc;
  }
  cn_strbuf_put(b, "</section>\n");
  return CN_OK;
}

/* ---- confusion matrices ---- */

/* The most frequent off-diagonal cells, most first. */
static int top_confusions(const cn_report_run *r, int max, int *truth, int *pred) {
  int found = 0, c = r->classes;
  while (found < max) {
    int bt = -1, bp = -1;
    int64_t best = 0;
    for (int t = 0; t < c; t++)
      for (int p = 0; p < c; p++) {
        int64_t v = r->confusion[t * c + p];
        if (t == p || v <= 0) continue;
        int taken = 0;
        for (int k = 0; k < found; k++) taken |= truth[k] == t && pred[k] == p;
        if (!taken && v > best) best = v, bt = t, bp = p;
      }
    if (bt < 0) break;
    truth[found] = bt;
    pred[found] = bp;
    found++;
  }
  return found;
}

static void per_class_table(cn_strbuf *b, const cn_report_ctx *ctx, const cn_report_run *r) {
  int worst = 0;
  for (int k = 1; k < r->classes; k++)
    if (r->per_class[k].f1 < r->per_class[worst].f1) worst = k;
  cn_strbuf_put(b, "<table class=\"small\"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
                   "<th>support</th></tr></thead><tbody>\n");
  for (int k = 0; k < r->classes; k++) {
    const cn_class_metrics *pc = &r->per_class[k];
    cn_strbuf_put(b, k == worst ? "<tr style=\"color:var(--bad)\"><td>" : "<tr><td>");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, k));
    cn_strbuf_printf(b, "</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%lld</td></tr>\n", pc->precision, pc->recall,
                     pc->f1, (long long)pc->support);
  }
  cn_strbuf_put(b, "</tbody></table>\n");
}

static void confused_pairs(cn_strbuf *b, const cn_report_ctx *ctx, const cn_report_run *r) {
  int truth[6], pred[6];
  int n = top_confusions(r, 6, truth, pred);
  cn_strbuf_put(b, "<div><b>Most confused</b> <span class=\"muted\">(true &rarr; predicted)</span>");
  if (n == 0) {
    cn_strbuf_put(b, "<p class=\"muted\">No test image was misclassified.</p></div>\n");
    return;
  }
  cn_strbuf_put(b, "<ol class=\"pairs\">\n");
  for (int i = 0; i < n; i++) {
    int64_t v = r->confusion[truth[i] * r->classes + pred[i]];
    int64_t support = 0;
    for (int p = 0; p < r->classes; p++) support += r->confusion[truth[i] * r->classes + p];
    cn_strbuf_put(b, "<li><b>");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, truth[i]));
    cn_strbuf_put(b, " &rarr; ");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, pred[i]));
    cn_strbuf_printf(b, "</b>: %lld <span class=\"muted\">(%.2f%% of the ", (long long)v,
                     support ? 100.0 * (double)v / (double)support : 0.0);
    cn_strbuf_escaped(b, cn_report_class_name(ctx, truth[i]));
    cn_strbuf_put(b, "s)</span></li>\n");
  }
  cn_strbuf_put(b, "</ol></div>\n");
}

static void heatmap(cn_strbuf *b, const cn_report_ctx *ctx, const cn_report_run *r) {
  /* Long class names (Fashion-MNIST) do not fit beside a cell: use numbers. */
  int short_names = 1;
  for (int k = 0; k < r->classes; k++)
    if (strlen(cn_report_class_name(ctx, k)) > 3) short_names = 0;
  char title[160];
  snprintf(title, sizeof title, "%s: confusion matrix", r->name);
  cn_svg_heatmap h = {.title = title,
                      .xlabel = "Predicted",
                      .ylabel = "Actual",
                      .n = r->classes,
                      .counts = r->confusion,
                      .labels = short_names ? ctx->class_names : NULL,
                      .cell = r->classes <= 10 ? 36 : r->classes <= 20 ? 22 : 14};
  cn_strbuf_put(b, "<figure>");
  cn_svg_draw_heatmap(b, &h);
  cn_strbuf_put(b, "</figure>\n");
}

int cn_report_section_confusion(cn_strbuf *b, const cn_report_ctx *ctx) {
  cn_strbuf_put(b, "<section id=\"confusion\">\n<h2>Confusion matrices</h2>\n<p class=\"lead\">Test-set counts: "
                   "rows are the true class, columns the predicted one, so everything off the diagonal is a "
                   "mistake. Colours follow a log scale so that a handful of confusions still shows next to the "
                   "diagonal's thousands. The class with the lowest F1 is in red.</p>\n");
  if (ctx->n_runs == 1) {
    const cn_report_run *r = ctx->runs[0];
    cn_strbuf_put(b, "<div class=\"grid2 block\">\n");
    heatmap(b, ctx, r);
    cn_strbuf_put(b, "<div>");
    per_class_table(b, ctx, r);
    cn_strbuf_put(b, "<div style=\"margin-top:14px\">");
    confused_pairs(b, ctx, r);
    cn_strbuf_put(b, "</div></div>\n</div>\n");
  } else {
    cn_strbuf_put(b, "<div class=\"grid2\">\n");
    for (int i = 0; i < ctx->n_runs; i++) {
      const cn_report_run *r = ctx->runs[i];
      cn_strbuf_put(b, "<div class=\"block\">\n");
      heatmap(b, ctx, r);
      cn_strbuf_put(b, "<div class=\"cards\" style=\"margin-top:8px\">");
      per_class_table(b, ctx, r);
      confused_pairs(b, ctx, r);
      cn_strbuf_put(b, "</div>\n</div>\n");
    }
    cn_strbuf_put(b, "</div>\n");
  }
  cn_strbuf_put(b, "</section>\n");
  return CN_OK;
}
