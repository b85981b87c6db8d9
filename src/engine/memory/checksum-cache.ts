/**
 * Page checksums remembered per content: contents are immutable and
 * interned, so a checksum is computed once per page version however many
 * times the scanner asks for it. The era still counts every call it makes
 * (stats), as if it had hashed the page.
 *
 * Layout (indexed by content id, as long as the content store's capacity,
 * which it follows instead of growing on its own):
 *   values[id]            the checksum of content id, when valid
 *   valid[id >> 5]        bit id & 31 set when values[id] holds the checksum
 *                         of the live content id; cleared when id is freed
 */
import type { ContentStore } from './content-store.js';
import { growUint32 } from './content-store.js';
import { runVariantOf } from '../hash/page-checksum.js';
import type { RunPageChecksum } from '../hash/run-page-checksum.js';

/** Leading words of one value from which a checksum starts after the run (below it the full hash is as quick). */
const LONG_RUN = 48;

export type PageHashFn = (page: Uint8Array, offset: number) => number;

export class ChecksumCache {
  private values = new Uint32Array(0);
  private valid = new Uint32Array(0);

  /** The same checksum for pages opening with a long run of one word, which skips the run's mixing. */
  private runFn: RunPageChecksum | undefined;

  constructor(private readonly contents: ContentStore, private fn: PageHashFn) {
    this.runFn = runVariantOf(fn);
    contents.onContentFreed((id) => {
      if (id < this.values.length) this.valid[id >>> 5] &= ~(1 << (id & 31));
    });
    // Ids at or above the trimmed capacity were never handed out: nothing valid is lost.
    contents.onCapacityTrimmed((n) => {
      if (this.values.length > n) this.resize(n);
    });
  }

  /** The checksum of content `id`. */
  of(id: number): number {
    if (id >= this.values.length) this.resize(Math.max(this.contents.capacity, id + 1));
    const bit = 1 << (id & 31);
    if ((this.valid[id >>> 5] & bit) !== 0) return this.values[id];
    const c = this.contents;
    const run = c.runOf(id);
    let v: number;
    if (run >= LONG_RUN && this.runFn !== undefined) {
      const words = c.pageWordsOf(id);
      v = this.runFn(c.headOf(id), run, words, c.pageOffset >>> 2) >>> 0;
    } else {
      const page = c.pageOf(id);
      v = this.fn(page, c.pageOffset) >>> 0;
    }
    this.values[id] = v;
    this.valid[id >>> 5] |= bit;
    return v;
  }

  /** Computes checksums with `fn` from now on (every remembered value is dropped). */
  use(fn: PageHashFn): void {
    this.fn = fn;
    this.runFn = runVariantOf(fn);
    this.valid.fill(0);
  }

  memoryBytes(): number {
    return this.values.byteLength + this.valid.byteLength;
  }

  private resize(n: number): void {
    this.values = growUint32(this.values, n);
    this.valid = growUint32(this.valid, (n + 31) >>> 5);
  }
}
