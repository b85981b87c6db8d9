/**
 * The era checksums of pages that open with a long run of one word (a zero
 * page with a few bytes set: the worst case's pages, zero but for their
 * last 8 bytes), computed without mixing the run: the state of each hash
 * after k blocks of one repeated word depends on that word and k alone, so
 * it is computed once per word and reused for every such page. The result
 * is exactly the full hash's (the tests hash every shape both ways).
 */
import { WORDS_PER_PAGE } from '../constants.js';
import * as lookup2 from './jhash-lookup2.js';
import * as lookup3 from './jhash-lookup3.js';
import type { ChecksumName } from './page-checksum.js';
import { xxh64PageLow32From, xxh64PageRunLanes } from './xxhash.js';

/**
 * The checksum of the page words[base .. base+1023], whose first `run`
 * words are `head`.
 */
export type RunPageChecksum = (head: number, run: number, words: Uint32Array, base: number) => number;

/** The initval every era passes to jhash/jhash2. */
const JHASH_INITVAL = 17;
/** Distinct run words whose states are kept (a page of one byte value: 256; zero above all). */
const MAX_WORDS = 1024;

/** States per run word, built on first use. */
function memo(build: (word: number) => Int32Array): (word: number) => Int32Array {
  const cache = new Map<number, Int32Array>();
  return (word) => {
    let s = cache.get(word);
    if (s === undefined) {
      if (cache.size >= MAX_WORDS) cache.clear();
      s = build(word);
      cache.set(word, s);
    }
    return s;
  };
}

function jhash2Run(mod: typeof lookup2 | typeof lookup3): RunPageChecksum {
  const states = memo((word) => mod.jhash2PageRunStates(word, mod.PAGE_BLOCKS, JHASH_INITVAL));
  return (head, run, words, base) => {
    // Blocks of 3 words wholly inside the run.
    const k = Math.min(Math.floor(run / 3), mod.PAGE_BLOCKS);
    return mod.jhash2PageFrom(states(head | 0), 3 * k, k, words, base) >>> 0;
  };
}

const STRIPES = WORDS_PER_PAGE / 8;
const xxhashLanes = memo((word) => xxh64PageRunLanes(word, STRIPES));

/** Stripes of 8 words wholly inside the run. */
const xxhashRun: RunPageChecksum = (head, run, words, base) => {
  const k = Math.min(Math.floor(run / 8), STRIPES);
  return xxh64PageLow32From(xxhashLanes(head | 0), 8 * k, k, words, base);
};

const lookup2Run = jhash2Run(lookup2);

const REGISTRY: Record<ChecksumName, RunPageChecksum> = {
  lookup2: lookup2Run,
  // jhash(page, 4096, 17) equals jhash2 over the words (page-checksum.ts).
  'lookup2-bytes': lookup2Run,
  lookup3: jhash2Run(lookup3),
  xxhash: xxhashRun,
};

export function runPageChecksum(name: ChecksumName): RunPageChecksum {
  return REGISTRY[name];
}
