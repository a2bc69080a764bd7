/* The safetensors layer without models: round trip, the exact bytes
 * written, one hand-made file per malformed case (each rejected with a
 * message naming the file and the tensor), and atomic replacement. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/safetensors.h"
#include "test.h"

static char dir[512];
static char bad_path[600];

static void make_dir(const char *path) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(buf, 0755);
      *p = '/';
    }
  mkdir(buf, 0755);
}

static void write_bytes(const char *path, const void *bytes, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  CHECK(fwrite(bytes, 1, n, f) == n);
  fclose(f);
}

/* A file: 8-byte little-endian length of json, json, then n data bytes. */
static void write_file(const char *path, const char *json, const void *data, size_t n) {
  size_t len = strlen(json);
  unsigned char *buf = malloc(8 + len + n + 1);
  if (!buf) return;
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)len >> (8 * i));
  memcpy(buf + 8, json, len);
  if (n) memcpy(buf + 8 + len, data, n);
  write_bytes(path, buf, 8 + len + n);
  free(buf);
}

static const unsigned char zeros[64];

/* The file must be refused with CN_EFORMAT and a message holding the path
 * and each of the given pieces (the tensor's name, the fault). */
static void expect_bad_file(int line, const char *piece1, const char *piece2) {
  cn_st_file *f = (cn_st_file *)1;
  int rc = cn_st_open(bad_path, 1, &f);
  const char *msg = cn_last_error();
  int ok = rc == CN_EFORMAT && f == NULL && strstr(msg, bad_path) && (!piece1 || strstr(msg, piece1)) &&
           (!piece2 || strstr(msg, piece2));
  CHECK_MSG(ok, "case at line %d: status %d, message \"%s\"; wanted \"%s\" and \"%s\"", line, rc, msg,
            piece1 ? piece1 : "", piece2 ? piece2 : "");
  if (rc == CN_OK) cn_st_close(f);
}

#define BAD(json, data, n, piece1, piece2)         \
  do {                                             \
    write_file(bad_path, json, data, n);           \
    expect_bad_file(__LINE__, piece1, piece2);     \
  } while (0)

static void check_round_trip(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/round.safetensors", dir);
  const float scalar = 3.5f, vec[3] = {1.0f, -2.0f, 0.25f}, mat[6] = {1, 2, 3, 4, 5, 6};
  const int vec_shape[1] = {3}, mat_shape[2] = {2, 3}, empty_shape[2] = {0, 3};
  cn_st_entry t[4] = {
      {"scalar", 0, NULL, &scalar},
      {"0.bias", 1, vec_shape, vec},
      {"0.weight", 2, mat_shape, mat},
      {"empty", 2, empty_shape, NULL},
  };
  const char *text = "# a model\ndense 10 activation=softmax \"quoted\" \\ tab\t 中文\n";
  const char *meta[] = {"cnist.model", text, "epoch", "3", NULL};
  CHECK(cn_st_write(path, t, 4, meta) == CN_OK);

  /* The bytes: header length a multiple of 8 after the 8-byte field, data
   * little-endian in the order given. */
  FILE *fp = fopen(path, "rb");
  unsigned char buf[4096];
  size_t got = fp ? fread(buf, 1, sizeof buf, fp) : 0;
  if (fp) fclose(fp);
  uint64_t len = 0;
  for (int i = 7; i >= 0; i--) len = (len << 8) | buf[i];
  CHECK(len % 8 == 0 && 8 + len + 4 * (1 + 3 + 6) == got);
  if (8 + len + 8 <= got) {
    const unsigned char *d = buf + 8 + len;
    CHECK(d[0] == 0x00 && d[1] == 0x00 && d[2] == 0x60 && d[3] == 0x40); /* 3.5f */
    CHECK(d[4] == 0x00 && d[5] == 0x00 && d[6] == 0x80 && d[7] == 0x3f); /* 1.0f */
  }

  cn_st_file *f = NULL;
  CHECK(cn_st_open(path, 1, &f) == CN_OK);
  if (!f) return;
  CHECK(f->n_tensors == 4);
  const cn_st_tensor *s = cn_st_find(f, "scalar"), *b = cn_st_find(f, "0.bias"), *w = cn_st_find(f, "0.weight"),
                     *e = cn_st_find(f, "empty");
  CHECK(s && s->ndim == 0 && s->count == 1 && cn_st_value(f, s, 0) == 3.5f);
  CHECK(b && b->ndim == 1 && b->shape[0] == 3 && b->count == 3);
  CHECK(w && w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 3);
  CHECK(e && e->count == 0 && e->begin == e->end);
  CHECK(cn_st_find(f, "missing") == NULL);
  if (b) {
    float v[3];
    cn_st_copy(f, b, v);
    CHECK(memcmp(v, vec, sizeof v) == 0);
  }
  if (w) {
    float v[6];
    cn_st_copy(f, w, v);
    CHECK(memcmp(v, mat, sizeof v) == 0);
  }
  CHECK(cn_meta_get(f->meta, "cnist.model") && strcmp(cn_meta_get(f->meta, "cnist.model"), text) == 0);
  CHECK(cn_meta_get(f->meta, "epoch") && strcmp(cn_meta_get(f->meta, "epoch"), "3") == 0);
  CHECK(cn_meta_get(f->meta, "nope") == NULL);
  cn_st_close(f);

  /* Header only: the same tensors, no data read. */
  CHECK(cn_st_open(path, 0, &f) == CN_OK);
  if (f) {
    CHECK(f->data == NULL && f->n_tensors == 4 && cn_meta_get(f->meta, "epoch") != NULL);
    cn_st_close(f);
  }

  /* Hand-made: tensors listed out of data order, padded header, no
   * metadata. */
  float two[2] = {7.0f, 8.0f};
  write_file(path,
             "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"a\":{\"data_offsets\":[4,8],\"shape\":[1],\"dtype\":\"F32\"}}   \n ",
             two, sizeof two);
  CHECK(cn_st_open(path, 1, &f) == CN_OK);
  if (f) {
    const cn_st_tensor *a = cn_st_find(f, "a");
    CHECK(a && cn_st_value(f, a, 0) == 8.0f);
    CHECK(f->meta && f->meta->n == 0);
    cn_st_close(f);
  }
}

/* Every proper prefix of a good file (cut inside the length field, the
 * header, or the data) is refused. */
static void check_truncations(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/whole.safetensors", dir);
  snprintf(bad_path, sizeof bad_path, "%s/cut.safetensors", dir);
  const float v[6] = {1, 2, 3, 4, 5, 6};
  const int shape[2] = {2, 3};
  cn_st_entry t[2] = {{"0.weight", 2, shape, v}, {"0.bias", 1, shape, v}};
  const char *meta[] = {"cnist.format", "1", NULL};
  CHECK(cn_st_write(path, t, 2, meta) == CN_OK);
  FILE *f = fopen(path, "rb");
  unsigned char whole[1024];
  size_t size = f ? fread(whole, 1, sizeof whole, f) : 0;
  if (f) fclose(f);
  CHECK(size > 8 && size < sizeof whole);
  int refused = 0;
  for (size_t cut = 0; cut < size; cut++) {
    write_bytes(bad_path, whole, cut);
    cn_st_file *st = NULL;
    int rc = cn_st_open(bad_path, 1, &st);
    refused += rc == CN_EFORMAT && strstr(cn_last_error(), bad_path) != NULL;
    cn_st_close(st);
  }
  CHECK_MSG(refused == (int)size, "%d of %zu prefixes refused", refused, size);
}

static void check_writer_rejects(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/rejected.safetensors", dir);
  const float v[1] = {1.0f};
  const int shape[1] = {1};
  cn_st_entry twice[2] = {{"a", 1, shape, v}, {"a", 1, shape, v}};
  CHECK_ERROR(cn_st_write(path, twice, 2, NULL), CN_EINVAL, "twice");
  const char *bad_meta[] = {"key", "\xff\xfe", NULL};
  CHECK_ERROR(cn_st_write(path, twice, 1, bad_meta), CN_EINVAL, "UTF-8");
  const char *dup_meta[] = {"key", "1", "key", "2", NULL};
  CHECK_ERROR(cn_st_write(path, twice, 1, dup_meta), CN_EINVAL, "twice");
  cn_st_entry reserved = {"__metadata__", 1, shape, v};
  CHECK_ERROR(cn_st_write(path, &reserved, 1, NULL), CN_EINVAL, "__metadata__");
  CHECK(access(path, F_OK) != 0);
}

static void check_malformed(void) {
  snprintf(bad_path, sizeof bad_path, "%s/bad.safetensors", dir);
  const char *ok_a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
  char json[512];

  /* Sizes and the length field. */
  write_bytes(bad_path, "\x05\0\0", 3);
  expect_bad_file(__LINE__, "3 bytes is too short", NULL);
  write_bytes(bad_path, "", 0);
  expect_bad_file(__LINE__, "0 bytes is too short", NULL);
  write_bytes(bad_path, "\x40\0\0\0\0\0\0\0{}", 10);
  expect_bad_file(__LINE__, "header length 64 is larger than the file (2 bytes", NULL);
  write_bytes(bad_path, "\xff\xff\xff\xff\xff\xff\xff\xff{}", 10);
  expect_bad_file(__LINE__, "is larger than the file", NULL);
  {
    /* A sparse file above the limit, claiming a header above the limit. */
    FILE *f = fopen(bad_path, "wb");
    uint64_t len = ((uint64_t)100 << 20) + 1;
    unsigned char head[8];
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)(len >> (8 * i));
    CHECK(f && fwrite(head, 1, 8, f) == 8);
    if (f) {
      CHECK(ftruncate(fileno(f), (off_t)(len + 100)) == 0);
      fclose(f);
    }
    expect_bad_file(__LINE__, "header length 104857601 is absurd", NULL);
  }

  /* The header text. */
  BAD("{\"a\": ", NULL, 0, "not valid JSON", NULL);
  BAD("", NULL, 0, "not valid JSON", NULL);
  BAD("[1, 2]", NULL, 0, "not a JSON object", NULL);
  BAD("\"text\"", NULL, 0, "not a JSON object", NULL);
  BAD("{} {}", NULL, 0, "more than one JSON value", NULL);
  BAD("{\"a\xff\":{}}", NULL, 0, "not valid UTF-8", "0xff at header offset 3");
  BAD("{\"a\xc0\xaf\":{}}", NULL, 0, "not valid UTF-8", NULL); /* overlong '/' */
  BAD("{\"a\xed\xa0\x80\":{}}", NULL, 0, "not valid UTF-8", NULL); /* surrogate */
  write_bytes(bad_path, "\x04\0\0\0\0\0\0\0{\0}\n", 12);
  expect_bad_file(__LINE__, "not valid UTF-8", "0x00");
  {
    /* More JSON values than any checkpoint needs: refused before parsing. */
    size_t n = 1100000;
    char *big = malloc(2 * n + 16);
    if (big) {
      char *p = big + sprintf(big, "{\"x\":[");
      for (size_t i = 0; i < n; i++) *p++ = '0', *p++ = ',';
      strcpy(p - 1, "]}");
      BAD(big, NULL, 0, "JSON values", NULL);
      free(big);
    }
  }

  /* Entries. */
  BAD("{\"w\": 5}", NULL, 0, "tensor w", "not a JSON object");
  BAD("{\"w\": [0, 4]}", NULL, 0, "tensor w", "not a JSON object");
  BAD("{\"\": {\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", zeros, 4, "empty name", NULL);
  BAD("{\"w\": {\"shape\":[1],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w", "no dtype");
  BAD("{\"w\": {\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w", "dtype F16");
  BAD("{\"w\": {\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", zeros, 8, "tensor w", "F32 only");
  BAD("{\"w\": {\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w", "dtype is not a string");
  BAD("{\"w\": {\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", zeros, 4, "tensor w", "no shape");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", zeros, 4, "tensor w",
      "shape is not a list");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w",
      "non-negative integers");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w",
      "non-negative integers");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", zeros, 8, "tensor w",
      "non-negative integers");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w",
      "non-negative integers");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w",
      "9 dimensions");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", zeros, 4,
      "tensor w", "too many elements");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1]}}", zeros, 4, "tensor w", "data_offsets must be two");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", zeros, 4, "tensor w",
      "data_offsets must be two");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", zeros, 4, "tensor w",
      "data_offsets must be two");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", zeros, 4, "tensor w",
      "data_offsets must be two");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", zeros, 4, "tensor w",
      "data_offsets must be two");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"0\":4}}}", zeros, 4, "tensor w",
      "data_offsets must be two");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", zeros, 8, "tensor w",
      "[8, 4] begin after they end");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}", zeros, 8, "tensor w",
      "end beyond the data section (8 bytes)");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", zeros, 8, "tensor w",
      "span 8 bytes but shape [3] of F32 needs 12");
  BAD("{\"w\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", zeros, 4, "tensor w",
      "unknown field \"extra\"");
  BAD("{\"w\": {\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", zeros, 4, "tensor w",
      "given twice");

  /* How the tensors lie in the data section. */
  snprintf(json, sizeof json, "{%s,\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", ok_a);
  BAD(json, zeros, 12, "tensor b", "overlap tensor a");
  snprintf(json, sizeof json, "{%s,\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", ok_a);
  BAD(json, zeros, 8, "overlap tensor", NULL);
  snprintf(json, sizeof json, "{%s,\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", ok_a);
  BAD(json, zeros, 16, "data bytes [8, 12) belong to no tensor", "before tensor b");
  snprintf(json, sizeof json, "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}");
  BAD(json, zeros, 8, "data bytes [0, 4) belong to no tensor", "before tensor b");
  snprintf(json, sizeof json, "{%s}", ok_a);
  BAD(json, zeros, 12, "data bytes [8, 12) after the last tensor", NULL);
  BAD("{}", zeros, 4, "4 data bytes but no tensors", NULL);
  snprintf(json, sizeof json, "{%s,%s}", ok_a, ok_a);
  BAD(json, zeros, 8, "tensor a is given twice", NULL);

  /* Metadata. */
  snprintf(json, sizeof json, "{\"__metadata__\":[\"x\"],%s}", ok_a);
  BAD(json, zeros, 8, "__metadata__ is not a JSON object", NULL);
  snprintf(json, sizeof json, "{\"__metadata__\":{\"epoch\":3},%s}", ok_a);
  BAD(json, zeros, 8, "__metadata__ entry \"epoch\" is not a string", NULL);
  snprintf(json, sizeof json, "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},%s}", ok_a);
  BAD(json, zeros, 8, "__metadata__ holds \"k\" twice", NULL);
  snprintf(json, sizeof json, "{\"__metadata__\":{},\"__metadata__\":{},%s}", ok_a);
  BAD(json, zeros, 8, "__metadata__ is given twice", NULL);

  /* A control character in a name is not printed raw. */
  BAD("{\"a\\u001bb\": 1}", NULL, 0, "tensor a?b", NULL);

  /* Another kind of file: the first bytes of an IDX image file. */
  write_bytes(bad_path, "\x00\x00\x08\x03\x00\x00\xea\x60\x00\x00\x00\x1c\x00\x00\x00\x1c", 16);
  expect_bad_file(__LINE__, "not a safetensors checkpoint: it looks like an IDX file", NULL);

  /* Not a file at all. */
  char path[600];
  cn_st_file *f = NULL;
  snprintf(path, sizeof path, "%s/absent.safetensors", dir);
  CHECK_ERROR(cn_st_open(path, 1, &f), CN_ENOTFOUND, "absent.safetensors: no such file");
  CHECK_ERROR(cn_st_open(dir, 1, &f), CN_EIO, "not a regular file");
  CHECK(f == NULL);
}

/* Files in dir whose name holds ".tmp-": temporary files left behind. */
static int temp_files_left(void) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp-") != NULL;
  if (d) closedir(d);
  return n;
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void check_atomic(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/atomic.safetensors", dir);
  float small[4] = {1, 2, 3, 4};
  const int small_shape[1] = {4};
  cn_st_entry old = {"w", 1, small_shape, small};
  CHECK(cn_st_write(path, &old, 1, NULL) == CN_OK);
  long old_size = file_size(path);
  CHECK(old_size > 0);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);

  /* A write that fails half way (the file size limit stands in for a full
   * disk): the old file is intact and no temporary file is left. */
  enum { BIG = 1 << 18 };
  float *big = calloc(BIG, sizeof *big);
  const int big_shape[1] = {BIG};
  cn_st_entry next = {"w", 1, big_shape, big};
  struct rlimit saved, limit;
  getrlimit(RLIMIT_FSIZE, &saved);
  limit = saved;
  limit.rlim_cur = 100000;
  signal(SIGXFSZ, SIG_IGN);
  CHECK(big && setrlimit(RLIMIT_FSIZE, &limit) == 0);
  CHECK_ERROR(cn_st_write(path, &next, 1, NULL), CN_EIO, "previous file is unchanged");
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, SIG_DFL);
  CHECK(file_size(path) == old_size);
  cn_st_file *f = NULL;
  CHECK(cn_st_open(path, 1, &f) == CN_OK);
  if (f) {
    const cn_st_tensor *w = cn_st_find(f, "w");
    CHECK(w && w->count == 4 && cn_st_value(f, w, 3) == 4.0f);
    cn_st_close(f);
  }
  CHECK(temp_files_left() == 0);

  /* The rename fails (a folder has the target's name): nothing left over. */
  char folder[600];
  snprintf(folder, sizeof folder, "%s/a-folder.safetensors", dir);
  mkdir(folder, 0755);
  CHECK_ERROR(cn_st_write(folder, &old, 1, NULL), CN_EIO, "cannot rename");
  CHECK(temp_files_left() == 0);
  rmdir(folder);

  /* A folder that does not exist. */
  char nowhere[600];
  snprintf(nowhere, sizeof nowhere, "%s/no/such/folder/x.safetensors", dir);
  CHECK_ERROR(cn_st_write(nowhere, &old, 1, NULL), CN_ENOTFOUND, "cannot create a temporary file");

  /* A read-only folder (root may write anyway, so only as another user). */
  if (geteuid() != 0) {
    char ro[600], inside[700];
    snprintf(ro, sizeof ro, "%s/read-only", dir);
    mkdir(ro, 0755);
    snprintf(inside, sizeof inside, "%s/x.safetensors", ro);
    CHECK(cn_st_write(inside, &old, 1, NULL) == CN_OK);
    chmod(ro, 0555);
    CHECK_ERROR(cn_st_write(inside, &next, 1, NULL), CN_EIO, "cannot create a temporary file");
    CHECK(file_size(inside) == old_size);
    chmod(ro, 0755);
  }

  /* And a successful replacement, which also clears what killed writes
   * to the same file left behind, and nothing else. */
  char stale[700], other[700];
  snprintf(stale, sizeof stale, "%s/.atomic.safetensors.tmp-Ab12Cd", dir);
  snprintf(other, sizeof other, "%s/.other.safetensors.tmp-Ab12Cd", dir);
  write_bytes(stale, "x", 1);
  write_bytes(other, "x", 1);
  CHECK(temp_files_left() == 2);
  CHECK(big && cn_st_write(path, &next, 1, NULL) == CN_OK);
  CHECK(file_size(path) > old_size);
  CHECK(access(stale, F_OK) != 0 && access(other, F_OK) == 0);
  unlink(other);
  CHECK(temp_files_left() == 0);
  free(big);
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", CN_TEST_TMP);
  make_dir(dir);
  check_round_trip();
  check_writer_rejects();
  check_malformed();
  check_truncations();
  check_atomic();
  return test_summary();
}
