/* Internal: a confusion matrix as JSON, the one shape metrics.json and
 * `cnist eval --json` share. */
#ifndef CN_RUN_CONFUSION_JSON_H
#define CN_RUN_CONFUSION_JSON_H

#include <cjson/cJSON.h>

#include "cnist/train.h"

/* Adds "confusion_matrix" (rows: true class) and "per_class" (class,
 * [name,] precision, recall, f1, support) to o; names may be NULL. */
void cn_confusion_add_json(cJSON *o, const cn_confusion *c, const char *const *names);

#endif
