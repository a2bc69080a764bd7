/* Internal: small text helpers shared by the model-file parser and writer. */
#ifndef CN_SPEC_TEXT_H
#define CN_SPEC_TEXT_H

#include <stddef.h>

/* The shortest decimal text that reads back as exactly v (as a float). */
void cn_format_float(float v, char *buf, size_t n);

/* 1536 -> "1.5 KiB": bytes in B, KiB, MiB, GiB or TiB. */
void cn_format_bytes(double bytes, char *buf, size_t n);

#endif
