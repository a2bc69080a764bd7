/* A confusion matrix and its per-class metrics as JSON, in metrics.json
 * and in `cnist eval --json`. */
#include "run/confusion_json.h"

#include "core/error.h"

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

char *cn_eval_result_json(const cn_eval_result *r, const char *dataset, const char *split, cn_precision precision,
                          int tta_views, const char *const *names) {
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;
  if (o && cJSON_AddStringToObject(o, "dataset", dataset) && cJSON_AddStringToObject(o, "split", split) &&
      cJSON_AddStringToObject(o, "precision", cn_precision_name(precision)) &&
      cJSON_AddNumberToObject(o, "loss", r->loss) && cJSON_AddNumberToObject(o, "accuracy", r->accuracy) &&
      cJSON_AddNumberToObject(o, "accuracy_se", cn_accuracy_se(r->accuracy, r->n)) &&
      cJSON_AddNumberToObject(o, "n", (double)r->n) && cJSON_AddNumberToObject(o, "tta_views", tta_views)) {
    cn_confusion_add_json(o, &r->confusion, names);
    text = cJSON_Print(o);
  }
  cJSON_Delete(o);
  if (!text) cn_fail(CN_ENOMEM, "eval: out of memory for the JSON result");
  return text;
}
