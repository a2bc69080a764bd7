/* What model.h promises of threads: two models used from two threads at
 * once give the same bits as one after another. */
#include <pthread.h>
#include <stdlib.h>

#include "cnist.h"
#include "test.h"

enum { N = 16, ROUNDS = 20 };

typedef struct {
  cn_model *m;
  const float *x;
  float *out;
  int rc;
} job;

static void *predict_rounds(void *arg) {
  job *j = arg;
  for (int r = 0; r < ROUNDS && !j->rc; r++) j->rc = cn_model_predict(j->m, j->x, N, j->out + (size_t)r * N * 10);
  return NULL;
}

int main(void) {
  cn_set_threads(2); /* process-wide, before the threads start */
  cn_spec s;
  cn_spec_init(&s, 1, 28, 28);
  cn_spec_add_conv2d(&s, 8, 3, 3, 1, 1, CN_ACT_RELU);
  cn_spec_add_pool(&s, CN_LAYER_MAXPOOL, 2, 2);
  cn_spec_add_flatten(&s);
  cn_spec_add_dense(&s, 10, CN_ACT_SOFTMAX);
  cn_model *m[2] = {NULL, NULL};
  CHECK(cn_model_new(&s, 1, &m[0]) == 0 && cn_model_new(&s, 2, &m[1]) == 0);
  float *x = malloc(sizeof(float) * N * 784), *want[2], *got[2];
  cn_rng rng;
  cn_rng_seed(&rng, 7, 0);
  for (int i = 0; i < N * 784; i++) x[i] = cn_rng_uniform(&rng);
  for (int k = 0; k < 2; k++) {
    want[k] = malloc(sizeof(float) * N * 10);
    got[k] = malloc(sizeof(float) * ROUNDS * N * 10);
    CHECK(m[k] && cn_model_predict(m[k], x, N, want[k]) == 0); /* one after another */
  }
  job jobs[2] = {{m[0], x, got[0], 0}, {m[1], x, got[1], 0}};
  pthread_t t[2];
  for (int k = 0; k < 2; k++) CHECK(pthread_create(&t[k], NULL, predict_rounds, &jobs[k]) == 0);
  for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
  for (int k = 0; k < 2; k++) {
    CHECK(jobs[k].rc == 0);
    int differ = 0;
    for (int r = 0; r < ROUNDS; r++) differ += memcmp(got[k] + (size_t)r * N * 10, want[k], sizeof(float) * N * 10) != 0;
    CHECK_MSG(differ == 0, "model %d: %d of %d rounds differ from the sequential bits", k, differ, ROUNDS);
    free(want[k]);
    free(got[k]);
    cn_model_free(m[k]);
  }
  free(x);
  return test_summary();
}
