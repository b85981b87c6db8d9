/**
 * What every merger of every era offers the layers above it, so that no
 * front end, tool or probe tells mergers apart with `instanceof`:
 *
 *   hash-2008      the November 2008 page_hash merger (seed 001)
 *   tree-2009      the 2009 tree merger (seeds 000 and 002)
 *   mainline-2632  Linux 2.6.32 (seed 003)
 *   mainline-39    Linux 3.9 (seed 004)
 *   mainline-618   Linux 6.18
 *
 * Passes are counted one way: the completed passes of the scan thread's own
 * cursor (full_scans, ksm_scan.seqnr, or the wraps of the 2008/2009
 * kthread cursor). A cursor of another owner (a 2008 SCAN fd) counts its
 * own passes; the era adapter reads it there.
 */
import type { ChecksumName } from '../hash/page-checksum.js';
import type { Memory } from '../memory/memory.js';
import type { MergeStats, MergeWork } from './stats.js';

export const MERGER_NAMES = ['hash-2008', 'tree-2009', 'mainline-2632', 'mainline-39', 'mainline-618'] as const;
export type MergerName = (typeof MERGER_NAMES)[number];

/**
 * The five counters the workload schema records, as the merger holds them:
 * the kernel's own where it kept them, derived (SCHEMA.md) where it kept none.
 */
export interface PassCounters {
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  pagesVolatile: number;
  fullScans: number;
}

export interface Merger {
  /** Which algorithm this is (the probes and rows of a comparison that apply). */
  readonly algorithm: MergerName;
  readonly memory: Memory;
  /** Work done so far (comparisons, hashing, merges). */
  readonly stats: MergeStats;
  /** The work record (stats and the memory's copy-on-write breaks), a copy: what the ksmd CPU model prices. */
  work(): MergeWork;
  /** Completed passes of the scan thread's cursor. */
  passes(): number;
  /** The five counters, as above. */
  passCounters(): PassCounters;
  /** Swaps the page checksum for another (an experiment: ksmctl compare --checksum), not era behaviour. */
  useChecksum(name: ChecksumName): void;
  /** Bytes of tracking metadata the merger holds (its structs at their sizes). */
  memoryBytes(): number;
}

/**
 * Every merger there is, told apart by `algorithm` (a switch on it narrows
 * to the class: the probes of a comparison, the invariant checks of the
 * soak).
 */
export type AnyMerger =
  | import('./hash-2008.js').Hash2008
  | import('./tree-2009.js').Tree2009
  | import('./mainline-2632.js').Mainline2632
  | import('./mainline-39.js').Mainline39
  | import('./mainline-618.js').Mainline618;
