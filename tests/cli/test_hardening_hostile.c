/* The hostile-input matrix (docs/hostile-inputs.md) through the command
 * line: for each file type, files cut at every structural boundary, with
 * the wrong magic or type, sizes that are zero, negative, overflowing or
 * larger than the file, and so on. Every one must make `cnist` exit with
 * status 1 and print "cnist: error: " followed by a message that names the
 * file and the fault. Each case has an id, the row's name in the matrix.
 * Rows the library tests already cover in depth (tests/data, tests/spec,
 * tests/checkpoint, tests/image) are checked here once through the CLI;
 * the rows they miss are checked in full. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cnist/core.h"
#include "cnist/data.h"
#include "test.h"

#define TMP CN_TEST_TMP

static char output[1 << 16];

/* Runs `cnist ARGS` in TMP (so file names in messages stay short), stderr
 * merged into output; returns the exit status. */
static int run(const char *args) {
  char command[8192];
  snprintf(command, sizeof command, "cd '" TMP "' && '" CN_BINARY_DIR "/cnist' %s 2>&1", args);
  return test_run_command(command, output, sizeof output);
}

/* `cnist ARGS` refuses: status 1, "cnist: error: ", the file and the fault.
 * The message is printed after the row's id: the matrix's last column. */
static void refused(const char *id, const char *args, const char *file, const char *fault) {
  int status = run(args);
  const char *error = strstr(output, "cnist: error: ");
  if (error) printf("[%s] %.*s\n", id, (int)strcspn(error, "\n"), error);
  CHECK_MSG(status == 1 && error && strstr(error, file) && strstr(error, fault),
            "[%s] cnist %s: status %d (want 1); want \"cnist: error: \" naming %s with \"%s\"; got:\n%s", id, args,
            status, file, fault, output);
}

static void accepted(const char *id, const char *args) {
  int status = run(args);
  CHECK_MSG(status == 0, "[%s] cnist %s: status %d (want 0):\n%s", id, args, status, output);
}

static void write_bytes(const char *name, const void *data, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, TMP "/%s", name);
  FILE *f = fopen(path, "wb");
  CHECK_MSG(f && fwrite(data, 1, n, f) == n && fclose(f) == 0, "cannot write %s", path);
}

static void write_text(const char *name, const char *text) { write_bytes(name, text, strlen(text)); }

/* data gzip-compressed, as gzip(1) writes it; *n in, compressed size out. */
static unsigned char *gzip_bytes(const unsigned char *data, size_t *n) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
  uLong bound = deflateBound(&z, (uLong)*n);
  unsigned char *out = malloc(bound);
  z.next_in = (Bytef *)data;
  z.avail_in = (uInt)*n;
  z.next_out = out;
  z.avail_out = (uInt)bound;
  int rc = out ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
  *n = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    free(out);
    return NULL;
  }
  return out;
}

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* ---- IDX: `cnist data info --data idx` over a folder of four small files ---- */

enum { TRAIN_N = 20, TEST_N = 10, SIDE = 28, PIXELS = SIDE * SIDE };
#define IMAGES_FILE "idx/train-images-idx3-ubyte"
#define LABELS_FILE "idx/train-labels-idx1-ubyte"
#define DATA_INFO "data info --data idx"

static unsigned char train_images[16 + TRAIN_N * PIXELS], train_labels[8 + TRAIN_N];

/* An IDX file of n images of rows x cols (magic 0x00000803) or of n labels. */
static size_t idx_images(unsigned char *out, int n, int rows, int cols) {
  put_be32(out, 0x803);
  put_be32(out + 4, (uint32_t)n), put_be32(out + 8, (uint32_t)rows), put_be32(out + 12, (uint32_t)cols);
  for (int i = 0; i < n * rows * cols; i++) out[16 + i] = (unsigned char)(i * 7);
  return 16 + (size_t)n * rows * cols;
}

static size_t idx_labels(unsigned char *out, int n) {
  put_be32(out, 0x801);
  put_be32(out + 4, (uint32_t)n);
  for (int i = 0; i < n; i++) out[8 + i] = (unsigned char)(i % 10);
  return 8 + (size_t)n;
}

/* The folder's four files, all good. */
static void good_idx_folder(void) {
  static unsigned char test_images[16 + TEST_N * PIXELS], test_labels[8 + TEST_N];
  CHECK(system("rm -rf '" TMP "/idx' && mkdir -p '" TMP "/idx'") == 0);
  write_bytes(IMAGES_FILE, train_images, idx_images(train_images, TRAIN_N, SIDE, SIDE));
  write_bytes(LABELS_FILE, train_labels, idx_labels(train_labels, TRAIN_N));
  write_bytes("idx/t10k-images-idx3-ubyte", test_images, idx_images(test_images, TEST_N, SIDE, SIDE));
  write_bytes("idx/t10k-labels-idx1-ubyte", test_labels, idx_labels(test_labels, TEST_N));
}

/* The good folder with the training images replaced by data[0..n). */
static void bad_images(const char *id, const void *data, size_t n, const char *fault) {
  good_idx_folder();
  write_bytes(IMAGES_FILE, data, n);
  refused(id, DATA_INFO, IMAGES_FILE, fault);
}

/* Every prefix of the good image and label files, raw and gzip, is refused
 * by the reader with a message naming the file (the library, for speed:
 * hundreds of cuts). */
static void idx_every_cut(void) {
  const struct {
    const char *name;
    const unsigned char *data;
    size_t size;
    int ndim;
  } files[2] = {{"cut-images", train_images, sizeof train_images, 3}, {"cut-labels", train_labels,
                                                                      sizeof train_labels, 1}};
  for (int k = 0; k < 2; k++) {
    char path[1024];
    snprintf(path, sizeof path, TMP "/%s", files[k].name);
    int refused_raw = 0, cuts_raw = 0, refused_gz = 0, cuts_gz = 0;
    /* Raw: every cut in the header and the first image, then a stride. */
    for (size_t cut = 0; cut < files[k].size; cut += cut < 16 + PIXELS ? 1 : 97) {
      write_bytes(files[k].name, files[k].data, cut);
      cn_idx idx;
      int rc = cn_idx_read(path, files[k].ndim, &idx);
      refused_raw += rc == CN_EFORMAT && strstr(cn_last_error(), path) != NULL;
      cuts_raw++;
    }
    /* Gzip: the whole file compressed, cut at every byte. */
    size_t gz_size = files[k].size;
    unsigned char *gz = gzip_bytes(files[k].data, &gz_size);
    CHECK(gz != NULL);
    for (size_t cut = 0; gz && cut < gz_size; cut++) {
      write_bytes(files[k].name, gz, cut);
      cn_idx idx;
      int rc = cn_idx_read(path, files[k].ndim, &idx);
      refused_gz += rc == CN_EFORMAT && strstr(cn_last_error(), path) != NULL;
      cuts_gz++;
    }
    free(gz);
    CHECK_MSG(refused_raw == cuts_raw, "[idx-cut-every] %s: %d of %d raw cuts refused", files[k].name, refused_raw,
              cuts_raw);
    CHECK_MSG(refused_gz == cuts_gz, "[idx-cut-every-gz] %s: %d of %d gzip cuts refused", files[k].name, refused_gz,
              cuts_gz);
  }
}

static void idx_rows(void) {
  good_idx_folder();
  accepted("idx-good", DATA_INFO);
  idx_every_cut();

  /* Cut at each structural boundary. */
  bad_images("idx-empty", train_images, 0, "empty file, not an IDX file");
  bad_images("idx-cut-magic", train_images, 2, "truncated header: 2 bytes");
  bad_images("idx-cut-dims", train_images, 9, "truncated header: 9 bytes, an IDX file with 3 dimensions needs 16");
  bad_images("idx-cut-data-start", train_images, 16,
             "truncated: header says 20 images of 28x28 (15680 bytes) but the file holds only 0 bytes of data");
  bad_images("idx-cut-data", train_images, 16 + 7 * PIXELS + 5, "the file holds only 5493 bytes of data");
  bad_images("idx-cut-last-byte", train_images, sizeof train_images - 1, "the file holds only 15679 bytes of data");

  unsigned char copy[sizeof train_images + 1];
  memcpy(copy, train_images, sizeof train_images);
  copy[sizeof train_images] = 0;
  bad_images("idx-trailing", copy, sizeof copy, "trailing garbage: more data follows the 15680 bytes");

  /* Wrong magic, wrong data type, wrong number of dimensions. */
  static const unsigned char png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  bad_images("idx-magic", png, sizeof png, "not an IDX file: bad magic 0x89504e47 (expected 0x00000803)");
  memcpy(copy, train_images, sizeof train_images);
  copy[2] = 0x0d; /* float32 */
  bad_images("idx-dtype", copy, sizeof train_images, "data type 0x0d is not unsigned byte");
  bad_images("idx-ndim", train_labels, sizeof train_labels,
             "expected an IDX image file (magic 0x00000803 or 0x00000804, 3 or 4 dimensions) but this one has 1");

  /* Sizes: zero, "negative" (top bit set), overflowing, absurd, more
   * than the file holds. */
  memcpy(copy, train_images, sizeof train_images);
  put_be32(copy + 4, 0);
  bad_images("idx-zero", copy, sizeof train_images, "header says 0 images of 28x28: dimension 1 is zero");
  put_be32(copy + 4, 0x80000000u);
  bad_images("idx-negative", copy, sizeof train_images,
             "header says 2147483648 images of 28x28: that size overflows (more than 2147483647 bytes)");
  put_be32(copy + 4, 0xffffffffu), put_be32(copy + 8, 0xffffffffu), put_be32(copy + 12, 0xffffffffu);
  bad_images("idx-overflow", copy, sizeof train_images, "that size overflows");
  put_be32(copy + 4, 2739146), put_be32(copy + 8, 28), put_be32(copy + 12, 28); /* 2147490464 bytes */
  bad_images("idx-absurd", copy, sizeof train_images, "that size overflows (more than 2147483647 bytes)");
  put_be32(copy + 4, 2739000); /* 2147376000 bytes: allowed, but the file holds 15680 */
  bad_images("idx-claims-more", copy, sizeof train_images,
             "header says 2739000 images of 28x28 (2147376000 bytes) but the file holds only 15680 bytes");

  /* Gzip: a corrupt stream, a cut stream, a good stream of a cut file. */
  size_t gz_size = sizeof train_images;
  unsigned char *gz = gzip_bytes(train_images, &gz_size);
  if (gz) {
    write_bytes("gz-good", gz, gz_size);
    good_idx_folder();
    unlink(TMP "/" IMAGES_FILE);
    write_bytes(IMAGES_FILE ".gz", gz, gz_size);
    accepted("idx-gz-good", DATA_INFO);
    gz[gz_size / 2] ^= 0x55;
    bad_images("idx-gz-corrupt", gz, gz_size, "corrupt gzip stream");
    gz[gz_size / 2] ^= 0x55;
    bad_images("idx-gz-cut", gz, gz_size / 2, "corrupt gzip stream: unexpected end of file");
    /* Bytes after the gzip stream that are not another gzip member are
     * ignored, as gzip(1) does: the data itself is whole and checked. */
    unsigned char *junk = malloc(gz_size + 8);
    if (junk) {
      memcpy(junk, gz, gz_size);
      memcpy(junk + gz_size, "JUNKJUNK", 8);
      good_idx_folder();
      unlink(TMP "/" IMAGES_FILE);
      write_bytes(IMAGES_FILE ".gz", junk, gz_size + 8);
      accepted("idx-gz-junk-after", DATA_INFO);
      free(junk);
    }
    /* A second gzip member is more data: trailing garbage. */
    size_t one = 1;
    unsigned char *member = gzip_bytes((const unsigned char *)"x", &one), *two = malloc(gz_size + one);
    if (member && two) {
      memcpy(two, gz, gz_size);
      memcpy(two + gz_size, member, one);
      bad_images("idx-gz-second-member", two, gz_size + one, "trailing garbage");
    }
    free(member);
    free(two);
    free(gz);
  }
  gz_size = sizeof train_images - 100;
  gz = gzip_bytes(train_images, &gz_size);
  if (gz) bad_images("idx-gz-of-cut-file", gz, gz_size, "the file holds only 15580 bytes of data");
  free(gz);

  /* Files that disagree with each other. */
  good_idx_folder();
  unsigned char labels[8 + TRAIN_N];
  memcpy(labels, train_labels, sizeof labels);
  labels[8 + 3] = 10;
  write_bytes(LABELS_FILE, labels, sizeof labels);
  /* Classes come from the labels: 11 classes load, and a model of 10 outputs refuses them. */
  refused("idx-label-range", "train mlp --data idx --epochs 1 --quiet --run-dir run-labels", LABELS_FILE,
          "label 10 (item 3) is beyond the model's 10 outputs (classes 0..9)");
  labels[8 + 3] = 64;
  write_bytes(LABELS_FILE, labels, sizeof labels);
  refused("idx-label-max", DATA_INFO, LABELS_FILE,
          "label 64 of item 3 is outside 0..63 (64 classes, the most cnist handles)");
  good_idx_folder();
  write_bytes(LABELS_FILE, labels, idx_labels(labels, TRAIN_N - 1));
  refused("idx-count", DATA_INFO, LABELS_FILE, "holds 20 images but idx/train-labels-idx1-ubyte holds 19 labels");
  good_idx_folder();
  static unsigned char small[16 + TEST_N * 14 * 14];
  write_bytes("idx/t10k-images-idx3-ubyte", small, idx_images(small, TEST_N, 14, 14));
  refused("idx-size-mismatch", DATA_INFO, "idx", "training images are 28x28x1 but test images are 14x14x1");

  /* Not there, or not a file. */
  good_idx_folder();
  unlink(TMP "/" IMAGES_FILE);
  refused("idx-missing", DATA_INFO, "idx", "no train-images-idx3-ubyte[.gz]");
  CHECK(mkdir(TMP "/" IMAGES_FILE, 0755) == 0);
  refused("idx-folder", DATA_INFO, "idx", "no train-images-idx3-ubyte[.gz]");
  refused("idx-no-folder", "data info --data no-such-folder", "no-such-folder", "no such folder");
}

/* ---- model files: `cnist summary FILE` ---- */

static void model_refused(const char *id, const char *text, const char *fault) {
  char name[128], args[256];
  snprintf(name, sizeof name, "%s.model", id);
  write_text(name, text);
  snprintf(args, sizeof args, "summary %s", name);
  refused(id, args, name, fault);
}

static void model_rows(void) {
  write_text("good.model", "input 28x28x1\nflatten\ndense 10 activation=softmax\n");
  accepted("model-good", "summary good.model");
  /* Any line ending, and a byte-order mark, read as the same model. */
  write_text("crlf.model", "input 28x28x1\r\nflatten\r\ndense 10 activation=softmax\r\n");
  accepted("model-crlf", "summary crlf.model");
  write_text("cr.model", "input 28x28x1\rflatten\rdense 10 activation=softmax\r");
  accepted("model-cr", "summary cr.model");
  CHECK(strstr(output, "Total params: 7,850"));
  write_text("bom.model", "\xef\xbb\xbfinput 28x28x1\nflatten\ndense 10 activation=softmax\n");
  accepted("model-bom", "summary bom.model");
  CHECK(strstr(output, "Total params: 7,850"));
  model_refused("model-bom-error", "\xef\xbb\xbfinput 28x28\n", "model-bom-error.model:1:7: '28x28' is not HxWxC");

  /* Not text. */
  model_refused("model-empty", "", "model-empty.model:1:1: no input line");
  model_refused("model-latin1", "input 28x28x1\n# caf\xe9\n", "model-latin1.model:2:6: invalid UTF-8 byte 0xe9");
  model_refused("model-binary", "\x89PNG\r\n\x1a\n", "model-binary.model:1:1: invalid UTF-8 byte 0x89");
  write_bytes("model-nul.model", "input 28x28x1\nfla\0tten\n", 23);
  refused("model-nul", "summary model-nul.model", "model-nul.model:2:4", "NUL byte in the model file");
  char *text = malloc(2u << 20);
  if (text) {
    snprintf(text, 64, "input 28x28x1\n# ");
    memset(text + 16, 'x', 5000);
    strcpy(text + 5016, "\nflatten\n");
    model_refused("model-long-line", text, "model-long-line.model:2:4097: line longer than 4096 characters");
    memset(text, '#', 2u << 20);
    for (size_t i = 80; i < (2u << 20); i += 81) text[i] = '\n';
    text[(2u << 20) - 1] = '\0';
    model_refused("model-huge-file", text, "bytes is too large for a model file (at most 1 MiB)");
    free(text);
  }
  model_refused("model-words",
                "input 28x28x1 a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g\n",
                "model-words.model:1:");
  CHECK(strstr(output, "too many words on one line (at most 32)"));

  /* Numbers: zero, negative, overflowing, not numbers. */
  model_refused("model-zero", "input 28x28x1\nflatten\ndense 0\n", "model-zero.model:3:7: units must be at least 1, not 0");
  model_refused("model-negative", "input 28x28x1\nconv2d -4 3x3\n",
                "model-negative.model:2:8: filters must be at least 1, not -4");
  model_refused("model-overflow", "input 28x28x1\nflatten\ndense 99999999999\n",
                "model-overflow.model:3:7: units 99999999999 is too large (at most 2147483647)");
  model_refused("model-overflow-dims", "input 4294967297x28x1\n",
                "model-overflow-dims.model:1:7: input size 4294967297 is too large (at most 2147483647)");
  model_refused("model-zero-input", "input 0x0x1\n", "model-zero-input.model:1:7: input size must be at least 1, not 0");
  model_refused("model-nan", "input 28x28x1\ntrain lr=nan\n", "model-nan.model:2:10: 'nan' is not a number for lr");
  model_refused("model-inf", "input 28x28x1\ntrain lr=inf\n", "model-inf.model:2:10: 'inf' is not a number for lr");
  model_refused("model-tiny-lr", "input 28x28x1\ntrain lr=1e-50\n", "model-tiny-lr.model:2:10: lr must be greater than 0");

  /* Sizes that would not fit in memory: refused before anything is allocated. */
  model_refused("model-terabytes", "input 28x28x1\nconv2d 1000000000 3x3 padding=same\nflatten\ndense 10\n",
                "model-terabytes.model:2:1: this layer's output and its gradient need 5.7 TiB per image");
  model_refused("model-params", "input 28x28x1\nflatten\ndense 100000\ndense 100000\n",
                "model-params.model:4:1: the model would have 1.01e+10 parameters");
  model_refused("model-huge-input", "input 100000x100000x1\n",
                "model-huge-input.model:1:1: an input of 100000x100000x1 (HxWxC) needs 37.3 GiB per image");
  /* Within every per-layer limit, but its training buffers exceed the
   * machine's memory: refused by the planner before allocating. */
  good_idx_folder();
  write_text("model-memory.model", "input 28x28x1\nconv2d 2000000 3x3 padding=same\nmaxpool 28x28\nflatten\n"
                                   "dense 10 activation=softmax\n");
  refused("model-memory", "train model-memory.model --data idx --epochs 1 --quiet --run-dir run-memory",
          "model model-memory:", "the buffers for batches of 32 need");
  CHECK(strstr(output, "more than this machine's"));
  text = malloc(70 * 12 + 64);
  if (text) {
    strcpy(text, "input 28x28x1\n");
    for (int i = 0; i < 70; i++) strcat(text, "dropout 0.1\n");
    model_refused("model-layers", text, "model-layers.model:66:1: too many layers: a model holds at most 64");
    free(text);
  }

  /* Shapes that do not fit. */
  model_refused("model-shape", "input 28x28x1\ndense 10\n", "model-shape.model:2:1: dense needs a flat input");
  model_refused("model-window", "input 3x3x1\nconv2d 4 5x5\n",
                "model-window.model:2:1: a valid 5x5 convolution needs an input of at least 5x5 but gets 3x3");

  /* Not there, or not a file. */
  refused("model-missing", "summary no-such.model", "no-such.model", "no such model file, and not a zoo model");
  CHECK(mkdir(TMP "/folder.model", 0755) == 0);
  refused("model-folder", "summary folder.model", "folder.model", "not a model file (a directory or device)");
}

/* ---- checkpoints: `cnist predict FILE digit.pgm` ---- */

/* The good checkpoint's model: 28x28 in, 170 parameters in tensors 2.weight
 * [10, 16] and 2.bias [10] (the maxpool and flatten lines are 0 and 1). */
#define TINY_MODEL "input 28x28x1\\nmaxpool 7x7\\nflatten\\ndense 10 activation=softmax\\n"
#define META "\"__metadata__\":{\"cnist.format\":\"1\",\"cnist.model\":\"" TINY_MODEL "\"}"
#define WEIGHT(shape, b, e) "\"2.weight\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":[" b "," e "]}"
#define BIAS(b, e) "\"2.bias\":{\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[" b "," e "]}"
#define GOOD_HEADER "{" META "," WEIGHT("[10,16]", "0", "640") "," BIAS("640", "680") "}"

static float weights[170];

/* A safetensors file: 8-byte length of json, json, then data. */
static void safetensors(const char *name, const char *json, const void *data, size_t n) {
  size_t len = strlen(json), total = 8 + len + n;
  unsigned char *bytes = malloc(total);
  if (!bytes) return;
  for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)((uint64_t)len >> (8 * i));
  memcpy(bytes + 8, json, len);
  if (n) memcpy(bytes + 8 + len, data, n);
  write_bytes(name, bytes, total);
  free(bytes);
}

static void ckpt_refused(const char *id, const char *json, const void *data, size_t n, const char *fault) {
  char name[128], args[256];
  snprintf(name, sizeof name, "%s.safetensors", id);
  safetensors(name, json, data, n);
  snprintf(args, sizeof args, "predict %s digit.pgm", name);
  refused(id, args, name, fault);
}

static void digit_image(void) {
  char pgm[4096];
  int n = snprintf(pgm, sizeof pgm, "P2\n28 28\n255\n");
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++)
      n += snprintf(pgm + n, sizeof pgm - (size_t)n, "%d%c", x >= 12 && x <= 15 && y >= 5 && y <= 22 ? 255 : 0,
                    x == SIDE - 1 ? '\n' : ' ');
  write_text("digit.pgm", pgm);
}

static void checkpoint_rows(void) {
  for (int i = 0; i < 170; i++) weights[i] = (float)((i % 13) - 6) / 10.0f;
  digit_image();
  safetensors("good.safetensors", GOOD_HEADER, weights, sizeof weights);
  accepted("ckpt-good", "predict good.safetensors digit.pgm");

  /* Cut at each structural boundary. */
  write_bytes("ckpt-empty.safetensors", "", 0);
  refused("ckpt-empty", "predict ckpt-empty.safetensors digit.pgm", "ckpt-empty.safetensors",
          "0 bytes is too short for a safetensors file");
  write_bytes("ckpt-cut-length.safetensors", "\x40\x01\0\0\0", 5);
  refused("ckpt-cut-length", "predict ckpt-cut-length.safetensors digit.pgm", "ckpt-cut-length.safetensors",
          "5 bytes is too short");
  {
    size_t len = strlen(GOOD_HEADER);
    unsigned char head[8 + 40];
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)len >> (8 * i));
    memcpy(head + 8, GOOD_HEADER, 40);
    write_bytes("ckpt-cut-header.safetensors", head, sizeof head);
    char fault[128];
    snprintf(fault, sizeof fault, "header length %zu is larger than the file (40 bytes follow", len);
    refused("ckpt-cut-header", "predict ckpt-cut-header.safetensors digit.pgm", "ckpt-cut-header.safetensors", fault);
  }
  ckpt_refused("ckpt-cut-data", GOOD_HEADER, weights, sizeof weights - 4,
               "tensor 2.bias: data_offsets [640, 680] end beyond the data section (676 bytes)");
  ckpt_refused("ckpt-no-data", GOOD_HEADER, NULL, 0, "end beyond the data section (0 bytes)");

  /* Not a safetensors file: another format, a header that lies. */
  static const unsigned char png[24] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  write_bytes("ckpt-png.safetensors", png, sizeof png);
  refused("ckpt-magic", "predict ckpt-png.safetensors digit.pgm", "ckpt-png.safetensors", "not a safetensors checkpoint: it looks like a PNG image");
  write_bytes("ckpt-absurd.safetensors", "\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
  refused("ckpt-header-claims-more", "predict ckpt-absurd.safetensors digit.pgm", "ckpt-absurd.safetensors",
          "header length 9223372036854775807 is larger than the file (2 bytes follow");
  ckpt_refused("ckpt-json", "{\"__metadata__\":", NULL, 0, "header is not valid JSON");
  ckpt_refused("ckpt-utf8", "{\"a\xff\":{}}", NULL, 0, "header is not valid UTF-8 text (byte 0xff at header offset 3)");

  /* Tensors: dtype, shapes, offsets. */
  ckpt_refused("ckpt-dtype", "{" META ",\"2.weight\":{\"dtype\":\"F16\",\"shape\":[10,16],\"data_offsets\":[0,320]},"
               BIAS("320", "360") "}", weights, 360, "tensor 2.weight: dtype F16 is not supported (cnist reads F32 only)");
  ckpt_refused("ckpt-shape-overflow", "{" META "," WEIGHT("[4294967296,4294967296,4294967296]", "0", "640") ","
               BIAS("640", "680") "}", weights, sizeof weights, "tensor 2.weight: shape [4294967296, 4294967296, "
               "4294967296] has too many elements");
  ckpt_refused("ckpt-shape-negative", "{" META "," WEIGHT("[-10,16]", "0", "640") "," BIAS("640", "680") "}", weights,
               sizeof weights, "tensor 2.weight: shape is not a list of non-negative integers");
  ckpt_refused("ckpt-shape-zero", "{" META "," WEIGHT("[0,16]", "0", "0") "," BIAS("0", "40") "}", weights, 40,
               "describes 170 parameters but the file holds only 40 bytes of tensors");
  ckpt_refused("ckpt-shape-mismatch", "{" META "," WEIGHT("[16,10]", "0", "640") "," BIAS("640", "680") "}", weights,
               sizeof weights, "2.weight: checkpoint has [16, 10], model needs [10, 16]");
  ckpt_refused("ckpt-offsets-outside", "{" META "," WEIGHT("[10,16]", "0", "640") "," BIAS("680", "720") "}",
               weights, sizeof weights, "tensor 2.bias: data_offsets [680, 720] end beyond the data section (680 bytes)");
  ckpt_refused("ckpt-offsets-overlap", "{" META "," WEIGHT("[10,16]", "0", "640") "," BIAS("600", "640") "}",
               weights, 640, "tensor 2.bias: data_offsets [600, 640] overlap tensor 2.weight at [0, 640]");
  /* The weights with one float more: a gap, or an extra tensor. */
  float padded[171];
  memcpy(padded, weights, 640);
  padded[160] = 0.0f;
  memcpy(padded + 161, weights + 160, 40);
  ckpt_refused("ckpt-offsets-gap", "{" META "," WEIGHT("[10,16]", "0", "640") "," BIAS("644", "684") "}", padded,
               sizeof padded, "data bytes [640, 644) belong to no tensor (before tensor 2.bias)");
  ckpt_refused("ckpt-offsets-span", "{" META "," WEIGHT("[10,16]", "0", "600") "," BIAS("600", "680") "}", weights,
               sizeof weights, "tensor 2.weight: data_offsets span 600 bytes but shape [10, 16] of F32 needs 640");
  float weights_and_one[171];
  memcpy(weights_and_one, weights, sizeof weights);
  weights_and_one[170] = 1.0f;
  ckpt_refused("ckpt-missing-tensor", "{" META "," WEIGHT("[10,16]", "0", "640") ",\"2.b\":{\"dtype\":\"F32\","
               "\"shape\":[10],\"data_offsets\":[640,680]}}", weights, sizeof weights,
               "missing tensor 2.bias (the model needs [10])");
  ckpt_refused("ckpt-unknown-tensor", "{" META "," WEIGHT("[10,16]", "0", "640") "," BIAS("640", "680")
               ",\"3.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[680,684]}}", weights_and_one,
               sizeof weights_and_one, "unknown tensor 3.weight: the model has no such tensor");

  /* Values. */
  float bad[170];
  memcpy(bad, weights, sizeof bad);
  bad[3] = NAN;
  ckpt_refused("ckpt-nan", GOOD_HEADER, bad, sizeof bad, "2.weight: holds NaN (at index 3)");
  bad[3] = weights[3];
  bad[165] = -INFINITY;
  ckpt_refused("ckpt-inf", GOOD_HEADER, bad, sizeof bad, "2.bias: holds Inf (at index 5)");

  /* The metadata: not cnist's, too new, a model text that does not parse
   * or that would need terabytes. */
  ckpt_refused("ckpt-foreign", "{" WEIGHT("[10,16]", "0", "640") "," BIAS("640", "680") "}", weights, sizeof weights,
               "no cnist.format in its metadata: not a cnist checkpoint");
  ckpt_refused("ckpt-newer", "{\"__metadata__\":{\"cnist.format\":\"2\",\"cnist.model\":\"" TINY_MODEL "\"},"
               WEIGHT("[10,16]", "0", "640") "," BIAS("640", "680") "}", weights, sizeof weights,
               "written by a newer cnist (checkpoint format 2; this build reads format 1)");
  ckpt_refused("ckpt-model-text", "{\"__metadata__\":{\"cnist.format\":\"1\",\"cnist.model\":\"input 28x28x1\\n"
               "conv3d 4 3x3\\n\"}," WEIGHT("[10,16]", "0", "640") "," BIAS("640", "680") "}", weights, sizeof weights,
               "ckpt-model-text.safetensors[cnist.model]:2:1: unknown layer 'conv3d'");
  ckpt_refused("ckpt-model-terabytes", "{\"__metadata__\":{\"cnist.format\":\"1\",\"cnist.model\":\"input 28x28x1\\n"
               "conv2d 1000000000 3x3 padding=same\\nflatten\\ndense 10\\n\"}," WEIGHT("[10,16]", "0", "640") ","
               BIAS("640", "680") "}", weights, sizeof weights, "5.7 TiB per image");
  ckpt_refused("ckpt-model-more-params", "{\"__metadata__\":{\"cnist.format\":\"1\",\"cnist.model\":\"input 28x28x1\\n"
               "flatten\\ndense 1000 activation=relu\\ndense 10 activation=softmax\\n\"}," WEIGHT("[10,16]", "0", "640")
               "," BIAS("640", "680") "}", weights, sizeof weights,
               "cnist.model describes 795010 parameters but the file holds only 680 bytes of tensors");

  /* Not there, or not a file. */
  refused("ckpt-missing", "predict no-such.safetensors digit.pgm", "no-such.safetensors", "no such");
  CHECK(mkdir(TMP "/empty-run", 0755) == 0);
  refused("ckpt-empty-run", "predict empty-run digit.pgm", "empty-run", "best.safetensors");
}

/* ---- images: `cnist predict good.safetensors FILE` ---- */

/* A PNG chunk: length, type, data, CRC. */
static size_t chunk(unsigned char *out, const char *type, const unsigned char *data, uint32_t n) {
  put_be32(out, n);
  memcpy(out + 4, type, 4);
  if (n) memcpy(out + 8, data, n);
  put_be32(out + 8 + n, (uint32_t)crc32(0, out + 4, 4 + n));
  return 12 + n;
}

/* An 8-bit grey PNG of w x h whose IHDR says hw x hh; *ends receives the
 * offsets after the signature, IHDR, IDAT and IEND. */
static size_t grey_png(unsigned char *out, uint32_t w, uint32_t h, uint32_t hw, uint32_t hh, size_t ends[4]) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  unsigned char ihdr[13] = {0}, raw[29 * 28], packed[2048];
  memcpy(out, sig, 8);
  put_be32(ihdr, hw), put_be32(ihdr + 4, hh);
  ihdr[8] = 8; /* bit depth; colour type 0: grey */
  size_t n = 8;
  ends[0] = n;
  n += chunk(out + n, "IHDR", ihdr, 13);
  ends[1] = n;
  size_t rows = 0;
  for (uint32_t y = 0; y < h; y++) {
    raw[rows++] = 0; /* filter: none */
    for (uint32_t x = 0; x < w; x++) raw[rows++] = x > w / 3 && x < w / 2 && y > 3 ? 255 : 0;
  }
  uLongf packed_size = sizeof packed;
  compress(packed, &packed_size, raw, rows);
  n += chunk(out + n, "IDAT", packed, (uint32_t)packed_size);
  ends[2] = n;
  n += chunk(out + n, "IEND", NULL, 0);
  ends[3] = n;
  return n;
}

static void image_refused(const char *id, const char *name, const void *data, size_t n, const char *fault) {
  char args[256];
  write_bytes(name, data, n);
  snprintf(args, sizeof args, "predict good.safetensors %s", name);
  refused(id, args, name, fault);
}

static void image_rows(void) {
  unsigned char png[4096];
  size_t ends[4];
  size_t size = grey_png(png, 28, 28, 28, 28, ends);
  write_bytes("good.png", png, size);
  accepted("image-good", "predict good.safetensors good.png");
  accepted("image-good-pgm", "predict good.safetensors digit.pgm");

  /* PNG cut at each structural boundary, and inside each part. */
  image_refused("image-empty", "empty.png", png, 0, "empty file");
  image_refused("image-cut-signature", "cut-sig.png", png, 5, "the file ends inside the PNG signature");
  const char *const where[4] = {"signature", "IHDR", "IDAT", "IEND"};
  for (int k = 0; k < 3; k++) {
    char id[64], name[64];
    snprintf(id, sizeof id, "image-cut-after-%s", where[k]);
    snprintf(name, sizeof name, "cut-%s.png", where[k]);
    image_refused(id, name, png, ends[k], "");
    CHECK_MSG(strstr(output, "truncated") || strstr(output, "no image data") || strstr(output, "corrupt"),
              "[%s] %s", id, output);
    snprintf(id, sizeof id, "image-cut-in-%s", where[k + 1]);
    snprintf(name, sizeof name, "cut-in-%s.png", where[k + 1]);
    image_refused(id, name, png, ends[k] + 6, "");
    CHECK_MSG(strstr(output, "truncated") || strstr(output, "corrupt"), "[%s] %s", id, output);
  }
  unsigned char copy[4096];
  memcpy(copy, png, size);
  copy[ends[1] + 10] ^= 0xff; /* a byte of IDAT: its CRC no longer matches */
  image_refused("image-crc", "bad-crc.png", copy, size, "corrupt PNG");

  /* Sizes: 0x0, 100000x100000 (refused before allocating), a header that
   * claims more pixels than the data holds. */
  size = grey_png(copy, 28, 28, 0, 0, ends);
  image_refused("image-0x0", "zero.png", copy, size, "image is 0x0 pixels; it needs at least 1x1");
  size = grey_png(copy, 28, 28, 100000, 100000, ends);
  image_refused("image-huge", "huge.png", copy, size, "100000x100000 pixels is larger than the 64-megapixel limit");
  size = grey_png(copy, 28, 28, 2000, 2000, ends);
  image_refused("image-claims-more", "liar.png", copy, size, "");
  CHECK_MSG(strstr(output, "cannot hold") || strstr(output, "truncated") || strstr(output, "corrupt"), "%s", output);
  image_refused("image-pgm-0x0", "zero.pgm", "P5 0 0 255\n", 11, "image is 0x0 pixels");
  image_refused("image-pgm-huge", "huge.pgm", "P5 100000 100000 255\n", 21,
                "100000x100000 pixels is larger than the 64-megapixel limit");
  image_refused("image-pgm-negative", "negative.pgm", "P2 -28 28 255\n", 14, "PGM width is negative");
  image_refused("image-pgm-cut", "cut.pgm", "P5 28 28 255\n\1\2\3", 16, "truncated");
  image_refused("image-pgm-maxval", "maxval.pgm", "P2 1 1 70000\n0\n", 15, "maxval 70000 is out of range 1..65535");

  /* Other formats are named; a file that is no image at all. */
  image_refused("image-jpeg", "photo.jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", 11, "JPEG is not supported");
  image_refused("image-idx", "images.idx", "\0\0\x08\x03\0\0\0\1\0\0\0\x1c\0\0\0\x1c", 16, "an IDX file of images");
  image_refused("image-text", "notes.png", "hello\n", 6, "not a PNG, PGM or PPM image");
  refused("image-missing", "predict good.safetensors no-such.png", "no-such.png", "no such file");
  CHECK(mkdir(TMP "/folder.png", 0755) == 0);
  refused("image-folder", "predict good.safetensors folder.png", "folder.png", "is a folder, not an image");
  /* No ink: nothing to classify. */
  memset(copy, 0, sizeof copy);
  size_t n = (size_t)snprintf((char *)copy, 64, "P5 28 28 255\n");
  image_refused("image-blank", "blank.pgm", copy, n + PIXELS, "no ink");
}

int main(void) {
  CHECK(system("rm -rf '" TMP "' && mkdir -p '" TMP "'") == 0);
  idx_rows();
  model_rows();
  checkpoint_rows();
  image_rows();
  return test_summary();
}
