/* Keras-style progress display for cn_fit events. */
#include <math.h>
#include <stdio.h>

#include "cnist/train.h"

static void print_time(FILE *f, double seconds) {
  if (seconds >= 3600) fprintf(f, "%d:%02d:%02d", (int)seconds / 3600, (int)seconds / 60 % 60, (int)seconds % 60);
  else if (seconds >= 60) fprintf(f, "%d:%02d", (int)seconds / 60, (int)seconds % 60);
  else fprintf(f, "%ds", (int)(seconds + 0.5));
}

static void print_step_time(FILE *f, double seconds, int steps) {
  double per = steps > 0 ? seconds / steps : 0;
  if (per >= 1) fprintf(f, "%.0fs/step", per);
  else if (per >= 1e-3) fprintf(f, "%.0fms/step", per * 1e3);
  else fprintf(f, "%.0fus/step", per * 1e6);
}

static void print_bar(FILE *f, int done, int total) {
  /* Keras: '=' for work done, '>' at the head while running, '.' for the rest. */
  int width = 30, filled = total > 0 ? (int)((long long)width * done / total) : width;
  int digits = snprintf(NULL, 0, "%d", total);
  fprintf(f, "%*d/%d [", digits, done, total);
  for (int i = 0; i < width; i++) fputc(i < filled - 1 ? '=' : i == filled - 1 ? (done < total ? '>' : '=') : '.', f);
  fputc(']', f);
}

/* As Keras: 4 decimals from 1e-3 up (lr: 0.0010), scientific below (2.5000e-04). */
static void print_lr(FILE *f, double lr) {
  fprintf(f, lr >= 1e-3 ? " - lr: %.4f" : " - lr: %.4e", lr);
}

void cn_progress_print(FILE *f, const cn_fit_event *ev, int is_tty) {
  switch (ev->kind) {
  case CN_FIT_EPOCH_BEGIN:
    if (is_tty) fprintf(f, "Epoch %d/%d\n", ev->epoch, ev->epochs);
    break;
  case CN_FIT_BATCH:
    if (!is_tty) break;
    fputc('\r', f);
    print_bar(f, ev->batch, ev->batches);
    fputs(" - ETA: ", f);
    print_time(f, ev->batch > 0 ? ev->seconds / ev->batch * (ev->batches - ev->batch) : 0);
    fprintf(f, " - loss: %.4f - accuracy: %.4f\033[K", ev->loss, ev->accuracy);
    break;
  case CN_FIT_EPOCH_END:
    if (is_tty) {
      fputc('\r', f);
      print_bar(f, ev->batches, ev->batches);
    } else {
      fprintf(f, "Epoch %d/%d - %d steps", ev->epoch, ev->epochs, ev->batches);
    }
    fputs(" - ", f);
    print_time(f, ev->seconds);
    fputc(' ', f);
    print_step_time(f, ev->seconds, ev->batches);
    fprintf(f, " - loss: %.4f - accuracy: %.4f", ev->loss, ev->accuracy);
    if (!isnan(ev->val_accuracy)) /* NaN: no validation split */
      fprintf(f, " - val_loss: %.4f - val_accuracy: %.4f", ev->val_loss, ev->val_accuracy);
    print_lr(f, ev->lr);
    fputs(is_tty ? "\033[K\n" : "\n", f);
    break;
  case CN_FIT_MESSAGE:
    fprintf(f, "%s\n", ev->message);
    break;
  }
  fflush(f);
}
