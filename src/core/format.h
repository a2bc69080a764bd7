/* Internal: numbers as people read them. */
#ifndef CN_CORE_FORMAT_H
#define CN_CORE_FORMAT_H

#include <stddef.h>

/* 436202 -> "436,202" (rounded to a whole number; a sign kept). */
void cn_format_thousands(char *out, size_t size, double v);

#endif
