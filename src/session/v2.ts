/**
 * The session of the April 2009 era (v2, seed 000): regions are registered
 * with madvise(MADV_SHAREABLE), kksmd is steered through the four files of
 * /sys/kernel/mm/ksm (`sleep` in microseconds, `pages_to_scan`, `run`), and
 * the era's only counter is pages_shared; the others are derived as the
 * workload schema defines them. kksmd starts unconfigured (every knob 0), so
 * loading does what a user of the time did: set the sleep and the batch,
 * then write 1 to run. There was no unmerge control.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import type { Process } from '../engine/machine.js';
import type { Mm } from '../engine/memory/mm.js';
import { KSM_SYSFS_DIR, MADV_SHAREABLE, MADV_UNSHAREABLE, ksm_control_flags_run } from '../v2-madvise/constants.js';
import { V2Kernel } from '../v2-madvise/kernel.js';
import type { Workload } from '../workload/schema.js';
import type { Range } from '../engine/memory/memory.js';
import { slotRanges } from './registered.js';
import { markTree2009 } from './tree-2009.js';
import { BaseSession, echoCall, madviseCall, REGION_FLAGS, REGION_PROT, type SessionRegion, type StateRange } from './base.js';
import { type CallRecord, type CounterValue, type Knobs, type SessionEraInfo } from './session.js';

export const V2_COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'] as const;

export const V2_INFO: SessionEraInfo = {
  id: 'v2',
  era: 'v2',
  label: 'v2 2009',
  title: 'madvise(MADV_SHAREABLE) + /sys/kernel/mm/ksm (4 files), April 2009 (seed 000)',
};

/** The sleep a 2009 user set before starting kksmd (the knob starts at 0). */
const STARTUP_SLEEP_MICROS = 20_000;

export class V2Session extends BaseSession {
  readonly info = V2_INFO;
  readonly support = { unmerge: false };
  readonly counterNames = V2_COUNTERS;
  readonly kernel: V2Kernel;

  /** A fresh kernel, or one that already runs (the ksmctl host's), which the session then views and steers. */
  constructor(kernel?: V2Kernel) {
    super();
    this.kernel = kernel ?? new V2Kernel();
  }

  /** What the kernel holds as registered in mm, whoever registered it: its slots on the merger's list. */
  registeredRanges(mm: Mm): Range[] {
    return slotRanges(mm, this.kernel.ksm.slots);
  }
  /** A registered mm is pinned (get_task_mm) and scanned after its process exits. */
  protected override readonly exitKeepsRegistration = true;

  protected get machine() {
    return this.kernel.machine;
  }

  protected get ksmd() {
    return this.kernel.ksmd;
  }

  protected mergeStats() {
    return this.kernel.ksm.stats;
  }

  protected override startup(w: Workload): CallRecord[] {
    return [this.setSleep(STARTUP_SLEEP_MICROS), this.setPagesToScan(w.pagesToScan), this.start()];
  }

  protected spawnProcess(name: string): Process {
    return this.kernel.spawn(name);
  }

  protected mmap(p: Process, bytes: number): number {
    return this.kernel.mmap(p, 0, bytes, REGION_PROT, REGION_FLAGS);
  }

  protected register(p: Process, addr: number, bytes: number) {
    const result = this.kernel.madvise(p, addr, bytes, MADV_SHAREABLE);
    return { result, calls: [madviseCall(p, addr, bytes, 'MADV_SHAREABLE', result)] };
  }

  /** MADV_UNSHAREABLE was "not currently implemented": the kernel refuses it. */
  protected unregister(p: Process, regions: SessionRegion[]) {
    const calls: CallRecord[] = [];
    for (const r of regions) {
      const result = this.kernel.madvise(p, r.addr, r.pages * PAGE_SIZE, MADV_UNSHAREABLE);
      calls.push(madviseCall(p, r.addr, r.pages * PAGE_SIZE, 'MADV_UNSHAREABLE', result));
      if (result < 0) return { ok: false, calls };
    }
    return { ok: true, calls };
  }

  protected exitProcess(p: Process): void {
    this.kernel.exit(p);
  }

  protected markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void {
    markTree2009(this.kernel.ksm, mm, ranges, out);
  }

  private read(name: string): number {
    const v = this.kernel.readSysfs(`${KSM_SYSFS_DIR}/${name}`);
    return typeof v === 'number' ? v : Number(v.trim());
  }

  /** A store of this era refuses bad input by consuming nothing (0), not with an errno. */
  private echo(value: number, name: string): CallRecord {
    const path = `${KSM_SYSFS_DIR}/${name}`;
    const r = this.kernel.writeSysfs(path, `${value}\n`);
    if (r === 0) return { text: `echo ${value} > ${path}  (write returned 0: nothing stored)`, ok: false };
    return echoCall(value, path, r);
  }

  counters(): CounterValue[] {
    const c = this.kernel.ksm.counters();
    return [
      { name: 'pages_shared', value: this.read('pages_shared'), exposed: true },
      { name: 'pages_sharing', value: c.pagesSharing, exposed: false },
      { name: 'pages_unshared', value: c.pagesUnshared, exposed: false },
      { name: 'pages_volatile', value: c.pagesVolatile, exposed: false },
      { name: 'full_scans', value: c.fullScans, exposed: false },
    ];
  }

  knobs(): Knobs {
    return {
      run: (this.read('run') & ksm_control_flags_run) !== 0,
      pagesToScan: this.read('pages_to_scan'),
      sleepMicros: this.read('sleep'),
    };
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
}
