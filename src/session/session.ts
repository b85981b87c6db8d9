/**
 * An interactive session with one era's KSM: what the TUI (and later the
 * script host and other live tools) talk to, so that they never depend on
 * which era is running.
 *
 * A session owns one simulated machine of its era. It loads a workload's
 * processes and registers them through the era's own calls, lets virtual
 * time pass with ksmd running (the caller decides when: nothing here reads
 * real time), and steers ksmd through the era's own control API. Every
 * control returns the call exactly as a program of that era would issue it:
 *
 *   v3, v2   `echo 200 > /sys/kernel/mm/ksm/pages_to_scan`
 *   v1       `ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20000, pages_to_scan=200, flags=1}) = 0`
 *
 * Adding an era: extend `BaseSession` (src/session/base.ts), which does the
 * era-independent work (processes, page writes, churn, per-process stats,
 * merged pages), and implement its abstract members with the era's front end;
 * then list it in src/session/eras.ts. src/session/v3.ts is the example.
 */
import type { Workload } from '../workload/schema.js';

/** Per-page states of the memory map (`pageStates`). */
export const PAGE_ABSENT = 0;
/** Present, but the scanner has not met it yet (no tracking item). */
export const PAGE_UNSCANNED = 1;
/** Tracked by the scanner, but changing or not yet stable enough to be in a tree. */
export const PAGE_VOLATILE = 2;
/** In the unstable tree (2.6.32: an rmap_item with NODE_FLAG and no STABLE_FLAG). */
export const PAGE_UNSTABLE = 3;
/** Mapped to a KSM page. */
export const PAGE_MERGED = 4;
export type PageState = 0 | 1 | 2 | 3 | 4;

/** How the memory map names a state: in full, and short for narrow legends. */
export interface StateLabel {
  long: string;
  short: string;
}

/** The labels of the tree mergers' states, by PAGE_* value. */
export const PAGE_STATE_LABELS: readonly StateLabel[] = [
  { long: 'not present', short: 'absent' },
  { long: 'not yet scanned', short: 'unscanned' },
  { long: 'volatile', short: 'volatile' },
  { long: 'in the unstable tree', short: 'unstable' },
  { long: 'merged into a KSM page', short: 'merged' },
];

/** One line of the call log: a call as the era's program issued it, and whether it succeeded. */
export interface CallRecord {
  /** The call, in the era's own form, with its result where the form has one (`= 0`, `= -1 EINVAL (...)`). */
  text: string;
  /** False when the call failed (a -errno result, a write error). */
  ok: boolean;
}

/** A counter of the era, by the name the workload schema uses. */
export interface CounterValue {
  name: string;
  value: number;
  /** True when the era exposed this counter to user space; false when derived (SCHEMA.md). */
  exposed: boolean;
}

/** The ksmd knobs as the era holds them. */
export interface Knobs {
  /** ksmd is set to run (run = 1, flags = 1). */
  run: boolean;
  pagesToScan: number;
  /** Sleep between batches, in microseconds (the eras' units differ: ms in sysfs, µs in v1). */
  sleepMicros: number;
}

/** What ksmd is doing: stopped by its knob, waiting for work, or sleeping between batches. */
export type KsmdState = 'stopped' | 'waiting' | 'sleeping';

/** Work done so far, for rates (not kernel counters). */
export interface WorkTotals {
  /** Pages the scanner has visited. */
  pagesScanned: number;
  /** Successful merges (an address mapped onto a KSM page). */
  merges: number;
  /** ksmd batches run. */
  batches: number;
}

export interface ProcessInfo {
  pid: number;
  name: string;
  /** Pages of the regions registered through a call the era accepted. */
  registeredPages: number;
  /** Of those, the pages mapped to a KSM page. */
  mergedPages: number;
  /** Copy-on-write faults this process took on KSM pages (Mm.ksmCowBreaks). */
  cowBreaks: number;
}

export interface ChurnOptions {
  /** Index of the region among the process's regions (workload order); all registered regions when absent. */
  region?: number;
  /** Fraction (0..1) of the writes that restore the page's initial content. */
  revert?: number;
}

/** Optional capabilities that some eras lacked. */
export interface SessionSupport {
  /** An unmerge-everything control (2.6.32: echo 2 > run). */
  unmerge: boolean;
}

/** How an era appears in the era switch and on the command line. */
export interface SessionEraInfo {
  /** Unique key: `v3`, `v2`, `v1-2009`, `v1-2008`. */
  id: string;
  /** `--era` value. */
  era: string;
  /** `--abi` value, for eras with several ABIs. */
  abi?: string;
  /** Short label: `v3 2.6.32`, `v1 2008`. */
  label: string;
  /** One line: what it models. */
  title: string;
}

export interface EraSession {
  readonly info: SessionEraInfo;
  readonly support: SessionSupport;
  /** The names of the era's counters, in display order (see `counters`). */
  readonly counterNames: readonly string[];
  /** What each PAGE_* state means in this era's merger (the memory map's legend). */
  readonly stateLabels: readonly StateLabel[];

  /**
   * Creates the workload's processes and regions, writes their contents,
   * and plays its steps up to the first scan step (registrations, writes,
   * exits) through the era's calls. Later steps are left to the caller
   * (the TUI lets virtual time run instead). Returns the calls made.
   */
  load(w: Workload): CallRecord[];

  /** Virtual time since boot, in microseconds. */
  now(): number;
  /** Lets `micros` of virtual time pass with ksmd running (at most maxBatches batches). Returns the batches run. */
  advance(micros: number, maxBatches?: number): number;
  /**
   * Runs ksmd's next batch: virtual time jumps to when it is due. Returns 1,
   * or 0 when ksmd is stopped or has nothing to scan (time does not move).
   */
  step(): number;

  counters(): CounterValue[];
  /** Registered present pages of live processes minus the distinct frames behind them. */
  pagesSaved(): number;
  knobs(): Knobs;
  ksmdState(): KsmdState;
  work(): WorkTotals;

  /* Controls: each issues the era's own call and returns it. */
  start(): CallRecord;
  stop(): CallRecord;
  /** Only where `support.unmerge`. */
  unmerge(): CallRecord;
  setPagesToScan(n: number): CallRecord;
  setSleep(micros: number): CallRecord;

  /** Live processes in pid order. */
  processes(): ProcessInfo[];
  /**
   * The state of every page of the process's registered regions, in address
   * order (PAGE_* values), written into `out` when it is large enough.
   * Walks the era's tracking structures once; meant for one call per frame.
   */
  pageStates(pid: number, out?: Uint8Array): Uint8Array;
  /**
   * The process writes `pages` pages picked at random in its registered
   * regions (or in one region): new random content, or with probability
   * `revert` the page's initial content again (a working set that keeps
   * coming back to what the other guests have).
   */
  churn(pid: number, pages: number, opts?: ChurnOptions): CallRecord;
  /** The process exits. */
  exit(pid: number): CallRecord;
  /** Starts another guest like the workload's first process (shared runs kept, private ones fresh) and registers it. */
  spawnGuest(): { pid: number; calls: CallRecord[] };
}
