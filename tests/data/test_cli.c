/* `cnist data`: exit statuses and messages of info and fetch, run as a user
 * would. */
#include <stdlib.h>

#include "cnist/core.h"
#include "data/files.h"
#include "idx_files.h"
#include "test.h"

static char output[1 << 16];

/* Runs `cnist ARGS` through the shell in folder `cwd` with stderr merged into
 * output; returns the exit status. */
static int run(const char *cwd, const char *env, const char *args) {
  char command[8192];
  concat(command, sizeof command, "cd '", cwd, "' && ", env);
  size_t used = strlen(command);
  concat(command + used, sizeof command - used, " '" CN_BINARY_DIR "/cnist' ", args, " 2>&1", "");
  return test_run_command(command, output, sizeof output);
}

static int longest_line(const char *text) {
  int longest = 0, n = 0;
  for (; *text; text++) {
    n = *text == '\n' ? 0 : n + 1;
    if (n > longest) longest = n;
  }
  return longest;
}

#define CHECK_RUN(cwd, env, args, want_status, needle)                                                   \
  do {                                                                                                   \
    int status_ = run(cwd, env, args);                                                                   \
    CHECK_MSG(status_ == (want_status) && strstr(output, needle) != NULL,                                \
              "cnist %s: status %d (want %d), output lacks \"%s\":\n%s", args, status_, want_status, needle, \
              output);                                                                                   \
  } while (0)

int main(void) {
  CHECK(cn_mkdirs(CN_TEST_TMP) == CN_OK);

  /* A folder that does not exist: status 1, the message names it. */
  CHECK_RUN(CN_TEST_TMP, "", "data info --data /nonexistent/cnist-data", 1,
            "cnist: error: /nonexistent/cnist-data: no such folder");
  /* No data where it is looked for: the message says what was tried. */
  CHECK_RUN(CN_TEST_TMP, "env -u CNIST_DATA", "data info", 1,
            "tried data/mnist (no such folder) and $CNIST_DATA/mnist (CNIST_DATA is not set). "
            "Run `cnist data fetch mnist`, or pass --data DIR");

  /* The real data: counts, the class table, the first digits. */
  CHECK_RUN(CN_TEST_TMP, "", "data info --data '" CN_TEST_DATA_DIR "/mnist'", 0, "train     60000 images");
  CHECK(strstr(output, "test      10000 images"));
  CHECK(strstr(output, "images    28 x 28 pixels"));
  CHECK(strstr(output, "1               6742   11.24%    1135   11.35%"));
  CHECK(strstr(output, "total          60000  100.00%   10000  100.00%"));
  CHECK(strstr(output, "The first 8 training images and their labels:"));
  /* The digits fit the terminal: at full size in a wide one, at half size
   * in rows in a narrow one. */
  CHECK_RUN(CN_TEST_TMP, "COLUMNS=250", "data info --data '" CN_TEST_DATA_DIR "/mnist'", 0, "5                             0");
  CHECK(strstr(output, "@@@@@") && longest_line(output) == 8 * 28 + 7 * 2);
  CHECK_RUN(CN_TEST_TMP, "COLUMNS=80", "data info --data '" CN_TEST_DATA_DIR "/mnist'", 0, "5               0");
  CHECK(longest_line(output) <= 80);
  /* $CNIST_DATA finds it too, and so does data/<name> under the folder. */
  CHECK_RUN(CN_TEST_TMP, "CNIST_DATA='" CN_TEST_DATA_DIR "'", "data info", 0, "train     60000 images");
  CHECK_RUN(CN_SOURCE_DIR, "env -u CNIST_DATA", "data info --dataset fashion", 0, "Ankle boot      6000   10.00%    1000   10.00%");
  CHECK(strstr(output, "T-shirt/top"));

  /* Fetch when the files are already there does nothing. */
  CHECK_RUN(CN_TEST_TMP, "", "data fetch mnist --data '" CN_TEST_DATA_DIR "/mnist'", 0, "nothing to do");

  /* Usage errors exit with status 2. */
  CHECK_RUN(CN_TEST_TMP, "", "data fetch", 2, "which dataset? mnist or fashion");
  CHECK_RUN(CN_TEST_TMP, "", "data fetch kmnist", 2, "unknown dataset 'kmnist'");
  CHECK_RUN(CN_TEST_TMP, "", "data info --dataset kmnist", 2, "unknown dataset 'kmnist'");
  CHECK_RUN(CN_TEST_TMP, "", "data info --data", 2, "option --data needs a value");
  CHECK_RUN(CN_TEST_TMP, "", "data info --color", 2, "unexpected argument '--color'");
  CHECK_RUN(CN_TEST_TMP, "", "data shuffle", 2, "unknown action 'shuffle'");
  CHECK_RUN(CN_TEST_TMP, "", "data --help", 0, "usage: cnist data fetch mnist|fashion [--data DIR]");
  return test_summary();
}
