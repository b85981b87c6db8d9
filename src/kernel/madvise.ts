/**
 * sys_madvise's walk over the VMAs of a range (mm/madvise.c of 2.6.2x/2.6.3x),
 * shared by the eras whose registration goes through madvise. The era
 * supplies which advice values are valid and what one VMA does with them.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Mm, Vma } from '../engine/memory/mm.js';

export interface MadviseBehavior {
  /** madvise_behavior_valid */
  valid(advice: number): boolean;
  /**
   * madvise_vma for one VMA and [start, end) inside it: returns the new
   * vm_flags (the walker splits the VMA and applies them when they differ;
   * signed or unsigned 32-bit both do), or -errno.
   */
  apply(vma: Vma, start: number, end: number, advice: number): number;
}

const LONG_MAX = 2 ** 63;

/**
 * sys_madvise(start, len_in, behavior): 0 or -errno. Unmapped holes inside
 * the range are skipped and reported as -ENOMEM at the end.
 */
export function sysMadvise(memory: Memory, mm: Mm, start: number, lenIn: number, advice: number, behavior: MadviseBehavior): number {
  if (!behavior.valid(advice)) return -ERRNO.EINVAL;
  if (start % PAGE_SIZE !== 0) return -ERRNO.EINVAL;
  if (lenIn < 0) lenIn += 2 ** 64; // size_t
  const len = Math.ceil(lenIn / PAGE_SIZE) * PAGE_SIZE;
  // Check to see whether len was rounded up from small -ve to zero.
  if (lenIn && len >= 2 ** 64) return -ERRNO.EINVAL;
  const end = start + len;
  if (end < start || end >= LONG_MAX * 2) return -ERRNO.EINVAL;
  if (end === start) return 0;

  let unmappedError = 0;
  let cur = start;
  let vma = mm.findVma(cur);
  for (;;) {
    if (vma === null) return -ERRNO.ENOMEM;
    if (cur < vma.start) {
      unmappedError = -ERRNO.ENOMEM;
      cur = vma.start;
      if (cur >= end) return unmappedError;
    }
    const tmp = Math.min(vma.end, end);
    const err = madviseVma(memory, mm, vma, cur, tmp, advice, behavior);
    if (err) return err;
    cur = tmp;
    if (cur >= end) return unmappedError;
    vma = mm.findVma(cur);
  }
}

/** madvise_behavior: compute the new flags; split and apply only if they changed. */
function madviseVma(memory: Memory, mm: Mm, vma: Vma, start: number, end: number, advice: number, behavior: MadviseBehavior): number {
  const r = behavior.apply(vma, start, end, advice);
  // -errno values are -1..-4095 (IS_ERR_VALUE); flags with the top bit set are
  // negative as int32 in JS and must not be taken for errors.
  if (r < 0 && r >= -4095) return r === -ERRNO.ENOMEM ? -ERRNO.EAGAIN : r;
  const flags = r >>> 0;
  if (flags === vma.flags) return 0;
  memory.splitAt(mm, start);
  memory.splitAt(mm, end);
  for (const v of mm.vmas) if (v.start >= start && v.end <= end) v.flags = flags;
  return 0;
}
