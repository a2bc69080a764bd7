/* The fixed train/validation split of a run: one seeded permutation, cut in
 * two. It draws from cn_rng stream 2, the split's own, so changing how other
 * streams are used never moves an image between train and validation. */
#include <math.h>
#include <stdlib.h>

#include "cnist/data.h"
#include "core/error.h"

int cn_split_indices(int n, double val_fraction, uint64_t seed, int **train_idx, int *n_train, int **val_idx,
                     int *n_val) {
  *train_idx = *val_idx = NULL;
  *n_train = *n_val = 0;
  if (n < 1) return cn_fail(CN_EINVAL, "cannot split %d images", n);
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    return cn_fail(CN_EINVAL, "validation fraction %g is not in [0, 1)", val_fraction);
  int validation = (int)lround(n * val_fraction);
  int training = n - validation;
  if (training < 1)
    return cn_fail(CN_EINVAL, "a validation fraction of %g of %d images leaves none to train on", val_fraction, n);

  int *order = malloc((size_t)n * sizeof *order);
  int *val = malloc((size_t)(validation > 0 ? validation : 1) * sizeof *val);
  if (!order || !val) {
    free(order);
    free(val);
    return cn_fail(CN_ENOMEM, "cannot allocate the split of %d images", n);
  }
  for (int i = 0; i < n; i++) order[i] = i;
  cn_rng rng;
  cn_rng_seed(&rng, seed, CN_RNG_SPLIT);
  cn_rng_shuffle(&rng, order, n);
  for (int i = 0; i < validation; i++) val[i] = order[training + i];
  /* The training part stays at the front of `order`: shrink it to fit. */
  int *train = realloc(order, (size_t)training * sizeof *train);
  *train_idx = train ? train : order;
  *n_train = training;
  *val_idx = val;
  *n_val = validation;
  return CN_OK;
}
