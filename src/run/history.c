/* history.csv: one row per finished epoch, rewritten whole after each. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "run/run.h"

const char cn_run_history_header[] = "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds";
static const char *const columns[] = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"};

/* A run without validation (NaN val figures) leaves both val cells empty. */
static int format_row(char *out, size_t size, const cn_history_row *r) {
  if (isnan(r->val_loss) || isnan(r->val_accuracy))
    return snprintf(out, size, "%d,%.8g,%.8g,,,%.8g,%.3f\n", r->epoch, r->loss, r->accuracy, r->lr, r->seconds);
  return snprintf(out, size, "%d,%.8g,%.8g,%.8g,%.8g,%.8g,%.3f\n", r->epoch, r->loss, r->accuracy, r->val_loss,
                  r->val_accuracy, r->lr, r->seconds);
}

int cn_run_write_history(const char *dir, const cn_history_row *rows, int n) {
  char path[CN_RUN_PATH_SIZE];
  int rc = cn_run_path(dir, CN_RUN_HISTORY, path);
  if (rc) return rc;
  /* Measured first: a row's width depends on its values (seconds=1e300
   * prints 300 digits). */
  size_t cap = sizeof cn_run_history_header + 1;
  for (int i = 0; i < n; i++) {
    int w = format_row(NULL, 0, &rows[i]);
    if (w < 0) return cn_fail(CN_EINVAL, "%s: row %d cannot be formatted", path, i + 1);
    cap += (size_t)w;
  }
  char *buf = malloc(cap);
  if (!buf) return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  size_t len = (size_t)snprintf(buf, cap, "%s\n", cn_run_history_header);
  for (int i = 0; i < n; i++) len += (size_t)format_row(buf + len, cap - len, &rows[i]);
  rc = cn_write_file_atomic(path, buf, len);
  free(buf);
  return rc;
}

/* One row at p (advanced past it); lineno for messages. */
static int parse_row(const char *path, int lineno, char **p, cn_history_row *out) {
  double v[7];
  int empty = 0; /* val cells left empty: a run without validation */
  for (int k = 0; k < 7; k++) {
    char *end;
    errno = 0;
    if ((k == 3 || k == 4) && **p == ',') {
      v[k] = NAN;
      empty++;
      *p += 1;
      continue;
    }
    v[k] = strtod(*p, &end);
    char want = k < 6 ? ',' : '\n';
    int ok = end != *p && isfinite(v[k]) && (*end == want || (k == 6 && (*end == '\r' || *end == '\0')));
    if (!ok)
      return cn_fail(CN_EFORMAT, "%s:%d: column %d (%s) is not a number followed by '%s'", path, lineno, k + 1,
                     columns[k], k < 6 ? "," : "end of line");
    *p = end + (k < 6);
  }
  if (empty == 1)
    return cn_fail(CN_EFORMAT, "%s:%d: val_loss and val_accuracy are empty together (a run without validation) or "
                   "numbers together", path, lineno);
  /* A learning rate of 0 is legitimate: a cosine schedule ends there. */
  for (int k = 1; k < 7; k++)
    if (v[k] < 0) return cn_fail(CN_EFORMAT, "%s:%d: %s is negative (%g)", path, lineno, columns[k], v[k]);
  if (v[2] > 1 || v[4] > 1)
    return cn_fail(CN_EFORMAT, "%s:%d: %s is %g; a fraction from 0 to 1 expected", path, lineno,
                   v[2] > 1 ? "accuracy" : "val_accuracy", v[2] > 1 ? v[2] : v[4]);
  *out = (cn_history_row){(int)v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
  return v[0] == floor(v[0]) && v[0] >= 1 && v[0] <= 1e6 ? CN_OK : -1;
}

int cn_run_read_history(const char *dir, cn_history_row *rows, int max, int *n) {
  *n = 0;
  char path[CN_RUN_PATH_SIZE];
  int rc = cn_run_path(dir, CN_RUN_HISTORY, path);
  char *text;
  if (!rc) rc = cn_read_file(path, 64u << 20, &text, NULL);
  if (rc == CN_ENOTFOUND) return cn_fail(rc, "%s: missing (every run folder written by cnist train has it)", path);
  if (rc) return rc;
  size_t hlen = strlen(cn_run_history_header);
  if (strncmp(text, cn_run_history_header, hlen) != 0 ||
      (text[hlen] != '\n' && text[hlen] != '\r' && text[hlen] != '\0')) {
    free(text);
    return cn_fail(CN_EFORMAT, "%s:1: the header must be \"%s\"", path, cn_run_history_header);
  }
  char *line = strchr(text, '\n');
  int lineno = 1;
  while (!rc && line && *++line) {
    lineno++;
    if (*line == '\n' || (*line == '\r' && line[1] == '\n')) continue; /* a blank line */
    if (*n == max) {
      rc = cn_fail(CN_EFORMAT, "%s:%d: more than the %d rows expected", path, lineno, max);
      break;
    }
    char *p = line;
    cn_history_row r;
    rc = parse_row(path, lineno, &p, &r);
    if (rc == -1 || (!rc && r.epoch != *n + 1))
      rc = cn_fail(CN_EFORMAT, "%s:%d: epoch is %g; %d expected (rows go 1, 2, 3, ...)", path, lineno,
                   strtod(line, NULL), *n + 1);
    if (!rc) rows[(*n)++] = r;
    line = strchr(p, '\n');
  }
  free(text);
  return rc;
}
