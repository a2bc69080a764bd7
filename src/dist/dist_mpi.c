/* The ranks of an MPI job (Open MPI, or any MPI-3 library). */
#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

static int joined; /* MPI_Init was called (a launcher started us) */
static int rank, size = 1;
/* A split batch's gradient buckets (cnist/group.h), CNIST_MPI_BUCKET_KIB
 * KiB; 0 sends them in one broadcast after the backward pass. */
#define DEFAULT_BUCKET_KIB 256
static size_t bucket_bytes = DEFAULT_BUCKET_KIB * 1024;

/* Every rank reads the same environment, so all refuse a bad value alike. */
static int read_bucket_size(void) {
  const char *v = getenv("CNIST_MPI_BUCKET_KIB");
  if (!v) return 0;
  char *end;
  errno = 0;
  const unsigned long kib = strtoul(v, &end, 10);
  if (!*v || *end || errno || v[0] == '-' || kib > 1024UL * 1024) {
    fprintf(stderr, "cnist: error: CNIST_MPI_BUCKET_KIB=%s: give the gradient bucket size as whole KiB from 0 "
                    "(one broadcast after the backward pass) to 1048576\n", v);
    return 1;
  }
  bucket_bytes = (size_t)kib * 1024;
  return 0;
}

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
  if (read_bucket_size()) {
    dist_finalize();
    return 1;
  }
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

/* ---- the group a split batch trains over (cnist/group.h) ---- */

/* MPI counts are ints: a model's gradients stay far below 2 GiB. */
static int count_of(size_t bytes) {
  if (bytes > (size_t)INT_MAX) dist_abort(1, "one message of %zu bytes is more than MPI can count", bytes);
  return (int)bytes;
}

static void group_send(const cn_group *g, int to, const void *buf, size_t bytes) {
  (void)g;
  MPI_Send(buf, count_of(bytes), MPI_BYTE, to, 0, MPI_COMM_WORLD);
}

static void group_recv(const cn_group *g, int from, void *buf, size_t bytes) {
  (void)g;
  MPI_Recv(buf, count_of(bytes), MPI_BYTE, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

static void group_bcast(const cn_group *g, int root, void *buf, size_t bytes) {
  (void)g;
  MPI_Bcast(buf, count_of(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
}

/* The broadcasts started and not yet waited for: a model's gradients make a
 * few dozen buckets at most; past that, the oldest are completed first. */
static MPI_Request started[64];
static int n_started;

static void group_wait(const cn_group *g) {
  (void)g;
  MPI_Waitall(n_started, started, MPI_STATUSES_IGNORE);
  n_started = 0;
}

static void group_ibcast(const cn_group *g, int root, void *buf, size_t bytes) {
  if (n_started == (int)(sizeof started / sizeof started[0])) group_wait(g);
  MPI_Ibcast(buf, count_of(bytes), MPI_BYTE, root, MPI_COMM_WORLD, &started[n_started++]);
}

static int group_any(const cn_group *g, int flag) {
  (void)g;
  int mine = flag != 0, any = mine;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}

const cn_group *dist_group(void) {
  static cn_group group;
  if (!joined || size < 2) return NULL;
  group = (cn_group){.rank = rank,
                     .size = size,
                     .send = group_send,
                     .recv = group_recv,
                     .bcast = group_bcast,
                     .any = group_any,
                     .ibcast = group_ibcast,
                     .wait = group_wait,
                     .bucket_bytes = bucket_bytes};
  return &group;
}

void dist_finalize(void) {
  if (joined) MPI_Finalize();
  joined = 0;
}
