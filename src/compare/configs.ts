/**
 * The configurations a comparison runs: an era of the registry (each has
 * its own merger) and, optionally, a page checksum swapped in for the era's
 * own. What each era is (its merger, algorithm and checksum) is the
 * registry's (src/eras/registry.ts).
 */
import { type ChecksumName, CHECKSUM_NAMES } from '../engine/hash/page-checksum.js';
import { ERA_IDS, EraInputError, type EraId, parseEra } from '../eras/registry.js';
import type { WorkloadDriver } from '../workload/driver.js';
import { createDriver as driverOf } from '../workload/eras.js';

/** What --eras defaults to: the API eras as they first shipped. */
export const DEFAULT_COMPARE_ERAS: readonly EraId[] = ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'];

/** The checksums `--checksum` offers (lookup2-bytes gives lookup2's values over a whole page). */
export const COMPARE_CHECKSUMS: readonly ChecksumName[] = CHECKSUM_NAMES.filter((c) => c !== 'lookup2-bytes');

/** One column of a comparison: an era, and a checksum if swapped. */
export interface Configuration {
  /** `v3:2.6.32`, or `v3:2.6.32+xxhash` with a swapped checksum. */
  label: string;
  /** The era's registry id (plain data: a configuration goes to a worker thread). */
  era: EraId;
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

/** `v1:2008,v2` -> the eras, in the order given; any spelling of an era (`v1` is v1:2008, `v3` is v3:2.6.32). */
export function parseEras(text: string): EraId[] {
  const out: EraId[] = [];
  for (const item of list(text)) {
    let e: EraId;
    try {
      e = parseEra(item).id;
    } catch (err) {
      if (err instanceof EraInputError) throw new CompareInputError(`unknown era "${item}" in --eras (known: ${ERA_IDS.join(', ')})`);
      throw err;
    }
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
export function configurations(eras: readonly EraId[], checksums: readonly ChecksumName[] | null): Configuration[] {
  if (checksums === null) return eras.map((era) => ({ label: era, era, checksum: null }));
  return eras.flatMap((era) => checksums.map((checksum) => ({ label: `${era}+${checksum}`, era, checksum })));
}

/** A fresh driver for a configuration. */
export function createDriver(c: Configuration): WorkloadDriver {
  return driverOf(c.era, { checksum: c.checksum ?? undefined });
}
