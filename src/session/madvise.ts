/**
 * What the sessions of the two madvise eras (v2.ts, April 2009; v3.ts,
 * mainline) do alike: processes, regions and ksmd are the kernel's own, a
 * region is registered and unregistered with one madvise each (the era names
 * the advice), and a knob or counter is the number its sysfs file shows.
 */
import type { Ksmd } from '../engine/clock.js';
import { PAGE_SIZE } from '../engine/constants.js';
import type { Machine, Process } from '../engine/machine.js';
import type { MergeStats } from '../engine/merge/stats.js';
import { BaseSession, madviseCall, REGION_FLAGS, REGION_PROT, type SessionRegion } from './base.js';
import type { CallRecord } from './session.js';

/** What a madvise era's session needs of its kernel (V2Kernel, V3Kernel). */
export interface MadviseKernel {
  readonly machine: Machine;
  readonly ksmd: Ksmd;
  readonly ksm: { readonly stats: MergeStats };
  spawn(name: string): Process;
  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number;
  madvise(p: Process, addr: number, length: number, advice: number): number;
  exit(p: Process): void;
  readSysfs(path: string): string | number;
}

/** An advice value and its name as strace prints it. */
export interface Advice {
  value: number;
  name: string;
}

export abstract class MadviseSession extends BaseSession {
  abstract readonly kernel: MadviseKernel;
  /** The madvise that registers a region, and the one that unregisters it. */
  protected abstract readonly registerAdvice: Advice;
  protected abstract readonly unregisterAdvice: Advice;
  /** The era's /sys/kernel/mm/ksm. */
  protected abstract readonly sysfsDir: string;

  protected get machine() {
    return this.kernel.machine;
  }

  protected get ksmd() {
    return this.kernel.ksmd;
  }

  protected mergeStats() {
    return this.kernel.ksm.stats;
  }

  protected spawnProcess(name: string): Process {
    return this.kernel.spawn(name);
  }

  protected mmap(p: Process, bytes: number): number {
    return this.kernel.mmap(p, 0, bytes, REGION_PROT, REGION_FLAGS);
  }

  protected register(p: Process, addr: number, bytes: number) {
    const { value, name } = this.registerAdvice;
    const result = this.kernel.madvise(p, addr, bytes, value);
    return { result, calls: [madviseCall(p, addr, bytes, name, result)] };
  }

  /** One madvise a region, stopping at the first that fails. */
  protected unregister(p: Process, regions: SessionRegion[]) {
    const { value, name } = this.unregisterAdvice;
    const calls: CallRecord[] = [];
    for (const r of regions) {
      const result = this.kernel.madvise(p, r.addr, r.pages * PAGE_SIZE, value);
      calls.push(madviseCall(p, r.addr, r.pages * PAGE_SIZE, name, result));
      if (result < 0) return { ok: false, calls };
    }
    return { ok: true, calls };
  }

  protected exitProcess(p: Process): void {
    this.kernel.exit(p);
  }

  /** The number a file of the era's sysfs directory shows, or -errno. */
  protected read(name: string): number {
    const v = this.kernel.readSysfs(`${this.sysfsDir}/${name}`);
    return typeof v === 'number' ? v : Number(v.trim());
  }
}
