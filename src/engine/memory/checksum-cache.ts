/**
 * Page checksums remembered per content: contents are immutable and
 * interned, so a checksum is computed once per page version however many
 * times the scanner asks for it. The era still counts every call it makes
 * (stats), as if it had hashed the page.
 */
import type { ContentStore } from './content-store.js';
import { growUint32, growUint8, nextCapacity } from './content-store.js';

export type PageHashFn = (page: Uint8Array, offset: number) => number;

export class ChecksumCache {
  private values = new Uint32Array(1024);
  /** 1 when values[id] holds the checksum of the live content id; reset when the id is freed. */
  private valid = new Uint8Array(1024);

  constructor(private readonly contents: ContentStore, private readonly fn: PageHashFn) {
    contents.onContentFreed((id) => {
      if (id < this.valid.length) this.valid[id] = 0;
    });
  }

  /** The checksum of content `id`. */
  of(id: number): number {
    if (id >= this.values.length) this.grow(id + 1);
    if (this.valid[id] === 1) return this.values[id];
    const v = this.fn(this.contents.slabOf(id), this.contents.offsetOf(id)) >>> 0;
    this.values[id] = v;
    this.valid[id] = 1;
    return v;
  }

  memoryBytes(): number {
    return this.values.byteLength + this.valid.byteLength;
  }

  private grow(min: number): void {
    const n = nextCapacity(this.values.length, min);
    this.values = growUint32(this.values, n);
    this.valid = growUint8(this.valid, n);
  }
}
