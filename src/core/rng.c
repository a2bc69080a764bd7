/* xoshiro256** seeded through splitmix64: fast, small state, and the same
 * sequence on every platform. */
#include "cnist/core.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void cn_rng_seed(cn_rng *rng, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t cn_rng_next(cn_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

void cn_rng_fill(cn_rng *rng, uint64_t *out, size_t n) {
  cn_rng local = *rng; /* in registers for the loop */
  for (size_t i = 0; i < n; i++) out[i] = cn_rng_next(&local);
  *rng = local;
}

float cn_rng_uniform(cn_rng *rng) {
  /* 24 high bits: every value exactly representable, strictly below 1. */
  return (float)(cn_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

uint32_t cn_rng_below(cn_rng *rng, uint32_t n) {
  /* Lemire's multiply-shift with rejection: no modulo bias. */
  uint64_t m = (uint64_t)(uint32_t)(cn_rng_next(rng) >> 32) * n;
  uint32_t low = (uint32_t)m;
  if (low < n) {
    uint32_t threshold = (uint32_t)(-n) % n;
    while (low < threshold) {
      m = (uint64_t)(uint32_t)(cn_rng_next(rng) >> 32) * n;
      low = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

void cn_rng_shuffle(cn_rng *rng, int *idx, int n) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)cn_rng_below(rng, (uint32_t)i + 1);
    int t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}
