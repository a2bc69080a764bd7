/* A confusion matrix and its per-class metrics as JSON. */
#include "run/confusion_json.h"

void cn_confusion_add_json(cJSON *o, const cn_confusion *c, const char *const *names) {
  cJSON *matrix = cJSON_AddArrayToObject(o, "confusion_matrix");
  cJSON *per_class = cJSON_AddArrayToObject(o, "per_class");
  for (int t = 0; t < c->classes; t++) {
    cJSON *row = cJSON_CreateArray();
    for (int p = 0; p < c->classes; p++) cJSON_AddItemToArray(row, cJSON_CreateNumber((double)c->counts[t * c->classes + p]));
    cJSON_AddItemToArray(matrix, row);
    cn_class_metrics m = cn_confusion_class(c, t);
    cJSON *k = cJSON_CreateObject();
    cJSON_AddNumberToObject(k, "class", t);
    if (names) cJSON_AddStringToObject(k, "name", names[t]);
    cJSON_AddNumberToObject(k, "precision", m.precision);
    cJSON_AddNumberToObject(k, "recall", m.recall);
    cJSON_AddNumberToObject(k, "f1", m.f1);
    cJSON_AddNumberToObject(k, "support", (double)m.support);
    cJSON_AddItemToArray(per_class, k);
  }
}
