/**
 * The hash that interns page contents (not a kernel hash: no era sees it).
 *
 *   h(page) = fmix32( sum over i of K[i] * g(w[i])  mod 2^32 )
 *
 * over the 1024 little-endian words w[i] of the page, where K is a fixed
 * table of odd pseudo-random multipliers and g(x) = (x ^ x >>> 16) * C is a
 * bijection with g(0) = 0. Why this shape:
 *   - a sum of per-word terms can be computed in any order and in pieces,
 *     so a generator hashes the words it writes while they are still in
 *     registers (pages.ts: seeded pages, four at a time), and the sum of a
 *     run of equal words is one multiply by a prefix sum of K: a page of one
 *     repeated word, or a run of zeros ending in a few words (the worst
 *     case's `tail` pages), is hashed in O(words after the run);
 *   - K[i] odd makes a change in one word always change the hash, and g
 *     spreads high-bit changes into the low bits, so pages differing only
 *     in the top bits of a few words do not collide as they would under a
 *     plain sum of K[i] * w[i];
 *   - equality of contents never rests on the hash: interning compares the
 *     words of every candidate with the same hash (content-store.ts).
 */
import { WORDS_PER_PAGE } from '../constants.js';

/** The multiplier of g. */
const G = 0x7feb352d;

/** K[i], odd, from a fixed splitmix32 sequence (the same on every run). */
export const INTERN_K = new Int32Array(WORDS_PER_PAGE);
/** KSUM[r] = K[0] + ... + K[r-1] mod 2^32, for runs of one word. */
const KSUM = new Int32Array(WORDS_PER_PAGE + 1);
{
  let s = 0x2545f491;
  for (let i = 0; i < WORDS_PER_PAGE; i++) {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    INTERN_K[i] = (z ^ (z >>> 16)) | 1;
    KSUM[i + 1] = (KSUM[i] + INTERN_K[i]) | 0;
  }
}

/** g(x): the per-word bijection (g(0) = 0). */
export function internG(x: number): number {
  return Math.imul(x ^ (x >>> 16), G);
}

/** The final mix of a sum into the hash (murmur3's fmix32, a bijection). */
export function internFinish(sum: number): number {
  let h = sum | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash of the 1024 words at words[base]. */
export function internHashWords(words: Uint32Array, base: number): number {
  const K = INTERN_K;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let i = 0; i < WORDS_PER_PAGE; i += 4) {
    let x = words[base + i];
    a0 = (a0 + Math.imul(Math.imul(x ^ (x >>> 16), G), K[i])) | 0;
    x = words[base + i + 1];
    a1 = (a1 + Math.imul(Math.imul(x ^ (x >>> 16), G), K[i + 1])) | 0;
    x = words[base + i + 2];
    a2 = (a2 + Math.imul(Math.imul(x ^ (x >>> 16), G), K[i + 2])) | 0;
    x = words[base + i + 3];
    a3 = (a3 + Math.imul(Math.imul(x ^ (x >>> 16), G), K[i + 3])) | 0;
  }
  return internFinish(a0 + a1 + a2 + a3);
}

/**
 * The hash of a page whose first `run` words are `head` and whose words
 * from index `run` on are tail[0 .. 1024-run-1] (equal to internHashWords of
 * that page).
 */
export function internHashShort(head: number, run: number, tail: Uint32Array, tailBase: number): number {
  const K = INTERN_K;
  let sum = Math.imul(internG(head), KSUM[run]);
  for (let i = run; i < WORDS_PER_PAGE; i++) sum = (sum + Math.imul(internG(tail[tailBase + i - run]), K[i])) | 0;
  return internFinish(sum);
}
