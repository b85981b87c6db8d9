/**
 * The adapter of the April 2009 era (v2, seed 000): a region is registered
 * with madvise(MADV_SHAREABLE); unregistration did not exist, so it is
 * madvise(MADV_UNSHAREABLE), which that kernel refuses (EINVAL); kksmd is
 * steered through the four files of /sys/kernel/mm/ksm (`sleep` in
 * microseconds, `pages_to_scan`, `run`); the era's only counter is
 * pages_shared, the others are derived as the workload schema defines them;
 * one batch is ksm_scan_start with the step's budget; a registered mm is
 * pinned (get_task_mm) and scanned after its process exits.
 */
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import { PAGE_SIZE } from '../engine/constants.js';
import { KSM_SYSFS_DIR, MADV_SHAREABLE, MADV_UNSHAREABLE, ksm_control_flags_run } from '../v2-madvise/constants.js';
import * as v2c from '../v2-madvise/constants.js';
import { V2Kernel } from '../v2-madvise/kernel.js';
import { type BootOptions, type Counters, type CounterName, EraAdapter, type MappedRegion, sysfsNumber } from './adapter.js';
import { type CallRecord, echoCall, type Knobs, madviseCall } from './calls.js';
import { markTree2009 } from './mark-tree-2009.js';
import type { StateRange } from './page-states.js';
import { slotRanges } from './registered.js';
import type { EraEntry } from './registry.js';
import { adviceNames, type EraSystem } from './system.js';
import { MadviseSystem } from './system-madvise.js';

/** The sleep a 2009 user set before starting kksmd (the knob starts at 0). */
const STARTUP_SLEEP_MICROS = 20_000;

export class V2Adapter extends EraAdapter {
  readonly kernel: V2Kernel;
  readonly exposed: ReadonlySet<CounterName> = new Set<CounterName>(['pages_shared']);
  override readonly exitKeepsRegistration = true;

  /** A fresh kernel, or one that already runs (the ksmctl host's), which the adapter then drives. */
  constructor(readonly era: EraEntry, kernelOrOpts: V2Kernel | BootOptions = {}) {
    super();
    if (kernelOrOpts instanceof V2Kernel) {
      this.kernel = kernelOrOpts;
    } else {
      this.kernel = new V2Kernel();
      if (kernelOrOpts.checksum !== undefined) this.kernel.ksm.useChecksum(kernelOrOpts.checksum);
    }
  }

  get machine() {
    return this.kernel.machine;
  }

  get merger() {
    return this.kernel.ksm;
  }

  get ksmd() {
    return this.kernel.ksmd;
  }

  spawn(name: string, uid = 0): Process {
    return this.kernel.spawn(name, uid);
  }

  fork(p: Process): Process | number {
    return this.kernel.fork(p);
  }

  /** The process exits; its registered address space stays pinned by the slots and keeps being scanned. */
  exit(p: Process): void {
    this.kernel.exit(p);
  }

  override madvise(p: Process, addr: number, length: number, advice: number): number {
    return this.kernel.madvise(p, addr, length, advice);
  }

  register(p: Process, addr: number, pages: number, calls?: CallRecord[]): number {
    const r = this.kernel.madvise(p, addr, pages * PAGE_SIZE, MADV_SHAREABLE);
    calls?.push(madviseCall(p, addr, pages * PAGE_SIZE, 'MADV_SHAREABLE', r));
    return r;
  }

  /** What a program of the time could try: the unimplemented MADV_UNSHAREABLE, refused (EINVAL also with no region). */
  unregister(p: Process, regions: readonly MappedRegion[], calls?: CallRecord[]): number {
    for (const { addr, pages } of regions) {
      const r = this.kernel.madvise(p, addr, pages * PAGE_SIZE, MADV_UNSHAREABLE);
      calls?.push(madviseCall(p, addr, pages * PAGE_SIZE, 'MADV_UNSHAREABLE', r));
      if (r < 0) return r;
    }
    return regions.length ? 0 : -ERRNO.EINVAL;
  }

  /** Its slots on the merger's list. */
  registeredRanges(mm: Mm): Range[] {
    return slotRanges(mm, this.kernel.ksm.slots);
  }

  // ------------------------------------------------------------ ksmd

  /** The number a file of /sys/kernel/mm/ksm shows, or -errno. */
  read(name: string): number {
    return sysfsNumber(this.kernel.readSysfs(`${KSM_SYSFS_DIR}/${name}`));
  }

  /** A store of this era refuses bad input by consuming nothing (0), not with an errno. */
  private echo(value: number | string, name: string): CallRecord {
    const path = `${KSM_SYSFS_DIR}/${name}`;
    const r = this.kernel.writeSysfs(path, `${value}\n`);
    if (r === 0) return { text: `echo ${value} > ${path}  (write returned 0: nothing stored)`, ok: false };
    return echoCall(value, path, r);
  }

  knobs(): Knobs {
    return {
      run: (this.read('run') & ksm_control_flags_run) !== 0,
      pagesToScan: this.read('pages_to_scan'),
      sleepMicros: this.read('sleep'),
    };
  }

  override get sysfs(): SysfsDir {
    return this.kernel.sysfs;
  }

  /** sleep (µs), pages_to_scan, run, as `as` writes them; a store that consumes nothing (0) is no error. */
  setKnobs(k: Knobs, as?: Process): number {
    const writes: Array<[string, number]> = [['sleep', Math.round(k.sleepMicros)], ['pages_to_scan', k.pagesToScan], ['run', k.run ? ksm_control_flags_run : 0]];
    for (const [name, value] of writes) {
      const r = this.writeSysfs(name, `${value}\n`, as);
      if (r < 0) return r;
    }
    return 0;
  }

  start(): CallRecord {
    return this.echo(ksm_control_flags_run, 'run');
  }

  stop(): CallRecord {
    return this.echo(0, 'run');
  }

  unmerge(): CallRecord {
    return { text: 'v2 (April 2009) had no unmerge control', ok: false };
  }

  setPagesToScan(n: number): CallRecord {
    return this.echo(n, 'pages_to_scan');
  }

  /** `sleep` is in microseconds in this era. */
  setSleep(micros: number): CallRecord {
    return this.echo(Math.round(micros), 'sleep');
  }

  override writeFile(name: string, value: string): CallRecord {
    return this.echo(value, name);
  }

  /** kksmd starts unconfigured (every knob 0): the sleep, the batch, then run. */
  startup(pagesToScan: number): CallRecord[] {
    return [this.setSleep(STARTUP_SLEEP_MICROS), this.setPagesToScan(pagesToScan), this.start()];
  }

  // ------------------------------------------------------------ counting

  /** pages_shared is the era's own file; the rest are derived. */
  counters(): Counters {
    const c = this.kernel.ksm.counters();
    return {
      pages_shared: this.read('pages_shared'),
      pages_sharing: c.pagesSharing,
      pages_unshared: c.pagesUnshared,
      pages_volatile: c.pagesVolatile,
      full_scans: c.fullScans,
    };
  }

  passes(): number {
    return this.merger.passes();
  }

  pagesScanned(): number {
    return this.merger.stats.pagesScanned;
  }

  cursorMm(): Mm | null {
    return this.merger.scan.slotIndex?.mm ?? null;
  }

  /** One call of ksm_scan_start with the step's budget. */
  scan(pages: number): void {
    this.kernel.ksm.ksmScanStart(pages);
  }

  /** madvise(MADV_SHAREABLE) and the four sysfs files. */
  system(): EraSystem {
    return new MadviseSystem(this, this.kernel, adviceNames(v2c));
  }

  protected markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void {
    markTree2009(this.kernel.ksm, mm, ranges, out);
  }
}
