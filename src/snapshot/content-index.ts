/**
 * The snapshot writer's index of the distinct page contents it has stored:
 * 128-bit page hash -> content number, in typed arrays (open addressing,
 * linear probing, doubled at half load), so memory grows by about 40 bytes
 * per distinct content (under 1 % of the pages themselves) and never with
 * the duplicates.
 */
export class ContentIndex {
  private keys = new Int32Array(4 * 1024);
  private values = new Int32Array(1024);
  private mask = 1023;
  /** Contents indexed. */
  size = 0;

  /** The content number stored under hash `h`, or 0. */
  get(h: Int32Array): number {
    const keys = this.keys;
    for (let s = h[0] & this.mask; ; s = (s + 1) & this.mask) {
      const v = this.values[s];
      if (v === 0) return 0;
      const k = s * 4;
      if (keys[k] === h[0] && keys[k + 1] === h[1] && keys[k + 2] === h[2] && keys[k + 3] === h[3]) return v;
    }
  }

  /** Files content number `n` (> 0) under hash `h`, which is not in the index yet. */
  add(h: Int32Array, n: number): void {
    if (2 * (this.size + 1) > this.values.length) this.grow();
    this.put(h[0], h[1], h[2], h[3], n);
    this.size++;
  }

  /** Bytes held (for the documented memory bound). */
  get bytes(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  private put(a: number, b: number, c: number, d: number, n: number): void {
    const keys = this.keys;
    let s = a & this.mask;
    while (this.values[s] !== 0) s = (s + 1) & this.mask;
    const k = s * 4;
    keys[k] = a;
    keys[k + 1] = b;
    keys[k + 2] = c;
    keys[k + 3] = d;
    this.values[s] = n;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const cap = oldValues.length * 2;
    this.keys = new Int32Array(cap * 4);
    this.values = new Int32Array(cap);
    this.mask = cap - 1;
    for (let s = 0; s < oldValues.length; s++) {
      const v = oldValues[s];
      if (v !== 0) this.put(oldKeys[s * 4], oldKeys[s * 4 + 1], oldKeys[s * 4 + 2], oldKeys[s * 4 + 3], v);
    }
  }
}
