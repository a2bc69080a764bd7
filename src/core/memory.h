/* Internal: refusing allocations the machine cannot hold. */
#ifndef CN_CORE_MEMORY_H
#define CN_CORE_MEMORY_H

/* Fails (CN_ENOMEM) when `bytes` exceed the machine's physical memory,
 * naming `what` and the two sizes; returns 0 otherwise. Checked before
 * allocating, since with memory overcommit a huge malloc can succeed and
 * the process be killed later. */
int cn_check_fits_in_memory(double bytes, const char *what);

#endif
