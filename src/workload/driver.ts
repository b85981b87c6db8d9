/**
 * What the workload runner needs from an era: the era's own calls for each
 * kind of step, and its counters. One driver per era lives in drivers/; each
 * is a client of that era's front end, never of the merger directly, except
 * for the scan routine the schema defines as "one batch".
 */
import type { Memory, Range } from '../engine/memory/memory.js';
import type { SinglePage } from '../engine/pages.js';
import type { Workload } from './schema.js';

export const COUNTER_NAMES = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export interface EraDriver {
  /** Short name, as on the command line (`v3`). */
  readonly era: string;
  /** What it models, for humans (`v3: MADV_MERGEABLE + sysfs, Linux 2.6.32 (seed 003)`). */
  readonly title: string;
  /** The counters the era itself exposed to user space; the others are derived. */
  readonly exposed: ReadonlySet<CounterName>;
  readonly memory: Memory;
  /** Creates the processes and regions and writes their initial contents. */
  setup(w: Workload): void;
  /** The era's registration call for one region of a process: 0 or -errno. */
  register(proc: string, region: number): number;
  /** The era's unregistration of all of a process's regions: 0 or -errno. */
  unregister(proc: string): number;
  /** One call of the era's scan routine with a budget of `pages`. */
  scan(pages: number): void;
  /** Completed passes so far (the era's full_scans, or cursor wraps). */
  passes(): number;
  /** Pages the scanner has visited so far (to tell a stuck scanner from a busy one). */
  pagesScanned(): number;
  /** Process `proc` writes a whole page: 0 or -errno. */
  write(proc: string, region: number, page: number, content: SinglePage): number;
  exit(proc: string): void;
  /**
   * Whether a registration outlives its process: the April 2009 patch pins a
   * registered mm (get_task_mm) and keeps scanning it after exit, so those
   * regions stay in pages_saved. Absent means false (mappings go at exit).
   */
  readonly exitKeepsRegistration?: boolean;
  counters(): Counters;
  /** Where region r of proc lives. */
  regionRange(proc: string, region: number): Range;
}
