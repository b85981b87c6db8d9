/**
 * The ranges of an address space that an era's KSM code holds as
 * registered, read from the kernel's own structures rather than from the
 * calls a session made: a kernel the session adopted (the ksmctl host's) has
 * processes whose registrations the session never saw. Each era's session
 * reads its structures (`registeredRanges`) and hands them to these helpers.
 */
import { PAGE_SIZE, VM_MERGEABLE } from '../engine/constants.js';
import type { Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';

/**
 * Page-aligned ranges of mm covered by the slots of mm (a slot: an address
 * and a page count, as /dev/ksm and the 2009 madvise registered them), cut
 * to its mappings (a slot may cover holes: only mapped pages can be
 * present), in address order, overlaps and neighbours joined.
 */
export function slotRanges(mm: Mm, slots: Iterable<{ mm: Mm; addr: number; npages: number }>): Range[] {
  const raw: Array<[number, number]> = [];
  for (const s of slots) {
    if (s.mm !== mm || !(s.npages > 0)) continue;
    const start = Math.floor(s.addr / PAGE_SIZE) * PAGE_SIZE;
    raw.push([start, start + s.npages * PAGE_SIZE]);
  }
  if (raw.length === 0) return [];
  raw.sort((a, b) => a[0] - b[0]);
  const joined: Array<[number, number]> = [];
  for (const r of raw) {
    const last = joined[joined.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else joined.push([r[0], r[1]]);
  }
  const out: Range[] = [];
  for (const [start, end] of joined) {
    for (const v of mm.vmas) {
      const s = Math.max(start, v.start);
      const e = Math.min(end, v.end);
      if (s < e) push(out, mm, s, e);
    }
  }
  return out;
}

/** 2.6.32 and later: the VMAs madvise(MADV_MERGEABLE) flagged, in address order, neighbours joined. */
export function mergeableRanges(mm: Mm): Range[] {
  const out: Range[] = [];
  for (const v of mm.vmas) if ((v.flags & VM_MERGEABLE) !== 0) push(out, mm, v.start, v.end);
  return out;
}

function push(out: Range[], mm: Mm, start: number, end: number): void {
  const last = out[out.length - 1];
  if (last !== undefined && last.end === start) last.end = end;
  else out.push({ mm, start, end });
}
