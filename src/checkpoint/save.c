/* Saving a model (and, for resuming, its optimizer) as one safetensors
 * file: the model file text in the metadata, the weights in PyTorch names
 * and layouts, then the optimizer's moments, step, learning rate and the
 * dropout generator. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/keys.h"
#include "checkpoint/safetensors.h"
#include "core/error.h"
#include "core/utf8.h"

enum { FIXED_KEYS = 7 }; /* format, model, name, optim, steps, lr, rng */

/* A weight that is not finite would make a checkpoint that cannot be
 * loaded: refuse it, so a diverged run keeps its last good file. */
static int check_finite(const char *path, const cn_tensor_ref *t, int n) {
  for (int i = 0; i < n; i++)
    for (size_t k = 0; k < t[i].size; k++)
      if (!isfinite(t[i].data[k]))
        return cn_fail(CN_EDIVERGED, "%s: not saved: tensor %s holds %s (index %zu); the previous file is kept", path,
                       t[i].name, isnan(t[i].data[k]) ? "NaN" : "Inf", k);
  return CN_OK;
}

static int check_user_meta(const char *path, const char *const *meta, int *pairs) {
  *pairs = 0;
  for (int i = 0; meta && meta[i]; i += 2) {
    if (!meta[i + 1]) return cn_fail(CN_EINVAL, "%s: metadata %s has no value", path, meta[i]);
    if (strncmp(meta[i], "cnist.", 6) == 0)
      return cn_fail(CN_EINVAL, "%s: metadata key %s: keys starting with \"cnist.\" are reserved", path, meta[i]);
    ++*pairs;
  }
  return CN_OK;
}

int cn_checkpoint_save(const char *path, cn_model *m, cn_optim *opt, const char *const *meta) {
  if (!path || !m) return cn_fail(CN_EINVAL, "cn_checkpoint_save: needs a path and a model");
  int user = 0;
  int rc = check_user_meta(path, meta, &user);
  if (rc) return rc;
  int n_model = 0, n_state = 0;
  cn_tensor_ref *model = cn_model_tensors(m, &n_model);
  cn_tensor_ref *state = opt ? cn_optim_state(opt, &n_state) : NULL;
  if ((rc = check_finite(path, model, n_model)) || (rc = check_finite(path, state, n_state))) return rc;

  char *text = cn_spec_write(cn_model_spec(m));
  cn_st_entry *entries = malloc((size_t)(n_model + n_state + 1) * sizeof *entries);
  const char **kv = malloc((size_t)(2 * (FIXED_KEYS + user) + 1) * sizeof *kv);
  if (!text || !entries || !kv) {
    free(text);
    free(entries);
    free(kv);
    return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  for (int i = 0; i < n_model + n_state; i++) {
    const cn_tensor_ref *t = i < n_model ? &model[i] : &state[i - n_model];
    entries[i] = (cn_st_entry){t->name, t->ndim, t->shape, t->data};
  }
  char steps[32], lr[32], rng[80];
  int k = 0;
  kv[k++] = CN_KEY_FORMAT, kv[k++] = CN_CHECKPOINT_FORMAT;
  kv[k++] = CN_KEY_MODEL, kv[k++] = text;
  const char *name = cn_model_spec(m)->name;
  if (*name && cn_utf8_invalid_at(name, strlen(name)) == strlen(name)) kv[k++] = CN_KEY_NAME, kv[k++] = name;
  if (opt) {
    const uint64_t *s = cn_model_rng(m)->s;
    snprintf(steps, sizeof steps, "%" PRId64, cn_optim_steps(opt));
    snprintf(lr, sizeof lr, "%.9g", (double)cn_optim_lr(opt));
    snprintf(rng, sizeof rng, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64, s[0], s[1], s[2], s[3]);
    kv[k++] = CN_KEY_OPTIM, kv[k++] = cn_opt_name(cn_optim_get_spec(opt)->kind);
    kv[k++] = CN_KEY_STEPS, kv[k++] = steps;
    kv[k++] = CN_KEY_LR, kv[k++] = lr;
    kv[k++] = CN_KEY_RNG, kv[k++] = rng;
  }
  for (int i = 0; i < 2 * user; i++) kv[k++] = meta[i];
  kv[k] = NULL;
  rc = cn_st_write(path, entries, n_model + n_state, kv);
  free(text);
  free(entries);
  free(kv);
  return rc;
}
