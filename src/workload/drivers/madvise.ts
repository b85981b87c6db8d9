/**
 * What the drivers of the two madvise eras (v2.ts, April 2009; v3.ts,
 * mainline) do alike: a workload process by name, and its regions
 * registered or unregistered with one madvise each (the era names the advice).
 */
import { PAGE_SIZE } from '../../engine/constants.js';
import type { Process } from '../../engine/machine.js';

/** A workload process and the regions it mapped, in the workload's order. */
export interface Proc {
  p: Process;
  regions: Array<{ addr: number; pages: number }>;
}

/** What these helpers need of the era's kernel: its madvise(2). */
interface Madvise {
  madvise(p: Process, addr: number, length: number, advice: number): number;
}

/** The process of that name; an unknown name is the workload's error. */
export function procOf(procs: ReadonlyMap<string, Proc>, name: string): Proc {
  const p = procs.get(name);
  if (p === undefined) throw new Error(`no process ${name}`);
  return p;
}

/** madvise of one region: 0 or -errno. */
export function madviseRegion(k: Madvise, { p, regions }: Proc, region: number, advice: number): number {
  const r = regions[region];
  return k.madvise(p, r.addr, r.pages * PAGE_SIZE, advice);
}

/** madvise of every region in turn, stopping at the first that fails: 0 or that -errno. */
export function madviseRegions(k: Madvise, { p, regions }: Proc, advice: number): number {
  for (const r of regions) {
    const err = k.madvise(p, r.addr, r.pages * PAGE_SIZE, advice);
    if (err) return err;
  }
  return 0;
}
