/* Text shared by the safetensors reader and writer: names and shapes made
 * fit to print in messages. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint/safetensors.h"

const char *cn_st_printable(const char *name, char *buf, size_t size) {
  size_t n = strlen(name), i = 0;
  int cut = n >= size;
  size_t keep = cut ? (size > 4 ? size - 4 : 0) : n;
  for (; i < keep; i++) {
    unsigned char c = (unsigned char)name[i];
    buf[i] = c < 0x20 || c == 0x7F ? '?' : (char)c;
  }
  if (cut && size > 4) {
    /* Do not end inside a multi-byte character. */
    while (i > 0 && ((unsigned char)buf[i - 1] & 0xC0) == 0x80) i--;
    if (i > 0 && ((unsigned char)buf[i - 1] & 0xC0) == 0xC0) i--;
    memcpy(buf + i, "...", 3);
    i += 3;
  }
  if (size > 0) buf[i < size ? i : size - 1] = '\0';
  return buf;
}

const char *cn_st_shape_text(const cn_st_tensor *t, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int d = 0; d < t->ndim && used < size; d++)
    used += (size_t)snprintf(buf + used, size - used, "%s%" PRIu64, d ? ", " : "", t->shape[d]);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}
