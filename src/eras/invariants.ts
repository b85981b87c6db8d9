/**
 * What the fuzzers recompute from scratch in a running era: the memory
 * model's invariants (mapcounts, refcounts, writable entries, content
 * references) and the merger's own bookkeeping against its counters. The
 * merger's part is chosen by its algorithm in one table, which also holds
 * what else each merger means to a fuzzer:
 *
 * - the frame references its code holds outside the page tables (the 2009
 *   tree's leaked get_page references, 6.18's zero page);
 * - whether its try_to_merge_one_page stops at the two gaps of
 *   Memory.mergeWindow (the seeds' mergers; 3.9 and later hold the page lock
 *   across them, so their merges have no window to write in).
 */
import { checkMemory } from '../engine/memory/invariants.js';
import { checkHash2008 } from '../engine/merge/hash-2008-invariants.js';
import { checkMainline2632 } from '../engine/merge/mainline-2632-invariants.js';
import { checkMainline3x } from '../engine/merge/mainline-3x-invariants.js';
import { checkTree2009 } from '../engine/merge/tree-2009-invariants.js';
import type { AnyMerger, MergerName } from '../engine/merge/merger.js';
import type { EraAdapter } from './adapter.js';

interface MergerFacts<M extends AnyMerger> {
  /** The merger's invariants, recomputed from its structures. */
  check(m: M): string[];
  /** Frame references the merger holds outside the page tables. */
  pins(m: M): ReadonlyMap<number, number>;
  /** Its merges stop at Memory.mergeWindow. */
  mergeWindow: boolean;
}

const NO_PINS: ReadonlyMap<number, number> = new Map();

const BY_ALGORITHM: { [A in MergerName]: MergerFacts<Extract<AnyMerger, { algorithm: A }>> } = {
  'hash-2008': { check: checkHash2008, pins: () => NO_PINS, mergeWindow: true },
  'tree-2009': { check: checkTree2009, pins: (m) => m.leakedRefs, mergeWindow: true },
  'mainline-2632': { check: checkMainline2632, pins: () => NO_PINS, mergeWindow: true },
  'mainline-39': { check: checkMainline3x, pins: () => NO_PINS, mergeWindow: false },
  'mainline-618': { check: checkMainline3x, pins: (m) => (m.zeroPageFrame ? new Map([[m.zeroPageFrame, 1]]) : NO_PINS), mergeWindow: false },
};

function facts(m: AnyMerger): MergerFacts<AnyMerger> {
  return BY_ALGORITHM[m.algorithm] as MergerFacts<AnyMerger>;
}

/** The merger's invariant violations. */
export function mergerProblems(m: AnyMerger): string[] {
  return facts(m).check(m);
}

/** Frame references the merger holds outside the page tables (for checkMemory). */
export function framePins(m: AnyMerger): ReadonlyMap<number, number> {
  return facts(m).pins(m);
}

/** Whether merges of this algorithm stop at Memory.mergeWindow. */
export function hasMergeWindow(algorithm: MergerName): boolean {
  return BY_ALGORITHM[algorithm].mergeWindow;
}

/** Every violation in the era's memory and merger; `contentPins` are content references held outside the memory (a shadow). */
export function eraProblems(a: EraAdapter, contentPins?: ReadonlyMap<number, number>): string[] {
  return [...checkMemory(a.memory, framePins(a.merger), contentPins), ...mergerProblems(a.merger)];
}
