/* Internal to src/run: the JSON files of a run folder, read strictly. */
#ifndef CN_RUN_JSON_H
#define CN_RUN_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "cnist/model.h"

/* Reads path as one JSON object; a parse error names the line. */
int cn_run_json_read(const char *path, cJSON **out);
/* Writes root (freed) to path atomically, with a final newline. */
int cn_run_json_write(const char *path, cJSON *root);

/* One member of an object to write: a string (text not NULL) or a number. */
typedef struct {
  const char *key, *text;
  double number;
} cn_run_json_field;
/* Adds the n fields to o in their order. */
void cn_run_json_add(cJSON *o, const cn_run_json_field *fields, size_t n);

int cn_run_json_number(const cJSON *o, const char *key, const char *path, double *out);
/* A whole number from lo to hi. */
int cn_run_json_int(const cJSON *o, const char *key, const char *path, double lo, double hi, double *out);
int cn_run_json_string(const cJSON *o, const char *key, const char *path, char *out, size_t size);
int cn_run_json_fraction(const cJSON *o, const char *key, const char *path, double *out);
/* "precision" (cn_precision_names); fp32 when absent (runs from before the option). */
int cn_run_json_precision(const cJSON *o, const char *path, cn_precision *out);

#endif
