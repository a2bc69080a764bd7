/* Data-parallel training over several processes that run one model: the
 * transport is the caller's (the cnist tool gives one over MPI, src/dist);
 * libcnist itself knows nothing of MPI.
 *
 * Each batch is split into contiguous slices, one per rank, on boundaries
 * the engine's weight-gradient chunks share, so every rank's images form
 * whole chunks. The engine sums over a batch in one fixed order (images in
 * order, or chunk partials in order); across ranks that order is kept by
 * a relay: rank r receives the running sum from rank r-1, adds its own
 * images' terms in order and passes it on, and the last rank that holds
 * images ends with the sum one process would have made, bit for bit. Batch
 * norm's statistics go back from there to every rank at once (they are
 * needed to go on); the gradients and the loss are broadcast once, after
 * the backward pass, in buckets of whole layers that start while the
 * layers before them are still going backward (when the transport can
 * start a broadcast without waiting for it). So the run's weights, history
 * and checkpoints are the one-process run's at any number of ranks (fp32
 * only). */
#ifndef CNIST_GROUP_H
#define CNIST_GROUP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cn_group cn_group;
struct cn_group {
  int rank, size;
  /* Blocking byte transfers between two ranks, and from root to every
   * rank. A transport that fails ends the job (as MPI does by default):
   * the engine cannot go on with half a sum. */
  void (*send)(const cn_group *g, int to, const void *buf, size_t bytes);
  void (*recv)(const cn_group *g, int from, void *buf, size_t bytes);
  void (*bcast)(const cn_group *g, int root, void *buf, size_t bytes);
  /* Every rank gives a flag; all get 1 when any rank gave non-zero. */
  int (*any)(const cn_group *g, int flag);
  /* Optional (NULL: the gradients go in one bcast after the backward pass):
   * ibcast starts a broadcast, and wait completes every one started; the
   * buffer is not touched in between. Every rank starts the same
   * broadcasts in the same order. */
  void (*ibcast)(const cn_group *g, int root, void *buf, size_t bytes);
  void (*wait)(const cn_group *g);
  /* With ibcast: the gradients of the layers finished so far start on their
   * way once they hold at least this many bytes (0: one bcast at the end). */
  size_t bucket_bytes;
  void *user;
};

/* The slice of a batch of n images that rank r of size takes, in units of
 * `unit` images: first image and count (0 for a rank past the end). */
void cn_group_slice(int n, int unit, int rank, int size, int *first, int *count);

#ifdef __cplusplus
}
#endif
#endif
