/* Refusing allocations larger than physical memory, before making them. */
#include "core/memory.h"

#include <unistd.h>

#include "core/error.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

int cn_check_fits_in_memory(double bytes, const char *what) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0; /* unknown: let the allocation decide */
  double have = (double)pages * (double)page;
  if (bytes <= have) return 0;
  return cn_fail(CN_ENOMEM, "%s need %.1f GiB, more than this machine's %.1f GiB of memory", what, bytes / GIB,
                 have / GIB);
}
