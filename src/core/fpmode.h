/* The floating-point mode of engine work: denormals flushed to zero (FTZ)
 * and read as zero (DAZ), as TensorFlow sets it around every op kernel and
 * in its CPU thread pools (ScopedFlushDenormal), so cnist computes what a
 * Keras run computes. Without it, values below FLT_MIN (Adam's moments of
 * weights whose gradients vanish, products of a saturated softmax's tiny
 * gradients) take microcode assists of ~100 cycles each: FTZ made a LeNet-5
 * epoch on MNIST 9% faster, and Adam went from 18% of the benchmark's
 * training step to under 5%.
 *
 * The mode is per thread and belongs to whoever owns the thread, so it is
 * set around each piece of engine work and put back after, never left set
 * in a caller's thread. Every thread of a pass runs in the same mode, so
 * results still do not depend on the thread count. x86 only (MXCSR bits
 * 15 and 6); elsewhere the functions do nothing. */
#ifndef CN_CORE_FPMODE_H
#define CN_CORE_FPMODE_H

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>

static inline unsigned cn_fp_flush_begin(void) {
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040u); /* FTZ | DAZ */
  return saved;
}
static inline void cn_fp_flush_end(unsigned saved) { _mm_setcsr(saved); }
#else
static inline unsigned cn_fp_flush_begin(void) { return 0; }
static inline void cn_fp_flush_end(unsigned saved) { (void)saved; }
#endif

#endif
