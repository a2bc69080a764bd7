/* Small text helpers for model files: UTF-8 checks and float formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "spec/text.h"

size_t cn_utf8_invalid_at(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t len;
    unsigned min; /* smallest code point for this length: rejects overlong forms */
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, c &= 0x07;
    } else {
      return i;
    }
    if (n - i < len) return i;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
    i += len;
  }
  return n;
}

size_t cn_utf8_chars(const char *s, size_t n) {
  size_t chars = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) chars++;
  return chars;
}

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
