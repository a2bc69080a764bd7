/* Status codes, error messages, threads, the seeded RNG and tensor views:
 * what every other module uses. */
#ifndef CNIST_CORE_H
#define CNIST_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CN_VERSION "0.1.0"

/* Status codes: 0 on success, negative on failure. */
enum {
  CN_OK = 0,
  CN_EINVAL = -1,    /* bad argument or option */
  CN_EIO = -2,       /* a file could not be opened, read or written */
  CN_EFORMAT = -3,   /* a file's content is malformed */
  CN_ENOMEM = -4,    /* allocation failed or would be too large */
  CN_ESHAPE = -5,    /* shapes do not fit together */
  CN_EINTR = -6,     /* interrupted by a signal (training can be resumed) */
  CN_EDIVERGED = -7, /* loss became NaN or Inf */
  CN_ENOTFOUND = -8  /* a file, model or dataset does not exist */
};

/* The message of the last failed call on this thread ("" if none). */
const char *cn_last_error(void);
/* The last failure's status code on this thread (CN_OK if none). */
int cn_last_status(void);
/* Short name of a status code ("bad format", ...). */
const char *cn_status_name(int status);

/* Worker threads for OpenMP and BLAS. Default: $CNIST_THREADS, else the
 * number of cores. n <= 0 restores the default. */
void cn_set_threads(int n);
int cn_get_threads(void);

/* A seeded random generator (xoshiro256**). One per purpose (init, split,
 * shuffle, dropout, augmentation) so that each stream is reproducible. The
 * state is plain data so checkpoints can save and restore it. */
typedef struct {
  uint64_t s[4];
} cn_rng;

/* The streams of one seed the library draws from, one per purpose (the
 * values are fixed: changing one would change every trained model).
 * Augmentation draws from streams of its own: seed ^ a salt, one stream
 * per epoch and image (src/data/augment.c). */
typedef enum {
  CN_RNG_INIT = 0,    /* the weights' initial values */
  CN_RNG_DROPOUT = 1, /* dropout masks */
  CN_RNG_SPLIT = 2,   /* the train/validation split */
  CN_RNG_SHUFFLE = 3  /* the order of the training images in each epoch */
} cn_rng_stream;

/* Seed from (seed, stream): different streams give independent sequences. */
void cn_rng_seed(cn_rng *rng, uint64_t seed, uint64_t stream);
uint64_t cn_rng_next(cn_rng *rng);
/* out[0..n) = the next n draws, as n calls of cn_rng_next would give. */
void cn_rng_fill(cn_rng *rng, uint64_t *out, size_t n);
/* Uniform float in [0, 1). */
float cn_rng_uniform(cn_rng *rng);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t cn_rng_below(cn_rng *rng, uint32_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void cn_rng_shuffle(cn_rng *rng, int *idx, int n);

/* A named view of a float32 tensor owned by someone else (a model's
 * parameter, an optimizer's moment). grad is NULL for tensors that are not
 * trained (batch norm's moving statistics). Shapes follow PyTorch layouts. */
#define CN_MAX_DIMS 4
typedef struct {
  char name[48];
  int ndim;
  int shape[CN_MAX_DIMS];
  size_t size; /* product of shape */
  float *data;
  float *grad;
} cn_tensor_ref;

/* Wall-clock seconds from a monotonic clock. */
double cn_now(void);

/* A number as people read it, into out (size bytes, truncated to fit):
 * 436202 -> "436,202" (rounded to a whole number; a sign kept). */
void cn_format_thousands(char *out, size_t size, double v);

/* mkdir -p: creates path and any missing parent folders; fails naming the
 * first one that cannot be created, or path when it exists and is not a
 * folder. */
int cn_mkdirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
