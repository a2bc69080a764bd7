/* What the CLI tests share: running the built cnist as a user would and
 * looking at what it printed. */
#ifndef CN_TESTS_CLI_RUN_H
#define CN_TESTS_CLI_RUN_H

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test.h"

#define CNIST CN_BINARY_DIR "/cnist"
#define CLI_OUT CN_TEST_TMP "/out.txt" /* the last run's stdout and stderr */

/* The start of what the last run printed (the whole of it is in CLI_OUT). */
static char cli_output[1 << 17];

/* Runs `PREFIX 'cnist' ARGS` in the shell (prefix: a command put before
 * cnist, or ""; args: a shell fragment), stdout into CLI_OUT and
 * cli_output, stderr with it, or into err_path when that is not NULL;
 * returns the exit status, -1 when it did not exit. */
static inline int cli_run_to(const char *prefix, const char *args, const char *err_path) {
  static char cmd[1 << 15];
  if (err_path)
    snprintf(cmd, sizeof cmd, "%s'%s' %s >'%s' 2>'%s'", prefix, CNIST, args, CLI_OUT, err_path);
  else
    snprintf(cmd, sizeof cmd, "%s'%s' %s >'%s' 2>&1", prefix, CNIST, args, CLI_OUT);
  int status = system(cmd);
  FILE *f = fopen(CLI_OUT, "rb");
  size_t n = f ? fread(cli_output, 1, sizeof cli_output - 1, f) : 0;
  if (f) fclose(f);
  cli_output[n] = '\0';
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline int cli_run_shell(const char *prefix, const char *args) { return cli_run_to(prefix, args, NULL); }

/* args (NULL-terminated) as one shell fragment, each quoted as one argument. */
static inline const char *cli_quoted(const char *const *args) {
  static char line[1 << 14];
  size_t n = 0;
  line[0] = '\0';
  for (int i = 0; args[i] && n < sizeof line; i++) n += (size_t)snprintf(line + n, sizeof line - n, " '%s'", args[i]);
  return line;
}

/* cli_run_shell with each of args (NULL-terminated) as one argument. */
static inline int cli_run_args(const char *prefix, const char *const *args) {
  return cli_run_shell(prefix, cli_quoted(args));
}

/* The same with stderr kept apart, in err_path. */
static inline int cli_run_apart(const char *const *args, const char *err_path) {
  return cli_run_to("", cli_quoted(args), err_path);
}

/* The whole of a file in a static buffer (the next call replaces it), its
 * first 2 MiB at most; "" when it cannot be read. */
static inline const char *cli_slurp(const char *path) {
  static char buf[1 << 21];
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = '\0';
  return buf;
}

/* 1 when the file holds needle; else prints the file. */
static inline int cli_file_has(const char *path, const char *needle) {
  const char *text = cli_slurp(path);
  int found = strstr(text, needle) != NULL;
  if (!found) fprintf(stderr, "%s lacks \"%s\":\n%s\n", path, needle, text);
  return found;
}

/* 1 when the last run's output holds needle; else prints the output. */
static inline int cli_output_has(const char *needle) {
  int found = strstr(cli_output, needle) != NULL;
  if (!found) fprintf(stderr, "output lacks \"%s\":\n%s\n", needle, cli_output);
  return found;
}

extern char **environ;

/* Starts cnist with args (NULL-terminated, without the program's name) in
 * the background, stdout and stderr into the file out; returns its pid, -1
 * when it could not start. */
static inline pid_t cli_spawn(const char *const *args, const char *out) {
  const char *argv[64] = {CNIST};
  for (int i = 0; args[i] && i < 62; i++) argv[i + 1] = args[i];
  pid_t pid;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  int rc = posix_spawn(&pid, CNIST, &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

/* Interrupts a cnist that cli_spawn started (as Ctrl-C would) and waits
 * for it; returns its exit status, -1 when it did not exit. */
static inline int cli_interrupt(pid_t pid) {
  int status;
  kill(pid, SIGINT);
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
