/* Numbers as people read them. */
#include <stdio.h>
#include <string.h>

#include "cnist/core.h"

void cn_format_thousands(char *out, size_t size, double v) {
  if (size == 0) return;
  char digits[64];
  snprintf(digits, sizeof digits, "%.0f", v);
  const char *d = digits;
  size_t o = 0;
  if (*d == '-' && o + 1 < size) out[o++] = *d++;
  size_t len = strlen(d);
  for (size_t i = 0; i < len && o + 2 < size; i++) {
    if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
    out[o++] = d[i];
  }
  out[o] = '\0';
}
