/**
 * Linux jhash()/jhash2() before 2.6.37: Bob Jenkins' lookup2 (1996), as in
 * include/linux/jhash.h of that era. KSM of 2008..2.6.36 hashed pages with it.
 * Results are exact u32 values.
 */

/** JHASH_GOLDEN_RATIO: the initial value of a and b. */
const GOLDEN_RATIO = 0x9e3779b9;

// The 9-line __jhash_mix is spelled out inline in both loops because it runs
// 341 times per page and V8 keeps a, b, c in registers that way.

/** jhash(key, length, initval) over `length` bytes at `offset`, little-endian words. */
export function jhash(bytes: Uint8Array, offset: number, length: number, initval: number): number {
  let a = GOLDEN_RATIO | 0;
  let b = GOLDEN_RATIO | 0;
  let c = initval | 0;
  let k = offset;
  let len = length;
  while (len >= 12) {
    a = (a + (bytes[k] | (bytes[k + 1] << 8) | (bytes[k + 2] << 16) | (bytes[k + 3] << 24))) | 0;
    b = (b + (bytes[k + 4] | (bytes[k + 5] << 8) | (bytes[k + 6] << 16) | (bytes[k + 7] << 24))) | 0;
    c = (c + (bytes[k + 8] | (bytes[k + 9] << 8) | (bytes[k + 10] << 16) | (bytes[k + 11] << 24))) | 0;
    a = (a - b - c) | 0; a ^= c >>> 13;
    b = (b - c - a) | 0; b ^= a << 8;
    c = (c - a - b) | 0; c ^= b >>> 13;
    a = (a - b - c) | 0; a ^= c >>> 12;
    b = (b - c - a) | 0; b ^= a << 16;
    c = (c - a - b) | 0; c ^= b >>> 5;
    a = (a - b - c) | 0; a ^= c >>> 3;
    b = (b - c - a) | 0; b ^= a << 10;
    c = (c - a - b) | 0; c ^= b >>> 15;
    k += 12;
    len -= 12;
  }
  c = (c + length) | 0;
  // The C switch falls through from the highest tail byte down to k[0].
  switch (len) {
    case 11: c = (c + (bytes[k + 10] << 24)) | 0; // falls through
    case 10: c = (c + (bytes[k + 9] << 16)) | 0; // falls through
    case 9: c = (c + (bytes[k + 8] << 8)) | 0; // falls through
    case 8: b = (b + (bytes[k + 7] << 24)) | 0; // falls through
    case 7: b = (b + (bytes[k + 6] << 16)) | 0; // falls through
    case 6: b = (b + (bytes[k + 5] << 8)) | 0; // falls through
    case 5: b = (b + bytes[k + 4]) | 0; // falls through
    case 4: a = (a + (bytes[k + 3] << 24)) | 0; // falls through
    case 3: a = (a + (bytes[k + 2] << 16)) | 0; // falls through
    case 2: a = (a + (bytes[k + 1] << 8)) | 0; // falls through
    case 1: a = (a + bytes[k]) | 0;
  }
  return mixC(a, b, c);
}

/** jhash2(k, length, initval) over `lengthWords` u32 words at `wordOffset`. */
export function jhash2(words: Uint32Array, wordOffset: number, lengthWords: number, initval: number): number {
  let a = GOLDEN_RATIO | 0;
  let b = GOLDEN_RATIO | 0;
  let c = initval | 0;
  let k = wordOffset;
  let len = lengthWords;
  while (len >= 3) {
    a = (a + words[k]) | 0;
    b = (b + words[k + 1]) | 0;
    c = (c + words[k + 2]) | 0;
    a = (a - b - c) | 0; a ^= c >>> 13;
    b = (b - c - a) | 0; b ^= a << 8;
    c = (c - a - b) | 0; c ^= b >>> 13;
    a = (a - b - c) | 0; a ^= c >>> 12;
    b = (b - c - a) | 0; b ^= a << 16;
    c = (c - a - b) | 0; c ^= b >>> 5;
    a = (a - b - c) | 0; a ^= c >>> 3;
    b = (b - c - a) | 0; b ^= a << 10;
    c = (c - a - b) | 0; c ^= b >>> 15;
    k += 3;
    len -= 3;
  }
  // The length is added in bytes, as the C does with `length * 4`.
  c = (c + Math.imul(lengthWords, 4)) | 0;
  switch (len) {
    case 2: b = (b + words[k + 1]) | 0; // falls through
    case 1: a = (a + words[k]) | 0;
  }
  return mixC(a, b, c);
}

/** One __jhash_mix, returning c as an unsigned 32-bit value. */
function mixC(a: number, b: number, c: number): number {
  a = (a - b - c) | 0; a ^= c >>> 13;
  b = (b - c - a) | 0; b ^= a << 8;
  c = (c - a - b) | 0; c ^= b >>> 13;
  a = (a - b - c) | 0; a ^= c >>> 12;
  b = (b - c - a) | 0; b ^= a << 16;
  c = (c - a - b) | 0; c ^= b >>> 5;
  a = (a - b - c) | 0; a ^= c >>> 3;
  b = (b - c - a) | 0; b ^= a << 10;
  c = (c - a - b) | 0; c ^= b >>> 15;
  return c >>> 0;
}

/** Blocks of 3 words jhash2 mixes over a 1024-word page (the 1024th word is its tail). */
export const PAGE_BLOCKS = 341;

/**
 * The states (a, b, c) of jhash2(page, 1024, initval) after each of its
 * first 0..n blocks when every word of them is `word`: entry k at 3 k (for
 * pages that open with a long run of one word).
 */
export function jhash2PageRunStates(word: number, n: number, initval: number): Int32Array {
  const out = new Int32Array(3 * (n + 1));
  let a = GOLDEN_RATIO | 0;
  let b = GOLDEN_RATIO | 0;
  let c = initval | 0;
  out[0] = a;
  out[1] = b;
  out[2] = c;
  for (let k = 1; k <= n; k++) {
    a = (a + word) | 0;
    b = (b + word) | 0;
    c = (c + word) | 0;
    a = (a - b - c) | 0; a ^= c >>> 13;
    b = (b - c - a) | 0; b ^= a << 8;
    c = (c - a - b) | 0; c ^= b >>> 13;
    a = (a - b - c) | 0; a ^= c >>> 12;
    b = (b - c - a) | 0; b ^= a << 16;
    c = (c - a - b) | 0; c ^= b >>> 5;
    a = (a - b - c) | 0; a ^= c >>> 3;
    b = (b - c - a) | 0; b ^= a << 10;
    c = (c - a - b) | 0; c ^= b >>> 15;
    out[3 * k] = a;
    out[3 * k + 1] = b;
    out[3 * k + 2] = c;
  }
  return out;
}

/**
 * jhash2(page, 1024, initval) of the page words[base .. base+1023], from
 * the state at states[at ..] after its first k blocks (jhash2PageRunStates):
 * what jhash2 gives, mixing only the rest.
 */
export function jhash2PageFrom(states: Int32Array, at: number, k: number, words: Uint32Array, base: number): number {
  let a = states[at];
  let b = states[at + 1];
  let c = states[at + 2];
  for (let q = base + 3 * k, end = base + 3 * PAGE_BLOCKS; q < end; q += 3) {
    a = (a + words[q]) | 0;
    b = (b + words[q + 1]) | 0;
    c = (c + words[q + 2]) | 0;
    a = (a - b - c) | 0; a ^= c >>> 13;
    b = (b - c - a) | 0; b ^= a << 8;
    c = (c - a - b) | 0; c ^= b >>> 13;
    a = (a - b - c) | 0; a ^= c >>> 12;
    b = (b - c - a) | 0; b ^= a << 16;
    c = (c - a - b) | 0; c ^= b >>> 5;
    a = (a - b - c) | 0; a ^= c >>> 3;
    b = (b - c - a) | 0; b ^= a << 10;
    c = (c - a - b) | 0; c ^= b >>> 15;
  }
  c = (c + 4096) | 0;
  a = (a + words[base + 1023]) | 0;
  return mixC(a, b, c);
}
