/* `mpirun -np N cnist train MODEL` without --seeds: the ranks split every
 * batch of one run, and the run folder is the one-process run's, byte for
 * byte (the seconds and the process count aside), at N = 1 to 4, for
 * a dense model, LeNet and a batch-norm + dropout model (and a recipe with
 * augmentation, a schedule and a weight average at 3); a run goes on
 * from one N to another under --resume with the same bits, and after
 * Ctrl-C or a killed rank; bad use is refused by every rank. Built only when MPI is compiled in
 * (tests/cli/mpi.cmake). */
#define _GNU_SOURCE /* memrchr, memmem */
#include <stdlib.h>

#include "cli/cli_run.h"
#include "cli/mpi_files.h"

#define TMP CN_TEST_TMP
#define MPIRUN CN_MPIEXEC " --allow-run-as-root --oversubscribe -np "
/* 576 images, 10% held out: 518 trained, so each epoch ends in a batch of
 * 6, a single chunk, and the ranks past it hold no images. */
#define DATA "--data '" CN_TEST_DATA_DIR "/mnist' --limit-train 576 --val-split 0.1 --limit-test 300 --threads 1 --quiet"
/* The runs the faults disturb after their first epoch: epochs of a few
 * seconds each, so the signal lands well before the run would end. */
#define FAULT_RUN                                                                                                     \
  "train custom2 --data '" CN_TEST_DATA_DIR "/mnist' --limit-train 2400 --val-split 0.1 --limit-test 300 --threads 1 " \
  "--quiet --epochs 3"

static const struct {
  const char *name;
  int what;
} files[] = {{"best.safetensors", WHOLE},  {"test_probs.bin", WHOLE},      {"model.model", WHOLE},
             {"history.csv", NO_SECONDS}, {"config.json", NO_CLOCK}, {"metrics.json", NO_CLOCK}, {"last.safetensors", TENSORS}};

/* resumed: b's best.safetensors was saved before a resume extended its
 * epochs, so its header's model file says fewer: the tensors must match. */
static int same_folders(const char *a, const char *b, int resumed) {
  int ok = 1;
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    char x[1024], y[1024];
    snprintf(x, sizeof x, "%s/%s", a, files[f].name);
    snprintf(y, sizeof y, "%s/%s", b, files[f].name);
    ok &= same(x, y, resumed && !strcmp(files[f].name, "best.safetensors") ? TENSORS : files[f].what);
  }
  return ok;
}

static void test_same_bits(const char *model, const char *extra) {
  char args[2048], one[512];
  snprintf(one, sizeof one, TMP "/%s-one", model);
  snprintf(args, sizeof args, "train %s " DATA " %s --run-dir '%s'", model, extra, one);
  CHECK_MSG(cli_run_shell("", args) == 0, "%s:\n%s", model, cli_output);
  for (int np = 1; np <= 4; np++) {
    char prefix[256], dir[512];
    snprintf(prefix, sizeof prefix, MPIRUN "%d ", np);
    snprintf(dir, sizeof dir, TMP "/%s-np%d", model, np);
    snprintf(args, sizeof args, "train %s " DATA " %s --run-dir '%s'", model, extra, dir);
    CHECK_MSG(cli_run_shell(prefix, args) == 0, "%s np %d:\n%s", model, np, cli_output);
    CHECK_MSG(same_folders(one, dir, 0), "%s np %d", model, np);
    char config[600], want[64];
    snprintf(config, sizeof config, "%s/config.json", dir);
    snprintf(want, sizeof want, "\"processes\":\t%d", np);
    CHECK_MSG(cli_file_has(config, want), "%s lacks %s", config, want);
  }
}

/* Augmentation, a schedule, label smoothing and a weight average: each
 * rank augments its own images as one process would, and every rank keeps
 * the same average. */
static void test_recipe_lines(void) {
  const char *model = TMP "/recipe.model";
  FILE *f = fopen(model, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs("input 28x28x1\nconv2d 8 5x5 padding=same activation=relu\nbatchnorm\nmaxpool 2x2\nflatten\ndropout 0.25\n"
        "dense 10 activation=softmax\n"
        "train optimizer=adam lr=0.002 batch=32 epochs=2 label_smoothing=0.1 ema_momentum=0.9\n"
        "augment rotation=10 zoom=0.1 shift=0.1 erase=0.5\nschedule cosine warmup=0.2\n",
        f);
  fclose(f);
  CHECK_MSG(cli_run_shell("", "train '" TMP "/recipe.model' " DATA " --run-dir '" TMP "/recipe-one'") == 0, "%s",
            cli_output);
  CHECK_MSG(cli_run_shell(MPIRUN "3 ", "train '" TMP "/recipe.model' " DATA " --run-dir '" TMP "/recipe-np3'") == 0,
            "%s", cli_output);
  CHECK(same_folders(TMP "/recipe-one", TMP "/recipe-np3", 0));
  CHECK(same(TMP "/recipe-one/ema.safetensors", TMP "/recipe-np3/ema.safetensors", TENSORS));
}

/* Two epochs at 2 processes, the third resumed at 3, the fourth by one
 * process: the one-process four-epoch run. */
static void test_resume_across_n(void) {
  const char *base = "train custom2 " DATA " --run-dir '" TMP "/resume-one' --epochs 4";
  CHECK(cli_run_shell("", base) == 0);
  CHECK(cli_run_shell(MPIRUN "2 ", "train custom2 " DATA " --run-dir '" TMP "/resume' --epochs 2") == 0);
  CHECK_MSG(cli_run_shell(MPIRUN "3 ", "train --resume '" TMP "/resume' --epochs 3 --quiet") == 0, "%s", cli_output);
  CHECK_MSG(cli_run_shell("", "train --resume '" TMP "/resume' --epochs 4 --quiet") == 0, "%s", cli_output);
  CHECK(same_folders(TMP "/resume-one", TMP "/resume", 1));
}

/* Starts a 2-rank run in the background, waits for its first epoch, then
 * runs `action` (a shell fragment; $job is mpirun's pid, $dir the run
 * folder) and waits for the job: its exit status. */
static int run_and_disturb(const char *dir, const char *action) {
  static char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "dir='%s'; " MPIRUN "2 '%s' " FAULT_RUN " --run-dir \"$dir\" >'%s' 2>&1 & job=$!; "
           "for i in $(seq 6000); do grep -q '^1,' \"$dir/history.csv\" 2>/dev/null && break; sleep 0.05; done; "
           "%s; wait $job",
           dir, CNIST, CLI_OUT, action);
  int status = system(cmd);
  FILE *f = fopen(CLI_OUT, "rb");
  size_t n = f ? fread(cli_output, 1, sizeof cli_output - 1, f) : 0;
  if (f) fclose(f);
  cli_output[n] = '\0';
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Ctrl-C to mpirun stops both ranks at one batch with the state saved; a
 * rank killed outright ends the job, naming it, and the folder resumes.
 * Either way one process resumes it to the uninterrupted run's bits. */
static void test_faults(void) {
  CHECK(cli_run_shell("", FAULT_RUN " --run-dir '" TMP "/faults-one'") == 0);
  CHECK_MSG(run_and_disturb(TMP "/int", "kill -INT $job") != 0, "%s", cli_output);
  CHECK(cli_output_has("interrupted at epoch"));
  CHECK_MSG(cli_run_shell("", "train --resume '" TMP "/int' --quiet") == 0, "%s", cli_output);
  CHECK(same_folders(TMP "/faults-one", TMP "/int", 0));
  /* rank 1: the process whose environment says so (Open MPI's variable) */
  const char *kill_rank1 = "for p in $(pgrep -f \"run-dir $dir\"); do tr '\\0' '\\n' </proc/$p/environ 2>/dev/null | "
                           "grep -qx OMPI_COMM_WORLD_RANK=1 && kill -KILL $p; done";
  CHECK_MSG(run_and_disturb(TMP "/killed", kill_rank1) != 0, "%s", cli_output);
  CHECK(cli_output_has("rank 1"));
  CHECK_MSG(cli_run_shell("", "train --resume '" TMP "/killed' --quiet") == 0, "%s", cli_output);
  CHECK(same_folders(TMP "/faults-one", TMP "/killed", 0));
}

/* The gradients broadcast as the backward pass goes (1 KiB: a bucket
 * every layer or two; the default 256 KiB in test_same_bits) or in one
 * broadcast after it (0): the same bits; a bad size is refused by each
 * rank. */
static void test_buckets(void) {
  const char *kib[] = {"0", "1"};
  for (size_t i = 0; i < sizeof kib / sizeof kib[0]; i++) {
    char prefix[256], args[2048], dir[512];
    snprintf(prefix, sizeof prefix, "CNIST_MPI_BUCKET_KIB=%s " MPIRUN "2 -x CNIST_MPI_BUCKET_KIB ", kib[i]);
    snprintf(dir, sizeof dir, TMP "/custom2-bucket%s", kib[i]);
    snprintf(args, sizeof args, "train custom2 " DATA " --epochs 2 --run-dir '%s'", dir);
    CHECK_MSG(cli_run_shell(prefix, args) == 0, "bucket %s KiB:\n%s", kib[i], cli_output);
    CHECK_MSG(same_folders(TMP "/custom2-one", dir, 0), "bucket %s KiB", kib[i]);
  }
  CHECK(cli_run_shell("CNIST_MPI_BUCKET_KIB=big " MPIRUN "2 -x CNIST_MPI_BUCKET_KIB ",
                      "train mlp " DATA " --run-dir '" TMP "/bad'") != 0);
  CHECK(count("CNIST_MPI_BUCKET_KIB=big: give the gradient bucket size as whole KiB") == 2);
}

static void test_bad_use(void) {
  /* mlp splits in chunks of 4 images: a batch of 8 is two */
  CHECK(cli_run_shell(MPIRUN "3 ", "train mlp " DATA " --batch 8 --run-dir '" TMP "/bad'") == 1);
  CHECK(count("3 processes for batches of 8 images: the processes split a batch in whole chunks of 4 images") == 3);
  CHECK(cli_run_shell(MPIRUN "2 ", "train mlp " DATA " --precision bf16 --run-dir '" TMP "/bad'") != 0);
  /* the run folder exists: rank 0's refusal stops rank 1 too */
  CHECK(cli_run_shell(MPIRUN "2 ", "train mlp " DATA " --run-dir '" TMP "/mlp-one'") == 1);
  CHECK(cli_output_has(TMP "/mlp-one"));
  CHECK(cli_output_has("another process of the group failed (its message says why); rank 1 stops too"));
}

int main(void) {
  if (system("rm -rf '" TMP "' && mkdir -p '" TMP "'") != 0) return 1;
  const char *asan = getenv("ASAN_OPTIONS"); /* as mpi_seeds.c: Open MPI's leaks cannot be suppressed */
  static char options[4096];
  snprintf(options, sizeof options, "%s%sdetect_leaks=0", asan ? asan : "", asan && *asan ? ":" : "");
  setenv("ASAN_OPTIONS", options, 1);
  test_same_bits("mlp", "--epochs 2");
  test_same_bits("lenet", "--epochs 2");
  test_same_bits("custom2", "--epochs 2");
  test_recipe_lines();
  test_buckets();
  test_resume_across_n();
  test_faults();
  test_bad_use();
  return test_summary();
}
