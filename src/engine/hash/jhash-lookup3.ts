/**
 * Linux jhash()/jhash2() since 2.6.37: Bob Jenkins' lookup3 hashlittle() and
 * hashword(), as in include/linux/jhash.h. KSM of 2.6.37 until the switch to
 * xxhash checksummed pages with jhash2(page, 1024, 17). Results are exact u32.
 */

/** JHASH_INITVAL: the arbitrary starting value of a, b and c. */
const INITVAL = 0xdeadbeef;

// __jhash_mix is written out inline in the loops because it runs 341 times
// per page and V8 keeps a, b, c in registers that way.

/** jhash(key, length, initval) over `length` bytes at `offset`, little-endian words. */
export function jhash(bytes: Uint8Array, offset: number, length: number, initval: number): number {
  let a = (INITVAL + length + initval) | 0;
  let b = a;
  let c = a;
  let k = offset;
  let len = length;
  while (len > 12) {
    a = (a + (bytes[k] | (bytes[k + 1] << 8) | (bytes[k + 2] << 16) | (bytes[k + 3] << 24))) | 0;
    b = (b + (bytes[k + 4] | (bytes[k + 5] << 8) | (bytes[k + 6] << 16) | (bytes[k + 7] << 24))) | 0;
    c = (c + (bytes[k + 8] | (bytes[k + 9] << 8) | (bytes[k + 10] << 16) | (bytes[k + 11] << 24))) | 0;
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
    k += 12;
    len -= 12;
  }
  // The C switch falls through from the highest tail byte down to k[0].
  switch (len) {
    case 12: c = (c + (bytes[k + 11] << 24)) | 0; // falls through
    case 11: c = (c + (bytes[k + 10] << 16)) | 0; // falls through
    case 10: c = (c + (bytes[k + 9] << 8)) | 0; // falls through
    case 9: c = (c + bytes[k + 8]) | 0; // falls through
    case 8: b = (b + (bytes[k + 7] << 24)) | 0; // falls through
    case 7: b = (b + (bytes[k + 6] << 16)) | 0; // falls through
    case 6: b = (b + (bytes[k + 5] << 8)) | 0; // falls through
    case 5: b = (b + bytes[k + 4]) | 0; // falls through
    case 4: a = (a + (bytes[k + 3] << 24)) | 0; // falls through
    case 3: a = (a + (bytes[k + 2] << 16)) | 0; // falls through
    case 2: a = (a + (bytes[k + 1] << 8)) | 0; // falls through
    case 1:
      a = (a + bytes[k]) | 0;
      return finalC(a, b, c);
  }
  // Only a zero-length key gets here, and the C returns its c unmixed.
  return c >>> 0;
}

/** jhash2(k, length, initval) over `lengthWords` u32 words at `wordOffset`. */
export function jhash2(words: Uint32Array, wordOffset: number, lengthWords: number, initval: number): number {
  let a = (INITVAL + Math.imul(lengthWords, 4) + initval) | 0;
  let b = a;
  let c = a;
  let k = wordOffset;
  let len = lengthWords;
  while (len > 3) {
    a = (a + words[k]) | 0;
    b = (b + words[k + 1]) | 0;
    c = (c + words[k + 2]) | 0;
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
    k += 3;
    len -= 3;
  }
  // Only a zero-length key skips the final mix, as in the C.
  switch (len) {
    case 3: c = (c + words[k + 2]) | 0; // falls through
    case 2: b = (b + words[k + 1]) | 0; // falls through
    case 1:
      a = (a + words[k]) | 0;
      return finalC(a, b, c);
  }
  return c >>> 0;
}

/** __jhash_final, returning c as an unsigned 32-bit value. */
function finalC(a: number, b: number, c: number): number {
  c ^= b; c = (c - ((b << 14) | (b >>> 18))) | 0;
  a ^= c; a = (a - ((c << 11) | (c >>> 21))) | 0;
  b ^= a; b = (b - ((a << 25) | (a >>> 7))) | 0;
  c ^= b; c = (c - ((b << 16) | (b >>> 16))) | 0;
  a ^= c; a = (a - ((c << 4) | (c >>> 28))) | 0;
  b ^= a; b = (b - ((a << 14) | (a >>> 18))) | 0;
  c ^= b; c = (c - ((b << 24) | (b >>> 8))) | 0;
  return c >>> 0;
}

/** Blocks of 3 words jhash2 mixes over a 1024-word page before its final mix of the last word. */
export const PAGE_BLOCKS = 341;

/**
 * The states (a, b, c) of jhash2(page, 1024, initval) after each of its
 * first 0..n blocks when every word of them is `word`: entry k at 3 k (for
 * pages that open with a long run of one word).
 */
export function jhash2PageRunStates(word: number, n: number, initval: number): Int32Array {
  const out = new Int32Array(3 * (n + 1));
  let a = (INITVAL + 4096 + initval) | 0;
  let b = a;
  let c = a;
  out[0] = a;
  out[1] = b;
  out[2] = c;
  for (let k = 1; k <= n; k++) {
    a = (a + word) | 0;
    b = (b + word) | 0;
    c = (c + word) | 0;
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
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
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
  }
  a = (a + words[base + 1023]) | 0;
  return finalC(a, b, c);
}
