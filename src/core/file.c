/* Whole-file helpers: atomic writes, bounded reads (one reader for every module). */
#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/error.h"

int cn_write_file_atomic(const char *path, const void *data, size_t size) {
  cn_atomic_file *f;
  int rc = cn_atomic_open(path, &f);
  if (!rc) rc = cn_atomic_write(f, data, size);
  if (rc) {
    cn_atomic_abort(f);
    return rc;
  }
  return cn_atomic_commit(f);
}

int cn_read_file(const char *path, size_t max_size, char **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return cn_fail(errno == ENOENT ? CN_ENOTFOUND : CN_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return cn_fail(CN_EIO, "%s: not a regular file", path);
  }
  if ((size_t)st.st_size > max_size) {
    fclose(f);
    return cn_fail(CN_EFORMAT, "%s: %lld bytes is larger than the %zu-byte limit", path, (long long)st.st_size, max_size);
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    fclose(f);
    return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  size_t got = fread(buf, 1, (size_t)st.st_size, f);
  int err = ferror(f);
  fclose(f);
  if (err || got != (size_t)st.st_size) {
    free(buf);
    return cn_fail(CN_EIO, "%s: read failed", path);
  }
  buf[got] = '\0';
  *data = buf;
  if (size) *size = got;
  return CN_OK;
}

