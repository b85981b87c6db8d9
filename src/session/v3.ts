/**
 * The session of the mainline era (v3, Linux 2.6.32, seed 003): regions are
 * registered with madvise(MADV_MERGEABLE), ksmd is steered by writing
 * /sys/kernel/mm/ksm files as a shell user does (`echo 200 > .../pages_to_scan`),
 * and the counters are read from the same directory.
 */
import type { Mm } from '../engine/memory/mm.js';
import { NODE_FLAG, STABLE_FLAG } from '../engine/merge/mainline-2632.js';
import { KSM_RUN_MERGE, KSM_RUN_STOP, KSM_RUN_UNMERGE, KSM_SYSFS_DIR, MADV_MERGEABLE, MADV_UNMERGEABLE } from '../v3-sysfs/constants.js';
import { V3Kernel } from '../v3-sysfs/kernel.js';
import { PAGE_SIZE } from '../engine/constants.js';
import type { Range } from '../engine/memory/memory.js';
import { mergeableRanges } from '../eras/registered.js';
import { echoCall, type StateRange } from './base.js';
import { MadviseSession } from './madvise.js';
import { type CallRecord, type CounterValue, type Knobs, PAGE_ABSENT, PAGE_MERGED, PAGE_UNSTABLE, PAGE_VOLATILE, type SessionEraInfo } from './session.js';

export const V3_COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'] as const;

export const V3_INFO: SessionEraInfo = {
  id: 'v3',
  era: 'v3',
  label: 'v3 2.6.32',
  title: 'madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, mainline Linux 2.6.32 (seed 003)',
};

export class V3Session extends MadviseSession {
  readonly info = V3_INFO;
  readonly support = { unmerge: true };
  readonly counterNames = V3_COUNTERS;
  readonly kernel: V3Kernel;
  protected readonly registerAdvice = { value: MADV_MERGEABLE, name: 'MADV_MERGEABLE' };
  protected readonly unregisterAdvice = { value: MADV_UNMERGEABLE, name: 'MADV_UNMERGEABLE' };
  protected readonly sysfsDir = KSM_SYSFS_DIR;

  /** A fresh 2.6.32 kernel, or one that already runs (the ksmctl host's), which the session then views and steers. */
  constructor(kernel?: V3Kernel) {
    super();
    this.kernel = kernel ?? new V3Kernel();
  }

  /** What the kernel holds as registered in mm, whoever registered it: the VMAs flagged VM_MERGEABLE. */
  registeredRanges(mm: Mm): Range[] {
    return mergeableRanges(mm);
  }

  /**
   * 2.6.32's tracking: one walk of the mm_slot's rmap_list (sorted by
   * address) against the ranges. An item with NODE_FLAG and no STABLE_FLAG
   * is a node of the unstable tree; any other item is volatile (its page is
   * met by the scanner but not merged).
   */
  protected markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void {
    const ksm = this.kernel.ksm;
    const slot = ksm.slots.get(mm.id);
    if (slot === undefined || ranges.length === 0) return;
    const it = ksm.items;
    let ri = 0;
    for (let cur = it.lnext[slot.rmapList]; cur !== slot.rmapList; cur = it.lnext[cur]) {
      const addr = it.addr(cur);
      while (ri < ranges.length && addr >= ranges[ri].end) ri++;
      if (ri === ranges.length) break;
      const r = ranges[ri];
      if (addr < r.start) continue;
      const k = r.offset + (addr - r.start) / PAGE_SIZE;
      const s = out[k];
      if (s === PAGE_MERGED || s === PAGE_ABSENT) continue;
      const flags = it.flagsOf(cur);
      out[k] = flags & NODE_FLAG && !(flags & STABLE_FLAG) ? PAGE_UNSTABLE : PAGE_VOLATILE;
    }
  }

  private echo(value: number, name: string): CallRecord {
    const path = `${KSM_SYSFS_DIR}/${name}`;
    return echoCall(value, path, this.kernel.writeSysfs(path, `${value}\n`));
  }

  counters(): CounterValue[] {
    return V3_COUNTERS.map((name) => ({ name, value: this.read(name), exposed: true }));
  }

  knobs(): Knobs {
    return {
      run: (this.read('run') & KSM_RUN_MERGE) !== 0,
      pagesToScan: this.read('pages_to_scan'),
      sleepMicros: this.read('sleep_millisecs') * 1000,
    };
  }

  start(): CallRecord {
    return this.echo(KSM_RUN_MERGE, 'run');
  }

  stop(): CallRecord {
    return this.echo(KSM_RUN_STOP, 'run');
  }

  unmerge(): CallRecord {
    return this.echo(KSM_RUN_UNMERGE, 'run');
  }

  setPagesToScan(n: number): CallRecord {
    return this.echo(n, 'pages_to_scan');
  }

  /** sleep_millisecs: the sleep is rounded to whole milliseconds. */
  setSleep(micros: number): CallRecord {
    return this.echo(Math.round(micros / 1000), 'sleep_millisecs');
  }
}
