/* Inputs built to be slow: files within every size limit whose structure
 * makes a careless reader do quadratic work or recurse without end. Each
 * must be answered (accepted or refused) within seconds, as its size
 * warrants. They are made here rather than kept in the repository: they
 * are megabytes each. Rows "slow-*" of docs/hostile-inputs.md. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"

#define TMP CN_TEST_TMP
/* A reader linear in its input answers each of these in well under a
 * second, even in a sanitizer or valgrind build; quadratic ones take
 * minutes to hours. */
#define LIMIT_SECONDS 20

static char output[1 << 14];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* `cnist ARGS` in TMP must finish within the limit (timeout(1) stops it
 * there), with status 0 or 1 and, on 1, a message naming the file. */
static void answered(const char *id, const char *args, const char *file) {
  char command[4096];
  snprintf(command, sizeof command, "cd '" TMP "' && timeout %d '" CN_BINARY_DIR "/cnist' %s 2>&1", LIMIT_SECONDS + 10,
           args);
  double start = now();
  int status = test_run_command(command, output, sizeof output);
  double seconds = now() - start;
  printf("[%s] %.2f s, status %d: %.*s\n", id, seconds, status, (int)strcspn(output, "\n"), output);
  CHECK_MSG(seconds < LIMIT_SECONDS, "[%s] cnist %s took %.1f s (limit %d s)", id, args, seconds, LIMIT_SECONDS);
  CHECK_MSG(status == 0 || (status == 1 && strstr(output, file)), "[%s] cnist %s: status %d:\n%s", id, args, status,
            output);
}

/* A safetensors file whose header is json (no data). */
static void safetensors(const char *name, const char *json, size_t len) {
  char path[1024];
  snprintf(path, sizeof path, TMP "/%s", name);
  FILE *f = fopen(path, "wb");
  unsigned char head[8];
  for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)len >> (8 * i));
  CHECK(f && fwrite(head, 1, 8, f) == 8 && fwrite(json, 1, len, f) == len && fclose(f) == 0);
}

int main(void) {
  CHECK(system("rm -rf '" TMP "' && mkdir -p '" TMP "' && printf 'P2 1 1 255 0\\n' > '" TMP "/dot.pgm'") == 0);
  size_t cap = 64u << 20, n;
  char *json = malloc(cap);
  if (!json) return 1;

  /* 300000 metadata keys (2.4 MB, 600000 JSON values: under the limit of
   * 1000000). Each key must be checked against the others for
   * duplicates: pairwise, that is 4.5e10 comparisons. */
  n = (size_t)sprintf(json, "{\"__metadata__\":{\"cnist.format\":\"1\",\"cnist.model\":\"input 2x2x1\\nflatten\\n"
                            "dense 2\\n\"");
  for (int i = 0; i < 300000; i++) n += (size_t)sprintf(json + n, ",\"%x\":\"\"", i);
  n += (size_t)sprintf(json + n, "}}");
  safetensors("many-keys.safetensors", json, n);
  answered("slow-ckpt-metadata-keys", "predict many-keys.safetensors dot.pgm", "many-keys.safetensors");

  /* 90000 tensors (each must be found, sorted, checked for overlaps). */
  n = (size_t)sprintf(json, "{\"__metadata__\":{\"cnist.format\":\"1\",\"cnist.model\":\"input 2x2x1\\nflatten\\n"
                            "dense 2\\n\"}");
  for (int i = 0; i < 90000; i++)
    n += (size_t)sprintf(json + n, ",\"t%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}", i);
  n += (size_t)sprintf(json + n, "}");
  safetensors("many-tensors.safetensors", json, n);
  answered("slow-ckpt-tensors", "predict many-tensors.safetensors dot.pgm", "many-tensors.safetensors");

  /* JSON nested 400000 deep, within the limit on values (a recursive
   * parser without a depth limit overflows its stack). */
  n = (size_t)sprintf(json, "{\"a\":");
  memset(json + n, '[', 400000);
  memset(json + n + 400000, ']', 400000);
  n += 800000;
  json[n++] = '}';
  safetensors("deep.safetensors", json, n);
  answered("slow-ckpt-nesting", "predict deep.safetensors dot.pgm", "deep.safetensors");

  /* A model file of 1 MiB (the limit) in 16-byte lines, and one line of
   * 4096 three-byte characters (the longest allowed) repeated. */
  FILE *f = fopen(TMP "/long.model", "w");
  if (f) {
    fputs("input 28x28x1\nflatten\ndense 10 activation=softmax\n", f);
    for (int i = 0; i < 65000; i++) fputs("# comment line\n", f);
    fclose(f);
  }
  answered("slow-model-lines", "summary long.model", "long.model");
  f = fopen(TMP "/wide.model", "w");
  if (f) {
    fputs("input 28x28x1\nflatten\ndense 10 activation=softmax\n", f);
    for (int line = 0; line < 80; line++) {
      fputc('#', f);
      for (int i = 0; i < 4095; i++) fputs("\xe4\xb8\xad", f);
      fputc('\n', f);
    }
    fclose(f);
  }
  answered("slow-model-wide-lines", "summary wide.model", "wide.model");
  free(json);
  return test_summary();
}
