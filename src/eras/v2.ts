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
import type { Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import { KSM_SYSFS_DIR, MADV_SHAREABLE, MADV_UNSHAREABLE, ksm_control_flags_run } from '../v2-madvise/constants.js';
import * as v2c from '../v2-madvise/constants.js';
import { V2Kernel } from '../v2-madvise/kernel.js';
import type { BootOptions, Counters, CounterName } from './adapter.js';
import { type CallRecord, echoCall, type Knobs } from './calls.js';
import { markTree2009 } from './mark-tree-2009.js';
import type { StateRange } from './page-states.js';
import { slotRanges } from './registered.js';
import { MadviseAdapter } from './madvise-adapter.js';
import type { EraEntry } from './registry.js';
import { adviceNames, type EraSystem } from './system.js';
import { MadviseSystem } from './system-madvise.js';

/** The sleep a 2009 user set before starting kksmd (the knob starts at 0). */
const STARTUP_SLEEP_MICROS = 20_000;

export class V2Adapter extends MadviseAdapter<V2Kernel> {
  readonly kernel: V2Kernel;
  readonly exposed: ReadonlySet<CounterName> = new Set<CounterName>(['pages_shared']);
  override readonly exitKeepsRegistration = true;
  protected readonly registerAdvice = { value: MADV_SHAREABLE, name: 'MADV_SHAREABLE' };
  /** MADV_UNSHAREABLE was "not currently implemented": the kernel refuses it (EINVAL also with no region). */
  protected readonly unregisterAdvice = { value: MADV_UNSHAREABLE, name: 'MADV_UNSHAREABLE' };
  protected override readonly unregisterNothing = -ERRNO.EINVAL;
  protected readonly sysfsDir = KSM_SYSFS_DIR;
  protected readonly runValues = { run: ksm_control_flags_run, stop: 0 };

  /** A fresh kernel, or one that already runs (the ksmctl host's), which the adapter then drives. */
  constructor(readonly era: EraEntry, kernelOrOpts: V2Kernel | BootOptions = {}) {
    super();
    if (kernelOrOpts instanceof V2Kernel) {
      this.kernel = kernelOrOpts;
    } else {
      this.kernel = new V2Kernel();
      if (kernelOrOpts.ramPages !== undefined) this.memory.ramPages = kernelOrOpts.ramPages;
      if (kernelOrOpts.checksum !== undefined) this.kernel.ksm.useChecksum(kernelOrOpts.checksum);
    }
  }

  get merger() {
    return this.kernel.ksm;
  }

  /** Its slots on the merger's list. */
  registeredRanges(mm: Mm): Range[] {
    return slotRanges(mm, this.kernel.ksm.slots);
  }

  // ------------------------------------------------------------ ksmd

  /** A store of this era refuses bad input by consuming nothing (0), not with an errno. */
  /** `sleep` is in microseconds in this era. */
  protected sleepKnob(micros: number): [string, number] {
    return ['sleep', Math.round(micros)];
  }

  protected override echo(value: number | string, name: string): CallRecord {
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

  unmerge(): CallRecord {
    return { text: 'v2 (April 2009) had no unmerge control', ok: false };
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
