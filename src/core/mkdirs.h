/* Internal: mkdir -p. */
#ifndef CN_CORE_MKDIRS_H
#define CN_CORE_MKDIRS_H

/* Creates path and any missing parent folders; fails naming the first one
 * that cannot be created, or path when it exists and is not a folder. */
int cn_mkdirs(const char *path);

#endif
