/* Internal: the first n of 8 float lanes, for loads and stores that stop
 * at the end of a row. With AVX-512VL a mask register; with AVX2 alone a
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

#else
#define CN_LANE_MASKS 0
#endif

#endif
