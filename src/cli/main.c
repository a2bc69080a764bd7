/* cnist: the command-line entry point. Dispatches to one subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dist/dist.h"

int cli_fail_last(void) {
  fprintf(stderr, "cnist: error: %s\n", cn_last_error());
  return 1;
}

int cli_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cnist: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

int cli_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cnist: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs(" (see cnist --help)\n", stderr);
  va_end(ap);
  return 2;
}

int cli_str_arg(int argc, char **argv, int *i, const char **out) {
  if (*i + 1 >= argc) {
    cli_usage("option %s needs a value", argv[*i]);
    return 0;
  }
  *out = argv[++*i];
  return 1;
}

const char *cli_join(char *buf, size_t n, const char *const *names, const char *sep, const char *last) {
  size_t len = 0;
  buf[0] = '\0';
  for (int k = 0; names[k] && len < n; k++)
    len += (size_t)snprintf(buf + len, n - len, "%s%s", !k ? "" : names[k + 1] || !last ? sep : last, names[k]);
  return buf;
}

void cli_precision_help(void) {
  char names[64];
  printf("  --precision %-13s multiplies in float32 (default) or bfloat16 (faster; AVX512-BF16 CPUs)\n",
         cli_join(names, sizeof names, cn_precision_names(), "|", NULL));
}

int cli_precision_arg(int argc, char **argv, int *i, cn_precision *out) {
  const char *s;
  if (!cli_str_arg(argc, argv, i, &s)) return 0;
  if (cn_precision_parse(s, out)) {
    char names[64];
    cli_usage("option %s wants %s, not '%s'", argv[*i - 1],
              cli_join(names, sizeof names, cn_precision_names(), ", ", " or "), s);
    return 0;
  }
  return 1;
}

int cli_int_arg(int argc, char **argv, int *i, int *out, int min, int max) {
  const char *s;
  if (!cli_str_arg(argc, argv, i, &s)) return 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < min || v > max) {
    cli_usage("option %s wants a whole number from %d to %d, not '%s'", argv[*i - 1], min, max, s);
    return 0;
  }
  *out = (int)v;
  return 1;
}

int cli_float_arg(int argc, char **argv, int *i, double *out, double min, double max) {
  const char *s;
  if (!cli_str_arg(argc, argv, i, &s)) return 0;
  char *end;
  double v = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || !(v >= min && v <= max)) {
    cli_usage("option %s wants a number from %g to %g, not '%s'", argv[*i - 1], min, max, s);
    return 0;
  }
  *out = v;
  return 1;
}

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} commands[] = {
    {"data", cmd_data, "data fetch mnist|fashion | data info [--dataset D] [--data DIR]"},
    {"models", cmd_models, "list the zoo of the study's models"},
    {"summary", cmd_summary, "summary MODEL: Keras-style table of layers, shapes and params"},
    {"train", cmd_train, "train MODEL [options]: fit a model, write a run folder"},
    {"eval", cmd_eval, "eval RUN|CHECKPOINT [--split test|val|train] [--json]"},
    {"compare", cmd_compare, "compare [RUN...] [--csv|--json]: the leaderboard"},
    {"ensemble", cmd_ensemble, "ensemble RUN... [--json]: the runs' mean test probabilities"},
    {"speedrun", cmd_speedrun, "speedrun [--recipe fast] [--target 0.99] [--seeds N] [--json]: time to accuracy"},
    {"study", cmd_study, "study [--quick]: train the zoo in order, print the leaderboard"},
    {"report", cmd_report, "report [RUN...] [-o report.html]: self-contained HTML report"},
    {"predict", cmd_predict, "predict RUN|CHECKPOINT IMAGE...: classify your own digits"},
};

static void print_help(FILE *f) {
  fprintf(f, "cnist %s: train, evaluate and explain handwritten-digit classifiers\n\n"
             "usage: cnist COMMAND [ARGS]\n\ncommands:\n", CN_VERSION);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
  fprintf(f, "\nEvery command takes --help. MODEL is a zoo name (cnist models) or a model file.\n");
}

static int run(int argc, char **argv) {
  if (argc < 2) {
    print_help(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    print_help(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("cnist %s\n", CN_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  return cli_usage("unknown command '%s'", argv[1]);
}

int main(int argc, char **argv) {
  if (dist_init(&argc, &argv)) return 1;
  int rc;
  /* N copies of another command would each do the same work (and write
   * the same files): only train spreads its work over processes. */
  if (dist_size() > 1 && (argc < 2 || strcmp(argv[1], "train")))
    rc = cli_usage("only `cnist train` runs under MPI (%d processes here); run %s as one process", dist_size(),
                   argc < 2 ? "cnist" : argv[1]);
  else
    rc = run(argc, argv);
  dist_finalize();
  return rc;
}
