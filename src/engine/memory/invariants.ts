/**
 * The memory model's invariants, recomputed from scratch: every frame's
 * mapcount equals the page-table entries pointing at it, its refcount equals
 * its mapcount plus the pins the caller declares, a writable entry maps a
 * frame nobody else maps, and content reference counts match the frames.
 * Tests run it after every step; benchmarks never do.
 */
import { FRAME_KSM } from './frames.js';
import type { Memory } from './memory.js';
import { PTE_WRITE } from './mm.js';

/**
 * `pins`: references to frames held outside the page tables (by frame);
 * `contentPins`: references to contents held outside the frames (a test's
 * record of what each page must read, by content id).
 */
export function checkMemory(memory: Memory, pins: ReadonlyMap<number, number> = new Map(), contentPins: ReadonlyMap<number, number> = new Map()): string[] {
  const problems: string[] = [];
  const fr = memory.frames;
  const maps = new Map<number, number>();
  for (const mm of memory.mms.values()) {
    if (memory.mmById[mm.id] !== mm) problems.push(`mm ${mm.id} is not the mm its id names`);
    if (mm.count <= 0) problems.push(`mm ${mm.id} is listed with mm_count ${mm.count}`);
    if (mm.users === 0 && mm.vmas.length > 0) problems.push(`mm ${mm.id} has no user but still ${mm.vmas.length} VMAs`);
    for (const v of mm.vmas) {
      for (let i = 0; i < v.frames.length; i++) {
        const f = v.frames[i];
        if (f === 0) continue;
        if (!fr.isUsed(f)) problems.push(`mm ${mm.id} maps free frame ${f} at 0x${(v.start + i * 4096).toString(16)}`);
        maps.set(f, (maps.get(f) ?? 0) + 1);
        if (v.pte[i] & PTE_WRITE && (fr.mapcount[f] !== 1 || fr.flags[f] & FRAME_KSM)) {
          problems.push(`frame ${f} is mapped writable but shared (mapcount ${fr.mapcount[f]}) or KSM`);
        }
      }
    }
  }
  const contentRefs = new Map<number, number>(contentPins);
  contentRefs.set(memory.zero, (contentRefs.get(memory.zero) ?? 0) + 1);
  for (let f = 1; f < fr.limit; f++) {
    if (!fr.isUsed(f)) continue;
    const m = maps.get(f) ?? 0;
    if (fr.mapcount[f] !== m) problems.push(`frame ${f}: mapcount ${fr.mapcount[f]}, but ${m} page-table entries map it`);
    const want = m + (pins.get(f) ?? 0);
    if (fr.refcount[f] !== want) problems.push(`frame ${f}: refcount ${fr.refcount[f]}, expected ${want}`);
    if (m === 0 && !pins.has(f)) problems.push(`frame ${f} is allocated but neither mapped nor pinned (leak)`);
    const c = fr.content[f];
    contentRefs.set(c, (contentRefs.get(c) ?? 0) + 1);
  }
  for (const [c, n] of contentRefs) {
    if (memory.contents.refs[c] !== n) problems.push(`content ${c}: ${memory.contents.refs[c]} references, ${n} holders`);
  }
  return problems;
}
