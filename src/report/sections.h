/* Internal: what the report's sections share, and one writer per section.
 * Each writer appends a <section id="..."> with an <h2> to the buffer and
 * returns 0 or a CN_E* status (with the message set). */
#ifndef CN_REPORT_SECTIONS_H
#define CN_REPORT_SECTIONS_H

#include "cnist/data.h"
#include "cnist/ensemble.h"
#include "cnist/report.h"
#include "report/buf.h"
#include "report/runs.h"

/* Series colours: training/validation as in Keras/matplotlib plots. */
#define CN_COLOR_TRAIN "#1f77b4"
#define CN_COLOR_VAL "#ff7f0e"
#define CN_COLOR_RIGHT "#2f9e44"
#define CN_COLOR_WRONG "#d6336c"
#define CN_COLOR_BAR "#4682b4"

typedef struct {
  cn_report_run **runs;
  int n_runs;
  const cn_report_options *opt;
  int classes;                     /* of the first run */
  const char *const *class_names;  /* classes names: the dataset's, else index_names */
  const char *index_names[CN_MAX_CLASSES];
  char index_text[CN_MAX_CLASSES][12]; /* room for any int: keeps -Wformat-truncation quiet */
  int *comparable;                 /* per run: 1 when it was tested on the first run's test labels */
  cn_dataset ds;                   /* valid when have_data */
  int have_data;                   /* the dataset loaded */
  int have_test_digits;            /* and its test set is the one the runs were tested on */
  char data_note[1200];            /* why digits are missing (shown in the page) */
  cn_ensemble_record *ensembles;   /* opt->ensembles read back */
  int n_ensembles;
} cn_report_ctx;

int cn_report_section_leaderboard(cn_strbuf *b, const cn_report_ctx *ctx);
int cn_report_section_training(cn_strbuf *b, const cn_report_ctx *ctx);
int cn_report_section_confusion(cn_strbuf *b, const cn_report_ctx *ctx);
int cn_report_section_errors(cn_strbuf *b, const cn_report_ctx *ctx);
int cn_report_section_dataset(cn_strbuf *b, const cn_report_ctx *ctx);
int cn_report_section_models(cn_strbuf *b, const cn_report_ctx *ctx);
/* Only when the report has ensembles. */
int cn_report_section_ensembles(cn_strbuf *b, const cn_report_ctx *ctx);

/* A class's display name ("7", "Ankle boot"). */
const char *cn_report_class_name(const cn_report_ctx *ctx, int k);
/* An <img> of one 28x28 (rows x cols) digit, scaled up, with alt text. */
int cn_report_digit_img(cn_strbuf *b, const cn_imageset *set, int index, int scale, const char *alt);
/* "12.3 s", "4 min 05 s", "1 h 02 min" */
void cn_report_duration(char *out, size_t size, double seconds);

#endif
