/* What the MPI tests compare of two run folders' files, and how often a
 * message came (once per rank for a refusal). Needs cli_run.h first, and
 * _GNU_SOURCE defined before any header (memrchr, memmem). */
#ifndef CN_TESTS_CLI_MPI_FILES_H
#define CN_TESTS_CLI_MPI_FILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WHOLE, NO_SECONDS, NO_CLOCK, TENSORS };

/* What of a file must match: all its bytes (WHOLE); history.csv without
 * its last column, the epoch's seconds (NO_SECONDS); config.json without
 * the "started" and "processes" lines, and metrics.json without
 * "train_time" (NO_CLOCK); a checkpoint's
 * tensors, after its header, whose metadata holds the training time
 * (TENSORS). */
static const char *contents(const char *path, int what, size_t *n) {
  /* Whole files: a checkpoint read in part would compare a window that
   * moves with its header's length. */
  static char *buf[2];
  static int which;
  which ^= 1;
  free(buf[which]);
  buf[which] = NULL;
  FILE *f = fopen(path, "rb");
  long end = f && !fseek(f, 0, SEEK_END) ? ftell(f) : -1;
  char *out = end >= 0 ? calloc((size_t)end + 2, 1) : NULL; /* + a newline for a last line without one */
  size_t size = out && !fseek(f, 0, SEEK_SET) ? fread(out, 1, (size_t)end, f) : 0;
  if (f) fclose(f);
  if (!out) {
    *n = 0;
    return "";
  }
  buf[which] = out;
  if (what == TENSORS) {
    unsigned long long header = 0;
    for (int i = 7; size >= 8 && i >= 0; i--) header = header << 8 | (unsigned char)out[i];
    *n = size >= 8 + header ? size - 8 - header : 0;
    return out + (size >= 8 + header ? 8 + header : 0);
  }
  if (what == WHOLE) {
    *n = size;
    return out;
  }
  size_t k = 0;
  for (char *line = out; *line;) {
    char *end = strchr(line, '\n');
    if (!end) end = line + strlen(line);
    char *keep = end, *comma = memrchr(line, ',', (size_t)(end - line));
    if (what == NO_SECONDS && comma) keep = comma;
    if (what == NO_CLOCK && (memmem(line, (size_t)(end - line), "\"started\"", 9) ||
                             memmem(line, (size_t)(end - line), "\"processes\"", 11) ||
                             memmem(line, (size_t)(end - line), "\"train_time\"", 12)))
      keep = line;
    memmove(out + k, line, (size_t)(keep - line));
    k += (size_t)(keep - line);
    out[k++] = '\n';
    line = *end ? end + 1 : end;
  }
  *n = k;
  return out;
}

static int same(const char *a, const char *b, int what) {
  size_t na, nb;
  const char *x = contents(a, what, &na), *y = contents(b, what, &nb);
  int equal = na > 0 && na == nb && !memcmp(x, y, na);
  if (!equal) fprintf(stderr, "%s and %s differ\n", a, b);
  return equal;
}

/* How many times the output holds needle: once per rank for a refusal. */
static int count(const char *needle) {
  int n = 0;
  for (const char *p = cli_output; (p = strstr(p, needle)); p++) n++;
  return n;
}

#endif
