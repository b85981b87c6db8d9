/**
 * The fuzzers' and the soak's random source: the engine's seeded SplitMix32
 * with the helpers a generator of operations needs. The same seed gives the
 * same run on every machine, so a failure is replayed with `--seed N`.
 */
import { SeededRandom } from '../engine/random.js';

export class Rng {
  private readonly r: SeededRandom;

  constructor(readonly seed: number) {
    this.r = new SeededRandom(seed);
  }

  u32(): number {
    return this.r.next32();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : n <= 0x100000000 ? Math.floor((this.r.next32() / 0x100000000) * n) : Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    return (this.r.next32() * 0x200000 + (this.r.next32() >>> 11)) / 2 ** 53;
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** An index drawn by weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** A 64-bit value as a bigint. */
  u64(): bigint {
    return (BigInt(this.r.next32()) << 32n) | BigInt(this.r.next32());
  }

  bytes(n: number): Uint8Array {
    return this.r.bytes(new Uint8Array(n));
  }

  /** A seed for a sub-generator. */
  fork(): Rng {
    return new Rng(this.r.next32());
  }
}
