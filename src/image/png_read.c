/* PNG to grey through libpng's simplified API (it handles every bit depth,
 * palette, tRNS and gamma, and reports errors as strings instead of
 * longjmp). Before libpng sees the bytes, the chunk layout is walked so that
 * a truncated file, a 0x0 image or one over the size limit is refused with
 * a precise message and before any pixel buffer is allocated, and the image
 * data is inflated once with a bound, since libpng inflates all of it (the
 * rest after the last row too) however far it goes beyond the header's size. */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "image/decode.h"

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int is_chunk_type(const uint8_t *t) {
  for (int i = 0; i < 4; i++)
    if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z'))) return 0;
  return 1;
}

/* deflate cannot expand data more than 1032:1; a margin on top. */
#define DEFLATE_MAX_RATIO 1040ULL

/* Bytes of filtered rows a w x h image with bits per pixel holds: one
 * filter byte per row, per Adam7 pass when interlaced. */
static unsigned long long raw_size(uint32_t w, uint32_t h, unsigned bits, int interlaced) {
  static const int adam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                  {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  if (!interlaced) return (unsigned long long)h * (1 + ((unsigned long long)w * bits + 7) / 8);
  unsigned long long total = 0;
  for (int p = 0; p < 7; p++) {
    unsigned long long x0 = (unsigned)adam7[p][0], y0 = (unsigned)adam7[p][1];
    unsigned long long dx = (unsigned)adam7[p][2], dy = (unsigned)adam7[p][3];
    unsigned long long cols = w > x0 ? (w - x0 + dx - 1) / dx : 0, rows = h > y0 ? (h - y0 + dy - 1) / dy : 0;
    if (cols && rows) total += rows * (1 + (cols * bits + 7) / 8);
  }
  return total;
}

/* Room beyond the header's size before the image data is refused. */
#define INFLATE_MARGIN 1024ULL

/* Inflates the IDAT chunks (laid out as check_chunks found them) into a
 * scratch buffer, refusing once the output passes limit bytes. Other faults
 * in the stream are left to libpng, whose messages name them. */
static int check_inflated_size(const uint8_t *d, size_t size, unsigned long long limit, uint32_t w, uint32_t h,
                               const char *name) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit(&z) != Z_OK) return cn_fail(CN_ENOMEM, "%s: out of memory for the PNG inflater", name);
  uint8_t scratch[16384];
  unsigned long long out = 0;
  int zrc = Z_OK;
  for (size_t pos = 8; pos + 8 <= size && zrc == Z_OK && out <= limit; pos += (size_t)be32(d + pos) + 12) {
    if (memcmp(d + pos + 4, "IEND", 4) == 0) break;
    if (memcmp(d + pos + 4, "IDAT", 4) != 0) continue;
    z.next_in = (Bytef *)(uintptr_t)(d + pos + 8);
    z.avail_in = be32(d + pos);
    /* inflate stops when the input is used up or the output is full. */
    do {
      z.next_out = scratch;
      z.avail_out = sizeof scratch;
      zrc = inflate(&z, Z_NO_FLUSH);
      out += sizeof scratch - z.avail_out;
      if (zrc == Z_BUF_ERROR) zrc = Z_OK; /* no progress: the stream goes on in the next IDAT */
    } while (zrc == Z_OK && z.avail_out == 0 && out <= limit);
  }
  inflateEnd(&z);
  if (out > limit)
    return cn_fail(CN_EFORMAT, "%s: corrupt PNG: the image data inflates to more than %llu bytes, far beyond the "
                   "%llu a %ux%u image needs", name, limit, limit - INFLATE_MARGIN, w, h);
  return CN_OK;
}

/* Walks the chunks: each fits in the file, IHDR comes first, IEND ends it.
 * Checks the size in IHDR and that the IDAT data could hold that many
 * pixels even at deflate's best ratio. */
static int check_chunks(const uint8_t *d, size_t size, const char *name) {
  size_t pos = 8;
  unsigned long long idat_bytes = 0;
  uint32_t w = 0, h = 0;
  int bit_depth = 0, color_type = 0, interlaced = 0;
  char last[5] = "";
  for (int index = 0;; index++) {
    if (size - pos < 8) {
      if (index == 0) return cn_fail(CN_EFORMAT, "%s: truncated: the file ends before the IHDR chunk", name);
      return cn_fail(CN_EFORMAT, "%s: truncated: the file ends after the %s chunk (byte %zu) without an IEND chunk",
                     name, last, pos);
    }
    uint32_t len = be32(d + pos);
    const uint8_t *type = d + pos + 4;
    if (!is_chunk_type(type))
      return cn_fail(CN_EFORMAT, "%s: corrupt PNG: bad chunk type at byte %zu", name, pos + 4);
    memcpy(last, type, 4);
    if (len > 0x7fffffffu)
      return cn_fail(CN_EFORMAT, "%s: corrupt PNG: chunk %s at byte %zu claims %u bytes", name, last, pos, len);
    if (size - pos - 8 < (size_t)len + 4)
      return cn_fail(CN_EFORMAT, "%s: truncated: chunk %s at byte %zu needs %u bytes but only %zu follow", name,
                     last, pos, len + 12, size - pos);
    if (index == 0) {
      if (memcmp(type, "IHDR", 4) != 0 || len != 13)
        return cn_fail(CN_EFORMAT, "%s: corrupt PNG: the first chunk is %s of %u bytes, not IHDR of 13", name, last,
                       len);
      w = be32(d + pos + 8);
      h = be32(d + pos + 12);
      bit_depth = d[pos + 16];
      color_type = d[pos + 17];
      interlaced = d[pos + 20] == 1;
      int rc = image_check_size(w, h, name);
      if (rc) return rc;
    } else if (memcmp(type, "IDAT", 4) == 0) {
      idat_bytes += len;
    } else if (memcmp(type, "IEND", 4) == 0) {
      break;
    }
    pos += (size_t)len + 12;
  }
  if (idat_bytes == 0) return cn_fail(CN_EFORMAT, "%s: corrupt PNG: no image data (IDAT chunk)", name);
  int channels = color_type == 2 ? 3 : color_type == 4 ? 2 : color_type == 6 ? 4 : 1;
  unsigned bits = (unsigned)channels * (unsigned)(bit_depth ? bit_depth : 1);
  unsigned long long raw_bytes = raw_size(w, h, bits, interlaced);
  if ((idat_bytes + 64) * DEFLATE_MAX_RATIO < raw_bytes)
    return cn_fail(CN_EFORMAT, "%s: corrupt PNG: %llu bytes of image data cannot hold %ux%u pixels", name,
                   idat_bytes, w, h);
  return check_inflated_size(d, size, raw_bytes + INFLATE_MARGIN, w, h, name);
}

/* Removes alpha by compositing over white when the visible pixels are dark
 * on average and over black when they are light: ink drawn on a transparent
 * canvas then stands out whatever its colour. ga holds n grey+alpha pairs
 * (grey not premultiplied); grey receives n values. */
static void composite_alpha(const uint8_t *ga, size_t n, uint8_t *grey) {
  unsigned long long weight = 0, sum = 0;
  for (size_t i = 0; i < n; i++) {
    weight += ga[2 * i + 1];
    sum += (unsigned long long)ga[2 * i] * ga[2 * i + 1];
  }
  unsigned bg = (weight == 0 || sum < 128 * weight) ? 255 : 0;
  for (size_t i = 0; i < n; i++) {
    unsigned g = ga[2 * i], a = ga[2 * i + 1];
    grey[i] = (uint8_t)((g * a + bg * (255 - a) + 127) / 255);
  }
}

int image_decode_png(const uint8_t *data, size_t size, const char *name, cn_gray_image *out) {
  int rc = check_chunks(data, size, name);
  if (rc) return rc;

  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, data, size)) {
    rc = cn_fail(CN_EFORMAT, "%s: corrupt PNG: %s", name, img.message);
    png_image_free(&img);
    return rc;
  }
  /* Opaque images are read straight into the result; with alpha, grey and
   * alpha pairs are read and composited here. */
  int has_alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  img.format = has_alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY;
  size_t n = (size_t)img.width * img.height;
  uint8_t *ga = has_alpha ? malloc(2 * n) : NULL;
  rc = has_alpha && !ga ? cn_fail(CN_ENOMEM, "%s: out of memory for %ux%u pixels", name, img.width, img.height)
                        : image_alloc(out, (int)img.width, (int)img.height, name);
  if (!rc && !png_image_finish_read(&img, NULL, has_alpha ? (void *)ga : out->px, 0, NULL))
    rc = cn_fail(CN_EFORMAT, "%s: corrupt PNG: %s", name, img.message);
  if (!rc && has_alpha) composite_alpha(ga, n, out->px);
  if (rc) cn_gray_image_free(out);
  png_image_free(&img);
  free(ga);
  return rc;
}
