/* `mpirun -np N cnist train MODEL --seeds ...`: the seeds spread over the
 * ranks give the run folders one process gives, byte for byte (the seconds
 * aside), at N = 1, 2 and 3; bad use is refused by every rank, none hangs.
 * Built only when MPI is compiled in (tests/cli/mpi.cmake). */
#define _GNU_SOURCE /* memrchr, memmem */
#include <stdlib.h>

#include "cli/cli_run.h"
#include "cli/mpi_files.h"

#define TMP CN_TEST_TMP
#define MPIRUN CN_MPIEXEC " --allow-run-as-root --oversubscribe -np "
#define TRAIN "train mlp --data '" CN_TEST_DATA_DIR "/mnist' --epochs 2 --limit-train 1200 --limit-test 500 --threads 1 --quiet"

static void test_same_bits(void) {
  CHECK(cli_run_shell("", TRAIN " --seeds 1,2,3 --run-dir '" TMP "/one'") == 0);
  static const struct {
    const char *name;
    int what;
  } files[] = {{"best.safetensors", WHOLE},  {"test_probs.bin", WHOLE},       {"model.model", WHOLE},
               {"history.csv", NO_SECONDS}, {"config.json", NO_CLOCK}, {"metrics.json", NO_CLOCK}, {"last.safetensors", TENSORS}};
  for (int np = 1; np <= 3; np++) {
    char prefix[512], args[1024];
    snprintf(prefix, sizeof prefix, MPIRUN "%d ", np);
    snprintf(args, sizeof args, TRAIN " --seeds 1,2,3 --run-dir '" TMP "/np%d'", np);
    CHECK_MSG(cli_run_shell(prefix, args) == 0, "np %d:\n%s", np, cli_output);
    /* rank 0 reports every seed in order, naming the rank that trained it */
    /* one process reports as without mpirun; rank 0 of several reports
     * every seed in order, naming the rank that trained it */
    CHECK(cli_output_has(np == 1 ? "Seed 1 (1 of 3)\n" : "Seed 1 (1 of 3, rank 0)"));
    CHECK(cli_output_has(np == 1 ? "Seed 2 (2 of 3)\n" : "Seed 2 (2 of 3, rank 1)"));
    CHECK(cli_output_has(np == 1 ? "Seed 3 (3 of 3)\n" : np == 2 ? "Seed 3 (3 of 3, rank 0)" : "Seed 3 (3 of 3, rank 2)"));
    for (int seed = 1; seed <= 3; seed++) {
      char a[512], b[512];
      for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        snprintf(a, sizeof a, TMP "/one-seed%d/%s", seed, files[f].name);
        snprintf(b, sizeof b, TMP "/np%d-seed%d/%s", np, seed, files[f].name);
        CHECK_MSG(same(a, b, files[f].what), "np %d seed %d %s", np, seed, files[f].name);
      }
    }
  }
}

static void test_bad_use(void) {
  CHECK(cli_run_shell(MPIRUN "3 ", TRAIN " --seeds 1,2 --run-dir '" TMP "/bad'") == 2);
  CHECK(count("3 MPI processes for 2 seeds") == 3);
  CHECK(cli_run_shell(MPIRUN "2 ", TRAIN " --seeds 1,2") == 2);
  CHECK(count("under MPI give --run-dir DIR") == 2);
  CHECK(cli_run_shell(MPIRUN "2 ", "train --resume '" TMP "/one-seed1' --seeds 1,2") == 2);
  CHECK(count("--seeds cannot change in a resumed run") == 2);
  CHECK(cli_run_shell(MPIRUN "2 ", "models") == 2);
  CHECK(count("only `cnist train` runs under MPI (2 processes here)") == 2);
  /* A model file that only rank 0 can read: rank 1's message, then every
   * rank stops (a rank that went on would wait for the other for ever). */
  FILE *f = fopen(TMP "/rank0.model", "wb");
  if (f) {
    fputs("input 28x28x1\nflatten\ndense 10 activation=softmax\ntrain optimizer=adam lr=0.001 batch=32 epochs=1\n", f);
    fclose(f);
  }
  static char cmd[4096];
  snprintf(cmd, sizeof cmd,
           MPIRUN "2 sh -c 'exec \"$0\" train \"" TMP "/rank$OMPI_COMM_WORLD_RANK.model\" --seeds 1,2 --run-dir \"" TMP
                  "/half\" --data \"" CN_TEST_DATA_DIR "/mnist\" --limit-train 600 --quiet' '%s' >'%s' 2>&1",
           CNIST, CLI_OUT);
  int status = system(cmd);
  const char *out = cli_slurp(CLI_OUT); /* its start, as cli_run_shell keeps it */
  size_t n = strnlen(out, sizeof cli_output - 1);
  memcpy(cli_output, out, n);
  cli_output[n] = '\0';
  CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0);
  CHECK(cli_output_has("rank1.model"));
  CHECK(cli_output_has("rank 1 of 2 could not load the model or the data (its message above); every rank stops"));
}

int main(void) {
  if (system("rm -rf '" TMP "' && mkdir -p '" TMP "'") != 0) return 1;
  /* Under the sanitizers (scripts/sanitize.sh): Open MPI keeps what it
   * allocates until exit and unloads the plugins that allocated it, so its
   * leaks cannot be suppressed by name; leak checking is off for these
   * processes, ASan's other checks stay (the later flag wins). */
  const char *asan = getenv("ASAN_OPTIONS");
  static char options[4096];
  snprintf(options, sizeof options, "%s%sdetect_leaks=0", asan ? asan : "", asan && *asan ? ":" : "");
  setenv("ASAN_OPTIONS", options, 1);
  test_same_bits();
  test_bad_use();
  return test_summary();
}
