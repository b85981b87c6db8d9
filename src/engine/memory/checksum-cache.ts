/**
 * Page checksums remembered per content: contents are immutable and
 * interned, so a checksum is computed once per page version however many
 * times the scanner asks for it. The era still counts every call it makes
 * (stats), as if it had hashed the page.
 */
import type { ContentStore } from './content-store.js';
import { growUint32 } from './content-store.js';

export type PageHashFn = (page: Uint8Array, offset: number) => number;

export class ChecksumCache {
  private values = new Uint32Array(1024);
  /** gen[id] + 1 when values[id] is valid for the content's current generation, else 0. */
  private valid = new Uint32Array(1024);

  constructor(private readonly contents: ContentStore, private readonly fn: PageHashFn) {}

  /** The checksum of content `id`. */
  of(id: number): number {
    if (id >= this.values.length) this.grow(id + 1);
    const g = this.contents.gen[id] + 1;
    if (this.valid[id] === g) return this.values[id];
    const v = this.fn(this.contents.slabOf(id), this.contents.offsetOf(id)) >>> 0;
    this.values[id] = v;
    this.valid[id] = g;
    return v;
  }

  memoryBytes(): number {
    return this.values.byteLength + this.valid.byteLength;
  }

  private grow(min: number): void {
    let n = this.values.length;
    while (n < min) n *= 2;
    this.values = growUint32(this.values, n);
    this.valid = growUint32(this.valid, n);
  }
}
