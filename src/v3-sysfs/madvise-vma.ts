/**
 * The parts of madvise_vma that 2.6.32 (madvise.ts), 3.9 and 6.18
 * (madvise-3x.ts) do alike on this model's anonymous memory: madvise_remove,
 * the zap of madvise_dontneed, and madvise_behavior's flag changes with
 * KSM's two advice values. Each kernel's file keeps the cases where they
 * differ (MADV_WILLNEED, MADV_DONTNEED, and the values added after 2.6.32).
 */
import { VM_DONTCOPY, VM_HUGETLB, VM_IO, VM_LOCKED, VM_NONLINEAR, VM_SHARED, VM_WRITE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Vma } from '../engine/memory/mm.js';
import {
  MADV_DOFORK, MADV_DONTFORK, MADV_MERGEABLE, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_UNMERGEABLE,
  VM_RAND_READ, VM_SEQ_READ,
} from './constants.js';

/** What madvise needs of a merger of this era: its ksm_madvise. */
export interface KsmMadvise {
  ksmMadvise(vma: Vma, start: number, end: number, advice: number): { err: number; flags: number };
}

/** zap_page_range of [start, end) in vma: its pages are gone, as after MADV_DONTNEED. */
export function zapRange(memory: Memory, vma: Vma, start: number, end: number): void {
  for (let i = vma.index(start), n = vma.index(end); i < n; i++) memory.zapPage(vma, i);
}

/** madvise_remove: needs a file (shmem for a shared anonymous mapping); vma's flags, or -errno. */
export function madviseRemove(memory: Memory, vma: Vma, start: number, end: number): number {
  const flags = vma.flags;
  if (flags & (VM_LOCKED | VM_NONLINEAR | VM_HUGETLB)) return -ERRNO.EINVAL;
  if (!(flags & VM_SHARED)) return -ERRNO.EINVAL;
  if ((flags & (VM_SHARED | VM_WRITE)) !== (VM_SHARED | VM_WRITE)) return -ERRNO.EACCES;
  zapRange(memory, vma, start, end);
  return flags;
}

/**
 * madvise_behavior: the new vm_flags of the read-ahead, fork and KSM
 * advice values, or -errno; any other valid value leaves the flags as they are.
 */
export function madviseBehavior(ksm: KsmMadvise, vma: Vma, start: number, end: number, advice: number): number {
  const flags = vma.flags;
  switch (advice) {
    case MADV_NORMAL:
      return flags & ~(VM_RAND_READ | VM_SEQ_READ);
    case MADV_SEQUENTIAL:
      return (flags & ~VM_RAND_READ) | VM_SEQ_READ;
    case MADV_RANDOM:
      return (flags & ~VM_SEQ_READ) | VM_RAND_READ;
    case MADV_DONTFORK:
      return flags | VM_DONTCOPY;
    case MADV_DOFORK:
      if (flags & VM_IO) return -ERRNO.EINVAL;
      return flags & ~VM_DONTCOPY;
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE: {
      const r = ksm.ksmMadvise(vma, start, end, advice);
      return r.err ? r.err : r.flags;
    }
  }
  return flags;
}
