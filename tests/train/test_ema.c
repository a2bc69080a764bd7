/* Weight averaging against the formula of include/cnist/ema.h, worked out
 * by hand for chosen weights, and the swap and names checkpoints use. */
#include <stdlib.h>

#include "cnist.h"
#include "test.h"

static const char *text =
    "input 4x4x1\n"
    "conv2d 2 3x3 padding=same activation=relu\n"
    "batchnorm\n"
    "flatten\n"
    "dense 3 activation=softmax\n";

static void fill(cn_model *m, float v) {
  int n;
  cn_tensor_ref *t = cn_model_tensors(m, &n);
  for (int i = 0; i < n; i++)
    for (size_t j = 0; j < t[i].size; j++) t[i].data[j] = v;
}

static int all_equal(const cn_tensor_ref *t, int n, float v) {
  for (int i = 0; i < n; i++)
    for (size_t j = 0; j < t[i].size; j++)
      if (t[i].data[j] != v) return 0;
  return 1;
}

int main(void) {
  cn_spec spec;
  cn_model *m = NULL;
  CHECK(cn_spec_parse(text, "ema.model", &spec) == CN_OK);
  CHECK(cn_model_new(&spec, 1, &m) == CN_OK);
  if (!m) return test_summary();
  cn_ema *e = NULL;
  CHECK_ERROR(cn_ema_new(m, 1.0, &e), CN_EINVAL, "decay=1");
  CHECK(e == NULL);

  fill(m, 2);
  CHECK(cn_ema_new(m, 0.999, &e) == CN_OK);
  if (!e) return test_summary();
  int n, nm;
  cn_tensor_ref *s = cn_ema_tensors(e, &n);
  cn_tensor_ref *w = cn_model_tensors(m, &nm);
  CHECK(n == nm && n == 8); /* conv w, b; bn gamma, beta, mean, var; dense w, b */
  CHECK(strcmp(s[0].name, "ema.0.weight") == 0 && strcmp(s[4].name, "ema.1.running_mean") == 0);
  CHECK(s[0].grad == NULL && s[0].size == w[0].size && s[0].ndim == w[0].ndim);
  CHECK(all_equal(s, n, 2));

  /* Update 0: d = min(0.999, 1/10) = 0.1: 0.1 * 2 + 0.9 * 12 = 11. */
  fill(m, 12);
  cn_ema_update(e);
  CHECK(cn_ema_updates(e) == 1);
  for (int i = 0; i < n; i++) CHECK_NEAR(s[i].data[0], 11, 1e-5);
  /* Update 1: d = 2/11: 2/11 * 11 + 9/11 * 0 = 2. Moving statistics too. */
  fill(m, 0);
  cn_ema_update(e);
  for (int i = 0; i < n; i++) CHECK_NEAR(s[i].data[s[i].size - 1], 2, 1e-5);
  /* Far on, the decay is 0.999 itself. */
  cn_ema_set_updates(e, 100000);
  fill(m, 1002);
  cn_ema_update(e);
  CHECK_NEAR(s[3].data[0], 0.999 * 2 + 0.001 * 1002, 1e-4);

  /* Two swaps give everything back. */
  float before = s[6].data[0];
  cn_ema_swap(e);
  CHECK(w[6].data[0] == before && s[6].data[0] == 1002);
  cn_ema_swap(e);
  CHECK(w[6].data[0] == 1002 && s[6].data[0] == before);

  cn_ema_free(e);
  cn_model_free(m);
  return test_summary();
}
