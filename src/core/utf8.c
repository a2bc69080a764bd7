/* Strict UTF-8 (RFC 3629): the second byte's range per lead byte rules out
 * overlong forms, surrogates and code points above U+10FFFF. NUL is refused
 * too: no text cnist reads may hold one. */
#include "core/utf8.h"

size_t cn_utf8_invalid_at(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c == 0) return i;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0; /* no overlong forms */
      if (c == 0xED) hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90; /* no overlong forms */
      if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
    } else {
      return i;
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; k++)
      if ((p[i + k] & 0xC0) != 0x80) return i;
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
