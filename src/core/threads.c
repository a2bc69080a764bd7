/* Thread count and the threading policy, and the monotonic clock.
 *
 * The engine parallelises itself with OpenMP (over images, output units or
 * channels) and does its matrix work in its own GEMM (src/engine/gemm.c),
 * so one pool of threads holds the cores. Work is split in
 * fixed contiguous shares (no dynamic scheduling), and every sum has one
 * order, so results do not depend on the thread count. */
#include "cnist/core.h"

#include <omp.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int thread_count;

static int default_threads(void) {
  const char *env = getenv("CNIST_THREADS");
  if (env && *env) {
    int n = atoi(env);
    if (n > 0) return n;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? (int)cores : 1;
}

void cn_set_threads(int n) {
  thread_count = n > 0 ? n : default_threads();
  omp_set_dynamic(0);
  omp_set_num_threads(thread_count);
}

int cn_get_threads(void) {
  if (thread_count == 0) cn_set_threads(0);
  return thread_count;
}

double cn_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
