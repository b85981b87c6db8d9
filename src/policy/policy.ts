/**
 * A tuning policy: a user-space daemon (or a kernel feature switched on from
 * user space) that steers ksmd while guests come and go. Each policy of
 * registry.ts is a small controller in its own file, ported from its source
 * with its defaults, that
 *
 * - reads only what its daemon read: the host's memory (/proc/meminfo's
 *   MemTotal, MemFree/MemAvailable, AnonPages, the guests' RSS) through
 *   `HostView`, and the era's own files (`adapter.readSysfs`);
 * - acts only through the era's own interface, at its own period on virtual
 *   time: `Controls` turns each knob write into the era's call (an `echo N >
 *   /sys/kernel/mm/ksm/FILE` on v2 and v3; on v1 the writes of one decision
 *   become one KSM_START_STOP_KTHREAD from the ksmctl program, as the 2009
 *   ksmtuned's `ksmctl start NPAGES SLEEP` sent it), and every call lands in
 *   the run's trace with its time, as the real daemon would have made it.
 *
 * Mapping of the knobs onto the eras (docs/policies.md):
 *   run             v3/v2: `run` (1/0); v1: the struct's flags (KSM_RUN)
 *   pages_to_scan   v3/v2: `pages_to_scan`; v1: the struct's pages_to_scan
 *   sleep_millisecs v3: `sleep_millisecs`; v2: `sleep` in µs (ms x 1000);
 *                   v1: the struct's sleep in µs
 *   any other file  written as is where the era has it; a policy that needs
 *                   one the era lacks is refused for that era (`refuse`).
 */
import type { EraAdapter } from '../eras/adapter.js';
import type { CallRecord, Knobs } from '../eras/calls.js';
import { PAGE_SIZE } from '../engine/constants.js';

/** kB in a page, as the daemons read /proc/meminfo (kB) and think in pages. */
export const KB_PER_PAGE = PAGE_SIZE / 1024;

/** What a daemon sees of the machine (what /proc/meminfo and ps told it), in 4 KiB pages. */
export interface HostView {
  /** MemTotal. */
  readonly ramPages: number;
  /** Pages in use: distinct frames, a merged page counted once (AnonPages). */
  inUsePages(): number;
  /** MemFree / MemAvailable: RAM minus the pages in use (0 when overcommitted). */
  freePages(): number;
  /** The guests' resident pages, a shared page counted in every guest that maps it (ps -o rsz summed). */
  committedPages(): number;
  /** The guests' memory as mapped (MOM's ksm_shareable: the sum of their memory sizes). */
  guestPages(): number;
}

/** One call of a daemon, at its virtual time. */
export interface TraceEntry {
  /** ms of virtual time. */
  t: number;
  /** Who made it: the policy's name. */
  by: string;
  text: string;
  ok: boolean;
}

/**
 * The knob writes of one decision, turned into the era's calls when
 * `flush` runs (a daemon's wake-up ends with a flush). Writes are kept in
 * the daemon's order.
 */
export class Controls {
  private pending: Array<[name: string, value: string]> = [];

  constructor(
    readonly adapter: EraAdapter,
    private readonly log: (calls: CallRecord[]) => void,
  ) {}

  /** Whether the era has a sysfs file of this name (v1 has none). */
  has(name: string): boolean {
    return typeof this.adapter.readSysfs(name) === 'string';
  }

  /** A file's value as a number (the daemon's `cat`), or null when the era lacks it. */
  read(name: string): number | null {
    const v = this.adapter.readSysfs(name);
    return typeof v === 'string' ? Number(v.trim().split(/\s+/)[0]) : null;
  }

  /** ksmd's knobs as the era holds them (run, pages_to_scan, sleep in µs). */
  knobs(): Knobs {
    return this.adapter.knobs();
  }

  /** `echo VALUE > /sys/kernel/mm/ksm/NAME`, issued at the next flush. */
  write(name: string, value: number | string): void {
    this.pending.push([name, String(value)]);
  }

  /** Issues the pending writes as the era's calls, in order; returns them. */
  flush(): CallRecord[] {
    const writes = this.pending;
    this.pending = [];
    if (writes.length === 0) return [];
    const a = this.adapter;
    let calls: CallRecord[];
    if (a.sysfs === null) {
      // No sysfs (v1): the decision's knobs as one KSM_START_STOP_KTHREAD with the whole struct.
      const k = a.knobs();
      for (const [name, value] of writes) {
        if (name === 'run') k.run = Number(value) === 1;
        else if (name === 'pages_to_scan') k.pagesToScan = Number(value);
        else if (name === 'sleep_millisecs') k.sleepMicros = Number(value) * 1000;
      }
      calls = a.controlKnobs(k);
    } else {
      calls = writes.map(([name, value]) => {
        // The era's own run and sleep files (v2's `sleep` is in µs).
        if (name === 'sleep_millisecs') return a.setSleep(Number(value) * 1000);
        if (name === 'run' && value === '1') return a.start();
        if (name === 'run' && value === '0') return a.stop();
        if (name === 'pages_to_scan') return a.setPagesToScan(Number(value));
        return a.writeFile(name, value);
      });
    }
    this.log(calls);
    return calls;
  }
}

/** What a policy is handed at every wake-up. */
export interface PolicyContext {
  readonly host: HostView;
  readonly controls: Controls;
  /** Virtual time, ms. */
  now(): number;
}

export interface Policy {
  /** At time 0, before anything starts: the daemon starts (reads its initial state, may write). */
  start(ctx: PolicyContext): void;
  /** When it next wakes (ms of virtual time), or null for never (until an event). */
  nextWake(): number | null;
  /** Its periodic work, at nextWake(). */
  wake(ctx: PolicyContext): void;
  /** A guest started (the Kata throttler's kick); most daemons do not listen. */
  guestStarted?(ctx: PolicyContext): void;
}

/** A policy of the registry. */
export interface PolicyEntry {
  /** The spelling of --policies. */
  name: string;
  /** One line: what it is. */
  title: string;
  /** Where it comes from (the daemon, its file, its defaults). */
  source: string;
  /** Why it cannot run on this era (one line), or null. */
  refuse(adapter: EraAdapter): string | null;
  create(): Policy;
}

/** A refusal for a file the era lacks: one line naming the era and the file. */
export function lacks(adapter: EraAdapter, files: readonly string[], policy: string, why: string): string | null {
  const missing = files.filter((f) => typeof adapter.readSysfs(f) !== 'string');
  if (missing.length === 0) return null;
  const where = adapter.sysfs === null ? 'has no /sys/kernel/mm/ksm (/dev/ksm ioctls only)' : `has no /sys/kernel/mm/ksm/${missing.join(', ')}`;
  return `policy ${policy} needs ${files.join(', ')} (${why}); era ${adapter.era.id} ${where}`;
}
