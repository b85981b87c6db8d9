/** Building small v3 worlds for tests: processes with pages of given contents. */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import { checkMainline2632 } from '../../src/engine/merge/mainline-2632-invariants.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { MADV_MERGEABLE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { internPage } from '../../src/workload/fill.js';

export const seed = (s: number): SinglePage => ({ kind: 'seed', seed: s });
export const zero: SinglePage = { kind: 'zero' };

export interface World {
  k: V3Kernel;
  procs: Array<{ p: Process; addr: number; pages: number }>;
}

/** One process per layout entry, one private anonymous region each, filled and (optionally) registered in order. */
export function world(layouts: SinglePage[][], register = true): World {
  const k = new V3Kernel();
  const procs = layouts.map((pages, i) => {
    const p = k.spawn(`p${i + 1}`);
    const addr = k.mmap(p, 0, pages.length * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    pages.forEach((c, j) => k.memory.writePage(p.mm, addr + j * PAGE_SIZE, internPage(k.memory, c)));
    return { p, addr, pages: pages.length };
  });
  if (register) for (const { p, addr, pages } of procs) k.madvise(p, addr, pages * PAGE_SIZE, MADV_MERGEABLE);
  return { k, procs };
}

export interface V3Counters {
  shared: number;
  sharing: number;
  unshared: number;
  volatile: number;
  fullScans: number;
}

export function counters(k: V3Kernel): V3Counters {
  const c = k.ksm.counters();
  return { shared: c.pagesShared, sharing: c.pagesSharing, unshared: c.pagesUnshared, volatile: c.pagesVolatile, fullScans: c.fullScans };
}

/** Runs ksmd batches until full_scans has grown by one (a batch larger than the memory is one pass). */
export function pass(k: V3Kernel): void {
  const target = k.ksm.scan.seqnr + 1;
  for (let i = 0; i < 1000 && k.ksm.scan.seqnr < target; i++) k.ksm.ksmDoScan(k.ksm.pagesToScan);
  if (k.ksm.scan.seqnr < target) throw new Error('no pass completed');
}

/** Every invariant of the memory model and of the merger, recomputed. */
export function problems(k: V3Kernel): string[] {
  return [...checkMemory(k.memory), ...checkMainline2632(k.ksm)];
}
