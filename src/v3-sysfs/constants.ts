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
/** madvise advice: the range may be merged by KSM (2.6.32 and later). */
export const MADV_MERGEABLE = 12;
/** madvise advice: undo MADV_MERGEABLE, breaking every merged page back into a private copy. */
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
/** KSM_RUN_OFFLINE (3.9 and later): set by the memory hot-remove notifier, never writable. */
export const KSM_RUN_OFFLINE = 4;

/** asm-generic/mman-common.h advice values added after 2.6.32 (3.9 has up to MADV_DODUMP). */
export const MADV_FREE = 8;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_DONTNEED_LOCKED = 24;
export const MADV_COLLAPSE = 25;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;
export const MADV_GUARD_INSTALL = 102;
export const MADV_GUARD_REMOVE = 103;

/** linux/prctl.h (6.4 and later): process-wide KSM. */
export const PR_SET_MEMORY_MERGE = 67;
export const PR_GET_MEMORY_MERGE = 68;

/** The memory hot-remove notifier actions KSM handles (linux/memory.h). */
export const MEM_GOING_OFFLINE = 'going-offline';
export const MEM_OFFLINE = 'offline';
export const MEM_CANCEL_OFFLINE = 'cancel-offline';
export type MemoryAction = typeof MEM_GOING_OFFLINE | typeof MEM_OFFLINE | typeof MEM_CANCEL_OFFLINE;
