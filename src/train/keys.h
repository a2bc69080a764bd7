/* Internal: the metadata keys the fit loop writes into a run's checkpoints
 * and reads back on --resume (named once here for both, as
 * checkpoint/keys.h names the cnist.* ones). Every value is a string;
 * doubles are written with %a so they come back exactly. */
#ifndef CN_TRAIN_KEYS_H
#define CN_TRAIN_KEYS_H

/* Every checkpoint of a run (best, last, early_best, ema) also carries
 * CN_CHECKPOINT_KEY_DATASET (public, in cnist/checkpoint.h). */

/* In last.safetensors, the state --resume continues from: */
#define CN_TRAIN_KEY_EPOCH "train.epoch"                 /* epochs finished */
#define CN_TRAIN_KEY_BATCH "train.batch"                 /* batches done in the next epoch */
#define CN_TRAIN_KEY_LOSS_SUM "train.loss_sum"           /* that epoch's running sums ... */
#define CN_TRAIN_KEY_CORRECT "train.correct"
#define CN_TRAIN_KEY_SEEN "train.seen"
#define CN_TRAIN_KEY_EPOCH_SECONDS "train.epoch_seconds" /* ... and time */
#define CN_TRAIN_KEY_TIME "train.time"                   /* training seconds in all */
#define CN_TRAIN_KEY_SHUFFLE "train.shuffle"             /* the epoch's shuffle generator (4 hex words) */
#define CN_TRAIN_KEY_CHECKPOINT_BEST "train.checkpoint_best"
#define CN_TRAIN_KEY_BEST_EPOCH "train.best_epoch"
#define CN_TRAIN_KEY_REDUCE_LR "train.reduce_lr"   /* best, wait, cooldown */
#define CN_TRAIN_KEY_EARLY_STOP "train.early_stop" /* best, wait, best epoch */
#define CN_TRAIN_KEY_STOPPED "train.stopped"
#define CN_TRAIN_KEY_PLATEAU "train.plateau" /* the plateau factor applied so far */
#define CN_TRAIN_KEY_SEED "train.seed"           /* as config.json, so an edit is caught */
#define CN_TRAIN_KEY_VAL_SPLIT "train.val_split"
/* In last.safetensors and ema.safetensors with weight averaging: */
#define CN_TRAIN_KEY_EMA_UPDATES "train.ema_updates"

#endif
