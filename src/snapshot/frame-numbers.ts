/**
 * Physical frame numbers of one capture, renumbered 1, 2, ... in the order
 * first seen: two pages with the same number are one page of RAM already
 * (a shared library's text, a forked process's untouched pages, a KSM page),
 * which no deduplication can save again. PFNs (pagemap bits 0-54, root only)
 * are below 2^55, exact as doubles; an open-addressing table keeps them.
 */
export class FrameNumbers {
  private keys = new Float64Array(1024);
  private values = new Int32Array(1024);
  private mask = 1023;
  private next = 1;

  /** The number of frame `pfn` (> 0) in this capture. */
  of(pfn: number): number {
    let s = hashPfn(pfn) & this.mask;
    for (;;) {
      const v = this.values[s];
      if (v === 0) break;
      if (this.keys[s] === pfn) return v;
      s = (s + 1) & this.mask;
    }
    const n = this.next++;
    this.keys[s] = pfn;
    this.values[s] = n;
    if (2 * this.next > this.values.length) this.grow();
    return n;
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Int32Array(values.length * 2);
    this.mask = this.values.length - 1;
    for (let i = 0; i < values.length; i++) {
      if (values[i] === 0) continue;
      let s = hashPfn(keys[i]) & this.mask;
      while (this.values[s] !== 0) s = (s + 1) & this.mask;
      this.keys[s] = keys[i];
      this.values[s] = values[i];
    }
  }
}

function hashPfn(pfn: number): number {
  const lo = pfn >>> 0;
  const hi = (pfn / 4294967296) >>> 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 7;
}
