/* The command-line tool: one file per subcommand, each a thin layer over the
 * library. Exit codes: 0 success, 1 failure (message on stderr), 2 usage. */
#ifndef CN_CLI_H
#define CN_CLI_H

#include "cnist.h"

/* Prints "cnist: error: <cn_last_error()>" and returns 1. */
int cli_fail_last(void);
/* Prints "cnist: error: <formatted>" and returns 1. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int cli_fail(const char *fmt, ...);
/* Prints "cnist: <formatted>" plus a hint to run --help, returns 2. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int cli_usage(const char *fmt, ...);

/* Option parsing helpers: argument i is "--name" followed by a value. On a
 * missing or malformed value they print a usage error and return 0. */
int cli_int_arg(int argc, char **argv, int *i, int *out, int min, int max);
int cli_float_arg(int argc, char **argv, int *i, double *out, double min, double max);
int cli_str_arg(int argc, char **argv, int *i, const char **out);
/* "--precision fp32|bf16" */
int cli_precision_arg(int argc, char **argv, int *i, cn_precision *out);
/* Prints the help line of --precision, shared by train, eval and predict. */
void cli_precision_help(void);
/* One of the library's name lists (cn_opt_names, ...; NULL-terminated)
 * for a message or a help text, in buf: sep between names, last (when not
 * NULL) before the last one: "adam|rmsprop|sgd", "adam, rmsprop or sgd". */
const char *cli_join(char *buf, size_t n, const char *const *names, const char *sep, const char *last);

/* Runs cn_fit with a progress display and SIGINT/SIGTERM handling, then
 * prints the final evaluation. Returns the exit code (130 if interrupted). */
int cli_fit(const cn_spec *spec, const cn_dataset *ds, cn_fit_options *o, int quiet, cn_fit_result *r);
/* Prints the leaderboard of runs, by dataset and test set, best test
 * accuracy first; the seeds of one experiment (DIR-seedN) in one row unless
 * each_run. format: 0 table, 1 CSV, 2 JSON. Returns the exit code. */
int cli_print_leaderboard(char **runs, int n, int format, int each_run);

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_data(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_ensemble(int argc, char **argv);
int cmd_speedrun(int argc, char **argv);

#endif
