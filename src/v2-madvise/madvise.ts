/**
 * madvise implements madvise(2) for the MADV_SHAREABLE era: sys_madvise and
 * madvise_vma of the 2.6.29/2.6.30-rc kernel seed 000 patches, with the
 * patch's MADV_SHAREABLE case, which registers each VMA's part of the range
 * with KSM (madvise_shareable -> ksm_register_memory).
 *
 * That kernel checks no list of valid advice values before walking the
 * range (spec/v2-madvise.md: "the call reaches madvise_vma"): an advice it
 * does not know fails with EINVAL from madvise_vma's default branch, but
 * only once the walk reaches a mapping (ENOMEM on an unmapped range, 0 for
 * an empty one).
 *
 * The walk runs over the VMA list as that kernel keeps it: adjacent private
 * mappings with equal flags are one VMA there (vma_merge at mmap and at
 * madvise), while the memory model keeps them apart; `linuxVma` gives the
 * merged view.
 */
import { PAGE_SIZE, VM_DONTCOPY, VM_HUGETLB, VM_IO, VM_LOCKED, VM_NONLINEAR, VM_PFNMAP, VM_SHARED, VM_WRITE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Mm, Vma } from '../engine/memory/mm.js';
import type { Tree2009 } from '../engine/merge/tree-2009.js';
import {
  MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, MADV_NORMAL, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_SHAREABLE,
  MADV_WILLNEED, VM_RAND_READ, VM_SEQ_READ,
} from './constants.js';

/** A vm_area_struct as the 2.6.29 kernel's list has it: one run of the model's VMAs. */
export interface LinuxVma {
  start: number;
  end: number;
  flags: number;
}

/** What madvise needs of the kernel: its memory and its KSM. */
export interface MadviseContext {
  memory: Memory;
  ksm: Tree2009;
}

function mergeable(a: Vma, b: Vma): boolean {
  return a.end === b.start && a.flags === b.flags && !(a.flags & VM_SHARED);
}

/** The Linux VMA made of the model VMA at index i and its mergeable neighbours. */
function linuxVma(mm: Mm, i: number): LinuxVma {
  const v = mm.vmas;
  let lo = i;
  let hi = i;
  while (lo > 0 && mergeable(v[lo - 1], v[lo])) lo--;
  while (hi + 1 < v.length && mergeable(v[hi], v[hi + 1])) hi++;
  return { start: v[lo].start, end: v[hi].end, flags: v[i].flags };
}

/** find_vma: the first VMA ending above addr, or null. */
function findVma(mm: Mm, addr: number): LinuxVma | null {
  const i = mm.findVmaIndex(addr);
  return i < mm.vmas.length ? linuxVma(mm, i) : null;
}

/** find_vma_prev's `prev`: the VMA before `vma`, or null. */
function vmaBefore(mm: Mm, vma: LinuxVma): LinuxVma | null {
  const i = mm.findVmaIndex(vma.start);
  return i > 0 ? linuxVma(mm, i - 1) : null;
}

/**
 * ksm_register_memory (seed 000): append a slot for [start, end) of the
 * caller's mm. It checks nothing about the VMA, merges nothing with earlier
 * slots, sets no flag: the registration is a plain address range, kept for
 * good (nothing in the patch removes a slot).
 */
export function ksmRegisterMemory(ctx: MadviseContext, mm: Mm, start: number, end: number): number {
  // int npages = (end - start) >> PAGE_SHIFT, then stored in `unsigned npages`.
  const npages = Number(BigInt.asIntN(32, BigInt(Math.floor((end - start) / PAGE_SIZE))));
  // kzalloc(sizeof(struct ksm_mem_slot)) cannot fail here (no -ENOMEM).
  // slot->mm = get_task_mm(current): the calling process always has an mm
  // (no -EPERM), and the reference is never dropped: exit leaves the address
  // space alive and scanned.
  ctx.memory.mmget(mm);
  ctx.ksm.addSlot(mm, start, npages >>> 0);
  return 0;
}

/** madvise_shareable: returns ksm_register_memory(vma, start, end); it never updates *prev. */
function madviseShareable(ctx: MadviseContext, mm: Mm, start: number, end: number): number {
  return ksmRegisterMemory(ctx, mm, start, end);
}

interface VmaResult {
  error: number;
  /** The new *prev; `undefined` when madvise_vma left it alone. */
  prev?: LinuxVma | null;
}

/** madvise_behavior: the flag-only advice values; splits as needed. */
function madviseBehavior(ctx: MadviseContext, mm: Mm, vma: LinuxVma, start: number, end: number, behavior: number): VmaResult {
  let newFlags = vma.flags;
  switch (behavior) {
    case MADV_NORMAL:
      newFlags = newFlags & ~VM_RAND_READ & ~VM_SEQ_READ;
      break;
    case MADV_SEQUENTIAL:
      newFlags = (newFlags & ~VM_RAND_READ) | VM_SEQ_READ;
      break;
    case MADV_RANDOM:
      newFlags = (newFlags & ~VM_SEQ_READ) | VM_RAND_READ;
      break;
    case MADV_DONTFORK:
      newFlags |= VM_DONTCOPY;
      break;
    case MADV_DOFORK:
      newFlags &= ~VM_DONTCOPY;
      break;
  }
  newFlags >>>= 0;
  if (newFlags === vma.flags >>> 0) return { error: 0, prev: vma };
  ctx.memory.splitAt(mm, start);
  ctx.memory.splitAt(mm, end);
  for (const v of mm.vmas) if (v.start >= start && v.end <= end) v.flags = newFlags;
  // *prev = vma, after vma_merge / split_vma: the VMA now holding start.
  return { error: 0, prev: findVma(mm, start) };
}

function zapRange(memory: Memory, mm: Mm, start: number, end: number): void {
  for (const v of mm.vmas) {
    if (v.end <= start || v.start >= end) continue;
    for (let i = v.index(Math.max(v.start, start)), n = v.index(Math.min(v.end, end)); i < n; i++) memory.zapPage(v, i);
  }
}

/** madvise_vma of 2.6.29, with seed 000's MADV_SHAREABLE case. */
function madviseVma(ctx: MadviseContext, mm: Mm, vma: LinuxVma, start: number, end: number, behavior: number): VmaResult {
  switch (behavior) {
    case MADV_DOFORK:
      if (vma.flags & VM_IO) return { error: -ERRNO.EINVAL };
    // falls through
    case MADV_DONTFORK:
    case MADV_NORMAL:
    case MADV_SEQUENTIAL:
    case MADV_RANDOM:
      return madviseBehavior(ctx, mm, vma, start, end, behavior);
    case MADV_REMOVE:
      // madvise_remove: *prev = NULL (it drops mmap_sem). Private anonymous
      // memory has no file; a shared one is shmem and needs write access.
      if (vma.flags & (VM_LOCKED | VM_NONLINEAR | VM_HUGETLB)) return { error: -ERRNO.EINVAL, prev: null };
      if (!(vma.flags & VM_SHARED)) return { error: -ERRNO.EINVAL, prev: null };
      if ((vma.flags & (VM_SHARED | VM_WRITE)) !== (VM_SHARED | VM_WRITE)) return { error: -ERRNO.EACCES, prev: null };
      zapRange(ctx.memory, mm, start, end);
      return { error: 0, prev: null };
    case MADV_WILLNEED:
      // madvise_willneed: no file behind private anonymous memory.
      if (!(vma.flags & VM_SHARED)) return { error: -ERRNO.EBADF };
      return { error: 0, prev: vma };
    case MADV_DONTNEED:
      if (vma.flags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP)) return { error: -ERRNO.EINVAL, prev: vma };
      zapRange(ctx.memory, mm, start, end);
      return { error: 0, prev: vma };
    case MADV_SHAREABLE:
      return { error: madviseShareable(ctx, mm, start, end) };
    default:
      return { error: -ERRNO.EINVAL };
  }
}

const U64 = (1n << 64n) - 1n;

/**
 * sys_madvise(start, len_in, behavior) of 2.6.29: 0 or -errno. Unmapped
 * holes inside the range are skipped and reported as -ENOMEM at the end,
 * after the mapped parts were advised.
 */
export function sysMadvise2009(ctx: MadviseContext, mm: Mm, start: number, lenIn: number, behavior: number): number {
  // Arguments are unsigned long / size_t / int in C; a value no C program
  // could pass is refused like a bad one.
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(lenIn) || !Number.isInteger(behavior)) return -ERRNO.EINVAL;
  const s = BigInt.asUintN(64, BigInt(start));
  if (s % BigInt(PAGE_SIZE) !== 0n) return -ERRNO.EINVAL;
  const lenInB = BigInt.asUintN(64, BigInt(lenIn));
  const len = BigInt.asUintN(64, lenInB + BigInt(PAGE_SIZE - 1)) & (U64 ^ BigInt(PAGE_SIZE - 1));
  // Check to see whether len was rounded up from small -ve to zero.
  if (lenInB !== 0n && len === 0n) return -ERRNO.EINVAL;
  const e = BigInt.asUintN(64, s + len);
  if (e < s) return -ERRNO.EINVAL;
  if (e === s) return 0;
  // Nothing is mapped above 2^47, so doubles are exact wherever it matters.
  let cur = Number(s);
  const end = Number(e);

  // If the interval [start,end) covers some unmapped address ranges, just
  // ignore them, but return -ENOMEM at the end.
  let vma = findVma(mm, cur);
  let prev: LinuxVma | null = vma !== null ? vmaBefore(mm, vma) : null;
  if (vma !== null && cur > vma.start) prev = vma;
  let unmappedError = 0;
  for (;;) {
    let error = -ERRNO.ENOMEM;
    if (vma === null) return error;
    if (cur < vma.start) {
      unmappedError = -ERRNO.ENOMEM;
      cur = vma.start;
      if (cur >= end) return error;
    }
    const tmp = Math.min(vma.end, end);
    if (cur === tmp && behavior === MADV_SHAREABLE) {
      // Deviation from sys_madvise (2.6.29) + madvise_shareable (000):
      // madvise_shareable never updates *prev, so when prev is a VMA (the
      // range starts at a VMA that is not the first, or inside one) and the
      // range goes on past the next VMA, `vma = prev->vm_next` brings the
      // walk back to a VMA it has finished, with start == its end: the
      // kernel registers an empty slot and comes back to it forever, until
      // kzalloc fails (-ENOMEM) or the OOM killer steps in. Here one empty
      // slot is registered (its cursor never leaves it: spec/v1-ioctl.md §6)
      // and the call fails as kzalloc would.
      ksmRegisterMemory(ctx, mm, cur, cur);
      return -ERRNO.ENOMEM;
    }
    const r = madviseVma(ctx, mm, vma, cur, tmp, behavior);
    if (r.error) return r.error;
    if (r.prev !== undefined) prev = r.prev;
    cur = tmp;
    if (prev !== null && cur < prev.end) cur = prev.end;
    error = unmappedError;
    if (cur >= end) return error;
    // prev->vm_next, or find_vma when madvise_remove dropped mmap_sem.
    vma = prev !== null ? findVma(mm, prev.end) : findVma(mm, cur);
  }
}
