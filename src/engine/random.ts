/**
 * A seeded generator standing in for the kernel's get_random_bytes(): the
 * same seed gives the same bytes on every run and every machine, so a
 * simulated module load that draws a secret (the 2008 HMAC key) is
 * reproducible. SplitMix32 (Steele, Lea, Flood 2014; the 32-bit variant of
 * java.util.SplittableRandom's mixer): not cryptographic, and it need not be.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next unsigned 32-bit value. */
  next32(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** get_random_bytes(buf, n): fills `out` (little-endian words). */
  bytes(out: Uint8Array): Uint8Array {
    for (let i = 0; i < out.length; i += 4) {
      const w = this.next32();
      for (let j = 0; j < 4 && i + j < out.length; j++) out[i + j] = w >>> (8 * j);
    }
    return out;
  }
}
