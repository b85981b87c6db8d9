/**
 * Page contents of workload files (docs/workload-format.md, "Page contents").
 *
 * A SinglePage describes the 4096 bytes of one page; a RunContent describes
 * the pages of a run or region (page i of a run is `pageInRun(content, i)`).
 * Values are assumed valid (src/workload/schema.ts checks the ranges):
 * fill 0..255, seed 0..2^32-1, tail 0..2^64-1.
 *
 * Pure TypeScript: no node: imports (the engine also runs in a browser).
 */

import { PAGE_SIZE, WORDS_PER_PAGE } from './constants.js';

export type SinglePage =
  | { kind: 'zero' }
  | { kind: 'fill'; value: number } // 0..255
  | { kind: 'seed'; seed: number } // 0..2^32-1
  | { kind: 'tail'; n: bigint }; // 0..2^64-1

export type RunContent =
  | SinglePage
  | { kind: 'seedFrom'; seed: number }
  | { kind: 'tailFrom'; n: bigint }
  | { kind: 'cycle'; items: SinglePage[] };

/** SCHEMA.md: x = (s * 2654435761 + 1) mod 2^32 starts the xorshift of a seeded page. */
export const SEED_MULTIPLIER = 2654435761;

const ZERO_PAGE: SinglePage = Object.freeze({ kind: 'zero' });
const U32_MASK = 0xffffffffn;

/** The single-page content of page i (0-based) of a run or region whose content is `content`. */
export function pageInRun(content: RunContent, i: number): SinglePage {
  switch (content.kind) {
    case 'seedFrom':
      return { kind: 'seed', seed: content.seed + i };
    case 'tailFrom':
      return { kind: 'tail', n: content.n + BigInt(i) };
    case 'cycle': {
      const items = content.items;
      return items[i % items.length];
    }
    default:
      return content;
  }
}

/** True on every platform Node runs on; a big-endian host takes the DataView path. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Word views of the buffers written to, so the hot path does not allocate a view per page. */
let lastBuffer: ArrayBufferLike | null = null;
let lastWords: Uint32Array | null = null;
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  if (buffer === lastBuffer && lastWords !== null && lastWords.length === buffer.byteLength >>> 2) {
    return lastWords;
  }
  let words = wordViews.get(buffer);
  if (words === undefined || words.length !== buffer.byteLength >>> 2) {
    // A fixed-length view of the whole buffer (a resizable buffer that grew gets a new one).
    words = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    wordViews.set(buffer, words);
  }
  lastBuffer = buffer;
  lastWords = words;
  return words;
}

/**
 * The 1024 words of a seeded page into words[w0 .. w0+1023] (SCHEMA.md:
 * xorshift32 from x = s * 2654435761 + 1 mod 2^32, 1 if that is 0).
 */
function writeSeedWords(seed: number, words: Uint32Array, w0: number): void {
  writeSeedChain(seedStart(seed), words, w0);
}

/**
 * The 1024 words of the xorshift32 chain that starts from state x (x != 0):
 * word j is the state after j + 1 steps. Every seeded page is one (x =
 * seedStart(seed)), and x alone names it: the content store keeps a
 * seeded page as x until its bytes are read (content-store.ts, SEED).
 * Kept in int32 arithmetic: storing into a Uint32Array reduces mod 2^32.
 */
export function writeSeedChain(x: number, words: Uint32Array, w0: number): void {
  const end = w0 + WORDS_PER_PAGE;
  for (let j = w0; j < end; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[j] = x;
  }
}

/** One xorshift32 step (13, 17, 5), as an int32. */
export function xorshiftStep(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  return x ^ (x << 5);
}

/** The state one xorshift32 step came from: each of the three xor-shifts undone, last first. */
function xorshiftBack(y: number): number {
  y ^= (y << 5) ^ (y << 10) ^ (y << 15) ^ (y << 20) ^ (y << 25) ^ (y << 30);
  y ^= y >>> 17;
  return y ^ (y << 13) ^ (y << 26);
}

/**
 * The start state x if the 1024 words at words[base] are a xorshift32
 * chain (writeSeedChain(x)), that is a seeded page; else 0 (no chain starts
 * from 0). Most pages fail at the second word.
 */
export function seedChainStart(words: Uint32Array, base: number): number {
  let x = words[base] | 0;
  if (x === 0 || (words[base + 1] | 0) !== (x = xorshiftStep(x))) return 0;
  for (let j = 2; j < WORDS_PER_PAGE; j++) {
    x = xorshiftStep(x);
    if ((words[base + j] | 0) !== x) return 0;
  }
  return xorshiftBack(words[base] | 0);
}

/** The xorshift state a seeded page starts from (SCHEMA.md). */
export function seedStart(seed: number): number {
  const x = (Math.imul(seed | 0, SEED_MULTIPLIER | 0) + 1) | 0;
  return x === 0 ? 1 : x;
}

let scratchWords: Uint32Array | null = null;

/** Big-endian hosts: build the page as numbers, then store them little-endian. */
function writePageBytesPortable(page: SinglePage, out: Uint8Array, offset: number): void {
  const words = scratchWords ?? (scratchWords = new Uint32Array(WORDS_PER_PAGE));
  fillWords(page, words, 0);
  const view = new DataView(out.buffer, out.byteOffset + offset, PAGE_SIZE);
  for (let j = 0; j < WORDS_PER_PAGE; j++) view.setUint32(j * 4, words[j], true);
}

function fillWords(page: SinglePage, words: Uint32Array, w0: number): void {
  switch (page.kind) {
    case 'zero':
      words.fill(0, w0, w0 + WORDS_PER_PAGE);
      return;
    case 'fill':
      words.fill(Math.imul(page.value & 0xff, 0x01010101), w0, w0 + WORDS_PER_PAGE);
      return;
    case 'seed':
      writeSeedWords(page.seed, words, w0);
      return;
    case 'tail': {
      words.fill(0, w0, w0 + WORDS_PER_PAGE - 2);
      words[w0 + WORDS_PER_PAGE - 2] = Number(page.n & U32_MASK);
      words[w0 + WORDS_PER_PAGE - 1] = Number((page.n >> 32n) & U32_MASK);
      return;
    }
  }
}

/**
 * Write the 4096 bytes of `page` at out[offset .. offset+4095]. offset and
 * out.byteOffset must be multiples of 4 (the words are written through a
 * cached Uint32Array view of out.buffer, little-endian as SCHEMA.md says).
 */
export function writePageBytes(page: SinglePage, out: Uint8Array, offset: number): void {
  const at = out.byteOffset + offset;
  if ((at & 3) !== 0 || offset < 0 || offset + PAGE_SIZE > out.length || !Number.isInteger(offset)) {
    throw new RangeError(
      `writePageBytes: offset ${offset} (byteOffset ${out.byteOffset}) must be 4-byte aligned and leave ${PAGE_SIZE} bytes in a buffer of ${out.length}`,
    );
  }
  if (!LITTLE_ENDIAN) {
    writePageBytesPortable(page, out, offset);
    return;
  }
  fillWords(page, wordsOf(out.buffer), at >>> 2);
}

/** Stable cache key of a page content: "z", "f:7", "s:123", "t:99". Equal keys, equal bytes (and conversely, except seed 4050964655 which equals seed 0). */
export function pageKey(page: SinglePage): string {
  switch (page.kind) {
    case 'zero':
      return 'z';
    case 'fill':
      return 'f:' + page.value;
    case 'seed':
      return 's:' + page.seed;
    case 'tail':
      return 't:' + page.n.toString();
  }
}

/** The JSON form of a page content as written in workload files: '"zero"', '{"fill":7}', '{"seed":7}', '{"tail":99}'. */
export function describePage(page: SinglePage): string {
  switch (page.kind) {
    case 'zero':
      return '"zero"';
    case 'fill':
      return `{"fill":${page.value}}`;
    case 'seed':
      return `{"seed":${page.seed}}`;
    case 'tail':
      return `{"tail":${page.n.toString()}}`;
  }
}

/** The shared zero-page content (frozen). */
export const ZERO: SinglePage = ZERO_PAGE;
