/**
 * ABI constants of the April 2009 "alternative userspace" KSM interface
 * (seed 000) on the 2.6.29/2.6.30-rc kernel it patched.
 */

/** include/asm-generic/mman.h of 2.6.29, and the value seed 000 adds. */
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
/** can share identical pages (seed 000's mman.h hunk) */
export const MADV_SHAREABLE = 12;

/**
 * MADV_UNSHAREABLE: the cover letter lists `madvise(addr, len,
 * MADV_UNSHAREABLE)` as "not currently implemented", and the patch does not
 * define it; a C program naming it would not compile. 13 is the value a
 * caller would guess (the next free one, which MADV_UNMERGEABLE later took);
 * that kernel answers it as any advice it does not know (EINVAL once the
 * range walk reaches a mapping).
 */
export const MADV_UNSHAREABLE = 13;

/** linux/mm.h of 2.6.29: the read-ahead hints MADV_RANDOM / MADV_SEQUENTIAL set. */
export const VM_SEQ_READ = 0x00008000;
export const VM_RAND_READ = 0x00010000;

/** The sysfs group `ksm` under mm_kobj (the cover letter's path). */
export const KSM_SYSFS_DIR = '/sys/kernel/mm/ksm';

/** include/linux/ksm.h (seed 000): the bit of `run` that makes kksmd scan. */
export const ksm_control_flags_run = 1;
