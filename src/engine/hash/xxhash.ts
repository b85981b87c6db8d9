/**
 * xxHash XXH32 and XXH64 (Yann Collet, https://github.com/Cyan4973/xxHash,
 * spec doc/xxhash_spec.md). Linux KSM since 6.x stores the low 32 bits of
 * xxhash(page, PAGE_SIZE, 0), which is XXH64 on 64-bit kernels.
 *
 * XXH64 runs on pairs of int32 halves (hi, lo) because BigInt is far too slow
 * for a hash that runs on every scanned page. Both halves are kept as signed
 * int32 (`| 0`) so V8 never boxes them into heap numbers between calls.
 */

import { wordView } from './word-view.js';

const P32_1 = 0x9e3779b1 | 0;
const P32_2 = 0x85ebca77 | 0;
const P32_3 = 0xc2b2ae3d | 0;
const P32_4 = 0x27d4eb2f | 0;
const P32_5 = 0x165667b1 | 0;

// XXH64 primes as (hi, lo) halves.
const P1H = 0x9e3779b1 | 0, P1L = 0x85ebca87 | 0;
const P2H = 0xc2b2ae3d | 0, P2L = 0x27d4eb4f | 0;
const P3H = 0x165667b1 | 0, P3L = 0x9e3779f9 | 0;
const P4H = 0x85ebca77 | 0, P4L = 0xc2b2ae63 | 0;
const P5H = 0x27d4eb2f | 0, P5L = 0x165667c5 | 0;
// PRIME64_1 + PRIME64_2 and -PRIME64_1 (mod 2^64), the lane seeds' offsets.
const P12H = 0x60ea27ee | 0, P12L = 0xadc0b5d6 | 0;
const NP1H = 0x61c8864e | 0, NP1L = 0x7a143579 | 0;
// The unsigned lo halves of P1 and P2, for the exact high-word product.
const P1LU = P1L >>> 0;
const P2LU = P2L >>> 0;

const TWO32 = 4294967296;
const INV32 = 1 / TWO32;

/** Little-endian u32 at byte position p, as an int32. */
function read32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

/** XXH32(data, len, seed): an unsigned 32-bit value. */
export function xxh32(bytes: Uint8Array, offset: number, len: number, seed: number): number {
  const end = offset + len;
  let p = offset;
  let h: number;
  seed |= 0;
  if (len >= 16) {
    const limit = end - 16;
    let v1 = (seed + P32_1 + P32_2) | 0;
    let v2 = (seed + P32_2) | 0;
    let v3 = seed;
    let v4 = (seed - P32_1) | 0;
    do {
      v1 = (v1 + Math.imul(read32(bytes, p), P32_2)) | 0; v1 = Math.imul((v1 << 13) | (v1 >>> 19), P32_1);
      v2 = (v2 + Math.imul(read32(bytes, p + 4), P32_2)) | 0; v2 = Math.imul((v2 << 13) | (v2 >>> 19), P32_1);
      v3 = (v3 + Math.imul(read32(bytes, p + 8), P32_2)) | 0; v3 = Math.imul((v3 << 13) | (v3 >>> 19), P32_1);
      v4 = (v4 + Math.imul(read32(bytes, p + 12), P32_2)) | 0; v4 = Math.imul((v4 << 13) | (v4 >>> 19), P32_1);
      p += 16;
    } while (p <= limit);
    h = (((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14))) | 0;
  } else {
    h = (seed + P32_5) | 0;
  }
  h = (h + len) | 0;
  while (p + 4 <= end) {
    h = (h + Math.imul(read32(bytes, p), P32_3)) | 0;
    h = Math.imul((h << 17) | (h >>> 15), P32_4);
    p += 4;
  }
  while (p < end) {
    h = (h + Math.imul(bytes[p], P32_5)) | 0;
    h = Math.imul((h << 11) | (h >>> 21), P32_1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P32_2);
  h ^= h >>> 13;
  h = Math.imul(h, P32_3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** High half of the last 64-bit result, so helpers return a pair without allocating. */
let RH = 0;

/**
 * High 32 bits of the unsigned product a * b (a, b unsigned u32 values, lo
 * the exact low word): the double product is off by at most 2^10 and the
 * subtraction adds at most 2^10 more, so the scaled value is within 2^-21 of
 * the exact high word and rounding (+0.5, truncate) lands on it. The result is
 * the high word mod 2^32 as an int32.
 */
function mulHi32(a: number, b: number, lo: number): number {
  return ((a * b - (lo >>> 0)) * INV32 + 0.5) | 0;
}

/** (ah:al) * (bh:bl) mod 2^64: returns lo, sets RH. */
function mul64(ah: number, al: number, bh: number, bl: number): number {
  const lo = Math.imul(al, bl);
  RH = (mulHi32(al >>> 0, bl >>> 0, lo) + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
  return lo;
}

/**
 * The carry out of the low-word sum s = a + b: the top bit of
 * (a & b) | ((a | b) & ~s). Branch-free, because on random page data a
 * compare-and-branch mispredicts half the time.
 */
function carry(a: number, b: number, s: number): number {
  return ((a & b) | ((a | b) & ~s)) >>> 31;
}

/** (ah:al) + (bh:bl) mod 2^64: returns lo, sets RH. */
function add64(ah: number, al: number, bh: number, bl: number): number {
  const lo = (al + bl) | 0;
  RH = (ah + bh + carry(al, bl, lo)) | 0;
  return lo;
}

/** The four XXH64 accumulators as (hi, lo) pairs, v1h v1l .. v4h v4l. */
const LANES = new Int32Array(8);
/** Aligned copy space for stripes of unaligned input. */
const SCRATCH = new Uint8Array(4096);
const SCRATCH_WORDS = new Uint32Array(SCRATCH.buffer);

/**
 * Runs `n` 32-byte stripes from the words at index q of W through LANES. Each
 * lane's round(acc, in) = rotl(acc + in * P2, 31) * P1 is written out inline
 * because this loop is the whole cost of hashing a page.
 */
function stripes(W: Uint32Array, q: number, n: number): void {
  let v1h = LANES[0], v1l = LANES[1], v2h = LANES[2], v2l = LANES[3];
  let v3h = LANES[4], v3l = LANES[5], v4h = LANES[6], v4l = LANES[7];
  let il: number, ih: number, ml: number, mh: number, sl: number, sh: number, rl: number, rh: number;
  const end = q + n * 8;
  for (; q < end; q += 8) {
    il = W[q] | 0; ih = W[q + 1] | 0;
    ml = Math.imul(il, P2L); mh = (mulHi32(il >>> 0, P2LU, ml) + Math.imul(ih, P2L) + Math.imul(il, P2H)) | 0;
    sl = (v1l + ml) | 0; sh = (v1h + mh + carry(v1l, ml, sl)) | 0;
    rh = (sh << 31) | (sl >>> 1); rl = (sl << 31) | (sh >>> 1);
    v1l = Math.imul(rl, P1L); v1h = (mulHi32(rl >>> 0, P1LU, v1l) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) | 0;

    il = W[q + 2] | 0; ih = W[q + 3] | 0;
    ml = Math.imul(il, P2L); mh = (mulHi32(il >>> 0, P2LU, ml) + Math.imul(ih, P2L) + Math.imul(il, P2H)) | 0;
    sl = (v2l + ml) | 0; sh = (v2h + mh + carry(v2l, ml, sl)) | 0;
    rh = (sh << 31) | (sl >>> 1); rl = (sl << 31) | (sh >>> 1);
    v2l = Math.imul(rl, P1L); v2h = (mulHi32(rl >>> 0, P1LU, v2l) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) | 0;

    il = W[q + 4] | 0; ih = W[q + 5] | 0;
    ml = Math.imul(il, P2L); mh = (mulHi32(il >>> 0, P2LU, ml) + Math.imul(ih, P2L) + Math.imul(il, P2H)) | 0;
    sl = (v3l + ml) | 0; sh = (v3h + mh + carry(v3l, ml, sl)) | 0;
    rh = (sh << 31) | (sl >>> 1); rl = (sl << 31) | (sh >>> 1);
    v3l = Math.imul(rl, P1L); v3h = (mulHi32(rl >>> 0, P1LU, v3l) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) | 0;

    il = W[q + 6] | 0; ih = W[q + 7] | 0;
    ml = Math.imul(il, P2L); mh = (mulHi32(il >>> 0, P2LU, ml) + Math.imul(ih, P2L) + Math.imul(il, P2H)) | 0;
    sl = (v4l + ml) | 0; sh = (v4h + mh + carry(v4l, ml, sl)) | 0;
    rh = (sh << 31) | (sl >>> 1); rl = (sl << 31) | (sh >>> 1);
    v4l = Math.imul(rl, P1L); v4h = (mulHi32(rl >>> 0, P1LU, v4l) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) | 0;
  }
  LANES[0] = v1h; LANES[1] = v1l; LANES[2] = v2h; LANES[3] = v2l;
  LANES[4] = v3h; LANES[5] = v3l; LANES[6] = v4h; LANES[7] = v4l;
}

/** XXH64 of the bytes: the low half is returned, the high half left in RH. */
function xxh64Pair(bytes: Uint8Array, offset: number, len: number, seed: number): number {
  const end = offset + len;
  const seedL = seed | 0;
  const seedH = Math.floor(seed * INV32) | 0;
  let p = offset;
  let hh: number, hl: number;
  if (len >= 32) {
    const n = Math.floor(len / 32);
    LANES[1] = add64(seedH, seedL, P12H, P12L); LANES[0] = RH;
    LANES[3] = add64(seedH, seedL, P2H, P2L); LANES[2] = RH;
    LANES[5] = seedL; LANES[4] = seedH;
    LANES[7] = add64(seedH, seedL, NP1H, NP1L); LANES[6] = RH;
    const W = wordView(bytes, offset, n * 32);
    if (W !== null) {
      stripes(W, (bytes.byteOffset + offset) >>> 2, n);
      p += n * 32;
    } else {
      // Unaligned (or big-endian) input goes through an aligned little-endian copy.
      for (let left = n; left > 0; ) {
        const k = Math.min(left, SCRATCH.length >>> 5);
        for (let i = 0; i < k * 8; i++, p += 4) SCRATCH_WORDS[i] = read32(bytes, p);
        stripes(SCRATCH_WORDS, 0, k);
        left -= k;
      }
    }
    hl = mergeLanes(); hh = RH;
  } else {
    hl = add64(seedH, seedL, P5H, P5L); hh = RH;
  }
  // h += len (as u64)
  hl = add64(hh, hl, Math.floor(len * INV32) | 0, len | 0); hh = RH;
  while (p + 8 <= end) {
    // h ^= round(0, k); h = rotl(h, 27) * P1 + P4
    const kl = round64(0, 0, read32(bytes, p + 4), read32(bytes, p));
    hh ^= RH; hl ^= kl;
    hl = mul64((hh << 27) | (hl >>> 5), (hl << 27) | (hh >>> 5), P1H, P1L);
    hl = add64(RH, hl, P4H, P4L); hh = RH;
    p += 8;
  }
  if (p + 4 <= end) {
    // h ^= (u64)k32 * P1; h = rotl(h, 23) * P2 + P3
    const kl = mul64(0, read32(bytes, p), P1H, P1L);
    hh ^= RH; hl ^= kl;
    hl = mul64((hh << 23) | (hl >>> 9), (hl << 23) | (hh >>> 9), P2H, P2L);
    hl = add64(RH, hl, P3H, P3L); hh = RH;
    p += 4;
  }
  while (p < end) {
    // h ^= byte * P5; h = rotl(h, 11) * P1
    const kl = mul64(0, bytes[p], P5H, P5L);
    hh ^= RH; hl ^= kl;
    hl = mul64((hh << 11) | (hl >>> 21), (hl << 11) | (hh >>> 21), P1H, P1L); hh = RH;
    p++;
  }
  return avalanche(hh, hl);
}

/** The four lanes of LANES merged into h (XXH64 of 32 bytes or more, before the length): returns lo, sets RH. */
function mergeLanes(): number {
  let hh: number, hl: number;
  const v1h = LANES[0], v1l = LANES[1], v2h = LANES[2], v2l = LANES[3];
  const v3h = LANES[4], v3l = LANES[5], v4h = LANES[6], v4l = LANES[7];
  // h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)
  hl = (v1l << 1) | (v1h >>> 31); hh = (v1h << 1) | (v1l >>> 31);
  hl = add64(hh, hl, (v2h << 7) | (v2l >>> 25), (v2l << 7) | (v2h >>> 25)); hh = RH;
  hl = add64(hh, hl, (v3h << 12) | (v3l >>> 20), (v3l << 12) | (v3h >>> 20)); hh = RH;
  hl = add64(hh, hl, (v4h << 18) | (v4l >>> 14), (v4l << 18) | (v4h >>> 14)); hh = RH;
  hl = mergeRound64(hh, hl, v1h, v1l); hh = RH;
  hl = mergeRound64(hh, hl, v2h, v2l); hh = RH;
  hl = mergeRound64(hh, hl, v3h, v3l); hh = RH;
  hl = mergeRound64(hh, hl, v4h, v4l); hh = RH;
  RH = hh;
  return hl;
}

/** Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32. Returns lo, sets RH. */
function avalanche(hh: number, hl: number): number {
  hl ^= hh >>> 1;
  hl = mul64(hh, hl, P2H, P2L); hh = RH;
  hl ^= (hl >>> 29) | (hh << 3); hh ^= hh >>> 29;
  hl = mul64(hh, hl, P3H, P3L); hh = RH;
  hl ^= hh;
  RH = hh;
  return hl;
}

/** Stripes of 32 bytes in a 4096-byte page. */
const PAGE_STRIPES = 128;

/**
 * The lanes of XXH64 (seed 0) over a page after each of its first 0..n
 * stripes, when every word of those stripes is `word`: entry k is the 8
 * int32 halves at 8 k (for pages that open with a long run of one word).
 */
export function xxh64PageRunLanes(word: number, n: number): Int32Array {
  const out = new Int32Array(8 * (n + 1));
  LANES[1] = add64(0, 0, P12H, P12L); LANES[0] = RH;
  LANES[3] = add64(0, 0, P2H, P2L); LANES[2] = RH;
  LANES[5] = 0; LANES[4] = 0;
  LANES[7] = add64(0, 0, NP1H, NP1L); LANES[6] = RH;
  out.set(LANES, 0);
  const stripe = new Uint32Array(8).fill(word);
  for (let k = 1; k <= n; k++) {
    stripes(stripe, 0, 1);
    out.set(LANES, 8 * k);
  }
  return out;
}

/**
 * The low 32 bits of XXH64(page, 4096, 0) for the page words[base ..
 * base+1023], from the lanes at lanes[at ..] after its first k stripes
 * (xxh64PageRunLanes): what xxh64Low32 gives, reading only the rest.
 */
export function xxh64PageLow32From(lanes: Int32Array, at: number, k: number, words: Uint32Array, base: number): number {
  for (let i = 0; i < 8; i++) LANES[i] = lanes[at + i];
  stripes(words, base + 8 * k, PAGE_STRIPES - k);
  let hl = mergeLanes();
  let hh = RH;
  hl = add64(hh, hl, 0, 4096); hh = RH;
  return avalanche(hh, hl) >>> 0;
}

/** XXH64_round(acc, input) = rotl(acc + input * P2, 31) * P1: returns lo, sets RH. */
function round64(accH: number, accL: number, inH: number, inL: number): number {
  const ml = mul64(inH, inL, P2H, P2L);
  const sl = add64(accH, accL, RH, ml);
  const sh = RH;
  return mul64((sh << 31) | (sl >>> 1), (sl << 31) | (sh >>> 1), P1H, P1L);
}

/** XXH64_mergeRound(acc, val) = (acc ^ round(0, val)) * P1 + P4: returns lo, sets RH. */
function mergeRound64(accH: number, accL: number, valH: number, valL: number): number {
  const rl = round64(0, 0, valH, valL);
  const ml = mul64(accH ^ RH, accL ^ rl, P1H, P1L);
  return add64(RH, ml, P4H, P4L);
}

/**
 * XXH64(data, len, seed) as 16 lowercase hex digits. The seed is a number
 * below 2^53 (its high half is used as well).
 */
export function xxh64Hex(bytes: Uint8Array, offset: number, len: number, seed: number): string {
  const lo = xxh64Pair(bytes, offset, len, seed);
  return (RH >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Low 32 bits of XXH64(data, len, seed) as an unsigned value: what KSM's calc_checksum() stores. */
export function xxh64Low32(bytes: Uint8Array, offset: number, len: number, seed = 0): number {
  return xxh64Pair(bytes, offset, len, seed) >>> 0;
}
