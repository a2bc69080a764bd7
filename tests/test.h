/* A tiny test harness: CHECK records a failure and goes on; the test's
 * main returns test_summary(), which prints "N passed, N failed". */
#ifndef CN_TEST_H
#define CN_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (cond) {                                                                      \
      test_passed++;                                                                 \
    } else {                                                                         \
      test_failed++;                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
    }                                                                                \
  } while (0)

#define CHECK_MSG(cond, ...)                                                         \
  do {                                                                               \
    if (cond) {                                                                      \
      test_passed++;                                                                 \
    } else {                                                                         \
      test_failed++;                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                                  \
      fputc('\n', stderr);                                                           \
    }                                                                                \
  } while (0)

/* The call failed with status `code` and its message contains `needle`. */
#define CHECK_ERROR(call, code, needle)                                              \
  do {                                                                               \
    int rc_ = (call);                                                                \
    const char *msg_ = cn_last_error();                                              \
    CHECK_MSG(rc_ == (code) && strstr(msg_, (needle)) != NULL,                       \
              "got status %d, message \"%s\"; wanted status %d with \"%s\"", rc_,    \
              msg_, (int)(code), (needle));                                          \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                        \
  CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%.9g vs %.9g (tol %g)",        \
            (double)(a), (double)(b), (double)(tol))

/* Runs a shell command (add "2>&1" to capture stderr too), keeping up to
 * size-1 bytes of its output in out; returns its exit status, -1 when it
 * could not run or did not exit. */
static inline int test_run_command(const char *command, char *out, size_t size) {
  out[0] = '\0';
  FILE *p = popen(command, "r");
  if (!p) return -1;
  size_t got = fread(out, 1, size - 1, p);
  out[got] = '\0';
  int status = pclose(p);
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline int test_summary(void) {
  printf("%d passed, %d failed\n", test_passed, test_failed);
  return test_failed ? 1 : 0;
}

#endif
