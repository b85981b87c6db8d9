/**
 * The configurations a comparison runs: an era (v1 with its ABI, so its
 * merger) and, optionally, a page checksum swapped in for the era's own.
 */
import { type ChecksumName, CHECKSUM_NAMES } from '../engine/hash/page-checksum.js';
import type { WorkloadDriver } from '../workload/driver.js';
import { createDriver as driverOf } from '../workload/eras.js';

/**
 * The eras of a comparison: v1 once per ABI and v3 once per kernel version,
 * since each has its own merger (`v3` is 2.6.32, the era's first).
 */
export const ERA_SPECS = ['v1:2008', 'v1:2009', 'v2', 'v3', 'v3:3.9', 'v3:6.18'] as const;
export type EraSpec = (typeof ERA_SPECS)[number];
/** What --eras defaults to: the API eras as they first shipped. */
export const DEFAULT_ERA_SPECS: readonly EraSpec[] = ['v1:2008', 'v1:2009', 'v2', 'v3'];
/** Other spellings of an era. */
const ALIASES: Record<string, EraSpec> = { v1: 'v1:2008', 'v3:2.6.32': 'v3' };

/** The checksums `--checksum` offers (lookup2-bytes gives lookup2's values over a whole page). */
export const COMPARE_CHECKSUMS: readonly ChecksumName[] = CHECKSUM_NAMES.filter((c) => c !== 'lookup2-bytes');

export interface EraFacts {
  /** The merge algorithm, for humans. */
  merger: string;
  /** The same, short, for table columns. */
  short: string;
  /** Which kind of merger: the probes and rows that apply. */
  kind: 'hash' | 'tree2009' | 'mainline' | 'mainline3x';
  /** The era's own page checksum. */
  checksum: string;
}

export const ERA_FACTS: Record<EraSpec, EraFacts> = {
  'v1:2008': { merger: 'hash table, Nov 2008 (seed 001)', short: 'hash table', kind: 'hash', checksum: 'lookup2 (bucket)' },
  'v1:2009': { merger: 'trees, Mar 2009 (seed 002)', short: '2009 trees', kind: 'tree2009', checksum: 'lookup2' },
  v2: { merger: 'trees, Apr 2009 (seed 000)', short: '2009 trees', kind: 'tree2009', checksum: 'lookup2' },
  v3: { merger: 'trees, Linux 2.6.32 (seed 003)', short: '2.6.32 trees', kind: 'mainline', checksum: 'lookup2' },
  'v3:3.9': { merger: 'trees per NUMA node, stable_nodes, Linux 3.9 (seed 004)', short: '3.9 trees', kind: 'mainline3x', checksum: 'lookup3' },
  'v3:6.18': { merger: 'trees with stable_node chains, Linux 6.18', short: '6.18 trees', kind: 'mainline3x', checksum: 'xxhash' },
};

export interface Configuration {
  /** `v3`, or `v3+xxhash` with a swapped checksum. */
  label: string;
  era: EraSpec;
  /** The swapped-in checksum, or null for the era's own. */
  checksum: ChecksumName | null;
}

/** A bad --eras or --checksum value (the CLI reports it in one line). */
export class CompareInputError extends Error {
  override readonly name = 'CompareInputError';
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `v1:2008,v2` -> the eras, in the order given (`v1` alone is its default ABI, 2008; `v3` is 2.6.32). */
export function parseEras(text: string): EraSpec[] {
  const out: EraSpec[] = [];
  for (const item of list(text)) {
    const e = (ALIASES[item] ?? item) as EraSpec;
    if (!ERA_SPECS.includes(e)) throw new CompareInputError(`unknown era "${item}" in --eras (known: ${ERA_SPECS.join(', ')})`);
    if (out.includes(e)) throw new CompareInputError(`era ${e} given twice in --eras`);
    out.push(e);
  }
  if (out.length === 0) throw new CompareInputError('--eras names no era');
  return out;
}

/** `lookup3,xxhash` -> the checksums, in the order given. */
export function parseChecksums(text: string): ChecksumName[] {
  const out: ChecksumName[] = [];
  for (const item of list(text)) {
    const c = item as ChecksumName;
    if (!COMPARE_CHECKSUMS.includes(c)) throw new CompareInputError(`unknown checksum "${item}" in --checksum (known: ${COMPARE_CHECKSUMS.join(', ')})`);
    if (out.includes(c)) throw new CompareInputError(`checksum ${c} given twice in --checksum`);
    out.push(c);
  }
  if (out.length === 0) throw new CompareInputError('--checksum names no checksum');
  return out;
}

/** Every era with its own checksum, or every era with each checksum given. */
export function configurations(eras: readonly EraSpec[], checksums: readonly ChecksumName[] | null): Configuration[] {
  if (checksums === null) return eras.map((era) => ({ label: era, era, checksum: null }));
  return eras.flatMap((era) => checksums.map((checksum) => ({ label: `${era}+${checksum}`, era, checksum })));
}

/** A fresh driver for a configuration. */
export function createDriver(c: Configuration): WorkloadDriver {
  return driverOf(c.era, { checksum: c.checksum ?? undefined });
}
