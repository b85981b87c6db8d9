/**
 * The adapter of the mainline era (v3: MADV_MERGEABLE + /sys/kernel/mm/ksm),
 * one for every kernel version of it (Linux 2.6.32, seed 003; 3.9, seed
 * 004; 6.18): a region is registered with madvise(MADV_MERGEABLE) and
 * unregistered with MADV_UNMERGEABLE, ksmd is steered by writing the
 * version's sysfs files as a shell user does (`echo 200 >
 * /sys/kernel/mm/ksm/pages_to_scan`), the counters are those files, and one
 * batch is ksm_do_scan.
 */
import { type Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import { NODE_FLAG, STABLE_FLAG as STABLE_FLAG_2632 } from '../engine/merge/mainline-2632.js';
import { STABLE_FLAG as STABLE_FLAG_3X, UNSTABLE_FLAG } from '../engine/merge/mainline-3x.js';
import { PAGE_SIZE } from '../engine/constants.js';
import * as v3c from '../v3-sysfs/constants.js';
import { KSM_RUN_MERGE, KSM_RUN_STOP, KSM_RUN_UNMERGE, KSM_SYSFS_DIR, MADV_MERGEABLE, MADV_UNMERGEABLE } from '../v3-sysfs/constants.js';
import { type AnyMerger, V3Kernel } from '../v3-sysfs/kernel.js';
import { type KernelVersion, SYSFS_FILES } from '../v3-sysfs/kernels.js';
import { type BootOptions, COUNTER_NAMES, REGION_FLAGS, REGION_PROT, type Counters, type CounterName, type EraFile } from './adapter.js';
import type { CallRecord, Knobs } from './calls.js';
import { PAGE_ABSENT, PAGE_MERGED, PAGE_UNSTABLE, PAGE_VOLATILE, type StateRange } from './page-states.js';
import { mergeableRanges } from './registered.js';
import { MadviseAdapter } from './madvise-adapter.js';
import type { EraEntry } from './registry.js';
import { adviceNames, type EraSystem } from './system.js';
import { MadviseSystem } from './system-madvise.js';

/** The files every tool reads or writes through their own calls (the five counters, the three ksmd knobs). */
const COMMON_FILES = new Set<string>([...COUNTER_NAMES, 'run', 'pages_to_scan', 'sleep_millisecs']);

export class V3Adapter extends MadviseAdapter<V3Kernel<KernelVersion>> {
  readonly kernel: V3Kernel<KernelVersion>;
  readonly exposed: ReadonlySet<CounterName> = new Set(COUNTER_NAMES);
  override readonly canUnmerge = true;
  protected readonly registerAdvice = { value: MADV_MERGEABLE, name: 'MADV_MERGEABLE' };
  protected readonly unregisterAdvice = { value: MADV_UNMERGEABLE, name: 'MADV_UNMERGEABLE' };
  protected readonly sysfsDir = KSM_SYSFS_DIR;
  protected readonly runValues = { run: KSM_RUN_MERGE, stop: KSM_RUN_STOP };

  /** A fresh kernel of the entry's version, or one that already runs (the ksmctl host's), which the adapter then drives. */
  constructor(readonly era: EraEntry, kernelOrOpts: V3Kernel<KernelVersion> | BootOptions = {}) {
    super();
    if (kernelOrOpts instanceof V3Kernel) {
      this.kernel = kernelOrOpts;
    } else {
      this.kernel = new V3Kernel<KernelVersion>({ kernel: era.kernel!, numaNodes: kernelOrOpts.numaNodes ?? 1 });
      if (kernelOrOpts.ramPages !== undefined) this.memory.ramPages = kernelOrOpts.ramPages;
      if (kernelOrOpts.checksum !== undefined) this.kernel.ksm.useChecksum(kernelOrOpts.checksum);
    }
  }

  get merger(): AnyMerger {
    return this.kernel.ksm;
  }

  /** Through the kernel's mmap: on 6.18 a process with prctl(PR_SET_MEMORY_MERGE) gets the new VMA mergeable at once. */
  override mmap(p: Process, pages: number, prot: number = REGION_PROT, flags: number = REGION_FLAGS): number {
    return this.kernel.mmap(p, 0, pages * PAGE_SIZE, prot, flags);
  }

  override get numaNodes(): number {
    return this.kernel.numaNodes;
  }

  override bind(p: Process, addr: number, pages: number, node: number): number {
    return node === 0 ? 0 : this.kernel.mbind(p, addr, pages * PAGE_SIZE, node);
  }

  override reserve(pages: number, procs: number): void {
    super.reserve(pages, procs);
    this.merger.items.reserve(pages + procs + 1);
  }

  /** The VMAs flagged VM_MERGEABLE (by madvise, or by prctl on 6.18). */
  registeredRanges(mm: Mm): Range[] {
    return mergeableRanges(mm);
  }

  // ------------------------------------------------------------ ksmd

  /** sleep_millisecs: the sleep is rounded to whole milliseconds. */
  protected sleepKnob(micros: number): [string, number] {
    return ['sleep_millisecs', Math.round(micros / 1000)];
  }

  knobs(): Knobs {
    return {
      run: (this.read('run') & KSM_RUN_MERGE) !== 0,
      pagesToScan: this.read('pages_to_scan'),
      sleepMicros: this.read('sleep_millisecs') * 1000,
    };
  }

  unmerge(): CallRecord {
    return this.echo(KSM_RUN_UNMERGE, 'run');
  }

  /** The version's other files, in the order of its ksm_attrs array. */
  override files(): EraFile[] {
    const dir = this.kernel.sysfs;
    return SYSFS_FILES[this.kernel.kernel]
      .filter((name) => !COMMON_FILES.has(name))
      .map((name) => {
        const v = this.kernel.readSysfs(`${KSM_SYSFS_DIR}/${name}`);
        return { name, value: typeof v === 'number' ? null : v.trim(), writable: ((dir.mode(name) ?? 0) & 0o200) !== 0 };
      });
  }

  /** Set the batch; 3.9 and later boot with ksmd stopped (run 0): start it. */
  startup(pagesToScan: number): CallRecord[] {
    const calls = [this.setPagesToScan(pagesToScan)];
    if (!this.knobs().run) calls.push(this.start());
    return calls;
  }

  // ------------------------------------------------------------ counting

  counters(): Counters {
    const c = {} as Counters;
    for (const n of COUNTER_NAMES) c[n] = this.read(n);
    return c;
  }

  passes(): number {
    return this.merger.passes();
  }

  pagesScanned(): number {
    return this.merger.stats.pagesScanned;
  }

  scan(pages: number): void {
    this.merger.ksmDoScan(pages);
  }

  cursorMm(): Mm | null {
    return this.merger.scan.mmSlot.mm;
  }

  /** /proc/PID/ksm_stat (6.18), as name -> value. */
  override procStat(p: Process): Record<string, string> | null {
    const text = this.kernel.readProc(p, 'ksm_stat');
    if (typeof text === 'number') return null;
    const out: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const m = /^(\S+?):?\s+(.*)$/.exec(line);
      if (m) out[m[1]] = m[2];
    }
    return out;
  }

  // ------------------------------------------------------------ system calls

  /** madvise(MADV_MERGEABLE), the version's sysfs files, and on 6.18 prctl and /proc/PID/ksm_stat. */
  system(): EraSystem {
    return new MadviseSystem(this, this.kernel, adviceNames(v3c));
  }

  // ------------------------------------------------------------ page states

  /**
   * One walk of the mm_slot's rmap_list (sorted by address) against the
   * ranges. 2.6.32: an item with NODE_FLAG and no STABLE_FLAG is a node of
   * the unstable tree; 3.9 and later: an item with UNSTABLE_FLAG. Any other
   * item of a page not merged is volatile.
   */
  protected markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void {
    const ksm = this.merger;
    const slot = ksm.algorithm === 'mainline-2632' ? ksm.slots.get(mm.id) : ksm.slots.lookup(mm);
    if (slot === undefined || ranges.length === 0) return;
    const unstable = ksm.algorithm === 'mainline-2632'
      ? (flags: number) => (flags & NODE_FLAG) !== 0 && !(flags & STABLE_FLAG_2632)
      : (flags: number) => (flags & UNSTABLE_FLAG) !== 0 && !(flags & STABLE_FLAG_3X);
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
      out[k] = unstable(it.flagsOf(cur)) ? PAGE_UNSTABLE : PAGE_VOLATILE;
    }
  }
}
