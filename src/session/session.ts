/**
 * An interactive session with one era's KSM: what the TUI (and other live
 * tools) talk to, so that they never depend on which era is running.
 *
 * A session owns one simulated machine of its era (or adopts one that runs
 * elsewhere: the ksmctl host's). It loads a workload's processes and
 * registers them through the era's own calls, lets virtual time pass with
 * ksmd running (the caller decides when: nothing here reads real time), and
 * steers ksmd through the era's own control API. Every control returns the
 * call exactly as a program of that era would issue it:
 *
 *   v3, v2   `echo 200 > /sys/kernel/mm/ksm/pages_to_scan`
 *   v1       `ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20000, pages_to_scan=200, flags=1}) = 0`
 *
 * There is one implementation for every era, `AdapterSession`
 * (src/session/adapter-session.ts), over the era's adapter (src/eras): an
 * era added to the registry is a session, and so a TUI era, at once.
 */
import type { EraFile } from '../eras/adapter.js';
import type { CallRecord, Knobs } from '../eras/calls.js';
import type { StateLabel } from '../eras/page-states.js';
import type { EraEntry, EraFamily } from '../eras/registry.js';
import type { Workload } from '../workload/schema.js';

export type { CallRecord, EraFile, Knobs, StateLabel };
export { PAGE_ABSENT, PAGE_MERGED, PAGE_STATE_LABELS, PAGE_UNSCANNED, PAGE_UNSTABLE, PAGE_VOLATILE, type PageState } from '../eras/page-states.js';

/** A counter of the era, by the name the workload schema uses. */
export interface CounterValue {
  name: string;
  value: number;
  /** True when the era exposed this counter to user space; false when derived (SCHEMA.md). */
  exposed: boolean;
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
  /** ksmd's CPU so far by the CPU model (src/cpu, default profile), ns; absent where nothing is simulated (the real kernel). */
  ksmdCpuNs?: number;
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
  /** /proc/PID/ksm_stat as name -> value, where the era has it (6.18); absent elsewhere. */
  stat?: Record<string, string>;
}

/** One NUMA node of the machine, as the era files its KSM pages. */
export interface NodeInfo {
  node: number;
  /** Distinct KSM pages on the node that registered pages map to. */
  ksmPages: number;
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

/** How an era appears in the era switch and in a host's view: the registry's facts, as plain data. */
export interface SessionEraInfo {
  /** The registry id: `v1:2008`, `v2`, `v3:6.18`. */
  id: string;
  family: EraFamily | 'real';
  /** v1: the ioctl ABI. */
  abi?: string;
  /** v3: the kernel version. */
  kernel?: string;
  /** Short label: `v3 2.6.32`, `v1 2008`. */
  label: string;
  /** One line: what it models. */
  title: string;
}

/** The session's info of a registry entry. */
export function sessionEraInfo(e: EraEntry): SessionEraInfo {
  const info: SessionEraInfo = { id: e.id, family: e.family, label: e.label, title: e.title };
  if (e.abi !== undefined) info.abi = e.abi;
  if (e.kernel !== undefined) info.kernel = e.kernel;
  return info;
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
  /** The era's knob and counter files beyond the five counters and the ksmd knobs (6.18's general_profit, 3.9's merge_across_nodes); none in eras without. */
  files(): EraFile[];
  /** The machine's NUMA nodes and the KSM pages filed on each. */
  nodes(): NodeInfo[];

  /* Controls: each issues the era's own call and returns it. */
  start(): CallRecord;
  stop(): CallRecord;
  /** Only where `support.unmerge`. */
  unmerge(): CallRecord;
  setPagesToScan(n: number): CallRecord;
  setSleep(micros: number): CallRecord;
  /** Writes one of the era's `files()` through its own interface (`echo 1 > /sys/kernel/mm/ksm/use_zero_pages`). */
  writeFile(name: string, value: string): CallRecord;

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
