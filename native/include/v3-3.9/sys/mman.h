/*
 * <sys/mman.h> for Linux 3.9: the system's header, whose KSM advice is the
 * mainline one since 2.6.32 (include/asm-generic/mman-common.h):
 * MADV_MERGEABLE 12, MADV_UNMERGEABLE 13. Checked here, not redefined.
 */
#include_next <sys/mman.h>
#if !defined(MADV_MERGEABLE) || MADV_MERGEABLE != 12 || MADV_UNMERGEABLE != 13
#error "the system's <sys/mman.h> lacks MADV_MERGEABLE 12 / MADV_UNMERGEABLE 13"
#endif
