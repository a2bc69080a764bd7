/* The relay of sums across a group (layer.h, cnist/group.h): rank r
 * continues the sum rank r - 1 passed on and passes it to r + 1; the last
 * rank holding images has the whole batch's sum, in one process's order. */
#include "engine/layer.h"

int cn_relay_in(const cn_pass *p, void *acc, size_t bytes) {
  const cn_slice *s = p->slice;
  if (!s || s->g->rank == 0) return 0;
  s->g->recv(s->g, s->g->rank - 1, acc, bytes);
  return 1;
}

void cn_relay_out(const cn_pass *p, const void *acc, size_t bytes) {
  const cn_slice *s = p->slice;
  if (s && s->g->rank + 1 < s->active) s->g->send(s->g, s->g->rank + 1, acc, bytes);
}

void cn_relay_share(const cn_pass *p, void *acc, size_t bytes) {
  const cn_slice *s = p->slice;
  if (!s || s->active < 2) return;
  const int last = s->active - 1;
  if (s->g->rank == last)
    for (int r = 0; r < last; r++) s->g->send(s->g, r, acc, bytes);
  else
    s->g->recv(s->g, last, acc, bytes);
}

/* The units as evenly as they go, the odd ones to the first ranks, so that
 * the ranks holding images are always 0, 1, ... (the relay's order). */
void cn_group_slice(int n, int unit, int rank, int size, int *first, int *count) {
  const int units = (n + unit - 1) / unit, base = units / size, extra = units % size;
  const int lo = rank * base + (rank < extra ? rank : extra), hi = lo + base + (rank < extra);
  *first = lo * unit < n ? lo * unit : n;
  *count = (hi * unit < n ? hi * unit : n) - *first;
}
