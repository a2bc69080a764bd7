/* The HTML report: loads the runs and the dataset, then assembles the page
 * (style, header, table of contents, one section each) and writes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cnist/report.h"
#include "core/error.h"
#include "report/png_encode.h"
#include "report/sections.h"

cn_report_options cn_report_default_options(void) {
  return (cn_report_options){.samples = 10, .seed = 1, .grid_digits = 32, .max_common_errors = 60,
                             .data_dir = NULL, .title = NULL};
}

/* ---- helpers shared by the sections ---- */

const char *cn_report_class_name(const cn_report_ctx *ctx, int k) {
  return k >= 0 && k < ctx->classes ? ctx->class_names[k] : "?";
}

int cn_report_digit_img(cn_strbuf *b, const cn_imageset *set, int index, int scale, const char *alt) {
  cn_strbuf_printf(b, "<img class=\"digit\" width=\"%d\" height=\"%d\" alt=\"", set->cols * scale, set->rows * scale);
  cn_strbuf_escaped(b, alt);
  cn_strbuf_put(b, "\" src=\"");
  int rc = cn_report_png_data_uri(b, set->pixels + (size_t)index * (size_t)set->rows * (size_t)set->cols, set->rows,
                                  set->cols, scale);
  cn_strbuf_put(b, "\">");
  return rc;
}

void cn_report_duration(char *out, size_t size, double s) {
  if (s < 60)
    snprintf(out, size, "%.1f s", s);
  else if (s < 3600)
    snprintf(out, size, "%d min %02d s", (int)(s / 60), (int)s % 60);
  else
    snprintf(out, size, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
}

/* ---- the page ---- */

static const char *const style[] = {
    ":root{--ink:#1f2933;--muted:#52606d;--line:#e4e7eb;--soft:#f5f7fa;--accent:#1c64f2;--good:#2f9e44;"
    "--bad:#d6336c}\n",
    "*{box-sizing:border-box}\n",
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n",
    "body{margin:0;background:#eef1f5;color:var(--ink);font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'Helvetica Neue','DejaVu Sans',Arial,sans-serif}\n",
    ".wrap{max-width:1240px;margin:0 auto;padding:0 24px}\n",
    "header.top{background:#14213d;color:#fff;padding:26px 0 18px}\n",
    "header.top h1{margin:0;font-size:28px;font-weight:650;letter-spacing:-.01em}\n",
    "header.top .sub{color:#c3cee0;margin-top:4px}\n",
    ".facts{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0 6px}\n",
    ".fact{background:rgba(255,255,255,.08);border:1px solid rgba(255,255,255,.16);border-radius:8px;"
    "padding:8px 14px;min-width:150px}\n",
    ".fact b{display:block;font-size:20px;font-weight:650}\n",
    ".fact span{color:#c3cee0;font-size:12px;text-transform:uppercase;letter-spacing:.05em}\n",
    "nav.toc{margin-top:14px;display:flex;flex-wrap:wrap;gap:8px}\n",
    "nav.toc a{color:#dbe7ff;text-decoration:none;border:1px solid rgba(255,255,255,.25);border-radius:999px;"
    "padding:3px 12px;font-size:13px}\n",
    "nav.toc a:hover{background:rgba(255,255,255,.12)}\n",
    "section{background:#fff;border:1px solid var(--line);border-radius:12px;padding:22px 26px;margin:22px 0;"
    "box-shadow:0 1px 2px rgba(16,24,40,.04)}\n",
    "h2{font-size:21px;margin:0 0 4px;font-weight:650}\n",
    "h3{font-size:16px;margin:22px 0 8px;font-weight:650}\n",
    "h3 small,.muted{color:var(--muted);font-weight:400}\n",
    "p.lead{color:var(--muted);margin:0 0 16px;max-width:900px}\n",
    ".note{background:#fff8e6;border:1px solid #f5d58a;border-radius:8px;padding:10px 14px;margin:10px 0}\n",
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n",
    "th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}\n",
    "th:first-child,td:first-child{text-align:left}\n",
    "thead th{font-size:12px;font-weight:600;color:var(--muted);border-bottom:2px solid #cbd2d9;"
    "vertical-align:bottom}\n",
    "td.name,th.name{text-align:left}\n",
    "tbody tr:hover{background:var(--soft)}\n",
    "tr.top td{background:#ebfbee}\n",
    "td.rank{color:var(--muted);width:2em}\n",
    ".se{color:var(--muted);font-size:12px}\n",
    ".path{color:var(--muted);font-size:12px;font-family:ui-monospace,'DejaVu Sans Mono',monospace}\n",
    ".scroll{overflow-x:auto}\n",
    "table.small th,table.small td{padding:3px 9px;font-size:13px}\n",
    ".grid2{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px 28px}\n",
    ".cards{display:flex;flex-wrap:wrap;gap:16px}\n",
    ".block{break-inside:avoid;page-break-inside:avoid}\n",
    ".run{border-top:1px solid var(--line);padding-top:6px;margin-top:12px}\n",
    ".run:first-of-type{border-top:none;margin-top:0}\n",
    "figure{margin:0}\n",
    "svg{display:block;max-width:100%;height:auto}\n",
    "img.digit{image-rendering:pixelated;image-rendering:crisp-edges;display:block;border-radius:3px;"
    "background:#000}\n",
    ".sample{display:flex;align-items:flex-start;gap:10px;border:1px solid var(--line);border-radius:10px;"
    "padding:10px 12px;background:#fff}\n",
    ".sample .who{width:112px;text-align:center;font-size:13px}\n",
    ".sample .who b{font-size:15px}\n",
    ".tiles{display:flex;flex-wrap:wrap;gap:8px}\n",
    ".tile{min-width:62px;text-align:center;font-size:12px;line-height:1.3}\n",
    ".tile img{margin:0 auto 3px}\n",
    ".tile .bad{color:var(--bad);font-weight:600}\n",
    ".pill{display:inline-block;border-radius:999px;padding:0 8px;font-size:12px;background:var(--soft);"
    "border:1px solid var(--line);color:var(--muted)}\n",
    ".pairs li{margin:2px 0}\n",
    ".models{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:18px 28px;"
    "align-items:start}\n",
    "footer{color:var(--muted);font-size:12px;text-align:center;padding:8px 0 30px}\n",
    "@media (max-width:900px){.grid2{grid-template-columns:minmax(0,1fr)}}\n",
    "@media print{body{background:#fff;font-size:11pt}.wrap{max-width:none;padding:0}"
    "header.top{background:#fff;color:#000;padding:0 0 8px;border-bottom:2px solid #000}"
    "header.top .sub,.fact span{color:#333}.fact{border-color:#999;background:#fff}nav.toc{display:none}"
    "section{border:none;box-shadow:none;padding:10px 0;margin:0 0 10px;break-inside:avoid;"
    "page-break-inside:avoid}h2{break-after:avoid;page-break-after:avoid}"
    ".sample,figure,.tile,tr{break-inside:avoid;page-break-inside:avoid}tbody tr:hover{background:none}"
    ".scroll{overflow:visible}table{font-size:8.5pt}th,td{padding:3px 5px}thead th{white-space:normal}"
    ".path{display:none}}\n"};

static const struct {
  const char *id, *title;
} toc[] = {{"leaderboard", "Leaderboard"},  {"training", "Training curves"}, {"confusion", "Confusion matrices"},
           {"errors", "Error analysis"},     {"ensembles", "Ensembles"},     {"dataset", "The dataset"},
           {"models", "Model structure"}};

static void write_head(cn_strbuf *b, const cn_report_ctx *ctx, const char *title) {
  cn_strbuf_put(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"generator\" content=\"cnist " CN_VERSION "\">\n<title>");
  cn_strbuf_escaped(b, title);
  cn_strbuf_put(b, "</title>\n<style>\n");
  for (size_t i = 0; i < sizeof style / sizeof style[0]; i++) cn_strbuf_put(b, style[i]);
  cn_strbuf_put(b, "</style>\n</head>\n<body>\n<header class=\"top\"><div class=\"wrap\">\n<h1>");
  cn_strbuf_escaped(b, title);
  cn_strbuf_put(b, "</h1>\n");

  char when[64];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
  const cn_report_run *first = ctx->runs[0];
  cn_strbuf_printf(b, "<div class=\"sub\">%d run%s on ", ctx->n_runs, ctx->n_runs == 1 ? "" : "s");
  cn_strbuf_escaped(b, first->dataset);
  cn_strbuf_printf(b, " &middot; generated %s by cnist " CN_VERSION "</div>\n", when);

  /* The headline numbers: the best run, and what it was measured on. */
  const cn_report_run *best = first;
  for (int i = 1; i < ctx->n_runs; i++)
    if (ctx->runs[i]->test_accuracy > best->test_accuracy) best = ctx->runs[i];
  char params[32], time_text[32];
  cn_format_thousands(params, sizeof params, best->weight_number);
  cn_report_duration(time_text, sizeof time_text, best->train_time);
  cn_strbuf_put(b, "<div class=\"facts\">\n<div class=\"fact\"><span>best test accuracy</span><b>");
  cn_strbuf_printf(b, "%.2f%% <small>&plusmn; %.2f</small></b></div>\n", 100 * best->test_accuracy,
                   100 * best->test_accuracy_se);
  cn_strbuf_put(b, "<div class=\"fact\"><span>best model</span><b>");
  cn_strbuf_escaped(b, best->name);
  cn_strbuf_printf(b, "</b></div>\n<div class=\"fact\"><span>its weights</span><b>%s</b></div>\n", params);
  cn_strbuf_printf(b, "<div class=\"fact\"><span>its training time</span><b>%s</b></div>\n", time_text);
  char images[32];
  cn_format_thousands(images, sizeof images, first->test_n);
  cn_strbuf_printf(b, "<div class=\"fact\"><span>test images</span><b>%s</b></div>\n</div>\n", images);

  cn_strbuf_put(b, "<nav class=\"toc\" aria-label=\"Sections\">");
  for (size_t i = 0; i < sizeof toc / sizeof toc[0]; i++)
    if (ctx->n_ensembles || strcmp(toc[i].id, "ensembles")) cn_strbuf_printf(b, "<a href=\"#%s\">%s</a>", toc[i].id, toc[i].title);
  cn_strbuf_put(b, "</nav>\n</div></header>\n<main class=\"wrap\">\n");
}

static void write_tail(cn_strbuf *b) {
  cn_strbuf_put(b, "</main>\n<footer>Written by cnist " CN_VERSION
                   ". Self-contained: charts are inline SVG, digits inline PNG; nothing is fetched.</footer>\n"
                   "</body>\n</html>\n");
}

/* ---- loading ---- */

/* Two runs of the same model (and precision) get their folder names, so
 * every label in the report points at one run. */
static void name_runs(cn_report_run **runs, int n) {
  for (int i = 0; i < n; i++) {
    int repeated = 0;
    for (int j = 0; j < n; j++)
      if (j != i && strcmp(runs[i]->model, runs[j]->model) == 0 && runs[i]->bf16 == runs[j]->bf16) repeated = 1;
    if (!repeated) continue;
    const char *base = strrchr(runs[i]->dir, '/');
    base = base && base[1] ? base + 1 : runs[i]->dir;
    snprintf(runs[i]->name, sizeof runs[i]->name, "%.120s", base);
  }
}

/* The dataset of the first run, for the digits. A failure is not fatal: the
 * page says what went wrong where the digits would be. */
static void load_dataset(cn_report_ctx *ctx) {
  const cn_report_run *first = ctx->runs[0];
  const char *dir = ctx->opt->data_dir ? ctx->opt->data_dir : first->data_dir[0] ? first->data_dir : NULL;
  int rc = cn_dataset_load(first->dataset, dir, &ctx->ds);
  if (rc && dir && !ctx->opt->data_dir) {
    /* The recorded folder may be relative to where training ran: try the usual places. */
    char recorded[sizeof ctx->data_note];
    snprintf(recorded, sizeof recorded, "%s", cn_last_error());
    rc = cn_dataset_load(first->dataset, NULL, &ctx->ds);
    if (rc) cn_fail(rc, "%s", recorded);
  }
  if (rc) {
    snprintf(ctx->data_note, sizeof ctx->data_note, "The dataset could not be loaded, so digits are not shown: %s",
             cn_last_error());
    cn_clear_error();
    return;
  }
  ctx->have_data = 1;
  ctx->class_names = ctx->ds.class_names;
  if (ctx->ds.classes != first->classes) {
    snprintf(ctx->data_note, sizeof ctx->data_note,
             "The dataset %s has %d classes but the runs have %d: its digits are not shown.", first->dataset,
             ctx->ds.classes, first->classes);
    ctx->have_data = 0;
    ctx->class_names = ctx->index_names;
    return;
  }
  int same = ctx->ds.test.n >= first->test_n;
  for (int i = 0; same && i < first->test_n; i++) same = ctx->ds.test.labels[i] == first->labels[i];
  ctx->have_test_digits = same;
  if (!same)
    snprintf(ctx->data_note, sizeof ctx->data_note,
             "The test labels in %.900s/" CN_RUN_PROBS " differ from the %s test set found, so test digits are not shown.",
             first->dir, first->dataset);
}

static int write_file_atomic(const char *path, const char *data, size_t size) {
  size_t len = strlen(path);
  char *tmp = malloc(len + 16);
  if (!tmp) return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  snprintf(tmp, len + 16, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int rc = cn_fail(CN_EIO, "%s: cannot create: %s", path, strerror(errno));
    free(tmp);
    return rc;
  }
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += (size_t)n;
  }
  int ok = done == size && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    int rc = cn_fail(CN_EIO, "%s: cannot write: %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return rc;
  }
  free(tmp);
  return CN_OK;
}

int cn_report_write(const char *const *runs, int n_runs, const char *out_path, const cn_report_options *opt) {
  cn_report_options defaults = cn_report_default_options();
  if (!opt) opt = &defaults;
  if (!runs || n_runs <= 0) return cn_fail(CN_EINVAL, "report: no runs given");
  if (!out_path || !*out_path) return cn_fail(CN_EINVAL, "report: no output file given");
  if (opt->samples < 0 || opt->grid_digits < 0 || opt->max_common_errors < 0)
    return cn_fail(CN_EINVAL, "report: samples, grid digits and common errors cannot be negative");

  cn_report_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.opt = opt;
  ctx.runs = calloc((size_t)n_runs, sizeof *ctx.runs);
  ctx.comparable = calloc((size_t)n_runs, sizeof *ctx.comparable);
  int rc = ctx.runs && ctx.comparable ? CN_OK : cn_fail(CN_ENOMEM, "report: out of memory");
  for (int i = 0; !rc && i < n_runs; i++) {
    rc = cn_report_run_load(runs[i], &ctx.runs[ctx.n_runs]);
    if (!rc) ctx.n_runs++;
    else if (opt->on_broken && rc != CN_ENOMEM) {
      opt->on_broken(runs[i], cn_last_error(), opt->user);
      rc = CN_OK;
    }
  }
  if (!rc && ctx.n_runs == 0) rc = cn_fail(CN_EINVAL, "report: none of the %d runs could be read", n_runs);
  if (!rc && opt->n_ensembles > 0) {
    ctx.ensembles = calloc((size_t)opt->n_ensembles, sizeof *ctx.ensembles);
    if (!ctx.ensembles) rc = cn_fail(CN_ENOMEM, "report: out of memory");
  }
  for (int i = 0; !rc && i < opt->n_ensembles; i++) {
    rc = cn_ensemble_read(opt->ensembles[i], &ctx.ensembles[ctx.n_ensembles]);
    if (!rc) ctx.n_ensembles++;
    else if (opt->on_broken && rc != CN_ENOMEM) {
      opt->on_broken(opt->ensembles[i], cn_last_error(), opt->user);
      rc = CN_OK;
    }
  }
  cn_strbuf page;
  cn_strbuf_init(&page);
  if (!rc) {
    name_runs(ctx.runs, ctx.n_runs);
    const cn_report_run *first = ctx.runs[0];
    ctx.classes = first->classes;
    /* Classes are called by their number unless the dataset names them. */
    for (int k = 0; k < ctx.classes; k++) {
      snprintf(ctx.index_text[k], sizeof ctx.index_text[k], "%d", k);
      ctx.index_names[k] = ctx.index_text[k];
    }
    ctx.class_names = ctx.index_names;
    for (int i = 0; i < ctx.n_runs; i++) {
      const cn_report_run *r = ctx.runs[i];
      ctx.comparable[i] = r->classes == first->classes && r->test_n == first->test_n &&
                          memcmp(r->labels, first->labels, (size_t)r->test_n) == 0;
    }
    load_dataset(&ctx);
    write_head(&page, &ctx, opt->title ? opt->title : "cnist report");
    rc = cn_report_section_leaderboard(&page, &ctx);
    if (!rc) rc = cn_report_section_training(&page, &ctx);
    if (!rc) rc = cn_report_section_confusion(&page, &ctx);
    if (!rc) rc = cn_report_section_errors(&page, &ctx);
    if (!rc && ctx.n_ensembles) rc = cn_report_section_ensembles(&page, &ctx);
    if (!rc) rc = cn_report_section_dataset(&page, &ctx);
    if (!rc) rc = cn_report_section_models(&page, &ctx);
    write_tail(&page);
    if (!rc && page.failed) rc = cn_fail(CN_ENOMEM, "%s: out of memory building the report", out_path);
    if (!rc) rc = write_file_atomic(out_path, page.data, page.len);
  }
  cn_strbuf_free(&page);
  cn_dataset_free(&ctx.ds);
  for (int i = 0; i < ctx.n_runs; i++) cn_report_run_free(ctx.runs[i]);
  free(ctx.runs);
  free(ctx.comparable);
  for (int i = 0; i < ctx.n_ensembles; i++) cn_ensemble_record_free(&ctx.ensembles[i]);
  free(ctx.ensembles);
  return rc;
}
