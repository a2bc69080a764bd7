/* Image loading: every PNG flavour (grey, grey+alpha, RGB, RGBA, 16-bit,
 * palette) and PGM/PPM (plain and raw, 8 and 16 bit, comments) decode to
 * the right grey values; every hostile or unsupported file is refused with
 * a message that names the file and the fault: the image rows of the
 * hostile-input matrix. */
#include <png.h>
#include <stdlib.h>

#include "cnist/core.h"
#include "cnist/image.h"
#include "mnist_fixture.h"
#include "png_craft.h"
#include "test.h"

static char path_buf[8][512];
static int path_next;

/* A path in this test's scratch folder (a few kept alive at once). */
static const char *tmp_path(const char *name) {
  char *p = path_buf[path_next++ % 8];
  snprintf(p, sizeof path_buf[0], "%s/%s", CN_TEST_TMP, name);
  return p;
}

static const char *write_bytes(const char *name, const void *data, size_t size) {
  const char *path = tmp_path(name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  return path;
}

static const char *write_text(const char *name, const char *text) { return write_bytes(name, text, strlen(text)); }

/* Loading `path` fails with `code` and a message naming the file and
 * containing `needle`. */
#define CHECK_LOAD_FAILS(path, code, needle)                                                        \
  do {                                                                                              \
    cn_gray_image img_ = {1, 1, NULL};                                                              \
    CHECK_ERROR(cn_image_load((path), &img_), (code), (needle));                                    \
    CHECK_MSG(strncmp(cn_last_error(), (path), strlen(path)) == 0, "message \"%s\" should start with the file name", \
              cn_last_error());                                                                     \
    CHECK(img_.px == NULL && img_.w == 0 && img_.h == 0);                                           \
  } while (0)

static int load(const char *path, cn_gray_image *img) {
  int rc = cn_image_load(path, img);
  CHECK_MSG(rc == 0, "%s: %s", path, cn_last_error());
  return rc;
}

static void test_png_flavours(void) {
  /* 8-bit grey: exact round trip. */
  uint8_t g[6] = {0, 51, 102, 153, 204, 255};
  cn_gray_image img;
  const char *p = tmp_path("grey.png");
  CHECK(cn_png_write(p, g, 3, 2, 1) == 0);
  if (!load(p, &img)) {
    CHECK(img.w == 3 && img.h == 2 && memcmp(img.px, g, 6) == 0);
    cn_gray_image_free(&img);
  }
  /* RGB: grey colours stay, colours become luminance (green brighter than
   * red brighter than blue). */
  uint8_t rgb[5 * 3] = {128, 128, 128, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  p = tmp_path("rgb.png");
  CHECK(cn_png_write(p, rgb, 5, 1, 3) == 0);
  if (!load(p, &img)) {
    CHECK_NEAR(img.px[0], 128, 1);
    CHECK(img.px[2] > img.px[1] && img.px[1] > img.px[3] && img.px[3] > 0);
    CHECK(img.px[4] == 255);
    cn_gray_image_free(&img);
  }
  /* RGBA, dark ink on a transparent canvas: composited over white. */
  uint8_t ink[4 * 4] = {0, 0, 0, 0, 10, 10, 10, 255, 10, 10, 10, 128, 255, 255, 255, 0};
  p = tmp_path("rgba-dark.png");
  CHECK(cn_png_write(p, ink, 4, 1, 4) == 0);
  if (!load(p, &img)) {
    CHECK(img.px[0] == 255 && img.px[3] == 255);
    CHECK_NEAR(img.px[1], 10, 1);
    CHECK_NEAR(img.px[2], (10 * 128 + 255 * 127) / 255.0, 1);
    cn_gray_image_free(&img);
  }
  /* Light ink on a transparent canvas: composited over black. */
  uint8_t light[2 * 2] = {250, 255, 0, 0};
  p = tmp_path("ga-light.png");
  CHECK(cn_png_write(p, light, 2, 1, 2) == 0);
  if (!load(p, &img)) {
    CHECK(img.px[0] == 250 && img.px[1] == 0);
    cn_gray_image_free(&img);
  }
  /* 16-bit linear grey (libpng converts to sRGB 8-bit). */
  png_image pi;
  memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  pi.width = 3;
  pi.height = 1;
  pi.format = PNG_FORMAT_LINEAR_Y;
  uint16_t deep[3] = {0, 65535, 32768};
  p = tmp_path("grey16.png");
  CHECK(png_image_write_to_file(&pi, p, 0, deep, 0, NULL));
  if (!load(p, &img)) {
    CHECK(img.px[0] == 0 && img.px[1] == 255);
    CHECK_NEAR(img.px[2], 188, 2); /* linear 0.5 in sRGB */
    cn_gray_image_free(&img);
  }
  /* Palette. */
  memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  pi.width = 4;
  pi.height = 1;
  pi.format = PNG_FORMAT_RGB_COLORMAP;
  pi.colormap_entries = 2;
  uint8_t map[6] = {255, 255, 255, 0, 0, 0}, idx[4] = {0, 1, 1, 0};
  p = tmp_path("palette.png");
  CHECK(png_image_write_to_file(&pi, p, 0, idx, 0, map));
  if (!load(p, &img)) {
    CHECK(img.w == 4 && img.px[0] == 255 && img.px[1] == 0 && img.px[2] == 0 && img.px[3] == 255);
    cn_gray_image_free(&img);
  }
  /* In memory, and the encoder's output decodes. */
  unsigned char *png;
  size_t size;
  CHECK(cn_png_encode(g, 6, 1, 1, &png, &size) == 0);
  if (png) {
    CHECK(cn_image_decode(png, size, "memory", &img) == 0 && img.w == 6 && memcmp(img.px, g, 6) == 0);
    cn_gray_image_free(&img);
    free(png);
  }
  CHECK_ERROR(cn_png_encode(g, 0, 1, 1, &png, &size), CN_EINVAL, "0x1");
  CHECK_ERROR(cn_png_encode(g, 1, 1, 5, &png, &size), CN_EINVAL, "5 channels");
  CHECK_ERROR(cn_png_write(CN_TEST_TMP "/no/such/folder/x.png", g, 1, 1, 1), CN_EIO, "no/such/folder/x.png");
}

static void test_pnm_flavours(void) {
  cn_gray_image img;
  const char *p = write_text("plain.pgm", "P2\n# a comment\n3 2 # another\n15\n0 5 10\n15 # mid-raster\n 0 15\n");
  if (!load(p, &img)) {
    uint8_t want[6] = {0, 85, 170, 255, 0, 255};
    CHECK(img.w == 3 && img.h == 2 && memcmp(img.px, want, 6) == 0);
    cn_gray_image_free(&img);
  }
  p = write_bytes("raw.pgm", "P5 2 2 255\n\x00\x40\x80\xff", 15);
  if (!load(p, &img)) {
    uint8_t want[4] = {0, 0x40, 0x80, 0xff};
    CHECK(img.w == 2 && memcmp(img.px, want, 4) == 0);
    cn_gray_image_free(&img);
  }
  p = write_bytes("raw16.pgm", "P5\n2 1\n65535\n\xff\xff\x80\x00", 17);
  if (!load(p, &img)) {
    CHECK(img.px[0] == 255 && img.px[1] == 128);
    cn_gray_image_free(&img);
  }
  p = write_text("plain.ppm", "P3 2 1 255  255 255 255  0 0 0\n");
  if (!load(p, &img)) {
    CHECK(img.px[0] == 255 && img.px[1] == 0);
    cn_gray_image_free(&img);
  }
  p = write_bytes("raw.ppm", "P6 1 1 255\n\x80\x80\x80\n", 15); /* a trailing newline is accepted */
  if (!load(p, &img)) {
    CHECK(img.px[0] == 128);
    cn_gray_image_free(&img);
  }
}

static void test_hostile_png(void) {
  craft_png b;
  /* 0x0: libpng's writer refuses it, so the header is written by hand. */
  craft_begin(&b);
  craft_ihdr(&b, 0, 0, 8, 0);
  craft_chunk(&b, "IDAT", EMPTY_ZLIB, 8);
  craft_chunk(&b, "IEND", NULL, 0);
  CHECK_LOAD_FAILS(write_bytes("zero.png", b.data, b.size), CN_EFORMAT, "0x0 pixels");
  craft_begin(&b);
  craft_ihdr(&b, 5, 0, 8, 0);
  craft_chunk(&b, "IEND", NULL, 0);
  CHECK_LOAD_FAILS(write_bytes("zero-height.png", b.data, b.size), CN_EFORMAT, "5x0 pixels");
  /* 100000x100000 (10 gigapixels): refused from the header, before any
   * allocation, although the file is only a few bytes long. */
  craft_begin(&b);
  craft_ihdr(&b, 100000, 100000, 8, 0);
  craft_chunk(&b, "IDAT", EMPTY_ZLIB, 8);
  craft_chunk(&b, "IEND", NULL, 0);
  CHECK_LOAD_FAILS(write_bytes("huge.png", b.data, b.size), CN_ENOMEM,
                   "100000x100000 pixels is larger than the 64-megapixel limit");
  /* Within the limit but with far too little data for its size. */
  craft_begin(&b);
  craft_ihdr(&b, 8000, 8000, 8, 0);
  craft_chunk(&b, "IDAT", EMPTY_ZLIB, 8);
  craft_chunk(&b, "IEND", NULL, 0);
  CHECK_LOAD_FAILS(write_bytes("liar.png", b.data, b.size), CN_EFORMAT, "cannot hold 8000x8000 pixels");
  /* A 100x100 header whose data inflates to 2 MiB (a 2 KiB file): refused once
   * the inflated data passes the 10100 bytes the header implies (+ 1024),
   * instead of libpng inflating all of it. */
  {
    size_t raw_n = 2u << 20;
    uint8_t *raw = calloc(raw_n, 1), z[3000];
    uLongf zlen = sizeof z;
    CHECK(raw && compress2(z, &zlen, raw, raw_n, 9) == Z_OK);
    craft_begin(&b);
    craft_ihdr(&b, 100, 100, 8, 0);
    craft_chunk(&b, "IDAT", z, (uint32_t)zlen);
    craft_chunk(&b, "IEND", NULL, 0);
    CHECK_LOAD_FAILS(write_bytes("bomb.png", b.data, b.size), CN_EFORMAT,
                     "corrupt PNG: the image data inflates to more than 11124 bytes, far beyond the 10100 a 100x100 "
                     "image needs");
    /* The same data cut to the header's size is a valid image. */
    zlen = sizeof z;
    CHECK(compress2(z, &zlen, raw, 100 * 101, 9) == Z_OK);
    craft_begin(&b);
    craft_ihdr(&b, 100, 100, 8, 0);
    craft_chunk(&b, "IDAT", z, (uint32_t)zlen);
    craft_chunk(&b, "IEND", NULL, 0);
    cn_gray_image img = {0, 0, NULL};
    CHECK_MSG(cn_image_load(write_bytes("not-bomb.png", b.data, b.size), &img) == CN_OK, "%s", cn_last_error());
    if (img.px) {
      CHECK(img.w == 100 && img.h == 100 && img.px[0] == 0);
      cn_gray_image_free(&img);
    }
    free(raw);
  }

  /* A real digit as a PNG, then cut at every structural boundary and in
   * the middle of each part. */
  uint8_t digit[784];
  if (mnist_digit(0, digit) != 0) {
    CHECK(!"MNIST test images readable");
    return;
  }
  craft_grey(&b, 28, 28, digit);
  cn_gray_image img;
  const char *whole = write_bytes("digit.png", b.data, b.size);
  if (!load(whole, &img)) {
    CHECK(img.w == 28 && img.h == 28 && memcmp(img.px, digit, 784) == 0);
    cn_gray_image_free(&img);
  }
  size_t idat = 8 + 25, iend = b.size - 12;
  const struct {
    size_t cut;
    const char *why;
  } cuts[] = {
      {1, "ends inside the PNG signature"},
      {7, "ends inside the PNG signature"},
      {8, "ends before the IHDR chunk"},
      {12, "ends before the IHDR chunk"},
      {20, "chunk IHDR at byte 8 needs 25 bytes"},
      {idat, "after the IHDR chunk (byte 33) without an IEND chunk"},
      {idat + 8, "chunk IDAT at byte 33 needs"},
      {(idat + iend) / 2, "chunk IDAT at byte 33 needs"},
      {iend - 1, "chunk IDAT at byte 33 needs"},
      {iend, "after the IDAT chunk"},
      {iend + 6, "after the IDAT chunk"},
      {b.size - 1, "chunk IEND at byte"},
  };
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    char name[64];
    snprintf(name, sizeof name, "cut-%zu.png", cuts[i].cut);
    const char *p = write_bytes(name, b.data, cuts[i].cut);
    CHECK_LOAD_FAILS(p, CN_EFORMAT, cuts[i].why);
    if (cuts[i].cut >= 8) CHECK_MSG(strstr(cn_last_error(), "truncated") != NULL, "%s", cn_last_error());
  }

  /* A flipped bit in the compressed pixels: zlib (or the CRC) catches it. */
  craft_png bad = b;
  bad.data[idat + 8 + 10] ^= 0x20;
  CHECK_LOAD_FAILS(write_bytes("bad-crc.png", bad.data, bad.size), CN_EFORMAT, "corrupt PNG");
  /* Garbage pixels with valid CRCs: zlib's check catches it. */
  craft_begin(&bad);
  craft_ihdr(&bad, 28, 28, 8, 0);
  uint8_t junk[200];
  for (int i = 0; i < 200; i++) junk[i] = (uint8_t)(i * 37 + 11);
  craft_chunk(&bad, "IDAT", junk, 200);
  craft_chunk(&bad, "IEND", NULL, 0);
  CHECK_LOAD_FAILS(write_bytes("junk-idat.png", bad.data, bad.size), CN_EFORMAT, "corrupt PNG");
  /* An IHDR that is not first, a chunk length over 2^31, no IDAT, a bad
   * colour type. */
  craft_begin(&bad);
  craft_chunk(&bad, "tEXt", (const uint8_t *)"a\0b", 3);
  CHECK_LOAD_FAILS(write_bytes("no-ihdr.png", bad.data, bad.size), CN_EFORMAT, "not IHDR");
  craft_begin(&bad);
  craft_ihdr(&bad, 1, 1, 8, 0);
  memcpy(bad.data + bad.size, "\xff\xff\xff\xf0IDAT", 8);
  bad.size += 8;
  CHECK_LOAD_FAILS(write_bytes("long-chunk.png", bad.data, bad.size), CN_EFORMAT, "claims 4294967280 bytes");
  craft_begin(&bad);
  craft_ihdr(&bad, 1, 1, 8, 0);
  craft_chunk(&bad, "IEND", NULL, 0);
  CHECK_LOAD_FAILS(write_bytes("no-idat.png", bad.data, bad.size), CN_EFORMAT, "no image data");
  craft_begin(&bad);
  craft_ihdr(&bad, 1, 1, 8, 5);
  craft_chunk(&bad, "IDAT", (const uint8_t *)"\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01", 10);
  craft_chunk(&bad, "IEND", NULL, 0);
  CHECK_LOAD_FAILS(write_bytes("colour-type-5.png", bad.data, bad.size), CN_EFORMAT, "corrupt PNG");
}

static void test_hostile_other(void) {
  CHECK_LOAD_FAILS(write_bytes("empty.png", "", 0), CN_EFORMAT, "empty file");
  CHECK_LOAD_FAILS(tmp_path("missing.png"), CN_ENOTFOUND, "no such file");
  CHECK_LOAD_FAILS(CN_TEST_TMP, CN_EIO, "is a folder");
  CHECK_LOAD_FAILS(write_text("text.png", "hello, world\n"), CN_EFORMAT,
                   "not a PNG, PGM or PPM image (it starts with bytes 68 65 6c 6c 6f 2c 20 77)");
  CHECK_LOAD_FAILS(write_bytes("photo.jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", 11), CN_EFORMAT,
                   "JPEG is not supported; convert the image to PNG or PGM");
  CHECK_LOAD_FAILS(write_text("anim.gif", "GIF89a\x01\x00"), CN_EFORMAT, "GIF is not supported");
  CHECK_LOAD_FAILS(write_bytes("pic.webp", "RIFF\0\0\0\0WEBPVP8 ", 16), CN_EFORMAT, "WebP is not supported");
  CHECK_LOAD_FAILS(write_text("bits.pbm", "P1 1 1 1\n"), CN_EFORMAT, "PBM (1-bit netpbm) is not supported");
  CHECK_LOAD_FAILS(write_bytes("images.idx", "\0\0\x08\x03\0\0\0\1", 8), CN_EFORMAT, "--idx FILE --index N");

  /* PGM rows. */
  CHECK_LOAD_FAILS(write_text("maxval0.pgm", "P2 1 1 0\n0\n"), CN_EFORMAT, "PGM maxval 0 is out of range 1..65535");
  CHECK_LOAD_FAILS(write_text("maxval-big.pgm", "P2 1 1 65536\n0\n"), CN_EFORMAT, "maxval 65536 is out of range");
  CHECK_LOAD_FAILS(write_bytes("short.pgm", "P5 3 3 255\n\1\2\3\4", 15), CN_EFORMAT,
                   "truncated: 3x3 pixels need 9 bytes but only 4 follow");
  CHECK_LOAD_FAILS(write_bytes("short16.pgm", "P5 2 1 1000\n\0\1\0", 15), CN_EFORMAT,
                   "need 4 bytes but only 3 follow");
  CHECK_LOAD_FAILS(write_text("short-plain.pgm", "P2 3 3 255\n1 2 3 4 5 6 7 8     \n"), CN_EFORMAT,
                   "truncated: expected 9 pixel values, found 8");
  CHECK_LOAD_FAILS(write_text("very-short-plain.pgm", "P2 30 30 255\n1 2 3\n"), CN_EFORMAT,
                   "30x30 pixels need 900 values");
  CHECK_LOAD_FAILS(write_text("negative.pgm", "P2 -3 3 255\n"), CN_EFORMAT, "PGM width is negative ('-3')");
  CHECK_LOAD_FAILS(write_text("nan.pgm", "P2 3 abc 255\n"), CN_EFORMAT, "PGM height is not a number ('abc')");
  CHECK_LOAD_FAILS(write_text("glued.pgm", "P2 3x3 255\n"), CN_EFORMAT, "PGM width is not a number ('3x3')");
  CHECK_LOAD_FAILS(write_text("long.pgm", "P2 1234567890123 1 255\n"), CN_EFORMAT, "PGM width is far too large");
  CHECK_LOAD_FAILS(write_text("zero.pgm", "P2 0 5 255\n"), CN_EFORMAT, "0x5 pixels");
  CHECK_LOAD_FAILS(write_text("huge.pgm", "P5 100000 100000 255\n"), CN_ENOMEM,
                   "100000x100000 pixels is larger than the 64-megapixel limit");
  CHECK_LOAD_FAILS(write_text("header-only.pgm", "P2 4 4"), CN_EFORMAT, "ends before the PGM maxval");
  CHECK_LOAD_FAILS(write_text("magic.pgm", "P22 1 1 255\n0\n"), CN_EFORMAT, "bad magic");
  CHECK_LOAD_FAILS(write_text("over.pgm", "P2 2 1 10\n3 11\n"), CN_EFORMAT, "value of pixel (1, 0) 11 is out of range 0..10");
  CHECK_LOAD_FAILS(write_text("neg-pixel.pgm", "P2 2 1 10\n3 -1\n"), CN_EFORMAT, "value of pixel (1, 0) is negative");
  CHECK_LOAD_FAILS(write_bytes("over-raw.pgm", "P5 2 1 100\n\1\xc8", 13), CN_EFORMAT, "pixel (1, 0) has value 200, above maxval 100");
  CHECK_LOAD_FAILS(write_text("trailing.pgm", "P2 1 1 255\n0 7\n"), CN_EFORMAT, "trailing data after the pixels");
  CHECK_LOAD_FAILS(write_bytes("trailing-raw.pgm", "P5 1 1 255\n\0\0", 13), CN_EFORMAT, "trailing data after the pixels (1 bytes)");
  CHECK_LOAD_FAILS(write_text("no-space.pgm", "P5 1 1 255"), CN_EFORMAT, "maxval must be followed by one whitespace byte");
  CHECK_LOAD_FAILS(write_text("short.ppm", "P3 2 1 255\n1 2 3 4 5\n"), CN_EFORMAT, "expected 6 pixel values, found 5");

  /* Bad arguments. */
  cn_gray_image img;
  CHECK_ERROR(cn_image_load(NULL, &img), CN_EINVAL, "no path");
  CHECK_ERROR(cn_image_decode(NULL, 5, "x", &img), CN_EINVAL, "x: no image data");
  cn_gray_image_free(NULL);
}

int main(void) {
  make_tmp_dir();
  test_png_flavours();
  test_pnm_flavours();
  test_hostile_png();
  test_hostile_other();
  return test_summary();
}
