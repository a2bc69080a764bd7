/* Checkpoints as safetensors (the contract in docs/ARCHITECTURE.md): 8-byte
 * little-endian header length, JSON header, raw little-endian float32 data.
 * One file rebuilds the model: __metadata__ holds cnist.format and
 * cnist.model (the model file text). Writes are atomic: temporary file in the
 * same folder, fsync, rename. Loads validate everything against the model
 * and name the file and tensor at fault. */
#ifndef CNIST_CHECKPOINT_H
#define CNIST_CHECKPOINT_H

#include "cnist/core.h"
#include "cnist/model.h"
#include "cnist/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CN_CHECKPOINT_FORMAT "1"
#define CN_CHECKPOINT_KEY_DATASET "train.dataset"

/* Metadata cnist writes: cnist.format, cnist.model (cn_spec_write of the
 * model's spec), cnist.name (the model's name); with an optimizer also
 * cnist.optim ("adam", "rmsprop", "sgd"), cnist.optim.steps,
 * cnist.optim.lr and cnist.rng.dropout (the dropout generator, 4
 * space-separated 16-digit hex words). Optimizer state tensors follow the
 * model's, named as cn_optim_state() names them.
 *
 * The checkpoints of a run (cnist train, cn_fit) also carry
 * CN_CHECKPOINT_KEY_DATASET, the name of the dataset it was trained on
 * ("mnist", "fashion", or "own" for other data; absent in checkpoints from
 * before it), and last.safetensors the fit loop's state (train.*).
 *
 * Extra string metadata: key/value pairs, NULL-terminated list
 * {"epoch", "3", "best", "0.98", NULL}. Keys must not start with "cnist."
 * (CN_EINVAL); keys and values must be UTF-8. A model or state holding NaN
 * or Inf is not saved (CN_EDIVERGED), so a diverged run keeps its last good
 * file. Any failure leaves an existing file at path as it was. */
int cn_checkpoint_save(const char *path, cn_model *m, cn_optim *opt, const char *const *meta);

/* Builds a model from the checkpoint's cnist.model text and loads its
 * weights (errors as cn_checkpoint_restore; a cnist.model that does not parse
 * gives "PATH[cnist.model]:LINE:COL: ..."). The model's name is cnist.name. */
int cn_checkpoint_load_model(const char *path, cn_model **out);

/* Metadata of a checkpoint (all keys, the cnist.* ones included). */
typedef struct cn_meta cn_meta;
const char *cn_meta_get(const cn_meta *meta, const char *key); /* NULL if absent */
void cn_meta_free(cn_meta *meta);

/* Loads weights (and, when opt is not NULL, the optimizer state, its step
 * count and learning rate, and the model's dropout RNG) into existing objects
 * whose shapes must match the file. *meta (when not NULL) receives the
 * metadata; the caller frees it. Everything is checked before anything is
 * copied, so on failure the model and optimizer are unchanged: CN_ENOTFOUND
 * or CN_EIO for a file that cannot be read, CN_ESHAPE for a tensor whose
 * shape differs from the model's, CN_EFORMAT for anything else (a malformed
 * file, missing or unknown tensors, NaN or Inf values, a newer format).
 * Without opt, the file's optimizer tensors are ignored. */
int cn_checkpoint_restore(const char *path, cn_model *m, cn_optim *opt, cn_meta **meta);

/* Reads only the metadata (for tools that list runs). */
int cn_checkpoint_read_meta(const char *path, cn_meta **meta);

#ifdef __cplusplus
}
#endif
#endif
