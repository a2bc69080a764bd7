/* The run folder itself: paths, the lock, whether a new run may start in
 * it, and the list of finished runs under a root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "cnist/ensemble.h"
#include "run/run.h"

int cn_run_path(const char *dir, const char *name, char *out) {
  int n = snprintf(out, CN_RUN_PATH_SIZE, "%s/%s", dir, name);
  if (n < 0 || n >= CN_RUN_PATH_SIZE) return cn_fail(CN_EINVAL, "%s: path too long", dir);
  return CN_OK;
}

int cn_run_file_path(const char *dir, cn_run_file file, char *out, size_t size) {
  static const char *const names[] = {CN_RUN_MODEL, CN_RUN_CONFIG, CN_RUN_HISTORY, CN_RUN_METRICS,
                                      CN_RUN_PROBS, CN_RUN_BEST,   CN_RUN_LAST,    CN_RUN_EMA};
  if ((unsigned)file >= sizeof names / sizeof names[0]) return cn_fail(CN_EINVAL, "run folder: no file %d", (int)file);
  int n = snprintf(out, size, "%s/%s", dir, names[file]);
  if (n < 0 || (size_t)n >= size) return cn_fail(CN_EINVAL, "%s: path too long", dir);
  return CN_OK;
}

struct cn_run_lock {
  int fd;
  int created; /* the lock file did not exist before: the folder is not (yet) cnist's */
};

int cn_run_lock_take(const char *dir, cn_run_lock **out) {
  *out = NULL;
  char path[CN_RUN_PATH_SIZE];
  int rc = cn_run_path(dir, CN_RUN_LOCK, path);
  if (rc) return rc;
  /* Checked before training: every file of the run is replaced through a
   * temporary file beside it. */
  if (access(dir, W_OK | X_OK) != 0)
    return cn_fail(CN_EIO, "%s: the run folder cannot be written (%s)", dir, strerror(errno));
  int created = 1, fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    created = 0;
    fd = open(path, O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return cn_fail(CN_EIO, "%s: cannot open: %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char pid[32] = "";
    ssize_t got = pread(fd, pid, sizeof pid - 1, 0);
    pid[got > 0 ? got : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    close(fd);
    if (err == EWOULDBLOCK)
      return cn_fail(CN_EINVAL, "%s: another cnist (pid %s) is writing this run folder; wait for it or choose another "
                                "folder", dir, pid[0] ? pid : "unknown");
    return cn_fail(CN_EIO, "%s: cannot lock: %s", path, strerror(err));
  }
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
    int err = errno;
    close(fd);
    return cn_fail(CN_EIO, "%s: cannot write: %s", path, strerror(err));
  }
  cn_run_lock *l = malloc(sizeof *l);
  if (!l) {
    close(fd);
    return cn_fail(CN_ENOMEM, "%s: out of memory", path);
  }
  l->fd = fd;
  l->created = created;
  *out = l;
  return CN_OK;
}

void cn_run_lock_release(cn_run_lock *l) {
  if (!l) return;
  /* The file stays: removing it would let a process that opened it just
   * before lock a file no other process can find. */
  close(l->fd);
  free(l);
}

static int exists(const char *dir, const char *name) {
  char path[CN_RUN_PATH_SIZE];
  struct stat st;
  return cn_run_path(dir, name, path) == CN_OK && lstat(path, &st) == 0;
}

int cn_run_check_new(const char *dir, const cn_run_lock *lock) {
  if (exists(dir, CN_RUN_LAST))
    return cn_fail(CN_EINVAL, "%s already holds a run; resume it with --resume or choose another folder", dir);
  if (!lock->created) return CN_OK; /* a run that stopped before its first checkpoint: cnist's own files */
  static const char *const names[] = {CN_RUN_MODEL, CN_RUN_CONFIG, CN_RUN_HISTORY,    CN_RUN_METRICS, CN_RUN_PROBS,
                                      CN_RUN_BEST,  CN_RUN_EMA,    CN_RUN_EARLY_BEST};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (exists(dir, names[i])) {
      /* The lock file would mark the user's files as cnist's next time. */
      char path[CN_RUN_PATH_SIZE];
      if (cn_run_path(dir, CN_RUN_LOCK, path) == CN_OK) unlink(path);
      return cn_fail(CN_EINVAL, "%s holds a %s that cnist did not write; a run would replace it: choose an empty or "
                                "new folder", dir, names[i]);
    }
  return CN_OK;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The folders under root that hold `file`, sorted by name. */
static int list_holding(const char *root, const char *file, char ***dirs, int *count) {
  *dirs = NULL;
  *count = 0;
  DIR *d = opendir(root);
  if (!d) return cn_fail(errno == ENOENT ? CN_ENOTFOUND : CN_EIO, "%s: cannot open: %s", root, strerror(errno));
  char **list = NULL;
  int n = 0, cap = 0, rc = CN_OK;
  struct dirent *e;
  while (!rc && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    size_t len = strlen(root) + strlen(e->d_name) + 2;
    char run[CN_RUN_PATH_SIZE], path[CN_RUN_PATH_SIZE];
    struct stat st;
    if (cn_run_path(root, e->d_name, run) || cn_run_path(run, file, path)) continue; /* too long */
    if (stat(path, &st) != 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **grown = realloc(list, sizeof *list * (size_t)cap);
      if (!grown) {
        rc = cn_fail(CN_ENOMEM, "%s: out of memory listing runs", root);
        break;
      }
      list = grown;
    }
    if (!(list[n] = malloc(len))) {
      rc = cn_fail(CN_ENOMEM, "%s: out of memory listing runs", root);
      break;
    }
    snprintf(list[n], len, "%s/%s", root, e->d_name);
    n++;
  }
  closedir(d);
  if (rc) {
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
    return rc;
  }
  if (n) qsort(list, (size_t)n, sizeof *list, compare_names);
  *dirs = list;
  *count = n;
  return CN_OK;
}

int cn_run_list(const char *root, char ***dirs, int *count) { return list_holding(root, CN_RUN_METRICS, dirs, count); }

int cn_ensemble_list(const char *root, char ***dirs, int *count) {
  return list_holding(root, CN_RUN_ENSEMBLE, dirs, count);
}

int cn_ensemble_is_folder(const char *dir) { return exists(dir, CN_RUN_ENSEMBLE); }

int cn_run_check_ensemble(const char *dir, const cn_run_lock *lock) {
  if (exists(dir, CN_RUN_METRICS) || exists(dir, CN_RUN_LAST))
    return cn_fail(CN_EINVAL, "%s holds a training run; write the ensemble to a folder of its own (--out DIR)", dir);
  if (lock->created && exists(dir, CN_RUN_ENSEMBLE)) {
    char path[CN_RUN_PATH_SIZE];
    if (cn_run_path(dir, CN_RUN_LOCK, path) == CN_OK) unlink(path);
    return cn_fail(CN_EINVAL, "%s holds an " CN_RUN_ENSEMBLE " that cnist did not write; choose an empty or new folder",
                   dir);
  }
  return CN_OK; /* an earlier ensemble of cnist's in this folder is replaced, as asked */
}
