/* The folders of one experiment trained with several seeds (`cnist train
 * --seeds 1,2,3 --run-dir DIR` writes DIR-seed1, DIR-seed2, DIR-seed3),
 * named here once for train and compare. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "cnist/train.h"

#define SUFFIX "-seed"

int cn_run_seed_dir(const char *base, uint64_t seed, char *out, size_t size) {
  int n = snprintf(out, size, "%s" SUFFIX "%llu", base, (unsigned long long)seed);
  if (n < 0 || (size_t)n >= size) return cn_fail(CN_EINVAL, "%s: run folder name too long", base);
  return CN_OK;
}

int cn_run_seed_stem(const char *dir, char *stem, size_t size) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--; /* "DIR-seed2/" names the same folder */
  size_t digits = 0;
  while (digits < len && dir[len - 1 - digits] >= '0' && dir[len - 1 - digits] <= '9') digits++;
  size_t suffix = strlen(SUFFIX);
  if (digits == 0 || len < digits + suffix + 1 || strncmp(dir + len - digits - suffix, SUFFIX, suffix)) return 0;
  size_t n = len - digits - suffix;
  if (n >= size) return 0;
  memcpy(stem, dir, n);
  stem[n] = '\0';
  return 1;
}
