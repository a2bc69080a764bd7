/* Reading safetensors files: every byte of the header is checked before it
 * is trusted, allocations are bounded by the file's size, and each error
 * names the file and the tensor at fault. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint/safetensors.h"
#include "core/error.h"
#include "core/utf8.h"

/* Integers in JSON are doubles: exact up to 2^53. */
#define MAX_JSON_INT 9007199254740992.0
/* A checkpoint of the largest model (64 layers, optimizer state) holds a
 * few thousand JSON values. */
#define MAX_JSON_VALUES 1000000

typedef char name_buf[96];

static const char *shown(const char *name, char *buf) { return cn_st_printable(name, buf, sizeof(name_buf)); }

void cn_st_close(cn_st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
  free(f->tensors);
  cn_meta_free(f->meta);
  free(f->data);
  free(f->path);
  free(f);
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

void cn_st_copy(const cn_st_file *f, const cn_st_tensor *t, float *dst) {
  for (uint64_t i = 0; i < t->count; i++) dst[i] = cn_st_value(f, t, i);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const cn_st_tensor *)a)->name, ((const cn_st_tensor *)b)->name);
}

const cn_st_tensor *cn_st_find(const cn_st_file *f, const char *name) {
  cn_st_tensor key;
  key.name = (char *)name;
  return bsearch(&key, f->tensors, (size_t)f->n_tensors, sizeof key, by_name);
}

/* A JSON number that is a whole number in [0, 2^53]. */
static int json_uint(const cJSON *item, uint64_t *out) {
  if (!cJSON_IsNumber(item)) return 0;
  double v = item->valuedouble;
  if (!(v >= 0.0 && v <= MAX_JSON_INT) || v != floor(v)) return 0;
  *out = (uint64_t)v;
  return 1;
}

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int parse_metadata(cn_st_file *f, const cJSON *obj) {
  if (!cJSON_IsObject(obj)) return cn_fail(CN_EFORMAT, "%s: __metadata__ is not a JSON object", f->path);
  int count = cJSON_GetArraySize(obj);
  cn_meta *m = calloc(1, sizeof *m);
  if (!m) return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
  f->meta = m;
  m->keys = calloc(count ? (size_t)count : 1, sizeof *m->keys);
  m->values = calloc(count ? (size_t)count : 1, sizeof *m->values);
  if (!m->keys || !m->values) return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
  name_buf nb;
  for (const cJSON *e = obj->child; e; e = e->next) {
    if (!cJSON_IsString(e))
      return cn_fail(CN_EFORMAT, "%s: __metadata__ entry \"%s\" is not a string", f->path, shown(e->string, nb));
    char *k = strdup(e->string), *v = strdup(e->valuestring);
    if (!k || !v) {
      free(k);
      free(v);
      return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
    }
    m->keys[m->n] = k;
    m->values[m->n] = v;
    m->n++;
  }
  /* Duplicates found by sorting a copy of the keys: pairwise comparison is
   * quadratic, and a hostile header may hold hundreds of thousands. */
  char **sorted = malloc(sizeof *sorted * (size_t)(m->n ? m->n : 1));
  if (!sorted) return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
  memcpy(sorted, m->keys, sizeof *sorted * (size_t)m->n);
  qsort(sorted, (size_t)m->n, sizeof *sorted, by_string);
  int rc = CN_OK;
  for (int i = 1; i < m->n && !rc; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0)
      rc = cn_fail(CN_EFORMAT, "%s: __metadata__ holds \"%s\" twice", f->path, shown(sorted[i], nb));
  free(sorted);
  return rc;
}

/* One tensor entry: {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}. */
static int parse_tensor(cn_st_file *f, const cJSON *e, cn_st_tensor *t) {
  name_buf nb;
  char sb[160];
  const char *name = shown(e->string, nb);
  if (!*e->string) return cn_fail(CN_EFORMAT, "%s: a tensor has an empty name", f->path);
  if (!cJSON_IsObject(e)) return cn_fail(CN_EFORMAT, "%s: tensor %s: entry is not a JSON object", f->path, name);
  const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
  for (const cJSON *k = e->child; k; k = k->next) {
    const cJSON **slot = strcmp(k->string, "dtype") == 0          ? &dtype
                         : strcmp(k->string, "shape") == 0        ? &shape
                         : strcmp(k->string, "data_offsets") == 0 ? &offsets
                                                                  : NULL;
    name_buf kb;
    if (!slot) return cn_fail(CN_EFORMAT, "%s: tensor %s: unknown field \"%s\"", f->path, name, shown(k->string, kb));
    if (*slot) return cn_fail(CN_EFORMAT, "%s: tensor %s: field \"%s\" given twice", f->path, name, k->string);
    *slot = k;
  }
  if (!dtype) return cn_fail(CN_EFORMAT, "%s: tensor %s: no dtype", f->path, name);
  if (!cJSON_IsString(dtype)) return cn_fail(CN_EFORMAT, "%s: tensor %s: dtype is not a string", f->path, name);
  if (strcmp(dtype->valuestring, "F32") != 0) {
    name_buf db;
    return cn_fail(CN_EFORMAT, "%s: tensor %s: dtype %s is not supported (cnist reads F32 only)", f->path, name,
                   shown(dtype->valuestring, db));
  }
  if (!shape) return cn_fail(CN_EFORMAT, "%s: tensor %s: no shape", f->path, name);
  if (!cJSON_IsArray(shape))
    return cn_fail(CN_EFORMAT, "%s: tensor %s: shape is not a list of non-negative integers", f->path, name);
  int ndim = cJSON_GetArraySize(shape);
  if (ndim > CN_ST_MAX_DIMS)
    return cn_fail(CN_EFORMAT, "%s: tensor %s: shape has %d dimensions (at most %d)", f->path, name, ndim,
                   CN_ST_MAX_DIMS);
  t->ndim = 0;
  for (const cJSON *d = shape->child; d; d = d->next) {
    if (!json_uint(d, &t->shape[t->ndim]))
      return cn_fail(CN_EFORMAT, "%s: tensor %s: shape is not a list of non-negative integers", f->path, name);
    t->ndim++;
  }
  t->count = 1;
  for (int d = 0; d < t->ndim; d++) {
    uint64_t n = t->shape[d];
    if (n && t->count > UINT64_MAX / 4 / n)
      return cn_fail(CN_EFORMAT, "%s: tensor %s: shape %s has too many elements", f->path, name,
                     cn_st_shape_text(t, sb, sizeof sb));
    t->count *= n;
  }
  if (!offsets || !cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
      !json_uint(offsets->child, &t->begin) || !json_uint(offsets->child->next, &t->end))
    return cn_fail(CN_EFORMAT, "%s: tensor %s: data_offsets must be two non-negative integers [begin, end]", f->path,
                   name);
  if (t->begin > t->end)
    return cn_fail(CN_EFORMAT, "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] begin after they end", f->path,
                   name, t->begin, t->end);
  if (t->end > f->data_size)
    return cn_fail(CN_EFORMAT,
                   "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] end beyond the data section (%" PRIu64
                   " bytes)",
                   f->path, name, t->begin, t->end, f->data_size);
  if (t->end - t->begin != t->count * 4)
    return cn_fail(CN_EFORMAT,
                   "%s: tensor %s: data_offsets span %" PRIu64 " bytes but shape %s of F32 needs %" PRIu64, f->path,
                   name, t->end - t->begin, cn_st_shape_text(t, sb, sizeof sb), t->count * 4);
  t->name = strdup(e->string);
  if (!t->name) return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
  return CN_OK;
}

static int by_offset(const void *a, const void *b) {
  const cn_st_tensor *x = *(const cn_st_tensor *const *)a, *y = *(const cn_st_tensor *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* The tensors must tile the data section: no overlap, no gap, nothing after. */
static int check_coverage(cn_st_file *f) {
  if (f->n_tensors == 0) {
    if (f->data_size) return cn_fail(CN_EFORMAT, "%s: %" PRIu64 " data bytes but no tensors", f->path, f->data_size);
    return CN_OK;
  }
  const cn_st_tensor **order = malloc((size_t)f->n_tensors * sizeof *order);
  if (!order) return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
  for (int i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
  qsort(order, (size_t)f->n_tensors, sizeof *order, by_offset);
  int rc = CN_OK;
  name_buf a, b;
  uint64_t covered = 0;
  const cn_st_tensor *prev = NULL;
  for (int i = 0; i < f->n_tensors && !rc; i++) {
    const cn_st_tensor *t = order[i];
    if (t->begin < covered)
      rc = cn_fail(CN_EFORMAT,
                   "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] overlap tensor %s at [%" PRIu64
                   ", %" PRIu64 "]",
                   f->path, shown(t->name, a), t->begin, t->end, shown(prev->name, b), prev->begin, prev->end);
    else if (t->begin > covered)
      rc = cn_fail(CN_EFORMAT, "%s: data bytes [%" PRIu64 ", %" PRIu64 ") belong to no tensor (before tensor %s)",
                   f->path, covered, t->begin, shown(t->name, a));
    covered = t->end;
    prev = t;
  }
  if (!rc && covered != f->data_size)
    rc = cn_fail(CN_EFORMAT, "%s: data bytes [%" PRIu64 ", %" PRIu64 ") after the last tensor belong to no tensor",
                 f->path, covered, f->data_size);
  free(order);
  return rc;
}

/* An upper bound on the JSON values in text: separators and openings
 * outside strings, plus one. */
static size_t count_values(const char *text, size_t len) {
  size_t n = 1;
  int in_string = 0;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = 0;
    } else if (c == '"') {
      in_string = 1;
    } else if (c == ',' || c == ':' || c == '[' || c == '{') {
      n++;
    }
  }
  return n;
}

static int parse_header(cn_st_file *f, const char *text, size_t len) {
  size_t bad = cn_utf8_invalid_at(text, len);
  if (bad < len)
    return cn_fail(CN_EFORMAT, "%s: header is not valid UTF-8 text (byte 0x%02x at header offset %zu)", f->path,
                   (unsigned)(unsigned char)text[bad], bad);
  /* The JSON tree takes about 64 bytes per value: bound it before parsing. */
  size_t values = count_values(text, len);
  if (values > MAX_JSON_VALUES)
    return cn_fail(CN_EFORMAT, "%s: header holds about %zu JSON values; a checkpoint needs far fewer (limit %d)",
                   f->path, values, MAX_JSON_VALUES);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (!root) {
    size_t at = end && end >= text ? (size_t)(end - text) : 0;
    return cn_fail(CN_EFORMAT, "%s: header is not valid JSON (error near header byte %zu)", f->path, at);
  }
  int rc = CN_OK;
  /* The writer pads the header with spaces to an 8-byte boundary. */
  for (const char *p = end; p < text + len && !rc; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
      rc = cn_fail(CN_EFORMAT, "%s: header holds more than one JSON value (extra text at byte %zu)", f->path,
                   (size_t)(p - text));
  if (!rc && !cJSON_IsObject(root)) rc = cn_fail(CN_EFORMAT, "%s: header is not a JSON object", f->path);
  int count = rc ? 0 : cJSON_GetArraySize(root);
  if (!rc) {
    f->tensors = calloc(count ? (size_t)count : 1, sizeof *f->tensors);
    if (!f->tensors) rc = cn_fail(CN_ENOMEM, "%s: out of memory for %d tensors", f->path, count);
  }
  for (const cJSON *e = rc ? NULL : root->child; e && !rc; e = e->next) {
    if (strcmp(e->string, "__metadata__") == 0) {
      rc = f->meta ? cn_fail(CN_EFORMAT, "%s: __metadata__ is given twice", f->path) : parse_metadata(f, e);
    } else {
      rc = parse_tensor(f, e, &f->tensors[f->n_tensors]);
      if (!rc) f->n_tensors++;
    }
  }
  cJSON_Delete(root);
  if (rc) return rc;
  if (!f->meta) {
    f->meta = calloc(1, sizeof *f->meta);
    if (!f->meta) return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
  }
  qsort(f->tensors, (size_t)f->n_tensors, sizeof *f->tensors, by_name);
  name_buf nb;
  for (int i = 1; i < f->n_tensors; i++)
    if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0)
      return cn_fail(CN_EFORMAT, "%s: tensor %s is given twice", f->path, shown(f->tensors[i].name, nb));
  return check_coverage(f);
}

/* Reads exactly n bytes or fails naming what was being read. */
static int read_exact(cn_st_file *f, FILE *fp, void *buf, size_t n, const char *what) {
  if (fread(buf, 1, n, fp) == n) return CN_OK;
  if (ferror(fp)) return cn_fail(CN_EIO, "%s: cannot read the %s: %s", f->path, what, strerror(errno));
  return cn_fail(CN_EFORMAT, "%s: truncated while reading the %s (the file shrank while being read?)", f->path, what);
}

/* What the first bytes of a file that is not a safetensors file look
 * like, for the error message; NULL when they suggest nothing. */
static const char *other_format(const unsigned char *head, size_t n) {
  if (n >= 4 && memcmp(head, "\x89PNG", 4) == 0) return "a PNG image";
  if (n >= 3 && memcmp(head, "\xff\xd8\xff", 3) == 0) return "a JPEG image";
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return "a gzip file";
  if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) return "a zip archive (a PyTorch .pt or Keras file?)";
  if (n >= 4 && memcmp(head, "\x89HDF", 4) == 0) return "an HDF5 file (a Keras .h5 file?)";
  if (n >= 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08 && head[3] >= 1 && head[3] <= 4) return "an IDX file";
  if (n >= 2 && head[0] == 'P' && head[1] >= '1' && head[1] <= '6') return "a PGM/PPM image";
  if (n >= 8 && (head[0] == '{' || head[0] == '#' || (head[0] >= 'a' && head[0] <= 'z'))) {
    for (size_t i = 0; i < n; i++)
      if (head[i] < 0x09 || head[i] > 0x7e) return NULL;
    return "a text file (a model file?)";
  }
  return NULL;
}

/* The message for a file whose header length cannot be right. */
static int not_safetensors(const cn_st_file *f, const unsigned char *head, size_t n, const char *fault) {
  const char *looks = other_format(head, n);
  if (looks) return cn_fail(CN_EFORMAT, "%s: not a safetensors checkpoint: it looks like %s", f->path, looks);
  return cn_fail(CN_EFORMAT, "%s: %s", f->path, fault);
}

static int read_file(cn_st_file *f, FILE *fp, int read_data) {
  struct stat st;
  if (fstat(fileno(fp), &st) != 0) return cn_fail(CN_EIO, "%s: cannot stat: %s", f->path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return cn_fail(CN_EIO, "%s: not a regular file", f->path);
  uint64_t size = (uint64_t)st.st_size;
  unsigned char head[8];
  char fault[160];
  if (size < 8) {
    size_t got = fread(head, 1, (size_t)size, fp);
    snprintf(fault, sizeof fault, "%" PRIu64 " bytes is too short for a safetensors file (8-byte header length, then "
             "the header)", size);
    return not_safetensors(f, head, got, fault);
  }
  int rc = read_exact(f, fp, head, sizeof head, "header length");
  if (rc) return rc;
  uint64_t header_len = le64(head);
  if (header_len > size - 8) {
    snprintf(fault, sizeof fault, "header length %" PRIu64 " is larger than the file (%" PRIu64
             " bytes follow the length field)", header_len, size - 8);
    return not_safetensors(f, head, sizeof head, fault);
  }
  if (header_len > CN_ST_MAX_HEADER) {
    snprintf(fault, sizeof fault, "header length %" PRIu64 " is absurd (the limit is %" PRIu64 " bytes)", header_len,
             CN_ST_MAX_HEADER);
    return not_safetensors(f, head, sizeof head, fault);
  }
  char *text = malloc((size_t)header_len + 1);
  if (!text) return cn_fail(CN_ENOMEM, "%s: out of memory for a header of %" PRIu64 " bytes", f->path, header_len);
  rc = read_exact(f, fp, text, (size_t)header_len, "header");
  if (!rc) {
    text[header_len] = '\0';
    f->data_size = size - 8 - header_len;
    rc = parse_header(f, text, (size_t)header_len);
  }
  free(text);
  if (rc || !read_data) return rc;
  if (f->data_size > SIZE_MAX)
    return cn_fail(CN_ENOMEM, "%s: %" PRIu64 " bytes of tensor data do not fit in memory", f->path, f->data_size);
  f->data = malloc(f->data_size ? (size_t)f->data_size : 1);
  if (!f->data)
    return cn_fail(CN_ENOMEM, "%s: out of memory for %" PRIu64 " bytes of tensor data", f->path, f->data_size);
  return read_exact(f, fp, f->data, (size_t)f->data_size, "tensor data");
}

int cn_st_open(const char *path, int read_data, cn_st_file **out) {
  *out = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    int err = errno;
    if (err == ENOENT) return cn_fail(CN_ENOTFOUND, "%s: no such file", path);
    return cn_fail(CN_EIO, "%s: cannot open: %s", path, strerror(err));
  }
  cn_st_file *f = calloc(1, sizeof *f);
  int rc = f ? CN_OK : cn_fail(CN_ENOMEM, "%s: out of memory", path);
  if (!rc && !(f->path = strdup(path))) rc = cn_fail(CN_ENOMEM, "%s: out of memory", path);
  if (!rc) rc = read_file(f, fp, read_data);
  fclose(fp);
  if (rc) {
    cn_st_close(f);
    return rc;
  }
  *out = f;
  return CN_OK;
}
