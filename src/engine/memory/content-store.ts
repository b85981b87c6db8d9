/**
 * Page contents, interned: every distinct 4096-byte content is stored once,
 * however many frames hold it, before and after merging.
 *
 * Layout (struct of arrays, indexed by content id; id 0 is "none"):
 *   slabs[id >> SLAB_SHIFT]   Uint8Array of SLAB_PAGES pages; the bytes of
 *                             content id live at (id & SLAB_MASK) * PAGE_SIZE
 *   refs[id]                  frames holding this content; 0 means free
 *   hash[id]                  the intern hash of the bytes
 *   chain[id]                 next id in the same intern bucket (0 ends)
 *   gen[id]                   bumped when the id is freed, so that the spec
 *                             cache's ids can be validated; 16 bits, and the
 *                             spec cache is emptied whenever one wraps, so a
 *                             stale entry can never match again
 *   head[id]                  the first word, kept densely so that most
 *                             comparisons in a tree walk never touch the
 *                             page itself (a cache miss each)
 *   run[id]                   how many leading words equal the first word:
 *                             memcmp of two pages with the same first word
 *                             can start at the shorter run, which makes the
 *                             mostly-zero pages of the worst case O(1)
 *   buckets[h & mask]         first id of the bucket; the table doubles
 *                             when there are more than two live ids per
 *                             bucket (chains are walked on hash[] alone,
 *                             so a longer chain costs little): 2 to 4 bytes
 *                             per live content instead of 4 to 8
 *
 * The per-id arrays (20 bytes per id) grow by nextCapacity, and trim() cuts
 * them to the ids handed out once a workload is set up, so that no growth
 * slack is carried through the scans.
 *
 * Because contents are interned, two pages are identical exactly when their
 * content ids are equal: memcmp is only needed to order different pages.
 * Contents are immutable: a write makes a new content (or finds an existing
 * one) and the writer's frame switches to it.
 */
import { PAGE_SIZE, WORDS_PER_PAGE } from '../constants.js';

const SLAB_SHIFT = 8;
const SLAB_PAGES = 1 << SLAB_SHIFT;
const SLAB_MASK = SLAB_PAGES - 1;

export class ContentStore {
  private slabs: Uint8Array[] = [];
  private slabWords: Uint32Array[] = [];
  refs = new Int32Array(1024);
  private hash = new Uint32Array(1024);
  private chain = new Int32Array(1024);
  gen = new Uint16Array(1024);
  private run = new Uint16Array(1024);
  private head = new Uint32Array(1024);
  private buckets = new Int32Array(1024);
  private bucketMask = 1023;
  private freeIds: number[] = [];
  private nextId = 1;
  /** Live (referenced) distinct contents. */
  live = 0;
  /** Scratch page for building a content before interning it. */
  readonly scratch = new Uint8Array(PAGE_SIZE);
  readonly scratchWords = new Uint32Array(this.scratch.buffer);
  /** Spec key -> gen * 2^32 + id of the content generated for it last. */
  private specCache = new Map<string | number, number>();
  /** Called with an id just before it is reused, so per-content caches can drop it. */
  private onFree: Array<(id: number) => void> = [];
  /** Called after trim() with the new capacity, so per-content side tables can follow. */
  private onTrim: Array<(capacity: number) => void> = [];

  /** The slab holding content `id` (a Uint8Array) and the byte offset of its page. */
  slabOf(id: number): Uint8Array {
    return this.slabs[id >>> SLAB_SHIFT];
  }

  offsetOf(id: number): number {
    return (id & SLAB_MASK) * PAGE_SIZE;
  }

  wordsOf(id: number): Uint32Array {
    return this.slabWords[id >>> SLAB_SHIFT];
  }

  /** A copy of the 4096 bytes of content `id` (for tests and the read API). */
  bytes(id: number): Uint8Array {
    const off = this.offsetOf(id);
    return this.slabOf(id).slice(off, off + PAGE_SIZE);
  }

  /** Registers a callback run when a content id is freed. */
  onContentFreed(fn: (id: number) => void): void {
    this.onFree.push(fn);
  }

  /** Registers a callback run after trim() with the new capacity. */
  onCapacityTrimmed(fn: (capacity: number) => void): void {
    this.onTrim.push(fn);
  }

  /** Capacity in content ids (for per-content side tables that grow with the store). */
  get capacity(): number {
    return this.refs.length;
  }

  /** Ids handed out so far, plus one (ids at or above it have never been used). */
  get idLimit(): number {
    return this.nextId;
  }

  /**
   * Cuts the per-id arrays down to the ids handed out so far: called once a
   * workload's pages are all in, when few new contents are still to come, so
   * that the growth slack is not carried through the scans. The contents,
   * their ids and the free ids are unchanged; the next new id grows the
   * arrays again as usual.
   */
  trim(): void {
    const n = Math.max(this.nextId, 16);
    if (n >= this.refs.length) return;
    this.resize(n);
    for (const fn of this.onTrim) fn(n);
  }

  /** Interns the page in `scratch` and returns its id, with one more reference. */
  internScratch(): number {
    return this.internWords(this.scratchWords, 0);
  }

  /** Interns 4096 bytes at `src[offset]` and returns the id, with one more reference. */
  intern(src: Uint8Array, offset: number): number {
    this.scratch.set(src.subarray(offset, offset + PAGE_SIZE));
    return this.internWords(this.scratchWords, 0);
  }

  /** Interns the 1024 words at `words[base]` and returns the id, with one more reference. */
  internWords(words: Uint32Array, base: number): number {
    const h = internHash(words, base);
    for (let id = this.buckets[h & this.bucketMask]; id !== 0; id = this.chain[id]) {
      if (this.hash[id] === h && this.equalWords(id, words, base)) {
        this.refs[id]++;
        return id;
      }
    }
    const id = this.allocId();
    this.wordsOf(id).set(words.subarray(base, base + WORDS_PER_PAGE), (id & SLAB_MASK) * WORDS_PER_PAGE);
    this.hash[id] = h;
    let r = 1;
    const w0 = words[base];
    this.head[id] = w0;
    while (r < WORDS_PER_PAGE && words[base + r] === w0) r++;
    this.run[id] = r;
    const b = h & this.bucketMask;
    this.chain[id] = this.buckets[b];
    this.buckets[b] = id;
    this.refs[id] = 1;
    this.live++;
    if (this.live > this.buckets.length * 2) this.rehash();
    return id;
  }

  /**
   * Interns a page described by a cache key, generating its bytes into
   * `scratch` with `fill` only when no live content has that key: workloads
   * fill millions of pages from a few thousand specs.
   */
  internSpec(key: string | number, fill: (out: Uint8Array) => void): number {
    const hit = this.lookupSpec(key);
    if (hit !== 0) return hit;
    fill(this.scratch);
    return this.internScratchAs(key);
  }

  /** The live content last interned under `key`, with one more reference, or 0. */
  lookupSpec(key: string | number): number {
    const hit = this.specCache.get(key);
    if (hit === undefined) return 0;
    const id = hit % 4294967296;
    if (this.refs[id] > 0 && this.gen[id] === (hit - id) / 4294967296) {
      this.refs[id]++;
      return id;
    }
    return 0;
  }

  /** Interns the page in `scratch` and remembers it under `key` (see internSpec). */
  internScratchAs(key: string | number): number {
    const id = this.internScratch();
    this.specCache.set(key, this.gen[id] * 4294967296 + id);
    if (this.specCache.size > 1 << 24) this.specCache.clear();
    return id;
  }

  ref(id: number): void {
    this.refs[id]++;
  }

  /** Drops one reference; the content is freed when none remain. */
  unref(id: number): void {
    if (--this.refs[id] > 0) return;
    if (this.refs[id] < 0) throw new Error(`content ${id}: reference count below zero`);
    const b = this.hash[id] & this.bucketMask;
    if (this.buckets[b] === id) {
      this.buckets[b] = this.chain[id];
    } else {
      let p = this.buckets[b];
      while (this.chain[p] !== id) p = this.chain[p];
      this.chain[p] = this.chain[id];
    }
    this.chain[id] = 0;
    // A wrapped generation could match a spec cache entry made 65536 frees ago.
    // (++gen[id] would give 65536, not what the Uint16Array stores.)
    this.gen[id]++;
    if (this.gen[id] === 0) this.specCache.clear();
    this.live--;
    for (const fn of this.onFree) fn(id);
    this.freeIds.push(id);
  }

  /**
   * memcmp(a, b, 4096) reduced to its sign, plus how many bytes memcmp read
   * (up to and including the first difference).
   */
  compare(a: number, b: number): number {
    if (a === b) return 0;
    const ha = this.head[a];
    const hb = this.head[b];
    if (ha !== hb) {
      this.lastCompareBytes = firstByteDiff(ha, hb) + 1;
      return byteOrder(ha, hb);
    }
    const wa = this.wordsOf(a);
    const wb = this.wordsOf(b);
    const ba = (a & SLAB_MASK) * WORDS_PER_PAGE;
    let ia = ba;
    let ib = (b & SLAB_MASK) * WORDS_PER_PAGE;
    const end = ia + WORDS_PER_PAGE;
    {
      // Both pages open with the same word repeated: skip the common run.
      const skip = Math.min(this.run[a], this.run[b]);
      ia += skip;
      ib += skip;
    }
    for (; ia < end; ia++, ib++) {
      const x = wa[ia];
      const y = wb[ib];
      if (x !== y) {
        this.lastCompareBytes = (ia - ba) * 4 + firstByteDiff(x, y) + 1;
        return byteOrder(x, y);
      }
    }
    // Different ids never hold equal bytes: interning guarantees it.
    throw new Error(`contents ${a} and ${b} are equal but not interned together`);
  }

  /** Bytes read by the last compare() of two different contents. */
  lastCompareBytes = 0;

  /** Bytes of slab storage (page contents) held. */
  slabBytes(): number {
    return this.slabs.length * SLAB_PAGES * PAGE_SIZE;
  }

  /** Bytes of slab storage and metadata held. */
  memoryBytes(): number {
    return this.slabs.length * SLAB_PAGES * PAGE_SIZE
      + this.refs.byteLength + this.hash.byteLength + this.chain.byteLength
      + this.gen.byteLength + this.run.byteLength + this.head.byteLength + this.buckets.byteLength;
  }

  private equalWords(id: number, words: Uint32Array, base: number): boolean {
    const w = this.wordsOf(id);
    const own = (id & SLAB_MASK) * WORDS_PER_PAGE;
    for (let i = 0; i < WORDS_PER_PAGE; i++) if (w[own + i] !== words[base + i]) return false;
    return true;
  }

  private allocId(): number {
    const reused = this.freeIds.pop();
    if (reused !== undefined) return reused;
    const id = this.nextId++;
    if (id >= this.refs.length) this.grow(id + 1);
    if ((id >>> SLAB_SHIFT) >= this.slabs.length) {
      const slab = new Uint8Array(SLAB_PAGES * PAGE_SIZE);
      this.slabs.push(slab);
      this.slabWords.push(new Uint32Array(slab.buffer));
    }
    return id;
  }

  private grow(min: number): void {
    this.resize(nextCapacity(this.refs.length, min));
  }

  /** Reallocates the per-id arrays to `n` entries (n at least nextId). */
  private resize(n: number): void {
    this.refs = growInt32(this.refs, n);
    this.chain = growInt32(this.chain, n);
    this.hash = growUint32(this.hash, n);
    this.gen = growUint16(this.gen, n);
    this.run = growUint16(this.run, n);
    this.head = growUint32(this.head, n);
  }

  private rehash(): void {
    const size = this.buckets.length * 2;
    this.buckets = new Int32Array(size);
    this.bucketMask = size - 1;
    for (let id = 1; id < this.nextId; id++) {
      if (this.refs[id] <= 0) continue;
      const b = this.hash[id] & this.bucketMask;
      this.chain[id] = this.buckets[b];
      this.buckets[b] = id;
    }
  }
}

/**
 * A fast 32-bit hash of a page's words, for interning only (not a kernel
 * hash): four independent lanes, so the multiplies overlap.
 */
function internHash(words: Uint32Array, base: number): number {
  let h1 = 0x1b873593 | 0;
  let h2 = 0x2545f491 | 0;
  let h3 = 0x27d4eb2f | 0;
  let h4 = 0x165667b1 | 0;
  for (let i = base, end = base + WORDS_PER_PAGE; i < end; i += 4) {
    h1 = Math.imul(h1 ^ words[i], 0xcc9e2d51 | 0);
    h2 = Math.imul(h2 ^ words[i + 1], 0x1b873593);
    h3 = Math.imul(h3 ^ words[i + 2], 0x2545f491);
    h4 = Math.imul(h4 ^ words[i + 3], 0x27d4eb2f);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = (h2 << 13) | (h2 >>> 19);
    h3 = (h3 << 11) | (h3 >>> 21);
    h4 = (h4 << 17) | (h4 >>> 15);
  }
  let h = h1 ^ Math.imul(h2, 5) ^ Math.imul(h3, 9) ^ Math.imul(h4, 17);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b | 0);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35 | 0);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Index (0..3) of the first differing byte of two little-endian words. */
function firstByteDiff(x: number, y: number): number {
  const d = (x ^ y) >>> 0;
  if (d & 0xff) return 0;
  if (d & 0xff00) return 1;
  if (d & 0xff0000) return 2;
  return 3;
}

/** memcmp's sign for two little-endian words that differ: the first differing byte decides. */
function byteOrder(x: number, y: number): number {
  const k = firstByteDiff(x, y) * 8;
  return ((x >>> k) & 0xff) < ((y >>> k) & 0xff) ? -1 : 1;
}

/**
 * The capacity to grow an array of `cur` entries to so it holds `min`:
 * doubling while small, then by a quarter from 64 Ki entries, so that a
 * table of hundreds of thousands of entries wastes at most a fifth of itself
 * (a few more copies while it grows cost far less than the slack).
 */
export function nextCapacity(cur: number, min: number): number {
  let n = Math.max(cur, 16);
  while (n < min) n = n < 1 << 16 ? n * 2 : Math.ceil((n * 1.25) / 1024) * 1024;
  return n;
}

/** A copy of `a` with `n` entries: zero-extended, or cut to its first n. */
export function growInt32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a.length > n ? a.subarray(0, n) : a);
  return b;
}

export function growUint32(a: Uint32Array, n: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(n);
  b.set(a.length > n ? a.subarray(0, n) : a);
  return b;
}

export function growUint16(a: Uint16Array, n: number): Uint16Array<ArrayBuffer> {
  const b = new Uint16Array(n);
  b.set(a.length > n ? a.subarray(0, n) : a);
  return b;
}

export function growUint8(a: Uint8Array, n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  b.set(a.length > n ? a.subarray(0, n) : a);
  return b;
}

export function growFloat64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a.length > n ? a.subarray(0, n) : a);
  return b;
}
