/** Small worlds for the 3.9 and 6.18 kernels of the v3 era: processes with pages of given contents. */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import { checkMainline3x } from '../../src/engine/merge/mainline-3x-invariants.js';
import { Mainline618 } from '../../src/engine/merge/mainline-618.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { MADV_MERGEABLE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { internPage } from '../../src/workload/fill.js';

export const seed = (s: number): SinglePage => ({ kind: 'seed', seed: s });
export const fill = (b: number): SinglePage => ({ kind: 'fill', value: b });
export const zero: SinglePage = { kind: 'zero' };

export type Later = '3.9' | '6.18';

export interface Region {
  p: Process;
  addr: number;
  pages: number;
}

/** Maps `pages` (written in order) in a new region of p; on `node` if given. */
export function region(k: V3Kernel<Later>, p: Process, pages: SinglePage[], node = 0): Region {
  const addr = k.mmap(p, 0, pages.length * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (node !== 0 && k.mbind(p, addr, pages.length * PAGE_SIZE, node) !== 0) throw new Error('mbind failed');
  pages.forEach((c, j) => k.memory.writePage(p.mm, addr + j * PAGE_SIZE, internPage(k.memory, c)));
  return { p, addr, pages: pages.length };
}

/**
 * One process per layout, each with one region, registered in order. Under
 * 6.18 smart scanning is switched off, as the kernel oracle runs the kernel.
 */
export function world<K extends Later>(kernel: K, layouts: SinglePage[][], opts: { register?: boolean; numaNodes?: number; nodes?: number[] } = {}) {
  const k = new V3Kernel<K>({ kernel, numaNodes: opts.numaNodes ?? 1 });
  if (kernel === '6.18') k.writeSysfs('smart_scan', '0\n');
  const procs = layouts.map((pages, i) => region(k as V3Kernel<Later>, k.spawn(`p${i + 1}`), pages, opts.nodes?.[i] ?? 0));
  if (opts.register !== false) for (const r of procs) k.madvise(r.p, r.addr, r.pages * PAGE_SIZE, MADV_MERGEABLE);
  return { k, procs };
}

/** Writes page j of a region as its process. */
export function write(k: V3Kernel<Later>, r: Region, j: number, c: SinglePage): void {
  const e = k.memory.writePage(r.p.mm, r.addr + j * PAGE_SIZE, internPage(k.memory, c));
  if (e !== 0) throw new Error(`write failed: ${e}`);
}

/** Runs ksmd batches until full_scans has grown by one. */
export function pass(k: V3Kernel<Later>, n = 1): void {
  for (let i = 0; i < n; i++) {
    const target = k.ksm.scan.seqnr + 1;
    for (let j = 0; j < 100000 && k.ksm.scan.seqnr < target; j++) k.ksm.ksmDoScan(1 << 20);
    if (k.ksm.scan.seqnr < target) throw new Error('no pass completed');
  }
}

export interface Counters {
  shared: number;
  sharing: number;
  unshared: number;
  volatile: number;
  fullScans: number;
}

/** The five counters, as read from the sysfs files. */
export function counters(k: V3Kernel<Later>): Counters {
  const r = (n: string) => Number(String(k.readSysfs(n)).trim());
  return { shared: r('pages_shared'), sharing: r('pages_sharing'), unshared: r('pages_unshared'), volatile: r('pages_volatile'), fullScans: r('full_scans') };
}

/** A sysfs file as a number. */
export function sysfsNumber(k: V3Kernel<Later>, name: string): number {
  return Number(String(k.readSysfs(name)).trim());
}

/** Every invariant of the memory model and of the merger, recomputed. */
export function problems(k: V3Kernel<Later>): string[] {
  const pins = new Map<number, number>();
  if (k.ksm instanceof Mainline618 && k.ksm.zeroPageFrame) pins.set(k.ksm.zeroPageFrame, 1);
  return [...checkMemory(k.memory, pins), ...checkMainline3x(k.ksm)];
}

/** pages_saved over the regions, measured from memory. */
export function saved(k: V3Kernel<Later>, rs: Region[]): number {
  return k.memory.pagesSaved(rs.filter((r) => !r.p.exited).map((r) => ({ mm: r.p.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE }))).saved;
}
