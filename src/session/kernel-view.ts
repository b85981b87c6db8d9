/**
 * A live view of a kernel that runs elsewhere: the ksmctl host's, whose
 * processes are scripts' and workload guests' rather than a session's own.
 *
 * The view is the era's session adopted onto the era's adapter over that
 * kernel (AdapterSession.adopt), so the counters, knobs, ksmd's state, the
 * era's files, the page states of the memory map and the controls come from
 * the same code as in a private session, and every control is the era's own
 * call (`echo 200 > /sys/kernel/mm/ksm/pages_to_scan`, or the ksmctl
 * program's KSM_START_STOP_KTHREAD on its /dev/ksm fd). What a session
 * knows from its own calls (which process registered what) is read here
 * from the kernel's structures instead (adapter.registeredRanges).
 */
import { PAGE_SIZE } from '../engine/constants.js';
import type { Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import type { EraAdapter, EraFile } from '../eras/adapter.js';
import { AdapterSession } from './adapter-session.js';
import { ksmPagesByNode } from './nodes.js';
import type { CallRecord, NodeInfo, ProcessInfo } from './session.js';

/** The controls of a view: the era's own calls, and ksmd's time on a clock the viewer owns. */
export type ViewAction = 'start' | 'stop' | 'unmerge' | 'pagesToScan' | 'sleep' | 'step' | 'advance';
export const VIEW_ACTIONS: readonly ViewAction[] = ['start', 'stop', 'unmerge', 'pagesToScan', 'sleep', 'step', 'advance'];

export interface ViewActionResult {
  /** The calls made, as the era's program issued them. */
  calls: CallRecord[];
  /** ksmd batches run (step, advance). */
  batches: number;
}

export class KernelView {
  readonly session: AdapterSession;

  constructor(readonly adapter: EraAdapter) {
    this.session = AdapterSession.adopt(adapter);
  }

  private get machine() {
    return this.adapter.machine;
  }

  /** The ranges of a process that the era's KSM code holds as registered. */
  ranges(p: Process): Range[] {
    return this.adapter.registeredRanges(p.mm);
  }

  /** Live processes in pid order, with their registered and merged pages (and /proc/PID/ksm_stat where the era has it). */
  processes(): ProcessInfo[] {
    return this.machine.live().map((p) => {
      let registeredPages = 0;
      let mergedPages = 0;
      for (const r of this.ranges(p)) {
        registeredPages += (r.end - r.start) / PAGE_SIZE;
        mergedPages += this.adapter.countMerged(r);
      }
      const info: ProcessInfo = { pid: p.pid, name: p.name, registeredPages, mergedPages, cowBreaks: p.mm.ksmCowBreaks };
      const stat = this.adapter.procStat(p);
      if (stat !== null) info.stat = stat;
      return info;
    });
  }

  /** The states of a live process's registered pages (PAGE_*), in address order; empty for any other pid. */
  pageStates(pid: number, out?: Uint8Array): Uint8Array {
    const p = this.machine.processes.get(pid);
    if (p === undefined || p.exited) return new Uint8Array(0);
    return this.adapter.pageStates(p.mm, this.ranges(p), out);
  }

  /** Registered ranges of every address space the kernel still scans (an exited process's too, where its registration pins it: v2). */
  private scannedRanges(): Range[] {
    const seen = new Set<Mm>();
    const ranges: Range[] = [];
    for (const p of this.machine.processes.values()) {
      if (seen.has(p.mm)) continue;
      seen.add(p.mm);
      ranges.push(...this.ranges(p));
    }
    return ranges;
  }

  /** Registered present pages minus the distinct frames behind them. */
  pagesSaved(): number {
    return this.adapter.memory.pagesSaved(this.scannedRanges()).saved;
  }

  /** The machine's NUMA nodes and the KSM pages on each. */
  nodes(): NodeInfo[] {
    return ksmPagesByNode(this.adapter.memory, this.scannedRanges(), this.adapter.numaNodes);
  }

  /** The era's files beyond the five counters and the ksmd knobs. */
  files(): EraFile[] {
    return this.adapter.files();
  }

  /**
   * A control, through the era's own API. `value`: pages for pagesToScan,
   * µs for sleep and advance. Where the controls are a program's calls (v1's
   * ksmctl holding /dev/ksm), the first control starts that program, and
   * every call carries its pid.
   */
  act(action: ViewAction, value = 0, maxBatches?: number): ViewActionResult {
    const s = this.session;
    const calls: CallRecord[] = [];
    let batches = 0;
    const control = (f: () => CallRecord) => {
      calls.push(...this.adapter.openControl());
      calls.push(f());
      const pid = this.adapter.controlPid;
      if (pid !== 0) for (let i = 0; i < calls.length; i++) calls[i] = { ...calls[i], text: `[pid ${pid}] ${calls[i].text}` };
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
