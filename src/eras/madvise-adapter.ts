/**
 * What the adapters of the two madvise eras (v2.ts, April 2009; v3.ts,
 * mainline) do alike: processes, ksmd and the sysfs directory are the
 * kernel's own, a region is registered and unregistered with one madvise
 * each (the era names the advice), a knob is a file of
 * /sys/kernel/mm/ksm written as a shell user does, and a number is read
 * from the same directory. Each era says which advice, which files and how
 * its stores answer.
 */
import type { Ksmd } from '../engine/clock.js';
import { PAGE_SIZE } from '../engine/constants.js';
import type { Machine, Process } from '../engine/machine.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import { EraAdapter, type MappedRegion, sysfsNumber } from './adapter.js';
import { type CallRecord, echoCall, type Knobs, madviseCall } from './calls.js';

/** What these adapters need of their kernel (V2Kernel, V3Kernel). */
export interface MadviseKernel {
  readonly machine: Machine;
  readonly ksmd: Ksmd;
  readonly sysfs: SysfsDir;
  spawn(name: string, uid?: number): Process;
  fork(p: Process): Process | number;
  exit(p: Process): void;
  madvise(p: Process, addr: number, length: number, advice: number): number;
  readSysfs(path: string, p?: Process): string | number;
  writeSysfs(path: string, text: string, p?: Process): number;
}

/** An advice value and its name as strace prints it. */
export interface Advice {
  value: number;
  name: string;
}

export abstract class MadviseAdapter<K extends MadviseKernel> extends EraAdapter {
  abstract readonly kernel: K;
  /** The madvise that registers a region, and the one that unregisters it. */
  protected abstract readonly registerAdvice: Advice;
  protected abstract readonly unregisterAdvice: Advice;
  /** The era's /sys/kernel/mm/ksm. */
  protected abstract readonly sysfsDir: string;
  /** What unregistering a process with no region answers (0, or the era's refusal). */
  protected readonly unregisterNothing: number = 0;
  /** The sleep knob's file and its value for a sleep of `micros` (the eras' units differ). */
  protected abstract sleepKnob(micros: number): [string, number];
  /** The run knob's values: ksmd running, and stopped. */
  protected abstract readonly runValues: { run: number; stop: number };

  get machine() {
    return this.kernel.machine;
  }

  get ksmd() {
    return this.kernel.ksmd;
  }

  override get sysfs(): SysfsDir {
    return this.kernel.sysfs;
  }

  spawn(name: string, uid = 0): Process {
    return this.kernel.spawn(name, uid);
  }

  fork(p: Process): Process | number {
    return this.kernel.fork(p);
  }

  exit(p: Process): void {
    this.kernel.exit(p);
  }

  override madvise(p: Process, addr: number, length: number, advice: number): number {
    return this.kernel.madvise(p, addr, length, advice);
  }

  register(p: Process, addr: number, pages: number, calls?: CallRecord[]): number {
    const { value, name } = this.registerAdvice;
    const r = this.kernel.madvise(p, addr, pages * PAGE_SIZE, value);
    calls?.push(madviseCall(p, addr, pages * PAGE_SIZE, name, r));
    return r;
  }

  /** One madvise a region, stopping at the first that fails. */
  unregister(p: Process, regions: readonly MappedRegion[], calls?: CallRecord[]): number {
    const { value, name } = this.unregisterAdvice;
    for (const { addr, pages } of regions) {
      const r = this.kernel.madvise(p, addr, pages * PAGE_SIZE, value);
      calls?.push(madviseCall(p, addr, pages * PAGE_SIZE, name, r));
      if (r < 0) return r;
    }
    return regions.length ? 0 : this.unregisterNothing;
  }

  /** The number a file of /sys/kernel/mm/ksm shows, or -errno. */
  read(name: string): number {
    return sysfsNumber(this.kernel.readSysfs(`${this.sysfsDir}/${name}`));
  }

  /** `echo VALUE > FILE` as root: the call. */
  protected echo(value: number | string, name: string): CallRecord {
    const path = `${this.sysfsDir}/${name}`;
    return echoCall(value, path, this.kernel.writeSysfs(path, `${value}\n`));
  }

  /** The sleep, pages_to_scan and run files written in that order by `as`. */
  setKnobs(k: Knobs, as?: Process): number {
    const writes: Array<[string, number]> = [this.sleepKnob(k.sleepMicros), ['pages_to_scan', k.pagesToScan], ['run', k.run ? this.runValues.run : this.runValues.stop]];
    for (const [name, value] of writes) {
      const r = this.writeSysfs(name, `${value}\n`, as);
      if (r < 0) return r;
    }
    return 0;
  }

  start(): CallRecord {
    return this.echo(this.runValues.run, 'run');
  }

  stop(): CallRecord {
    return this.echo(this.runValues.stop, 'run');
  }

  setPagesToScan(n: number): CallRecord {
    return this.echo(n, 'pages_to_scan');
  }

  setSleep(micros: number): CallRecord {
    const [name, value] = this.sleepKnob(micros);
    return this.echo(value, name);
  }

  override writeFile(name: string, value: string): CallRecord {
    return this.echo(value, name);
  }
}
