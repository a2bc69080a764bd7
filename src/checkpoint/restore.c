/* Loading checkpoints into models: everything in the file is checked
 * against the model (and optimizer) before a single value is copied, so a
 * refused file leaves them as they were. Messages name the file and the
 * tensor. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/keys.h"
#include "checkpoint/safetensors.h"
#include "core/error.h"

typedef char name_buf[96];
static const char *shown(const char *name, char *buf) { return cn_st_printable(name, buf, sizeof(name_buf)); }

/* The file's metadata must say it is a cnist checkpoint this build reads. */
static int check_format(const cn_st_file *f) {
  const char *v = cn_meta_get(f->meta, CN_KEY_FORMAT);
  if (!v) return cn_fail(CN_EFORMAT, "%s: no %s in its metadata: not a cnist checkpoint", f->path, CN_KEY_FORMAT);
  size_t len = strlen(v);
  name_buf vb;
  if (len == 0 || len > 9 || strspn(v, "0123456789") != len || (len > 1 && v[0] == '0') || strcmp(v, "0") == 0)
    return cn_fail(CN_EFORMAT, "%s: %s \"%s\" is not a format version", f->path, CN_KEY_FORMAT, shown(v, vb));
  long have = strtol(v, NULL, 10), known = strtol(CN_CHECKPOINT_FORMAT, NULL, 10);
  if (have > known)
    return cn_fail(CN_EFORMAT, "%s: written by a newer cnist (checkpoint format %ld; this build reads format %ld)",
                   f->path, have, known);
  const char *model = cn_meta_get(f->meta, CN_KEY_MODEL);
  if (!model || !*model)
    return cn_fail(CN_EFORMAT, "%s: no %s in its metadata: the checkpoint does not say which model it holds", f->path,
                   CN_KEY_MODEL);
  return CN_OK;
}

/* "[128, 784]" */
static const char *dims_text(const int *shape, int ndim, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int d = 0; d < ndim && used < size; d++)
    used += (size_t)snprintf(buf + used, size - used, "%s%d", d ? ", " : "", shape[d]);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

static int same_shape(const cn_st_tensor *t, const cn_tensor_ref *r) {
  if (t->ndim != r->ndim) return 0;
  for (int d = 0; d < r->ndim; d++)
    if (t->shape[d] != (uint64_t)r->shape[d]) return 0;
  return 1;
}

/* Finds each of refs[0..n) in the file, marking it used; found[i] gets it. */
static int match(const cn_st_file *f, const cn_tensor_ref *refs, int n, const char *whose, unsigned char *used,
                 const cn_st_tensor **found) {
  char want[96], have[96];
  for (int i = 0; i < n; i++) {
    const cn_st_tensor *t = cn_st_find(f, refs[i].name);
    if (!t)
      return cn_fail(CN_EFORMAT, "%s: missing tensor %s (the %s needs %s)", f->path, refs[i].name, whose,
                     dims_text(refs[i].shape, refs[i].ndim, want, sizeof want));
    if (!same_shape(t, &refs[i]))
      return cn_fail(CN_ESHAPE, "%s: %s: checkpoint has %s, %s needs %s", f->path, refs[i].name,
                     cn_st_shape_text(t, have, sizeof have), whose,
                     dims_text(refs[i].shape, refs[i].ndim, want, sizeof want));
    used[t - f->tensors] = 1;
    found[i] = t;
  }
  return CN_OK;
}

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), k = strlen(tail);
  return n >= k && strcmp(s + n - k, tail) == 0;
}

/* Values must be finite, and moving variances not negative. */
static int check_values(const cn_st_file *f, const cn_st_tensor *t) {
  int variance = ends_with(t->name, ".running_var");
  for (uint64_t i = 0; i < t->count; i++) {
    float v = cn_st_value(f, t, i);
    if (!isfinite(v))
      return cn_fail(CN_EFORMAT, "%s: %s: holds %s (at index %" PRIu64 ")", f->path, t->name, isnan(v) ? "NaN" : "Inf",
                     i);
    if (variance && v < 0.0f)
      return cn_fail(CN_EFORMAT, "%s: %s: holds a negative variance (%g at index %" PRIu64 ")", f->path, t->name,
                     (double)v, i);
  }
  return CN_OK;
}

/* The optimizer's step, learning rate and the dropout generator. */
typedef struct {
  int64_t steps;
  float lr;
  cn_rng rng;
} optim_meta;

static int parse_optim_meta(const cn_st_file *f, const cn_optim *opt, optim_meta *out) {
  const char *kind = cn_meta_get(f->meta, CN_KEY_OPTIM), *steps = cn_meta_get(f->meta, CN_KEY_STEPS),
             *lr = cn_meta_get(f->meta, CN_KEY_LR), *rng = cn_meta_get(f->meta, CN_KEY_RNG);
  if (!kind || !steps || !lr || !rng)
    return cn_fail(CN_EFORMAT, "%s: holds no optimizer state (saved for inference, not for resuming): %s missing",
                   f->path, !kind ? CN_KEY_OPTIM : !steps ? CN_KEY_STEPS : !lr ? CN_KEY_LR : CN_KEY_RNG);
  const char *want = cn_opt_name(cn_optim_get_spec(opt)->kind);
  name_buf kb;
  if (strcmp(kind, want) != 0)
    return cn_fail(CN_EFORMAT, "%s: holds %s optimizer state, but the optimizer is %s", f->path, shown(kind, kb), want);
  char *end;
  errno = 0;
  long long s = strtoll(steps, &end, 10);
  if (!*steps || *end || errno || s < 0)
    return cn_fail(CN_EFORMAT, "%s: %s \"%s\" is not a step count", f->path, CN_KEY_STEPS, shown(steps, kb));
  out->steps = s;
  errno = 0;
  out->lr = strtof(lr, &end);
  if (!*lr || *end || errno || !isfinite(out->lr) || out->lr < 0.0f)
    return cn_fail(CN_EFORMAT, "%s: %s \"%s\" is not a learning rate", f->path, CN_KEY_LR, shown(lr, kb));
  /* Exactly "%016x %016x %016x %016x", and not all zero (a dead generator). */
  int ok = strlen(rng) == 4 * 16 + 3;
  uint64_t any = 0;
  for (int w = 0; ok && w < 4; w++) {
    const char *p = rng + 17 * w;
    ok = strspn(p, "0123456789abcdef") >= 16 && (w == 3 || p[16] == ' ');
    if (!ok) break;
    char word[17];
    memcpy(word, p, 16);
    word[16] = '\0';
    out->rng.s[w] = strtoull(word, NULL, 16);
    any |= out->rng.s[w];
  }
  if (!ok || !any)
    return cn_fail(CN_EFORMAT, "%s: %s \"%s\" is not a generator state (4 words of 16 hex digits)", f->path,
                   CN_KEY_RNG, shown(rng, kb));
  return CN_OK;
}

static int is_optim_tensor(const char *name) { return strncmp(name, CN_OPTIM_PREFIX, strlen(CN_OPTIM_PREFIX)) == 0; }

/* Checks f against the model (and optimizer), then copies it in. */
static int restore_from(const cn_st_file *f, cn_model *m, cn_optim *opt) {
  int rc = check_format(f);
  if (rc) return rc;
  int n_model = 0, n_state = 0;
  cn_tensor_ref *model = cn_model_tensors(m, &n_model);
  cn_tensor_ref *state = opt ? cn_optim_state(opt, &n_state) : NULL;
  optim_meta om = {0, 0.0f, {{0, 0, 0, 0}}};
  if (opt && (rc = parse_optim_meta(f, opt, &om))) return rc;
  unsigned char *used = calloc((size_t)f->n_tensors + 1, 1);
  const cn_st_tensor **found = calloc((size_t)(n_model + n_state) + 1, sizeof *found);
  if (!used || !found) {
    free(used);
    free(found);
    return cn_fail(CN_ENOMEM, "%s: out of memory", f->path);
  }
  rc = match(f, model, n_model, "model", used, found);
  if (!rc) rc = match(f, state, n_state, "optimizer", used, found + n_model);
  name_buf nb;
  for (int i = 0; i < f->n_tensors && !rc; i++) {
    const char *name = f->tensors[i].name;
    if (used[i] || (!opt && is_optim_tensor(name))) continue;
    rc = cn_fail(CN_EFORMAT, "%s: unknown tensor %s: the %s has no such tensor", f->path, shown(name, nb),
                 is_optim_tensor(name) ? "optimizer" : "model");
  }
  for (int i = 0; i < n_model + n_state && !rc; i++) rc = check_values(f, found[i]);
  if (!rc) {
    for (int i = 0; i < n_model + n_state; i++)
      cn_st_copy(f, found[i], i < n_model ? model[i].data : state[i - n_model].data);
    if (opt) {
      cn_optim_set_steps(opt, om.steps);
      cn_optim_set_lr(opt, om.lr);
      *cn_model_rng(m) = om.rng;
    }
  }
  free(used);
  free(found);
  return rc;
}

int cn_checkpoint_restore(const char *path, cn_model *m, cn_optim *opt, cn_meta **meta) {
  if (meta) *meta = NULL;
  if (!path || !m) return cn_fail(CN_EINVAL, "cn_checkpoint_restore: needs a path and a model");
  cn_st_file *f = NULL;
  int rc = cn_st_open(path, 1, &f);
  if (!rc) rc = restore_from(f, m, opt);
  if (!rc && meta) {
    *meta = f->meta;
    f->meta = NULL;
  }
  cn_st_close(f);
  return rc;
}

/* The model's name: cnist.name when the file has a usable one, else the
 * file's stem ("runs/x/best.safetensors" -> "best"). */
static void model_name(const cn_st_file *f, char *out, size_t size) {
  const char *name = cn_meta_get(f->meta, CN_KEY_NAME);
  if (name && *name && strlen(name) < size && strcspn(name, "/\n\r\t") == strlen(name)) {
    snprintf(out, size, "%s", name);
    return;
  }
  const char *base = strrchr(f->path, '/');
  base = base ? base + 1 : f->path;
  const char *dot = strrchr(base, '.');
  int len = (int)(dot && dot != base ? (size_t)(dot - base) : strlen(base));
  snprintf(out, size, "%.*s", len, base);
}

int cn_checkpoint_load_model(const char *path, cn_model **out) {
  *out = NULL;
  if (!path) return cn_fail(CN_EINVAL, "cn_checkpoint_load_model: needs a path");
  cn_st_file *f = NULL;
  int rc = cn_st_open(path, 1, &f);
  if (!rc) rc = check_format(f);
  cn_spec *spec = rc ? NULL : malloc(sizeof *spec);
  if (!rc && !spec) rc = cn_fail(CN_ENOMEM, "%s: out of memory", path);
  if (!rc) {
    /* Parse errors then read "PATH[cnist.model]:LINE:COL: ...". */
    size_t size = strlen(path) + sizeof "[" CN_KEY_MODEL "]";
    char *where = malloc(size);
    if (!where) {
      rc = cn_fail(CN_ENOMEM, "%s: out of memory", path);
    } else {
      snprintf(where, size, "%s[%s]", path, CN_KEY_MODEL);
      rc = cn_spec_parse(cn_meta_get(f->meta, CN_KEY_MODEL), where, spec);
      free(where);
    }
  }
  cn_model *m = NULL;
  if (!rc) {
    /* The file must hold every parameter: a model text describing more than
     * its data is refused before the model is allocated. */
    cn_spec_stats stats;
    rc = cn_spec_stats_compute(spec, &stats);
    if (!rc && stats.total > f->data_size / sizeof(float))
      rc = cn_fail(CN_EFORMAT, "%s: %s describes %zu parameters but the file holds only %" PRIu64 " bytes of tensors",
                   path, CN_KEY_MODEL, stats.total, f->data_size);
  }
  if (!rc) {
    model_name(f, spec->name, sizeof spec->name);
    rc = cn_model_new(spec, 0, &m);
    if (rc) cn_fail_context(rc, "%s: %s describes a model that cannot be built", path, CN_KEY_MODEL);
  }
  if (!rc) rc = restore_from(f, m, NULL);
  free(spec);
  cn_st_close(f);
  if (rc) {
    cn_model_free(m);
    return rc;
  }
  *out = m;
  return CN_OK;
}

int cn_checkpoint_read_meta(const char *path, cn_meta **meta) {
  *meta = NULL;
  if (!path) return cn_fail(CN_EINVAL, "cn_checkpoint_read_meta: needs a path");
  cn_st_file *f = NULL;
  int rc = cn_st_open(path, 0, &f);
  if (rc) return rc;
  *meta = f->meta;
  f->meta = NULL;
  cn_st_close(f);
  return CN_OK;
}
