/* Internal: whole-file helpers: atomic writes, bounded reads. */
#ifndef CN_CORE_FILE_H
#define CN_CORE_FILE_H

#include <stddef.h>

/* Writes data to path atomically: temporary file in the same folder, fsync,
 * rename. A crash leaves either the old file or the new one. */
int cn_write_file_atomic(const char *path, const void *data, size_t size);
/* Reads a whole file (at most max_size bytes) into a NUL-terminated buffer. */
int cn_read_file(const char *path, size_t max_size, char **data, size_t *size);

#endif
