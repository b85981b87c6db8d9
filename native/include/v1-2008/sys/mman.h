/*
 * <sys/mman.h> as a program of the /dev/ksm era saw it: the system's
 * header, without the KSM advice that came later (MADV_MERGEABLE and
 * MADV_UNMERGEABLE arrived with Linux 2.6.32; the kernels the /dev/ksm
 * patches applied to, 2.6.27/2.6.28, had no KSM advice at all).
 */
#include_next <sys/mman.h>
#undef MADV_MERGEABLE
#undef MADV_UNMERGEABLE
