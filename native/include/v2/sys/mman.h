/*
 * <sys/mman.h> of the madvise proposal of April 2009: the system's header,
 * with the advice value "[PATCH 4/4 alternative userspace] add ksm kernel
 * shared memory driver" (Izik Eidus and Chris Wright, April 2009; the project's seed 000)
 * added to include/asm-generic/mman.h, as published:
 *
 *   +#define MADV_SHAREABLE	12		(comment: can share identical pages)
 *
 * The patch defined no MADV_UNSHAREABLE value (its cover letter calls the
 * call "not currently implemented"), so neither does this header; and the
 * later MADV_MERGEABLE / MADV_UNMERGEABLE did not exist yet.
 */
#include_next <sys/mman.h>
#undef MADV_MERGEABLE
#undef MADV_UNMERGEABLE
#define MADV_SHAREABLE	12		/* can share identical pages */
