/* train --seeds over the ranks: each rank trains its own seeds into its own
 * run folders, then rank 0 gathers the results and reports them in seed
 * order, as one process would. */
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

typedef struct {
  int rc; /* the seed's exit code, or DIST_SKIPPED */
  cn_fit_result r;
} seed_result;

int dist_launch_seeds(int n, dist_train_fn train, dist_report_fn report, void *user) {
  int rank = dist_rank(), size = dist_size();
  seed_result *mine = calloc((size_t)n, sizeof *mine);
  seed_result *all = rank == 0 ? calloc((size_t)n * (size_t)size, sizeof *all) : NULL;
  if (!mine || (rank == 0 && !all)) dist_abort(1, "out of memory for %d seeds' results", n);
  int rc = 0;
  /* A rank stops at its first failure, as one process does; the others
   * finish their seeds (they learn of it at the gather below). */
  for (int k = rank; k < n; k += size) {
    mine[k].rc = rc ? DIST_SKIPPED : train(k, &mine[k].r, user);
    if (mine[k].rc > 0) rc = mine[k].rc;
  }
  dist_gather(mine, (size_t)n * sizeof *mine, all);
  if (rank == 0) {
    rc = 0;
    for (int k = 0; k < n; k++) {
      const seed_result *s = &all[(size_t)(k % size) * (size_t)n + (size_t)k];
      report(k, k % size, s->rc, &s->r, user);
      if (s->rc > 0 && !rc) rc = s->rc;
    }
  }
  free(all);
  free(mine);
  return rc;
}
