/* mkdir -p, shared by the data fetch and run folders. */
#include "cnist/core.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"

int cn_mkdirs(const char *path) {
  char buf[4096];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof buf) return cn_fail(CN_EINVAL, "'%s': not a usable folder name", path);
  memcpy(buf, path, len + 1);
  /* Create each prefix ending before a '/', then the whole path. */
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return cn_fail(CN_EIO, "%s: cannot create folder: %s", buf, strerror(errno));
    buf[i] = saved;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return cn_fail(CN_EIO, "%s: exists and is not a folder", path);
  return CN_OK;
}
