/* Internal: the metadata keys cnist writes into a checkpoint, shared by
 * save.c and restore.c. Every value is a string. */
#ifndef CN_CHECKPOINT_KEYS_H
#define CN_CHECKPOINT_KEYS_H

#include "cnist/spec.h"

#define CN_KEY_FORMAT "cnist.format"      /* CN_CHECKPOINT_FORMAT */
#define CN_KEY_MODEL "cnist.model"        /* the model file text (cn_spec_write) */
#define CN_KEY_NAME "cnist.name"          /* the model's name ("custom2") */
/* Written only with the optimizer state (checkpoints meant for resuming): */
#define CN_KEY_OPTIM "cnist.optim"        /* cn_opt_name: "adam", "rmsprop" or "sgd" */
#define CN_KEY_STEPS "cnist.optim.steps"  /* steps taken, decimal */
#define CN_KEY_LR "cnist.optim.lr"        /* current learning rate, %.9g */
#define CN_KEY_RNG "cnist.rng.dropout"    /* 4 space-separated 16-digit hex words */

/* Tensors of the optimizer state start with this. */
#define CN_OPTIM_PREFIX "optim."

#endif
