/* Internal: the one UTF-8 check, for model files and checkpoint headers. */
#ifndef CN_CORE_UTF8_H
#define CN_CORE_UTF8_H

#include <stddef.h>

/* Offset of the first byte in s[0..n) that is not strict UTF-8 (overlong
 * forms, UTF-16 surrogates, code points above U+10FFFF, cut sequences) or
 * is NUL; n when there is none. */
size_t cn_utf8_invalid_at(const char *s, size_t n);
/* Characters (code points) in s[0..n): bytes that do not continue one. */
size_t cn_utf8_chars(const char *s, size_t n);

#endif
