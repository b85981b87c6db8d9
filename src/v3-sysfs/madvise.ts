/**
 * madvise implements madvise(2) for the MADV_MERGEABLE era (2.6.32):
 * sys_madvise's range walk with that kernel's advice values, KSM's two
 * handled by ksm_madvise (seed 003).
 */
import { VM_HUGETLB, VM_LOCKED, VM_PFNMAP } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Mainline2632 } from '../engine/merge/mainline-2632.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Mm, Vma } from '../engine/memory/mm.js';
import { type MadviseBehavior, sysMadvise } from '../kernel/madvise.js';
import {
  MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, MADV_MERGEABLE, MADV_NORMAL, MADV_RANDOM, MADV_REMOVE,
  MADV_SEQUENTIAL, MADV_UNMERGEABLE, MADV_WILLNEED,
} from './constants.js';
import { madviseBehavior, madviseRemove, zapRange } from './madvise-vma.js';

/** madvise_behavior_valid of 2.6.32 with CONFIG_KSM (and without CONFIG_MEMORY_FAILURE). */
const VALID = new Set([MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
  MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE]);

export function madviseBehavior2632(memory: Memory, ksm: Mainline2632): MadviseBehavior {
  return {
    valid: (advice) => VALID.has(advice),
    /** madvise_vma of 2.6.32. */
    apply(vma: Vma, start: number, end: number, advice: number): number {
      const flags = vma.flags;
      switch (advice) {
        case MADV_REMOVE:
          return madviseRemove(memory, vma, start, end);
        case MADV_WILLNEED:
          return -ERRNO.EBADF; // madvise_willneed: anonymous memory has no file
        case MADV_DONTNEED:
          if (flags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP)) return -ERRNO.EINVAL;
          zapRange(memory, vma, start, end);
          return flags;
      }
      return madviseBehavior(ksm, vma, start, end, advice);
    },
  };
}

/** sys_madvise for the 2.6.32 kernel: 0 or -errno. */
export function madvise2632(memory: Memory, ksm: Mainline2632, mm: Mm, start: number, len: number, advice: number): number {
  return sysMadvise(memory, mm, start, len, advice, madviseBehavior2632(memory, ksm));
}
