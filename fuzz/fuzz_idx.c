/* Fuzz target: the IDX reader (src/data/idx.c), raw and gzip.
 *
 * The bytes are read as a label file (1 dimension) and as an image file (3
 * dimensions). Bytes that are not already gzip are also gzip-compressed and
 * read again: both reads must agree (same status, same message after the
 * file name, same data), so the gzip path is held to the raw one. */
#define _GNU_SOURCE /* memfd_create in fuzz_util.h */
#include <zlib.h>

#include "cnist/data.h"
#include "fuzz_util.h"

/* data gzip-compressed (a gzip member, as gzip(1) writes); NULL on failure. */
static uint8_t *gzip_bytes(const uint8_t *data, size_t size, size_t *out_size) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
  uLong bound = deflateBound(&z, (uLong)size);
  uint8_t *out = malloc(bound);
  if (!out) {
    deflateEnd(&z);
    return NULL;
  }
  z.next_in = (Bytef *)data;
  z.avail_in = (uInt)size;
  z.next_out = out;
  z.avail_out = (uInt)bound;
  int rc = deflate(&z, Z_FINISH);
  *out_size = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    free(out);
    return NULL;
  }
  return out;
}

/* The read's outcome: status, message without the path, and the content. */
typedef struct {
  int status;
  char message[1024];
  cn_idx idx;
} outcome;

static void read_as(const uint8_t *data, size_t size, int ndim, outcome *o) {
  char path[64];
  int fd = fuzz_memfile(data, size, path, sizeof path);
  o->status = cn_idx_read(path, ndim, &o->idx);
  close(fd);
  fuzz_expect_named(o->status, path, "cn_idx_read");
  o->message[0] = '\0';
  if (o->status != CN_OK) {
    snprintf(o->message, sizeof o->message, "%s", cn_last_error() + strlen(path));
    FUZZ_ASSERT(o->idx.data == NULL);
    return;
  }
  /* A successful read holds exactly what its dimensions say. */
  size_t expect = 1;
  FUZZ_ASSERT(o->idx.ndim == ndim);
  for (int i = 0; i < ndim; i++) {
    FUZZ_ASSERT(o->idx.dims[i] > 0);
    expect *= (size_t)o->idx.dims[i];
  }
  FUZZ_ASSERT(o->idx.size == expect);
  FUZZ_ASSERT(o->idx.data != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int ndims[2] = {1, 3};
  int compressible = !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b);
  size_t gz_size = 0;
  uint8_t *gz = compressible ? gzip_bytes(data, size, &gz_size) : NULL;
  for (int k = 0; k < 2; k++) {
    outcome raw, packed;
    read_as(data, size, ndims[k], &raw);
    /* Raw data is the file's tail: the header takes 4 + 4*ndim bytes. */
    if (raw.status == CN_OK && compressible)
      FUZZ_ASSERT(size == 4 + 4 * (size_t)ndims[k] + raw.idx.size &&
                  !memcmp(raw.idx.data, data + 4 + 4 * ndims[k], raw.idx.size));
    if (gz) {
      read_as(gz, gz_size, ndims[k], &packed);
      if (raw.status != packed.status || strcmp(raw.message, packed.message) != 0) {
        fprintf(stderr, "raw and gzip reads differ:\n  raw  %d%s\n  gzip %d%s\n", raw.status, raw.message,
                packed.status, packed.message);
        abort();
      }
      if (raw.status == CN_OK)
        FUZZ_ASSERT(raw.idx.size == packed.idx.size && !memcmp(raw.idx.data, packed.idx.data, raw.idx.size));
      cn_idx_free(&packed.idx);
    }
    cn_idx_free(&raw.idx);
  }
  free(gz);
  return 0;
}
