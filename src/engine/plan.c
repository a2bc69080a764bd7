/* Planning: every buffer a pass touches, for batches of up to max_batch
 * images at the current thread count, carved out of one allocation. Once
 * planned, forward, backward and the loss never allocate. */
#include <stdlib.h>

#include <stdio.h>

#include "core/error.h"
#include "core/memory.h"
#include "engine/model_impl.h"

/* Floats per image of a shape. */
static size_t shape_floats(cn_shape s) { return (size_t)s.c * s.h * s.w; }

int cn_model_plan(cn_model *m, int max_batch) {
  int threads = cn_get_threads();
  if (max_batch <= 0) return cn_fail(CN_EINVAL, "model: the batch size must be positive, not %d", max_batch);
  if (m->arena && max_batch <= m->planned_batch && threads == m->planned_threads) return 0;
  if (max_batch < m->planned_batch) max_batch = m->planned_batch;
  const size_t nb = (size_t)max_batch;

  /* Sizes first: activations, two gradient buffers as large as the largest
   * tensor, per-layer state, then the largest scratch any layer needs. */
  size_t total = 0, largest = shape_floats(m->shapes[0]), work = 0;
  size_t act_off[CN_MAX_LAYERS], state_off[CN_MAX_LAYERS];
  for (int i = 0; i < m->n_run; i++) {
    const cn_layer *l = &m->layers[i];
    size_t out = shape_floats(m->shapes[i + 1]);
    if (out > largest) largest = out;
    act_off[i] = total;
    if (l->ops) total += cn_round_floats(nb * out);
    state_off[i] = total;
    if (l->ops) {
      total += cn_round_floats(l->ops->state_floats(l, max_batch));
      size_t w = l->ops->work_floats(l, max_batch, threads);
      if (w > work) work = w;
    }
  }
  size_t grad_off = total;
  total += 2 * cn_round_floats(nb * largest);
  size_t work_off = total;
  total += cn_round_floats(work);

  double bytes = (double)total * sizeof(float);
  if (bytes > (double)SIZE_MAX / 2)
    return cn_fail(CN_ENOMEM, "model %s: buffers for batches of %d would need %.3g bytes", m->spec.name, max_batch,
                     bytes);
  char what[160];
  snprintf(what, sizeof what, "model %s: the buffers for batches of %d", m->spec.name, max_batch);
  int rc = cn_check_fits_in_memory(bytes, what);
  if (rc) return rc;
  float *arena = aligned_alloc(64, cn_round_floats(total + 1) * sizeof(float));
  if (!arena)
    return cn_fail(CN_ENOMEM, "model %s: cannot allocate %.1f MiB of buffers for batches of %d", m->spec.name,
                   bytes / 1048576.0, max_batch);
  free(m->arena);
  m->arena = arena;
  for (int i = 0; i < m->n_run; i++) {
    cn_layer *l = &m->layers[i];
    m->act[i] = l->ops ? arena + act_off[i] : NULL;
    l->state = arena + state_off[i];
  }
  m->grad[0] = arena + grad_off;
  m->grad[1] = m->grad[0] + cn_round_floats(nb * largest);
  m->work = arena + work_off;
  m->planned_batch = max_batch;
  m->planned_threads = threads;
  return 0;
}

int cn_model_reserve(cn_model *m, int max_batch) { return cn_model_plan(m, max_batch); }
