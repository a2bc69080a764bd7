/* A set's content fingerprint: cheap enough to take on every load of
 * MNIST's 47 MB (four independent lanes over 8-byte words), so a run can
 * record what it was trained on and resume and eval can tell other data. */
#include <stdio.h>
#include <string.h>

#include "cnist/data.h"

#define PRIME 0x100000001b3ull /* FNV-1a's 64-bit prime */

static void mix(uint64_t lane[4], const uint8_t *p, size_t n) {
  size_t words = n / 8;
  for (size_t i = 0; i < words; i++) {
    uint64_t w;
    memcpy(&w, p + 8 * i, 8);
    lane[i & 3] = (lane[i & 3] ^ w) * PRIME;
  }
  for (size_t i = 8 * words; i < n; i++) lane[0] = (lane[0] ^ p[i]) * PRIME; /* the last few bytes */
}

void cn_imageset_fingerprint(const cn_imageset *set, char hex[17]) {
  uint64_t lane[4] = {0xcbf29ce484222325ull, 1, 2, 3}; /* FNV-1a's offset basis, then distinct starts */
  const uint32_t dims[5] = {(uint32_t)set->n, (uint32_t)set->rows, (uint32_t)set->cols, (uint32_t)set->channels,
                            set->labels != NULL};
  mix(lane, (const uint8_t *)dims, sizeof dims);
  size_t n = set->n > 0 ? (size_t)set->n : 0;
  if (set->pixels) mix(lane, set->pixels, n * (size_t)set->rows * (size_t)set->cols * (size_t)set->channels);
  if (set->labels) mix(lane, set->labels, n);
  uint64_t h = lane[0];
  for (int k = 1; k < 4; k++) h = (h ^ (lane[k] >> 29) ^ lane[k]) * PRIME;
  snprintf(hex, 17, "%016llx", (unsigned long long)h);
}
