/* The ensembles (`cnist ensemble --out DIR`): each one's members and their
 * accuracies beside the ensemble's, and the test digits it gets wrong,
 * marked by how many members get them wrong too. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "report/sections.h"

/* The folder's last component: what the page calls a run or an ensemble. */
static const char *base_name(const char *dir) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  const char *p = dir + n;
  while (p > dir && p[-1] != '/') p--;
  return p;
}

static void members_table(cn_strbuf *b, const cn_ensemble_record *e) {
  double best = 0;
  for (int m = 0; m < e->members; m++)
    if (e->member[m].test_accuracy > best) best = e->member[m].test_accuracy;
  cn_strbuf_put(b, "<div class=\"scroll\"><table class=\"small\"><thead><tr><th class=\"name\">member</th>"
                   "<th class=\"name\">model</th><th>test accuracy</th></tr></thead><tbody>\n");
  for (int m = 0; m < e->members; m++) {
    const cn_run_summary *s = &e->member[m];
    cn_strbuf_put(b, "<tr><td class=\"path\">");
    cn_strbuf_escaped(b, s->dir);
    cn_strbuf_put(b, "</td><td class=\"name\">");
    cn_strbuf_escaped(b, s->model);
    cn_strbuf_printf(b, "</td><td>%.2f%%</td></tr>\n", 100 * s->test_accuracy);
  }
  cn_strbuf_printf(b, "<tr class=\"top\"><td><b>the ensemble</b></td><td class=\"name\">mean of %d%s</td>"
                      "<td><b>%.2f%%</b> <span class=\"se\">&plusmn; %.2f</span></td></tr>\n",
                   e->members, e->views > 1 ? " &times; test-time views" : "", 100 * e->summary.test_accuracy,
                   100 * e->summary.test_accuracy_se);
  cn_strbuf_put(b, "</tbody></table></div>\n");
  double gain = 100 * (e->summary.test_accuracy - best);
  cn_strbuf_printf(b, "<p class=\"muted\">%.2f points %s its best member.</p>\n", fabs(gain),
                   gain >= 0 ? "above" : "below");
}

/* One tile per digit the ensemble gets wrong; the digit itself when the
 * report's dataset is the ensemble's test set. */
static int wrong_tiles(cn_strbuf *b, const cn_report_ctx *ctx, const cn_ensemble_record *e, int digits) {
  int every = 0;
  for (int w = 0; w < e->n_wrong; w++) every += e->wrong[w].members_wrong == e->members;
  int shown = e->n_wrong < ctx->opt->max_common_errors ? e->n_wrong : ctx->opt->max_common_errors;
  cn_strbuf_printf(b, "<h3>Its %d wrong digit%s <small>&middot; %d of them wrong in every member", e->n_wrong,
                   e->n_wrong == 1 ? "" : "s", every);
  if (shown < e->n_wrong) cn_strbuf_printf(b, "; the first %d shown", shown);
  cn_strbuf_put(b, "</small></h3>\n<div class=\"tiles\">\n");
  for (int w = 0; w < shown; w++) {
    const cn_ensemble_wrong *x = &e->wrong[w];
    cn_strbuf_printf(b, "<div class=\"tile\" title=\"test #%d: %.0f%% for ", x->index, 100 * x->probability);
    cn_strbuf_escaped(b, cn_report_class_name(ctx, x->predicted));
    cn_strbuf_printf(b, "; %d of %d members wrong\">", x->members_wrong, e->members);
    if (digits) {
      char alt[96];
      snprintf(alt, sizeof alt, "test digit %d, a %s", x->index, cn_report_class_name(ctx, x->label));
      int rc = cn_report_digit_img(b, &ctx->ds.test, x->index, 2, alt);
      if (rc) return rc;
    } else {
      cn_strbuf_printf(b, "<div class=\"muted\">#%d</div>", x->index);
    }
    cn_strbuf_put(b, "<div>");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, x->label));
    cn_strbuf_put(b, " &rarr; <span class=\"bad\">");
    cn_strbuf_escaped(b, cn_report_class_name(ctx, x->predicted));
    cn_strbuf_printf(b, "</span></div><div class=\"muted\">%d/%d</div></div>\n", x->members_wrong, e->members);
  }
  cn_strbuf_put(b, "</div>\n");
  return CN_OK;
}

int cn_report_section_ensembles(cn_strbuf *b, const cn_report_ctx *ctx) {
  cn_strbuf_put(b, "<section id=\"ensembles\">\n<h2>Ensembles</h2>\n<p class=\"lead\">The mean of several runs' test "
                   "probabilities (<code>cnist ensemble</code>). Under each digit it gets wrong: the true class, the "
                   "ensemble's class, and how many members get the digit wrong as well; a digit every member gets "
                   "wrong is one more members of the same kind will not fix.</p>\n");
  for (int i = 0; i < ctx->n_ensembles; i++) {
    const cn_ensemble_record *e = &ctx->ensembles[i];
    /* Digits are drawn from the report's dataset only when it is the one the ensemble was tested on. */
    int digits = ctx->have_test_digits && e->summary.test_n <= ctx->ds.test.n &&
                 strcmp(e->summary.dataset, ctx->runs[0]->dataset) == 0 && e->classes == ctx->classes;
    for (int w = 0; digits && w < e->n_wrong; w++) digits = ctx->ds.test.labels[e->wrong[w].index] == e->wrong[w].label;
    cn_strbuf_put(b, "<div class=\"run block\"><h3>");
    cn_strbuf_escaped(b, base_name(e->summary.dir));
    cn_strbuf_put(b, " <small>&middot; ");
    cn_strbuf_escaped(b, e->summary.dataset);
    cn_strbuf_printf(b, ", %lld test images</small></h3>\n", (long long)e->summary.test_n);
    members_table(b, e);
    int rc = wrong_tiles(b, ctx, e, digits);
    if (rc) return rc;
    cn_strbuf_put(b, "</div>\n");
  }
  cn_strbuf_put(b, "</section>\n");
  return CN_OK;
}
