/* `cnist models`: the zoo, one line per model: name, parameters, the
 * accuracy its source reports and where the model comes from (read from the
 * "# source:" and "# study accuracy:", "# published accuracy:" or
 * "# cnist accuracy:" (cnist's own recipes) lines of each model file's
 * header). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: cnist models\n"
    "\n"
    "Lists the zoo: the study's models and reference models beyond it,\n"
    "compiled into cnist. Each name works wherever a MODEL is asked for\n"
    "(cnist summary lenet, cnist train custom2). ACCURACY is the test accuracy\n"
    "the source reports (~ marks a figure its text only approximates, n/a one\n"
    "it shows only as an image); SOURCE names the write-up and section.\n";

/* The text after "KEY: " on a comment line, up to the end of that line. */
static void header_field(const char *comment, const char *key, char *out, size_t n) {
  size_t klen = strlen(key);
  snprintf(out, n, "-");
  for (const char *line = comment; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    if (len > klen + 1 && !strncmp(line, key, klen) && line[klen] == ':') {
      const char *v = line + klen + 1;
      while (*v == ' ') v++;
      snprintf(out, n, "%.*s", (int)(line + len - v), v);
      return;
    }
    line = nl ? nl + 1 : NULL;
  }
}

int cmd_models(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage_text, stdout);
      return 0;
    }
    return cli_usage("models: unexpected argument '%s'", argv[i]);
  }
  printf("%-12s %9s  %-9s %s\n", "NAME", "PARAMS", "ACCURACY", "SOURCE");
  for (int i = 0; i < cn_zoo_count(); i++) {
    const cn_zoo_model *z = cn_zoo_get(i);
    cn_spec s;
    cn_spec_stats st;
    if (cn_spec_load(z->name, &s) || cn_spec_stats_compute(&s, &st)) return cli_fail_last();
    char params[32], source[512], accuracy[256];
    cn_format_thousands(params, sizeof params, (double)st.total);
    header_field(s.comment, "source", source, sizeof source);
    header_field(s.comment, "study accuracy", accuracy, sizeof accuracy);
    if (!strcmp(accuracy, "-")) header_field(s.comment, "published accuracy", accuracy, sizeof accuracy);
    if (!strcmp(accuracy, "-")) header_field(s.comment, "cnist accuracy", accuracy, sizeof accuracy);
    accuracy[strcspn(accuracy, " ")] = '\0'; /* the figure; the note after it stays in the file */
    printf("%-12s %9s  %-9s %s\n", z->name, params, accuracy, source);
  }
  return 0;
}
