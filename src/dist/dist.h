/* Processes: the ranks of an MPI job (dist_mpi.c) or one process alone
 * (dist_alone.c). Only the cnist tool links this; libcnist knows nothing of
 * MPI. Every call but dist_init is valid only between dist_init and
 * dist_finalize. */
#ifndef CN_DIST_H
#define CN_DIST_H

#include <stddef.h>

#include "cnist.h"

/* Joins the MPI job when the environment says mpirun or srun started this
 * process; otherwise (or without MPI compiled in) runs as rank 0 of 1.
 * Returns 0, or 1 after a message. */
int dist_init(int *argc, char ***argv);
int dist_rank(void);
int dist_size(void);
/* A collective every rank must reach: each gives its status (0 = ok) and
 * all get the lowest rank whose status was not 0, or -1 when none failed,
 * so that every rank goes on or stops together. */
int dist_first_failure(int status);
/* A collective: rank 0 receives every rank's n bytes of mine into all
 * (size * n bytes, rank order); other ranks pass all = NULL. */
void dist_gather(const void *mine, size_t n, void *all);
/* The job's ranks as the group a split batch trains over (cnist/group.h,
 * over MPI_COMM_WORLD), or NULL for one process. */
const cn_group *dist_group(void);
/* Prints "cnist: error: rank R: <message>" and ends every rank with code. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3), noreturn))
#endif
void dist_abort(int code, const char *fmt, ...);
void dist_finalize(void);

/* env.c: the number of processes mpirun (Open MPI) or srun (PMI, PMIx)
 * says it started, from the environment; 0 when none did. */
int dist_launched_size(void);

/* launcher.c: train --seeds over the ranks. Rank r trains seeds k = r,
 * r + size, ... (by train(k), which returns an exit code) until one fails;
 * the results reach rank 0, which calls report(k) for every k in order with
 * the rank that had it and its code (DIST_SKIPPED: not trained, an earlier
 * seed of that rank failed). Returns this rank's exit code (rank 0: the
 * first failed seed's, so the job fails when any seed did). */
#define DIST_SKIPPED (-1)
typedef int (*dist_train_fn)(int k, cn_fit_result *r, void *user);
typedef void (*dist_report_fn)(int k, int rank, int rc, const cn_fit_result *r, void *user);
int dist_launch_seeds(int n, dist_train_fn train, dist_report_fn report, void *user);

#endif
