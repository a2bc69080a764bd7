/* One process: the build without MPI (CNIST_MPI=OFF or no MPI found). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

int dist_init(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  /* Started N times by mpirun, each copy would train every seed into the
   * same folders: refuse instead. */
  int n = dist_launched_size();
  if (n > 1) {
    fprintf(stderr, "cnist: error: started as one of %d MPI processes, but this cnist was built without MPI "
                    "(install libopenmpi-dev and rebuild with -DCNIST_MPI=ON)\n", n);
    return 1;
  }
  return 0;
}

int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_first_failure(int status) { return status ? 0 : -1; }
void dist_gather(const void *mine, size_t n, void *all) { memcpy(all, mine, n); }
const cn_group *dist_group(void) { return NULL; }

void dist_abort(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cnist: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(code);
}

void dist_finalize(void) {}
