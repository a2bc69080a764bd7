/* The ranks of an MPI job (Open MPI, or any MPI-3 library). */
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

static int joined; /* MPI_Init was called (a launcher started us) */
static int rank, size = 1;

int dist_init(int *argc, char ***argv) {
  /* Outside mpirun/srun the tool stays a plain process: MPI_Init there
   * would start a singleton runtime for every `cnist models`. */
  if (!dist_launched_size()) return 0;
  if (MPI_Init(argc, argv) != MPI_SUCCESS) {
    fprintf(stderr, "cnist: error: MPI_Init failed\n");
    return 1;
  }
  joined = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return 0;
}

int dist_rank(void) { return rank; }
int dist_size(void) { return size; }

int dist_first_failure(int status) {
  int mine = status ? rank : size, first = mine;
  if (joined) MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return first < size ? first : -1;
}

void dist_gather(const void *mine, size_t n, void *all) {
  if (!joined) {
    memcpy(all, mine, n);
    return;
  }
  /* Sent as MPI_BYTE: the ranks run the same binary, so the layout is one. */
  MPI_Gather(mine, (int)n, MPI_BYTE, all, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
}

void dist_abort(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "cnist: error: rank %d: ", rank);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  if (joined) MPI_Abort(MPI_COMM_WORLD, code);
  exit(code);
}

void dist_finalize(void) {
  if (joined) MPI_Finalize();
  joined = 0;
}
