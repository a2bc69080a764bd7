/* Every kind of bad IDX input is rejected with the right status and a
 * message naming the file and the fault. Runs under valgrind too (see
 * valgrind.cmake), which checks that no error path leaks. */
#include <stdlib.h>

#include "cnist/data.h"
#include "idx_files.h"
#include "test.h"

static char path[4096], path2[4096];

/* Reads path as an image file (3 dimensions), expects failure with status
 * and needle, and checks that nothing was handed out. */
static void expect_image_error(const char *file, int status, const char *needle) {
  cn_idx idx;
  CHECK_ERROR(cn_idx_read(file, 3, &idx), status, needle);
  CHECK(idx.data == NULL);
  CHECK_MSG(strstr(cn_last_error(), file) != NULL, "message does not name the file: %s", cn_last_error());
}

static void test_wrong_magic(void) {
  const uint32_t dims[3] = {1, 2, 2};
  write_idx(tmp_path(path, sizeof path, "wrong-magic"), 0, 0x12340803, 3, dims, 4);
  expect_image_error(path, CN_EFORMAT, "not an IDX file: bad magic 0x12340803 (expected 0x00000803)");
}

static void test_wrong_type(void) {
  const uint32_t dims[3] = {1, 2, 2};
  write_idx(tmp_path(path, sizeof path, "float-type"), 0, 0x00000D03, 3, dims, 16);
  expect_image_error(path, CN_EFORMAT, "data type 0x0d is not unsigned byte");
}

static void test_wrong_ndim(void) {
  /* A label file (1 dimension) where images (3) are expected, and back. */
  const uint32_t dims[1] = {4};
  write_idx(tmp_path(path, sizeof path, "labels-as-images"), 0, 0x00000801, 1, dims, 4);
  expect_image_error(path, CN_EFORMAT, "expected an IDX image file (magic 0x00000803, 3 dimensions) but this one has 1");
  const uint32_t dims3[3] = {1, 2, 2};
  write_idx(tmp_path(path, sizeof path, "images-as-labels"), 0, 0x00000803, 3, dims3, 4);
  cn_idx idx;
  CHECK_ERROR(cn_idx_read(path, 1, &idx), CN_EFORMAT, "expected an IDX label file (magic 0x00000801, 1 dimension) but this one has 3");
}

static void test_truncated_header(void) {
  /* Magic and one and a half of three dimensions. */
  const uint8_t bytes[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0};
  write_bytes(tmp_path(path, sizeof path, "short-header"), bytes, sizeof bytes);
  expect_image_error(path, CN_EFORMAT, "truncated header: 10 bytes, an IDX file with 3 dimensions needs 16");
  write_bytes(path, bytes, 3);
  expect_image_error(path, CN_EFORMAT, "truncated header: 3 bytes");
}

static void test_truncated_data(void) {
  const uint32_t dims[3] = {2, 28, 28};
  write_idx(tmp_path(path, sizeof path, "short-data"), 0, 0x00000803, 3, dims, 1000);
  expect_image_error(path, CN_EFORMAT,
                     "truncated: header says 2 images of 28x28 (1568 bytes) but the file holds only 1000 bytes of data");
  write_idx(tmp_path(path, sizeof path, "short-data.gz"), 1, 0x00000803, 3, dims, 1000);
  expect_image_error(path, CN_EFORMAT, "truncated: header says 2 images of 28x28 (1568 bytes)");
}

static void test_trailing_garbage(void) {
  const uint32_t dims[3] = {1, 2, 2};
  write_idx(tmp_path(path, sizeof path, "trailing"), 0, 0x00000803, 3, dims, 5);
  expect_image_error(path, CN_EFORMAT, "trailing garbage: more data follows the 4 bytes the header describes");
  write_idx(tmp_path(path, sizeof path, "trailing.gz"), 1, 0x00000803, 3, dims, 5);
  expect_image_error(path, CN_EFORMAT, "trailing garbage");
}

static void test_overflowing_dims(void) {
  const uint32_t dims[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
  write_idx(tmp_path(path, sizeof path, "overflow"), 0, 0x00000803, 3, dims, 16);
  expect_image_error(path, CN_EFORMAT, "header says 4294967295 images of 4294967295x4294967295: that size overflows");
  /* Each dimension fits an int but the product does not. */
  const uint32_t big[3] = {65536, 65536, 1};
  write_idx(path, 0, 0x00000803, 3, big, 16);
  expect_image_error(path, CN_EFORMAT, "that size overflows");
}

static void test_zero_dim(void) {
  const uint32_t dims[3] = {3, 0, 28};
  write_idx(tmp_path(path, sizeof path, "zero-dim"), 0, 0x00000803, 3, dims, 0);
  expect_image_error(path, CN_EFORMAT, "header says 3 images of 0x28: dimension 2 is zero");
}

static void test_dims_exceed_file(void) {
  /* 1.6 GB claimed, 16 bytes there: rejected without allocating the claim,
   * raw and gzip alike. */
  const uint32_t dims[3] = {40000, 200, 200};
  write_idx(tmp_path(path, sizeof path, "huge-claim"), 0, 0x00000803, 3, dims, 16);
  expect_image_error(path, CN_EFORMAT,
                     "truncated: header says 40000 images of 200x200 (1600000000 bytes) but the file holds only 16 bytes");
  write_idx(tmp_path(path, sizeof path, "huge-claim.gz"), 1, 0x00000803, 3, dims, 16);
  expect_image_error(path, CN_EFORMAT, "(1600000000 bytes) but the file holds only 16 bytes");
}

static void test_count_mismatch(void) {
  const uint32_t image_dims[3] = {3, 2, 2}, label_dims[1] = {2};
  write_idx(tmp_path(path, sizeof path, "three-images"), 0, 0x00000803, 3, image_dims, 12);
  write_idx(tmp_path(path2, sizeof path2, "two-labels"), 0, 0x00000801, 1, label_dims, 2);
  cn_imageset set;
  CHECK_ERROR(cn_imageset_load(path, path2, 10, &set), CN_EFORMAT, "three-images holds 3 images but");
  CHECK(strstr(cn_last_error(), "two-labels holds 2 labels") != NULL);
  CHECK(set.pixels == NULL && set.labels == NULL);
}

static void test_label_out_of_range(void) {
  const uint32_t image_dims[3] = {3, 2, 2};
  write_idx(tmp_path(path, sizeof path, "images"), 0, 0x00000803, 3, image_dims, 12);
  uint8_t labels[8 + 3];
  const uint32_t label_dims[1] = {3};
  size_t n = idx_header(labels, 0x00000801, 1, label_dims);
  labels[n] = 9;
  labels[n + 1] = 10;
  labels[n + 2] = 0;
  write_bytes(tmp_path(path2, sizeof path2, "bad-labels"), labels, sizeof labels);
  cn_imageset set;
  CHECK_ERROR(cn_imageset_load(path, path2, 10, &set), CN_EFORMAT, "bad-labels: label 10 of item 1 is outside 0..9");
  CHECK(set.pixels == NULL && set.labels == NULL);
  /* The same files are fine for a dataset of 11 classes. */
  CHECK(cn_imageset_load(path, path2, 11, &set) == CN_OK);
  CHECK(set.n == 3 && set.rows == 2 && set.cols == 2 && set.labels[1] == 10 && set.pixels[5] == 5);
  cn_imageset_free(&set);
  CHECK(set.pixels == NULL && set.labels == NULL && set.n == 0);
}

static void test_text_file(void) {
  const char text[] = "train-images-idx3-ubyte: a note, not the data\n";
  write_bytes(tmp_path(path, sizeof path, "notes.txt"), text, sizeof text - 1);
  expect_image_error(path, CN_EFORMAT, "not an IDX file: bad magic 0x74726169");
}

static void test_empty_file(void) {
  write_bytes(tmp_path(path, sizeof path, "empty"), "", 0);
  expect_image_error(path, CN_EFORMAT, "empty file, not an IDX file");
  write_gz_bytes(tmp_path(path, sizeof path, "empty.gz"), "", 0);
  expect_image_error(path, CN_EFORMAT, "empty file, not an IDX file");
}

static void test_missing_file(void) {
  expect_image_error(CN_TEST_TMP "/no-such-file", CN_ENOTFOUND, "no-such-file: no such file");
  cn_imageset set;
  CHECK_ERROR(cn_imageset_load(CN_TEST_TMP "/no-images", CN_TEST_TMP "/no-labels", 10, &set), CN_ENOTFOUND,
              "no-images: no such file");
}

static void test_corrupt_gzip(void) {
  /* The gzip magic followed by garbage: not a deflate stream. */
  const uint8_t garbage[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0x12, 0x34};
  write_bytes(tmp_path(path, sizeof path, "garbage.gz"), garbage, sizeof garbage);
  expect_image_error(path, CN_EFORMAT, "corrupt gzip stream");

  /* A real gzip file with bytes flipped in the middle of its stream. */
  static uint8_t data[4096];
  const uint32_t dims[3] = {4, 28, 28};
  size_t header = idx_header(data, 0x00000803, 3, dims);
  srand(7);
  for (size_t i = header; i < header + 4 * 28 * 28; i++) data[i] = (uint8_t)rand();
  write_gz_bytes(tmp_path(path, sizeof path, "flipped.gz"), data, header + 4 * 28 * 28);
  FILE *f = fopen(path, "r+b");
  CHECK(f != NULL);
  if (f) {
    uint8_t bytes[4096];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    for (size_t i = n / 2; i < n / 2 + 64; i++) bytes[i] ^= 0x5a;
    rewind(f);
    fwrite(bytes, 1, n, f);
    fclose(f);
  }
  expect_image_error(path, CN_EFORMAT, "corrupt gzip stream");

  /* A gzip file cut in half. */
  write_gz_bytes(path, data, header + 4 * 28 * 28);
  f = fopen(path, "rb");
  uint8_t bytes[4096];
  size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
  if (f) fclose(f);
  write_bytes(path, bytes, n / 2);
  expect_image_error(path, CN_EFORMAT, "corrupt gzip stream: unexpected end of file");
}

static void test_valid_small_files(void) {
  /* The happy path on small files, raw and gzip: the reader is not just
   * rejecting everything. */
  const uint32_t dims[3] = {2, 3, 4};
  for (int gz = 0; gz <= 1; gz++) {
    write_idx(tmp_path(path, sizeof path, gz ? "ok.gz" : "ok"), gz, 0x00000803, 3, dims, 24);
    cn_idx idx;
    CHECK(cn_idx_read(path, 3, &idx) == CN_OK);
    CHECK(idx.ndim == 3 && idx.dims[0] == 2 && idx.dims[1] == 3 && idx.dims[2] == 4 && idx.size == 24);
    CHECK(idx.data && idx.data[0] == 0 && idx.data[23] == 23);
    cn_idx_free(&idx);
  }
}

int main(void) {
  test_valid_small_files();
  test_wrong_magic();
  test_wrong_type();
  test_wrong_ndim();
  test_truncated_header();
  test_truncated_data();
  test_trailing_garbage();
  test_overflowing_dims();
  test_zero_dim();
  test_dims_exceed_file();
  test_count_mismatch();
  test_label_out_of_range();
  test_text_file();
  test_empty_file();
  test_missing_file();
  test_corrupt_gzip();
  return test_summary();
}
