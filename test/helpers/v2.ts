/** Building small v2 (April 2009, seed 000) worlds for tests. */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import { checkTree2009 } from '../../src/engine/merge/tree-2009-invariants.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { MADV_SHAREABLE } from '../../src/v2-madvise/constants.js';
import { V2Kernel } from '../../src/v2-madvise/kernel.js';
import { internPage } from '../../src/workload/fill.js';

export const seed = (s: number): SinglePage => ({ kind: 'seed', seed: s });
export const zero: SinglePage = { kind: 'zero' };

export interface World {
  k: V2Kernel;
  procs: Array<{ p: Process; addr: number; pages: number }>;
}

/** One process per layout entry, one private anonymous region each, filled and (optionally) registered with MADV_SHAREABLE in order. */
export function world(layouts: SinglePage[][], register = true): World {
  const k = new V2Kernel();
  const procs = layouts.map((pages, i) => {
    const p = k.spawn(`p${i + 1}`);
    const addr = k.mmap(p, 0, pages.length * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    pages.forEach((c, j) => k.memory.writePage(p.mm, addr + j * PAGE_SIZE, internPage(k.memory, c)));
    return { p, addr, pages: pages.length };
  });
  if (register) for (const { p, addr, pages } of procs) k.madvise(p, addr, pages * PAGE_SIZE, MADV_SHAREABLE);
  return { k, procs };
}

/** What a snapshot of the workload schema holds for this era, plus the KSM frames and their mappings. */
export interface V2State {
  /** ksm_pages_shared: the era's own counter. */
  shared: number;
  /** Derived: registered addresses on KSM frames minus those frames. */
  sharing: number;
  unshared: number;
  volatile: number;
  fullScans: number;
  ksmPages: number;
  ksmMappings: number;
}

export function state(k: V2Kernel): V2State {
  const c = k.ksm.counters();
  const m = k.ksm.ksmMappings();
  return { shared: c.pagesShared, sharing: c.pagesSharing, unshared: c.pagesUnshared, volatile: c.pagesVolatile, fullScans: c.fullScans, ksmPages: m.frames, ksmMappings: m.addresses };
}

/**
 * One long batch (spec/algorithms.md §b "How the scanner is driven"): a
 * single ksm_scan_start call, with the state recorded at each of the first
 * `passes` wraps of the cursor.
 */
export function longBatch(k: V2Kernel, passes: number): V2State[] {
  const out: V2State[] = [];
  k.ksm.onWrap = () => {
    if (out.length < passes) out.push(state(k));
  };
  let positions = 0;
  for (const s of k.ksm.slots) positions += s.npages;
  k.ksm.ksmScanStart(positions * (passes + 1));
  k.ksm.onWrap = null;
  return out;
}

/** Every invariant of the memory model and of the merger, recomputed (the seed's leaked references count as pins). */
export function problems(k: V2Kernel): string[] {
  return [...checkMemory(k.memory, k.ksm.leakedRefs), ...checkTree2009(k.ksm)];
}
