/**
 * Constants shared by every era of the simulated kernel.
 *
 * Names keep their Linux spelling; each group names the header it comes from.
 */

/** asm/page.h: every era ran with 4 KiB pages. */
export const PAGE_SHIFT = 12;
/** The page size, 4096 bytes (x86_64). */
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** PAGE_MASK as a number test: `(addr % PAGE_SIZE) === 0` is the JS spelling of `!(addr & ~PAGE_MASK)`. */
export const WORDS_PER_PAGE = PAGE_SIZE / 4;

/** linux/mm.h vm_flags bits that madvise and KSM look at (2.6.32 values). */
export const VM_READ = 0x00000001;
export const VM_WRITE = 0x00000002;
export const VM_EXEC = 0x00000004;
export const VM_SHARED = 0x00000008;
export const VM_MAYREAD = 0x00000010;
export const VM_MAYWRITE = 0x00000020;
export const VM_MAYEXEC = 0x00000040;
export const VM_MAYSHARE = 0x00000080;
export const VM_GROWSDOWN = 0x00000100;
export const VM_PFNMAP = 0x00000400;
export const VM_DENYWRITE = 0x00000800;
export const VM_LOCKED = 0x00002000;
export const VM_IO = 0x00004000;
export const VM_DONTCOPY = 0x00020000;
export const VM_DONTEXPAND = 0x00040000;
export const VM_RESERVED = 0x00080000;
export const VM_ACCOUNT = 0x00100000;
export const VM_NORESERVE = 0x00200000;
export const VM_HUGETLB = 0x00400000;
export const VM_NONLINEAR = 0x00800000;
export const VM_MAPPED_COPY = 0x01000000;
export const VM_INSERTPAGE = 0x02000000;
export const VM_ALWAYSDUMP = 0x04000000;
export const VM_CAN_NONLINEAR = 0x08000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_SAO = 0x20000000;
export const VM_PFN_AT_MMAP = 0x40000000;
/** 2.6.32 gave VM_MERGEABLE the top bit of the 32-bit vm_flags word. */
export const VM_MERGEABLE = 0x80000000;

/** asm-generic/mman-common.h */
export const PROT_NONE = 0x0;
/** mmap protection: readable. */
export const PROT_READ = 0x1;
/** mmap protection: writable. */
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
/** mmap flag: a shared mapping (KSM never merges its pages). */
export const MAP_SHARED = 0x01;
/** mmap flag: a private (copy-on-write) mapping. */
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
/** mmap flag: memory not backed by a file. */
export const MAP_ANONYMOUS = 0x20;
/** mmap flag: no swap reserved for the mapping (asm-generic/mman.h); it changes nothing the model sees (no overcommit accounting of swap). */
export const MAP_NORESERVE = 0x4000;
