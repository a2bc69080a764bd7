/* Internal: the first n of 8 float lanes, for loads and stores that stop
 * at the end of a row; and an 8x8 transpose. With AVX-512VL a mask register; with AVX2 alone a
 * vector mask (maskload/maskstore). Lanes left out are not read, so a
 * masked load may reach past the end of an array. */
#ifndef CN_ENGINE_LANES_H
#define CN_ENGINE_LANES_H

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define CN_LANE_MASKS 1

#if defined(__AVX512VL__)
typedef __mmask8 cn_lane_mask;
static inline cn_lane_mask cn_lanes(int n) { return (cn_lane_mask)(n >= 8 ? 0xff : n <= 0 ? 0 : (1u << n) - 1); }
static inline __m256 cn_load_lanes(const float *p, cn_lane_mask m) { return _mm256_maskz_loadu_ps(m, p); }
static inline void cn_store_lanes(float *p, cn_lane_mask m, __m256 v) { _mm256_mask_storeu_ps(p, m, v); }
#else
typedef __m256i cn_lane_mask;
static inline cn_lane_mask cn_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline __m256 cn_load_lanes(const float *p, cn_lane_mask m) { return _mm256_maskload_ps(p, m); }
static inline void cn_store_lanes(float *p, cn_lane_mask m, __m256 v) { _mm256_maskstore_ps(p, m, v); }
#endif

/* r[k] <- the k-th floats of r[0..7]: an 8x8 transpose in registers. */
static inline void cn_transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int c = 0; c < 8; c += 2) {
    t[c] = _mm256_unpacklo_ps(r[c], r[c + 1]);
    t[c + 1] = _mm256_unpackhi_ps(r[c], r[c + 1]);
  }
  for (int c = 0; c < 8; c += 4) {
    s[c] = _mm256_shuffle_ps(t[c], t[c + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[c + 1] = _mm256_shuffle_ps(t[c], t[c + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[c + 2] = _mm256_shuffle_ps(t[c + 1], t[c + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[c + 3] = _mm256_shuffle_ps(t[c + 1], t[c + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; k++) {
    r[k] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x20);
    r[k + 4] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x31);
  }
}

#else
#define CN_LANE_MASKS 0
#endif

#endif
