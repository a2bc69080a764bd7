/* Internal: the few file-system chores of fetching data. Each returns 0 or a
 * negative CN_E* status with a message naming the path. */
#ifndef CN_DATA_FILES_H
#define CN_DATA_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* True when path names an existing regular file (symbolic links followed). */
bool cn_data_is_file(const char *path);
/* Removes path and, for a folder, everything in it; links are removed, never
 * followed. A path that does not exist is not an error. */
int cn_data_remove_tree(const char *path);
/* Copies the bytes of src to a new file dst (replacing it). */
int cn_data_copy_file(const char *src, const char *dst);
/* Joins folder and name with one '/' into out; CN_EINVAL if it does not fit. */
int cn_data_join(char *out, size_t size, const char *folder, const char *name);

#endif
