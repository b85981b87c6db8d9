/**
 * ABI constants of the mainline (2.6.32) KSM interface.
 * asm-generic/mman-common.h: the madvise advice values.
 */
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;

/** linux/mm.h read-ahead hints set by MADV_RANDOM / MADV_SEQUENTIAL. */
export const VM_SEQ_READ = 0x00008000;
export const VM_RAND_READ = 0x00010000;

/** The sysfs directory of the KSM knobs. */
export const KSM_SYSFS_DIR = '/sys/kernel/mm/ksm';

/** Values of /sys/kernel/mm/ksm/run (mm/ksm.c). */
export const KSM_RUN_STOP = 0;
export const KSM_RUN_MERGE = 1;
export const KSM_RUN_UNMERGE = 2;
