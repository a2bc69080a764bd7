/* Small text helpers for model files: float and byte-count formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "spec/text.h"

void cn_format_float(float v, char *buf, size_t n) {
  /* Whole numbers as such: %g's shortest form of 10 is "1e+01" (-0 keeps its sign). */
  if (v > -1e7f && v < 1e7f && v == (float)(long)v && !signbit(v)) { /* range first: NaN, huge */
    snprintf(buf, n, "%ld", (long)v);
    return;
  }
  for (int digits = 1; digits <= 9; digits++) {
    snprintf(buf, n, "%.*g", digits, (double)v);
    if (strtof(buf, NULL) == v) return;
  }
}

void cn_format_bytes(double b, char *buf, size_t n) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, u++;
  snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}
