/**
 * madvise implements madvise(2) for the later MADV_MERGEABLE kernels, 3.9
 * and 6.18: sys_madvise's range walk (kernel/madvise.ts) with each kernel's
 * valid advice values, and KSM's two handled by that kernel's ksm_madvise.
 *
 * Configuration as on the machines compared with: CONFIG_KSM,
 * CONFIG_TRANSPARENT_HUGEPAGE and CONFIG_SWAP on, CONFIG_MEMORY_FAILURE off.
 * The other advice values are accepted with their flag effects where this
 * model has the flag, and as no-ops otherwise: there is no memory pressure,
 * swap or THP here, so MADV_FREE, COLD, PAGEOUT, HUGEPAGE, COLLAPSE and the
 * populate and guard values change nothing a workload can see.
 */
import { VM_HUGETLB, VM_LOCKED, VM_PFNMAP, VM_SHARED } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Mm, Vma } from '../engine/memory/mm.js';
import { type MadviseBehavior, sysMadvise } from '../kernel/madvise.js';
import {
  MADV_COLD, MADV_COLLAPSE, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED,
  MADV_FREE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MADV_HUGEPAGE, MADV_KEEPONFORK, MADV_MERGEABLE, MADV_NOHUGEPAGE,
  MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL,
  MADV_UNMERGEABLE, MADV_WILLNEED, MADV_WIPEONFORK,
} from './constants.js';
import { type KsmMadvise, madviseBehavior, madviseRemove, zapRange } from './madvise-vma.js';

export type { KsmMadvise } from './madvise-vma.js';

/** madvise_behavior_valid of 3.9. */
const VALID_39 = new Set([MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_REMOVE,
  MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP]);

/** madvise_behavior_valid of 6.18. */
const VALID_618 = new Set([...VALID_39, MADV_FREE, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
  MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_DONTNEED_LOCKED, MADV_COLLAPSE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE]);

export function madviseBehavior3x(memory: Memory, ksm: KsmMadvise, version: '3.9' | '6.18'): MadviseBehavior {
  const valid = version === '3.9' ? VALID_39 : VALID_618;
  return {
    valid: (advice) => valid.has(advice),
    /** madvise_vma of 3.9 and 6.18; the values 3.9 lacks never get here (valid). */
    apply(vma: Vma, start: number, end: number, advice: number): number {
      const flags = vma.flags;
      switch (advice) {
        case MADV_REMOVE:
          return madviseRemove(memory, vma, start, end);
        case MADV_WILLNEED:
          return flags; // madvise_willneed: anonymous memory, CONFIG_SWAP: swap-in readahead, 0
        case MADV_DONTNEED:
        case MADV_DONTNEED_LOCKED:
          if (flags & (VM_HUGETLB | VM_PFNMAP) || (advice === MADV_DONTNEED && flags & VM_LOCKED)) return -ERRNO.EINVAL;
          zapRange(memory, vma, start, end);
          return flags;
        case MADV_FREE:
          // madvise_free: anonymous private memory only; pages are freed lazily under memory pressure, never here.
          return flags & VM_SHARED ? -ERRNO.EINVAL : flags;
        case MADV_WIPEONFORK:
          return flags & VM_SHARED ? -ERRNO.EINVAL : flags;
      }
      return madviseBehavior(ksm, vma, start, end, advice);
    },
  };
}

/** sys_madvise of 3.9 or 6.18: 0 or -errno. */
export function madvise3x(memory: Memory, ksm: KsmMadvise, version: '3.9' | '6.18', mm: Mm, start: number, len: number, advice: number): number {
  return sysMadvise(memory, mm, start, len, advice, madviseBehavior3x(memory, ksm, version));
}
