/* File-system chores for fetch: rm -r, cp, path joining. */
#include "data/files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

bool cn_data_is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cn_data_join(char *out, size_t size, const char *folder, const char *name) {
  size_t len = strlen(folder);
  const char *sep = len > 0 && folder[len - 1] == '/' ? "" : "/";
  int n = snprintf(out, size, "%s%s%s", folder, sep, name);
  if (n < 0 || (size_t)n >= size) return cn_fail(CN_EINVAL, "%s/%s: path too long", folder, name);
  return CN_OK;
}

int cn_data_remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? CN_OK : cn_fail(CN_EIO, "%s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    DIR *dir = opendir(path);
    if (!dir) return cn_fail(CN_EIO, "%s: cannot list folder: %s", path, strerror(errno));
    int status = CN_OK;
    struct dirent *entry;
    while (status == CN_OK && (entry = readdir(dir)) != NULL) {
      if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
      char child[4096];
      status = cn_data_join(child, sizeof child, path, entry->d_name);
      if (status == CN_OK) status = cn_data_remove_tree(child);
    }
    closedir(dir);
    if (status != CN_OK) return status;
    if (rmdir(path) != 0) return cn_fail(CN_EIO, "%s: cannot remove folder: %s", path, strerror(errno));
    return CN_OK;
  }
  if (unlink(path) != 0) return cn_fail(CN_EIO, "%s: cannot remove: %s", path, strerror(errno));
  return CN_OK;
}

int cn_data_copy_file(const char *src, const char *dst) {
  FILE *in = fopen(src, "rb");
  if (!in) return cn_fail(errno == ENOENT ? CN_ENOTFOUND : CN_EIO, "%s: cannot open: %s", src, strerror(errno));
  FILE *out = fopen(dst, "wb");
  if (!out) {
    int err = errno;
    fclose(in);
    return cn_fail(CN_EIO, "%s: cannot create: %s", dst, strerror(err));
  }
  char buf[1 << 16];
  size_t got;
  int status = CN_OK;
  while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
    if (fwrite(buf, 1, got, out) != got) {
      status = cn_fail(CN_EIO, "%s: write failed: %s", dst, strerror(errno));
      break;
    }
  }
  if (status == CN_OK && ferror(in)) status = cn_fail(CN_EIO, "%s: read error", src);
  fclose(in);
  if (fclose(out) != 0 && status == CN_OK) status = cn_fail(CN_EIO, "%s: write failed: %s", dst, strerror(errno));
  if (status != CN_OK) remove(dst);
  return status;
}
