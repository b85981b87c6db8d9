/**
 * A live view of a kernel that runs elsewhere: the ksmctl host's, whose
 * processes are scripts' and workload guests' rather than a session's own.
 *
 * The era's session is adopted onto that kernel (V1Session.adopt, or the
 * V2Session/V3Session constructors given the kernel), so the counters,
 * knobs, ksmd's state, the page states of the memory map and the controls
 * come from the same code as in a private session, and every control is the
 * era's own call (`echo 200 > /sys/kernel/mm/ksm/pages_to_scan`, or the
 * ksmctl program's KSM_START_STOP_KTHREAD on its /dev/ksm fd). What a
 * session knows from its own calls (which process registered what) is read
 * here from the kernel's structures instead (`registeredRanges`).
 */
import type { Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import { V1Kernel } from '../v1-ioctl/kernel.js';
import { V2Kernel } from '../v2-madvise/kernel.js';
import { V3Kernel } from '../v3-sysfs/kernel.js';
import { PAGE_SIZE } from '../engine/constants.js';
import type { BaseSession } from './base.js';
import type { CallRecord, ProcessInfo } from './session.js';
import { V1Session } from './v1.js';
import { V2Session } from './v2.js';
import { V3Session } from './v3.js';

export type ViewKernel = V1Kernel | V2Kernel | V3Kernel;

/** The controls of a view: the era's own calls, and ksmd's time on a clock the viewer owns. */
export type ViewAction = 'start' | 'stop' | 'unmerge' | 'pagesToScan' | 'sleep' | 'step' | 'advance';
export const VIEW_ACTIONS: readonly ViewAction[] = ['start', 'stop', 'unmerge', 'pagesToScan', 'sleep', 'step', 'advance'];

export interface ViewActionResult {
  /** The calls made, as the era's program issued them. */
  calls: CallRecord[];
  /** ksmd batches run (step, advance). */
  batches: number;
}

type AdoptedSession = BaseSession & { registeredRanges(mm: Mm): Range[] };

export class KernelView {
  readonly session: AdoptedSession;

  /** `abi`: for a /dev/ksm kernel with both drivers loaded, the one to view (default: the 2009 one if loaded). */
  constructor(
    readonly kernel: ViewKernel,
    abi?: '2008' | '2009',
  ) {
    if (kernel instanceof V1Kernel) {
      const s = new V1Session(abi ?? (kernel.ksm2009 !== null ? '2009' : '2008'));
      s.adopt(kernel);
      this.session = s;
    } else if (kernel instanceof V2Kernel) {
      this.session = new V2Session(kernel);
    } else if (kernel instanceof V3Kernel) {
      // The session's page states read 2.6.32's rmap_items; later mergers have their own.
      if (kernel.kernel !== '2.6.32') throw new Error(`no live view of Linux ${kernel.kernel} yet (2.6.32 only)`);
      this.session = new V3Session(kernel);
    } else {
      throw new Error('not a kernel of a known era');
    }
  }

  private get machine() {
    return this.kernel.machine;
  }

  /** The ranges of a process that the era's KSM code holds as registered. */
  ranges(p: Process): Range[] {
    return this.session.registeredRanges(p.mm);
  }

  /** Live processes in pid order, with their registered and merged pages. */
  processes(): ProcessInfo[] {
    return this.machine.live().map((p) => {
      let registeredPages = 0;
      let mergedPages = 0;
      for (const r of this.ranges(p)) {
        registeredPages += (r.end - r.start) / PAGE_SIZE;
        mergedPages += this.session.countMerged(r);
      }
      return { pid: p.pid, name: p.name, registeredPages, mergedPages, cowBreaks: p.mm.ksmCowBreaks };
    });
  }

  /** The states of a live process's registered pages (PAGE_*), in address order; empty for any other pid. */
  pageStates(pid: number, out?: Uint8Array): Uint8Array {
    const p = this.machine.processes.get(pid);
    if (p === undefined || p.exited) return new Uint8Array(0);
    return this.session.statesOf(p.mm, this.ranges(p), out);
  }

  /**
   * Registered present pages minus the distinct frames behind them, over
   * every address space the kernel still scans (an exited process's too,
   * where its registration pins it: v2).
   */
  pagesSaved(): number {
    const seen = new Set<Mm>();
    const ranges: Range[] = [];
    for (const p of this.machine.processes.values()) {
      if (seen.has(p.mm)) continue;
      seen.add(p.mm);
      ranges.push(...this.ranges(p));
    }
    return this.kernel.memory.pagesSaved(ranges).saved;
  }

  /**
   * A control, through the era's own API. `value`: pages for pagesToScan,
   * µs for sleep and advance. On v1 the first control starts the ksmctl
   * program that holds /dev/ksm, and its calls carry its pid.
   */
  act(action: ViewAction, value = 0, maxBatches?: number): ViewActionResult {
    const s = this.session;
    const calls: CallRecord[] = [];
    let batches = 0;
    const control = (f: () => CallRecord) => {
      if (s instanceof V1Session) calls.push(...s.openControl());
      calls.push(f());
      if (s instanceof V1Session) for (let i = 0; i < calls.length; i++) calls[i] = { ...calls[i], text: `[pid ${s.controlPid}] ${calls[i].text}` };
    };
    switch (action) {
      case 'start':
        control(() => s.start());
        break;
      case 'stop':
        control(() => s.stop());
        break;
      case 'unmerge':
        if (!s.support.unmerge) throw new Error(`${s.info.label} has no unmerge control`);
        control(() => s.unmerge());
        break;
      case 'pagesToScan':
        control(() => s.setPagesToScan(value));
        break;
      case 'sleep':
        control(() => s.setSleep(value));
        break;
      case 'step':
        batches = s.step();
        break;
      case 'advance':
        batches = s.advance(value, maxBatches);
        break;
    }
    return { calls, batches };
  }
}
