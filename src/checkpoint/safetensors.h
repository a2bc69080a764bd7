/* Internal: the safetensors file format, with no knowledge of models.
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON (an
 * object mapping tensor names to {"dtype", "shape", "data_offsets"}, plus an
 * optional "__metadata__" object of strings), then the data section: the
 * tensors' bytes, little-endian, at [begin, end) offsets relative to the
 * start of the data section, covering it exactly, without gaps or overlaps.
 * cnist reads and writes dtype F32 only. */
#ifndef CN_CHECKPOINT_SAFETENSORS_H
#define CN_CHECKPOINT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cnist/checkpoint.h"

#define CN_ST_MAX_DIMS 8
/* Headers above this are refused before anything is allocated for them. */
#define CN_ST_MAX_HEADER ((uint64_t)100 << 20)

/* The metadata: string keys and values (cn_meta in checkpoint.h). */
struct cn_meta {
  int n;
  char **keys;
  char **values;
};

typedef struct {
  char *name;
  int ndim;
  uint64_t shape[CN_ST_MAX_DIMS];
  uint64_t count;      /* elements: the product of shape */
  uint64_t begin, end; /* bytes of the data section */
} cn_st_tensor;

typedef struct {
  char *path;            /* for messages */
  int n_tensors;
  cn_st_tensor *tensors; /* sorted by name */
  cn_meta *meta;
  uint64_t data_size;
  unsigned char *data;   /* the data section; NULL when opened header-only */
} cn_st_file;

/* Reads and validates a file: every header field, and that the tensors
 * cover the data section exactly. With read_data == 0 only the header is
 * read. Errors are CN_ENOTFOUND, CN_EIO, CN_EFORMAT or CN_ENOMEM and name
 * the file (and the tensor). */
int cn_st_open(const char *path, int read_data, cn_st_file **out);
void cn_st_close(cn_st_file *f);

/* The tensor called name, or NULL. */
const cn_st_tensor *cn_st_find(const cn_st_file *f, const char *name);

/* Element i of a tensor (the file must have been opened with its data):
 * little-endian bytes, whatever the host. Inline so loops over it vectorise. */
static inline float cn_st_value(const cn_st_file *f, const cn_st_tensor *t, uint64_t i) {
  const unsigned char *p = f->data + t->begin + 4 * i;
  uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* Copies a tensor's t->count values into dst. */
void cn_st_copy(const cn_st_file *f, const cn_st_tensor *t, float *dst);

/* A tensor to write: count = product of shape values from data. */
typedef struct {
  const char *name;
  int ndim;
  const int *shape;
  const float *data;
} cn_st_entry;

/* Writes tensors (in this order) and metadata (a NULL-terminated list of
 * key, value pairs; may be NULL) to path atomically: a temporary file in
 * the same folder, checked writes, fsync, rename, fsync of the folder. On
 * failure the temporary file is removed and any old file at path is left as
 * it was. */
int cn_st_write(const char *path, const cn_st_entry *tensors, int n, const char *const *meta);

/* Writes a name into buf for messages: control characters as '?', cut
 * with "..." when longer than the buffer. Returns buf. */
const char *cn_st_printable(const char *name, char *buf, size_t size);

/* A tensor's shape for messages, "[128, 784]". Returns buf. */
const char *cn_st_shape_text(const cn_st_tensor *t, char *buf, size_t size);

#endif
