/**
 * The page checksums of the KSM eras, each over one 4096-byte page
 * (shared/spec/hashes.md §1): jhash(page, 4096, 17) of lookup2 in the 2008
 * and 2009 patches, jhash2(page, 1024, 17) of lookup2 in 2.6.32 and of
 * lookup3 in 3.x, and the low 32 bits of xxhash(page, 4096, 0) in 6.x.
 */

import { PAGE_SIZE, WORDS_PER_PAGE } from '../constants.js';
import { jhash as jhashL2, jhash2 as jhash2L2 } from './jhash-lookup2.js';
import { jhash as jhashL3, jhash2 as jhash2L3 } from './jhash-lookup3.js';
import { type RunPageChecksum, runPageChecksum } from './run-page-checksum.js';
import { wordView } from './word-view.js';
import { xxh64Low32 } from './xxhash.js';

export type ChecksumName = 'lookup2' | 'lookup2-bytes' | 'lookup3' | 'xxhash';

/** A page checksum: an unsigned 32-bit value of the page at `offset` in `page`. */
export type PageChecksum = (page: Uint8Array, offset: number) => number;

/** The initval every era passes to jhash/jhash2. */
const JHASH_INITVAL = 17;

export const CHECKSUM_NAMES: readonly ChecksumName[] = ['lookup2', 'lookup2-bytes', 'lookup3', 'xxhash'];

// The word forms fall back to the byte forms on unaligned input, which give
// the same value over a whole 4096-byte page in both generations (the
// vectors' notes: 4096 = 341 * 12 + 4 leaves the same tail either way).

function lookup2Words(page: Uint8Array, offset: number): number {
  const w = wordView(page, offset, PAGE_SIZE);
  if (w === null) return jhashL2(page, offset, PAGE_SIZE, JHASH_INITVAL);
  return jhash2L2(w, (page.byteOffset + offset) >>> 2, WORDS_PER_PAGE, JHASH_INITVAL);
}

/** jhash(page, 4096, 17): equal to jhash2 over the page's words (above), which reads 4 times fewer elements. */
function lookup2Bytes(page: Uint8Array, offset: number): number {
  return lookup2Words(page, offset);
}

function lookup3Words(page: Uint8Array, offset: number): number {
  const w = wordView(page, offset, PAGE_SIZE);
  if (w === null) return jhashL3(page, offset, PAGE_SIZE, JHASH_INITVAL);
  return jhash2L3(w, (page.byteOffset + offset) >>> 2, WORDS_PER_PAGE, JHASH_INITVAL);
}

function xxhashLow32(page: Uint8Array, offset: number): number {
  return xxh64Low32(page, offset, PAGE_SIZE, 0);
}

const REGISTRY: Record<ChecksumName, PageChecksum> = {
  lookup2: lookup2Words,
  'lookup2-bytes': lookup2Bytes,
  lookup3: lookup3Words,
  xxhash: xxhashLow32,
};

/** The checksum function of an era by name. */
export function pageChecksum(name: ChecksumName): PageChecksum {
  const fn = REGISTRY[name];
  if (fn === undefined) throw new RangeError(`unknown page checksum: ${String(name)}`);
  return fn;
}

/**
 * The same checksum for pages that open with a long run of one word
 * (run-page-checksum.ts), or undefined for a function not in the registry.
 */
export function runVariantOf(fn: PageChecksum): RunPageChecksum | undefined {
  for (const name of CHECKSUM_NAMES) if (REGISTRY[name] === fn) return runPageChecksum(name);
  return undefined;
}
