/**
 * The session of the April 2009 era (v2, seed 000): regions are registered
 * with madvise(MADV_SHAREABLE), kksmd is steered through the four files of
 * /sys/kernel/mm/ksm (`sleep` in microseconds, `pages_to_scan`, `run`), and
 * the era's only counter is pages_shared; the others are derived as the
 * workload schema defines them. kksmd starts unconfigured (every knob 0), so
 * loading does what a user of the time did: set the sleep and the batch,
 * then write 1 to run. There was no unmerge control.
 */
import type { Mm } from '../engine/memory/mm.js';
import { KSM_SYSFS_DIR, MADV_SHAREABLE, MADV_UNSHAREABLE, ksm_control_flags_run } from '../v2-madvise/constants.js';
import { V2Kernel } from '../v2-madvise/kernel.js';
import type { Workload } from '../workload/schema.js';
import type { Range } from '../engine/memory/memory.js';
import { slotRanges } from '../eras/registered.js';
import { markTree2009 } from '../eras/mark-tree-2009.js';
import { echoCall, type StateRange } from './base.js';
import { MadviseSession } from './madvise.js';
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

export class V2Session extends MadviseSession {
  readonly info = V2_INFO;
  readonly support = { unmerge: false };
  readonly counterNames = V2_COUNTERS;
  readonly kernel: V2Kernel;
  protected readonly registerAdvice = { value: MADV_SHAREABLE, name: 'MADV_SHAREABLE' };
  /** MADV_UNSHAREABLE was "not currently implemented": the kernel refuses it. */
  protected readonly unregisterAdvice = { value: MADV_UNSHAREABLE, name: 'MADV_UNSHAREABLE' };
  protected readonly sysfsDir = KSM_SYSFS_DIR;

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

  protected override startup(w: Workload): CallRecord[] {
    return [this.setSleep(STARTUP_SLEEP_MICROS), this.setPagesToScan(w.pagesToScan), this.start()];
  }

  protected markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void {
    markTree2009(this.kernel.ksm, mm, ranges, out);
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
