/* The IDX reader. An IDX file is a 4-byte magic (0, 0, data type, number of
 * dimensions), one big-endian uint32 per dimension, then the data, row-major.
 * Only unsigned-byte data (type 0x08) is read: that is what the MNIST family
 * uses.
 *
 * Raw and gzip files go through one reading path. Nothing trusts the header
 * for allocation: the data is read in growing chunks, capped at the header's
 * claim plus one byte, so a lying header costs no more memory than the file
 * really holds, and one byte too many reveals trailing garbage. */
#include "cnist/data.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cnist/core.h"
#include "core/error.h"

enum { IDX_TYPE_UBYTE = 0x08, FIRST_CHUNK = 1 << 20 };

/* A file being read, raw through stdio or compressed through zlib. */
typedef struct {
  const char *path;
  FILE *raw;
  gzFile gz;
} source;

static int source_open(source *src, const char *path) {
  src->path = path;
  src->raw = NULL;
  src->gz = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return cn_fail(CN_ENOTFOUND, "%s: no such file", path);
    return cn_fail(CN_EIO, "%s: cannot open: %s", path, strerror(errno));
  }
  unsigned char magic[2];
  size_t got = fread(magic, 1, 2, f);
  if (ferror(f)) {
    fclose(f);
    return cn_fail(CN_EIO, "%s: read error", path);
  }
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    fclose(f);
    src->gz = gzopen(path, "rb");
    if (!src->gz) return cn_fail(CN_EIO, "%s: cannot open as gzip: %s", path, strerror(errno));
    gzbuffer(src->gz, 1 << 17);
    return CN_OK;
  }
  rewind(f);
  src->raw = f;
  return CN_OK;
}

static void source_close(source *src) {
  if (src->raw) fclose(src->raw);
  if (src->gz) gzclose(src->gz);
}

/* zlib's message for the stream's error, without the path it puts first. */
static const char *gz_reason(const source *src, int *code) {
  const char *why = gzerror(src->gz, code);
  size_t len = strlen(src->path);
  if (!strncmp(why, src->path, len) && !strncmp(why + len, ": ", 2)) why += len + 2;
  return why;
}

/* Reads up to n bytes; *got says how many came (fewer only at the end). */
static int source_read(source *src, void *buf, size_t n, size_t *got) {
  *got = 0;
  if (src->raw) {
    *got = fread(buf, 1, n, src->raw);
    if (ferror(src->raw)) return cn_fail(CN_EIO, "%s: read error", src->path);
    return CN_OK;
  }
  uint8_t *p = buf;
  while (*got < n) {
    /* gzread takes an unsigned count: read at most 1 GiB at a time. */
    size_t want = n - *got < (1u << 30) ? n - *got : (1u << 30);
    int r = gzread(src->gz, p + *got, (unsigned)want);
    if (r < 0) {
      int code;
      const char *why = gz_reason(src, &code);
      return cn_fail(CN_EFORMAT, "%s: corrupt gzip stream: %s", src->path, why);
    }
    if (r == 0) break;
    *got += (size_t)r;
  }
  if (*got < n) {
    /* A stream cut short reads as an early end: zlib flags it here. */
    int code;
    const char *why = gz_reason(src, &code);
    if (code != Z_OK) return cn_fail(CN_EFORMAT, "%s: corrupt gzip stream: %s", src->path, why);
  }
  return CN_OK;
}

static uint32_t big_endian(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* "60000 images of 28x28" or "60000 labels": the header's claim in words. */
static void describe(char *out, size_t size, int ndim, const uint32_t *dims) {
  if (ndim == 3)
    snprintf(out, size, "%lu images of %lux%lu", (unsigned long)dims[0], (unsigned long)dims[1],
             (unsigned long)dims[2]);
  else if (ndim == 4)
    snprintf(out, size, "%lu images of %lux%lux%lu", (unsigned long)dims[0], (unsigned long)dims[1],
             (unsigned long)dims[2], (unsigned long)dims[3]);
  else if (ndim == 1)
    snprintf(out, size, "%lu labels", (unsigned long)dims[0]);
  else
    snprintf(out, size, "%d dimensions", ndim);
}

/* Checks the 4-byte magic, which must give lo..hi dimensions, and reads
 * them: *ndim receives their number. */
static int read_header(source *src, int lo, int hi, int *ndim, uint32_t *dims) {
  const uint32_t expected_magic = (uint32_t)IDX_TYPE_UBYTE << 8 | (uint32_t)lo;
  uint8_t magic[4];
  size_t got;
  int status = source_read(src, magic, 4, &got);
  if (status != CN_OK) return status;
  if (got == 0) return cn_fail(CN_EFORMAT, "%s: empty file, not an IDX file", src->path);
  if (got < 4)
    return cn_fail(CN_EFORMAT, "%s: truncated header: %zu bytes, an IDX file starts with a 4-byte magic",
                   src->path, got);
  uint32_t m = big_endian(magic);
  if (magic[0] != 0 || magic[1] != 0)
    return cn_fail(CN_EFORMAT, "%s: not an IDX file: bad magic 0x%08lx (expected 0x%08lx)", src->path,
                   (unsigned long)m, (unsigned long)expected_magic);
  if (magic[2] != IDX_TYPE_UBYTE)
    return cn_fail(CN_EFORMAT,
                   "%s: bad magic 0x%08lx: data type 0x%02x is not unsigned byte (0x08), "
                   "the only type cnist reads", src->path, (unsigned long)m, magic[2]);
  if (magic[3] < lo || magic[3] > hi) {
    if (lo != hi)
      return cn_fail(CN_EFORMAT,
                     "%s: bad magic 0x%08lx: expected an IDX image file (magic 0x%08lx or 0x%08lx, %d or %d "
                     "dimensions) but this one has %d",
                     src->path, (unsigned long)m, (unsigned long)expected_magic, (unsigned long)expected_magic + 1,
                     lo, hi, magic[3]);
    return cn_fail(CN_EFORMAT,
                   "%s: bad magic 0x%08lx: expected an IDX %s file (magic 0x%08lx, %d dimension%s) "
                   "but this one has %d",
                   src->path, (unsigned long)m, lo == 1 ? "label" : "image", (unsigned long)expected_magic, lo,
                   lo == 1 ? "" : "s", magic[3]);
  }
  *ndim = magic[3];
  uint8_t raw_dims[16];
  status = source_read(src, raw_dims, 4 * (size_t)*ndim, &got);
  if (status != CN_OK) return status;
  if (got < 4 * (size_t)*ndim)
    return cn_fail(CN_EFORMAT, "%s: truncated header: %zu bytes, an IDX file with %d dimensions needs %d",
                   src->path, 4 + got, *ndim, 4 + 4 * *ndim);
  for (int i = 0; i < *ndim; i++) dims[i] = big_endian(raw_dims + 4 * i);
  return CN_OK;
}

/* The data size the dimensions claim, refusing products that overflow or
 * cannot be indexed with an int (cn_imageset counts in int). */
static int claimed_size(const char *path, int ndim, const uint32_t *dims, size_t *size) {
  char what[96];
  describe(what, sizeof what, ndim, dims);
  uint64_t total = 1;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] == 0) return cn_fail(CN_EFORMAT, "%s: header says %s: dimension %d is zero", path, what, i + 1);
    if (dims[i] > INT_MAX || total > (uint64_t)INT_MAX / dims[i])
      return cn_fail(CN_EFORMAT, "%s: header says %s: that size overflows (more than %d bytes)", path, what,
                     INT_MAX);
    total *= dims[i];
  }
  *size = (size_t)total;
  return CN_OK;
}

/* Reads exactly `size` bytes of data into a new buffer, detecting both a
 * short file and bytes beyond the claim. */
static int read_data(source *src, size_t size, const char *what, uint8_t **out) {
  const size_t cap = size + 1;
  size_t capacity = cap < FIRST_CHUNK ? cap : FIRST_CHUNK;
  size_t have = 0;
  uint8_t *buf = malloc(capacity);
  if (!buf) return cn_fail(CN_ENOMEM, "%s: cannot allocate %zu bytes", src->path, capacity);
  for (;;) {
    size_t got;
    int status = source_read(src, buf + have, capacity - have, &got);
    if (status != CN_OK) {
      free(buf);
      return status;
    }
    have += got;
    if (have < capacity || capacity == cap) break; /* end of data, or one byte past the claim */
    size_t grown = capacity * 2 < cap ? capacity * 2 : cap;
    uint8_t *bigger = realloc(buf, grown);
    if (!bigger) {
      free(buf);
      return cn_fail(CN_ENOMEM, "%s: cannot allocate %zu bytes", src->path, grown);
    }
    buf = bigger;
    capacity = grown;
  }
  if (have < size) {
    free(buf);
    return cn_fail(CN_EFORMAT, "%s: truncated: header says %s (%zu bytes) but the file holds only %zu bytes of data", src->path,
                   what, size, have);
  }
  if (have > size) {
    free(buf);
    return cn_fail(CN_EFORMAT, "%s: trailing garbage: more data follows the %zu bytes the header describes (%s)",
                   src->path, size, what);
  }
  *out = buf;
  return CN_OK;
}

/* Reads an IDX file of lo..hi dimensions. */
static int idx_read(const char *path, int lo, int hi, cn_idx *out) {
  memset(out, 0, sizeof *out);
  source src;
  int status = source_open(&src, path);
  if (status != CN_OK) return status;
  uint32_t dims[4] = {0, 0, 0, 0};
  int ndim = 0;
  size_t size = 0;
  uint8_t *data = NULL;
  status = read_header(&src, lo, hi, &ndim, dims);
  if (status == CN_OK) status = claimed_size(path, ndim, dims, &size);
  if (status == CN_OK) {
    char what[96];
    describe(what, sizeof what, ndim, dims);
    status = read_data(&src, size, what, &data);
  }
  source_close(&src);
  if (status != CN_OK) return status;
  out->ndim = ndim;
  for (int i = 0; i < ndim; i++) out->dims[i] = (int)dims[i];
  out->size = size;
  out->data = data;
  return CN_OK;
}

int cn_idx_read(const char *path, int ndim, cn_idx *out) {
  memset(out, 0, sizeof *out);
  if (ndim < 1 || ndim > 4) return cn_fail(CN_EINVAL, "%s: cannot read IDX files of %d dimensions", path, ndim);
  return idx_read(path, ndim, ndim, out);
}

int cn_idx_read_images(const char *path, cn_idx *out) { return idx_read(path, 3, 4, out); }

void cn_idx_free(cn_idx *idx) {
  free(idx->data);
  memset(idx, 0, sizeof *idx);
}
