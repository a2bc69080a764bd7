/* cnist: train, evaluate and explain handwritten-digit classifiers in C.
 *
 * The one header a C program includes. Each module has its own header under
 * cnist/; this file pulls them all in, in data-flow order.
 *
 * Conventions (see docs/ARCHITECTURE.md):
 *  - every public name starts with cn_; owned objects come in _new/_free pairs;
 *  - calls return 0 (CN_OK) or a negative CN_E* code and leave a message for
 *    cn_last_error(); the library never prints to stdout and never exits. */
#ifndef CNIST_H
#define CNIST_H

#include "cnist/core.h"       /* status codes, errors, threads, RNG, tensor views */
#include "cnist/data.h"       /* IDX files, datasets, split, shuffle, batches */
#include "cnist/augment.h"    /* augmentation on the fly: affine, elastic, erasing */
#include "cnist/spec.h"       /* model description: model files, zoo, shapes */
#include "cnist/model.h"      /* the network: build, forward, backward */
#include "cnist/optim.h"      /* SGD, Adam, RMSprop, learning-rate schedules */
#include "cnist/checkpoint.h" /* safetensors save/load */
#include "cnist/ema.h"        /* weight averaging */
#include "cnist/train.h"      /* fit loop, callbacks, metrics, run folders */
#include "cnist/ensemble.h"   /* the mean of several runs' test probabilities */
#include "cnist/image.h"      /* PNG/PGM in and out, MNIST-style preprocessing */
#include "cnist/report.h"     /* the self-contained HTML report */

#endif
