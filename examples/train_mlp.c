/* Train a small MLP on MNIST with the library alone, then evaluate it.
 * Build: cmake --build build --target example_train_mlp
 * Run:   build/example_train_mlp data/mnist */
#include <stdio.h>
#include <stdlib.h>

#include "cnist.h"

int main(int argc, char **argv) {
  cn_dataset ds;
  if (cn_dataset_load("mnist", argc > 1 ? argv[1] : NULL, &ds)) {
    fprintf(stderr, "error: %s\n", cn_last_error());
    return 1;
  }
  /* flatten -> dense 128 relu -> dense 10 softmax, built in code */
  cn_spec spec;
  cn_spec_init(&spec, 1, 28, 28);
  cn_spec_add_flatten(&spec);
  cn_spec_add_dense(&spec, 128, CN_ACT_RELU);
  cn_spec_add_dense(&spec, 10, CN_ACT_SOFTMAX);

  cn_model *m;
  cn_optim *opt;
  int count, batch = 32;
  if (cn_model_new(&spec, 42, &m) || cn_model_reserve(m, batch)) return fprintf(stderr, "%s\n", cn_last_error()), 1;
  cn_tensor_ref *params = cn_model_tensors(m, &count);
  cn_optim_spec adam = cn_optim_spec_default(CN_OPT_ADAM);
  if (cn_optim_new(&adam, params, count, &opt)) return fprintf(stderr, "%s\n", cn_last_error()), 1;

  int *order = malloc(sizeof(int) * (size_t)ds.train.n), labels[32];
  float *x = malloc(sizeof(float) * 784 * (size_t)batch);
  cn_rng rng;
  cn_rng_seed(&rng, 42, CN_RNG_SHUFFLE);
  for (int epoch = 1; epoch <= 2; epoch++) {
    for (int i = 0; i < ds.train.n; i++) order[i] = i;
    cn_rng_shuffle(&rng, order, ds.train.n);
    double loss_sum = 0;
    for (int start = 0; start + batch <= ds.train.n; start += batch) {
      float loss;
      if (cn_batch_fill(&ds.train, order + start, batch, 28, 28, 1, x, labels))
        return fprintf(stderr, "%s\n", cn_last_error()), 1;
      cn_model_train_batch(m, x, labels, NULL, batch, &loss, NULL);
      cn_optim_step(opt);
      loss_sum += loss;
    }
    cn_eval_result r;
    cn_evaluate(m, &ds.test, NULL, ds.test.n, batch, NULL, &r);
    printf("epoch %d: train loss %.4f, test accuracy %.4f\n", epoch, loss_sum / (ds.train.n / batch), r.accuracy);
  }
  free(order);
  free(x);
  cn_optim_free(opt);
  cn_model_free(m);
  cn_dataset_free(&ds);
  return 0;
}
