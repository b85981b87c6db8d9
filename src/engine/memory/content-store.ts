/**
 * Page contents, interned: every distinct 4096-byte content is stored once,
 * however many frames hold it, before and after merging.
 *
 * Layout (struct of arrays, indexed by content id; id 0 is "none"):
 *   pages[id >> SLAB_SHIFT]   Uint8Array slab of SLAB_PAGES pages (4 MiB,
 *                             allocated zeroed when a first page of it is
 *                             written in full, and touched only where a
 *                             page is written); the bytes of content id
 *                             live at (id & SLAB_MASK) * PAGE_SIZE when
 *                             meta says FULL
 *   tails[id >> SLAB_SHIFT]   Uint32Array of SLAB_PAGES * TAIL_WORDS words:
 *                             the words after the leading run of a SHORT
 *                             content (below); for a SEED content, its
 *                             chain's start state in the first
 *   meta[4 id]                the first word (head), as an int32
 *   meta[4 id + 1]            run | FULL | SEED: run (1..1024) is how many
 *                             leading words equal the head; FULL means the
 *                             slab holds the whole page; SEED that the page
 *                             is a seeded one (below)
 *   meta[4 id + 2]            next: the word at index run, the first one
 *                             that differs from the head (the head itself
 *                             when run is 1024)
 *   meta[4 id + 3]            the intern hash of the bytes (intern-hash.ts),
 *                             or of the chain's start for a SEED content
 *                             The four share 16 bytes, so that comparing two
 *                             pages in a tree walk costs one cache miss per
 *                             page when they differ in their first word,
 *                             in the length of their leading run, or in the
 *                             word after it (the worst case's pages all
 *                             do), and an intern lookup reads one line per
 *                             candidate
 *   refs[id]                  frames holding this content; 0 means free
 *   chain[id]                 next id in the same intern bucket (0 ends)
 *   gen[id]                   bumped when the id is freed, so that the spec
 *                             caches' ids can be validated; 16 bits, and the
 *                             spec caches are emptied whenever one wraps, so
 *                             a stale entry can never match again
 *   buckets[h & mask]         first id of the bucket; the table doubles
 *                             when there are more than two live ids per
 *                             bucket (chains are walked on the hashes in meta,
 *                             so a longer chain costs little)
 *
 * A SHORT content is one whose words after the leading run fit in
 * TAIL_WORDS (a zero page, a page of one byte, the worst case's pages that
 * are zero but for their last 8 bytes): it is stored as head, run and tail
 * alone, and its page in the slab is written only when someone asks for the
 * bytes in place (slabOf/wordsOf; the checksums and reads go through
 * pageOf, which builds them in a scratch page instead). So a workload of a
 * million such pages costs 32 bytes of tail apiece, not a 4 KiB page fault.
 *
 * A SEED content is a seeded page (pages.ts: a xorshift32 chain of 1024
 * words from a start state x, the workloads' random contents): it is stored
 * as x alone, interned under a hash of x, and its 1024 words are generated
 * where and when they are read, like a SHORT content's. Any page interned
 * from its words is checked for being such a chain first (most fail at the
 * second word), so a seeded page is one content however it arrives. Its
 * head and next are the chain's first two words, its run is 1 (xorshift32
 * has no fixed point), so two seeded pages always differ in their head,
 * and a comparison needs the words only against an unseeded page that
 * opens with the same two words. Filling a gibibyte of distinct seeded
 * pages thus writes no page, and their bytes are generated once per pass
 * that checksums them.
 *
 * The per-id arrays (26 bytes per id) grow by nextCapacity, and trim() cuts
 * them to the ids handed out once a workload is set up, so that no growth
 * slack is carried through the scans.
 *
 * Because contents are interned, two pages are identical exactly when their
 * content ids are equal: memcmp is only needed to order different pages.
 * Contents are immutable: a write makes a new content (or finds an existing
 * one) and the writer's frame switches to it.
 */
import { PAGE_SIZE, WORDS_PER_PAGE } from '../constants.js';
import { internFinish, internHashShort, internHashWords } from '../hash/intern-hash.js';
import { seedChainStart, seedStart, writePageBytes, writeSeedChain, xorshiftStep } from '../pages.js';

const SLAB_SHIFT = 10;
const SLAB_PAGES = 1 << SLAB_SHIFT;
const SLAB_MASK = SLAB_PAGES - 1;
/** Words after the leading run that a SHORT content may have. */
const TAIL_WORDS = 8;
/** The first run that makes a content SHORT. */
const SHORT_RUN = WORDS_PER_PAGE - TAIL_WORDS;
/** meta[4 id + 1]: the run in the low 16 bits, and this bit when the slab holds the page. */
const FULL = 1 << 16;
/** meta[4 id + 1]: the content is a seeded page kept as its chain's start (see SEED above). */
const SEED = 1 << 17;
const RUN_MASK = 0xffff;
/** The spec caches are emptied beyond this many entries. */
const SPEC_CACHE_MAX = 1 << 24;
/** Mixed into a seeded page's start state before hashing it. */
const CHAIN_SALT = 0x5eed5eed;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The content ids of one run of pages described by a spec (`seedFrom: 7`:
 * page j is seed 7 + j), remembered with their generations so that every
 * process filled from the same spec finds them without generating a page.
 */
export interface SpecRun {
  ids: Int32Array;
  gens: Uint16Array;
}

export class ContentStore {
  /** The page slabs, allocated by slabWords when a page of theirs is first written in full. */
  private pages: Array<Uint8Array | undefined> = [];
  private pageWords: Array<Uint32Array | undefined> = [];
  private tails: Uint32Array[] = [];
  refs = new Int32Array(1024);
  private chain = new Int32Array(1024);
  gen = new Uint16Array(1024);
  private meta = new Int32Array(4096);
  private buckets = new Int32Array(1024);
  private bucketMask = 1023;
  private freeIds: number[] = [];
  private nextId = 1;
  /** Live contents whose page is written in its slab (FULL). */
  private fullPages = 0;
  /** Live SEED contents not written in their slab. */
  private seedPages = 0;
  /** Live (referenced) distinct contents. */
  live = 0;
  /** Scratch page for building a content before interning it. */
  readonly scratch = new Uint8Array(PAGE_SIZE);
  readonly scratchWords = new Uint32Array(this.scratch.buffer);
  /** The page pageOf() builds a SHORT content in. */
  private readonly view = new Uint8Array(PAGE_SIZE);
  private readonly viewWords = new Uint32Array(this.view.buffer);
  /** Where in the array pageOf() returned the page starts. */
  pageOffset = 0;
  /** Spec key -> gen * 2^32 + id of the content generated for it last. */
  private specCache = new Map<string | number, number>();
  /** Run spec key -> the ids of its pages (see SpecRun). */
  private specRuns = new Map<string, SpecRun>();
  private specRunEntries = 0;
  /** Called with an id just before it is reused, so per-content caches can drop it. */
  private onFree: Array<(id: number) => void> = [];
  /** Called after trim() with the new capacity, so per-content side tables can follow. */
  private onTrim: Array<(capacity: number) => void> = [];

  /**
   * The slab holding content `id` in full (a Uint8Array; the page is at
   * offsetOf(id)). A SHORT content's page is written there first.
   */
  slabOf(id: number): Uint8Array {
    this.makeFull(id);
    return this.pages[id >>> SLAB_SHIFT]!;
  }

  offsetOf(id: number): number {
    return (id & SLAB_MASK) * PAGE_SIZE;
  }

  /** The slab of content `id` as words (the page at offsetOf(id) / 4), written in full as slabOf does. */
  wordsOf(id: number): Uint32Array {
    this.makeFull(id);
    return this.pageWords[id >>> SLAB_SHIFT]!;
  }

  /**
   * The bytes of content `id` for reading at once: its slab, or a scratch
   * page that the next call reuses; the page starts at `pageOffset`.
   */
  pageOf(id: number): Uint8Array {
    return this.locate(id) ? this.pages[id >>> SLAB_SHIFT]! : this.view;
  }

  /** pageOf as words: the page starts at word pageOffset / 4. */
  pageWordsOf(id: number): Uint32Array {
    return this.locate(id) ? this.pageWords[id >>> SLAB_SHIFT]! : this.viewWords;
  }

  /** Where pageOf finds content `id`: true, its slab at pageOffset; false, written out into the scratch page. */
  private locate(id: number): boolean {
    if ((this.meta[4 * id + 1] & FULL) !== 0) {
      this.pageOffset = (id & SLAB_MASK) * PAGE_SIZE;
      return true;
    }
    this.writeLazy(id, this.viewWords, 0);
    this.pageOffset = 0;
    return false;
  }

  /** The first word of content `id`, as an int32. */
  headOf(id: number): number {
    return this.meta[4 * id];
  }

  /** How many leading words of content `id` equal its first word (1..1024). */
  runOf(id: number): number {
    return this.meta[4 * id + 1] & RUN_MASK;
  }

  /** A copy of the 4096 bytes of content `id` (for tests and the read API). */
  bytes(id: number): Uint8Array {
    const page = this.pageOf(id);
    return page.slice(this.pageOffset, this.pageOffset + PAGE_SIZE);
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
    const at = src.byteOffset + offset;
    if (LITTLE_ENDIAN && (at & 3) === 0) {
      // Hashed where it lies: the bytes are copied only into a new content's slab page.
      return this.internWords(new Uint32Array(src.buffer, at, WORDS_PER_PAGE), 0);
    }
    this.scratch.set(src.subarray(offset, offset + PAGE_SIZE));
    return this.internWords(this.scratchWords, 0);
  }

  /** Interns the 1024 words at `words[base]` and returns the id, with one more reference. */
  internWords(words: Uint32Array, base: number): number {
    if (LITTLE_ENDIAN) {
      const x = seedChainStart(words, base);
      if (x !== 0) return this.internChain(x);
    }
    return this.internHashed(words, base, internHashWords(words, base));
  }

  /**
   * Interns the 1024 words at `words[base]` whose intern hash is `h`
   * (internHashWords, or a generator that hashed them as it wrote them).
   */
  internHashed(words: Uint32Array, base: number, h: number): number {
    if (LITTLE_ENDIAN) {
      const x = seedChainStart(words, base);
      if (x !== 0) return this.internChain(x);
    }
    const head = words[base];
    let run = 1;
    while (run < WORDS_PER_PAGE && words[base + run] === head) run++;
    const id = this.find(h, head | 0, run, words, base);
    if (id !== 0) return id;
    return this.add(h, head | 0, run, words, base, run >= SHORT_RUN);
  }

  /**
   * Interns the page whose first `run` words are `head` and whose other
   * words are tail[tailBase ..] (1024 - run of them; none for a page of one
   * repeated word): SHORT pages without writing 4 KiB.
   */
  internShort(head: number, run: number, tail: Uint32Array, tailBase: number): number {
    if (run < SHORT_RUN) throw new RangeError(`internShort: a run of ${run} words leaves more than ${TAIL_WORDS} words`);
    const h = internHashShort(head, run, tail, tailBase);
    const id = this.find(h, head | 0, run, tail, tailBase - run);
    if (id !== 0) return id;
    return this.add(h, head | 0, run, tail, tailBase - run, true);
  }

  /**
   * Interns the seeded page of `seed` (pages.ts, SCHEMA.md) without
   * generating it (see SEED above), with one more reference.
   */
  internSeed(seed: number): number {
    if (LITTLE_ENDIAN) return this.internChain(seedStart(seed));
    // A big-endian host stores the words byte-swapped: interned from its bytes.
    writePageBytes({ kind: 'seed', seed }, this.scratch, 0);
    return this.internScratch();
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
    if (this.specCache.size > SPEC_CACHE_MAX) this.specCache.clear();
    return id;
  }

  /**
   * The remembered ids of the run spec `key`, with room for `length` pages
   * (see SpecRun): read with takeSpecRun, filled with keepSpecRun.
   */
  specRun(key: string, length: number): SpecRun {
    let r = this.specRuns.get(key);
    if (r === undefined || r.ids.length < length) {
      if (this.specRunEntries + length > SPEC_CACHE_MAX) {
        this.specRuns.clear();
        this.specRunEntries = 0;
        r = undefined;
      }
      const ids = new Int32Array(length);
      const gens = new Uint16Array(length);
      if (r !== undefined) {
        ids.set(r.ids);
        gens.set(r.gens);
        this.specRunEntries -= r.ids.length;
      }
      r = { ids, gens };
      this.specRuns.set(key, r);
      this.specRunEntries += length;
    }
    return r;
  }

  /** The live content remembered for page j of a run, with one more reference, or 0. */
  takeSpecRun(r: SpecRun, j: number): number {
    const id = r.ids[j];
    if (id !== 0 && this.refs[id] > 0 && this.gen[id] === r.gens[j]) {
      this.refs[id]++;
      return id;
    }
    return 0;
  }

  /** Remembers content `id` for page j of a run. */
  keepSpecRun(r: SpecRun, j: number, id: number): void {
    r.ids[j] = id;
    r.gens[j] = this.gen[id];
  }

  ref(id: number): void {
    this.refs[id]++;
  }

  /** Drops one reference; the content is freed when none remain. */
  unref(id: number): void {
    if (--this.refs[id] > 0) return;
    if (this.refs[id] < 0) throw new Error(`content ${id}: reference count below zero`);
    const b = this.meta[4 * id + 3] & this.bucketMask;
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
    if (this.gen[id] === 0) {
      this.specCache.clear();
      this.specRuns.clear();
      this.specRunEntries = 0;
    }
    this.live--;
    if ((this.meta[4 * id + 1] & FULL) !== 0) this.fullPages--;
    else if ((this.meta[4 * id + 1] & SEED) !== 0) this.seedPages--;
    for (const fn of this.onFree) fn(id);
    this.freeIds.push(id);
  }

  /**
   * memcmp(a, b, 4096) reduced to its sign, plus how many bytes memcmp read
   * (up to and including the first difference).
   */
  compare(a: number, b: number): number {
    if (a === b) return 0;
    const m = this.meta;
    const ha = m[4 * a];
    const hb = m[4 * b];
    if (ha !== hb) {
      this.lastCompareBytes = firstByteDiff(ha, hb) + 1;
      return byteOrder(ha, hb);
    }
    const ma = m[4 * a + 1];
    const mb = m[4 * b + 1];
    const ra = ma & RUN_MASK;
    const rb = mb & RUN_MASK;
    // Both pages open with the same word repeated: the first min(ra, rb) words are equal.
    if (ra !== rb) {
      // At the shorter run's end one page still holds the head and the other its next word.
      const i = ra < rb ? ra : rb;
      const x = ra === i ? m[4 * a + 2] : ha;
      const y = rb === i ? m[4 * b + 2] : hb;
      this.lastCompareBytes = i * 4 + firstByteDiff(x, y) + 1;
      return byteOrder(x, y);
    }
    {
      const x = m[4 * a + 2];
      const y = m[4 * b + 2];
      if (x !== y) {
        this.lastCompareBytes = ra * 4 + firstByteDiff(x, y) + 1;
        return byteOrder(x, y);
      }
    }
    let wa: Uint32Array;
    let oa: number;
    let wb: Uint32Array;
    let ob: number;
    if ((ma & FULL) !== 0) {
      wa = this.pageWords[a >>> SLAB_SHIFT]!;
      oa = (a & SLAB_MASK) * WORDS_PER_PAGE;
    } else if ((ma & SEED) !== 0) {
      writeSeedChain(this.tails[a >>> SLAB_SHIFT][(a & SLAB_MASK) * TAIL_WORDS] | 0, (wa = this.compareA), (oa = 0));
    } else {
      wa = this.tails[a >>> SLAB_SHIFT];
      oa = (a & SLAB_MASK) * TAIL_WORDS - ra;
    }
    if ((mb & FULL) !== 0) {
      wb = this.pageWords[b >>> SLAB_SHIFT]!;
      ob = (b & SLAB_MASK) * WORDS_PER_PAGE;
    } else if ((mb & SEED) !== 0) {
      writeSeedChain(this.tails[b >>> SLAB_SHIFT][(b & SLAB_MASK) * TAIL_WORDS] | 0, (wb = this.compareB), (ob = 0));
    } else {
      wb = this.tails[b >>> SLAB_SHIFT];
      ob = (b & SLAB_MASK) * TAIL_WORDS - rb;
    }
    for (let i = ra + 1; i < WORDS_PER_PAGE; i++) {
      const x = wa[oa + i];
      const y = wb[ob + i];
      if (x !== y) {
        this.lastCompareBytes = i * 4 + firstByteDiff(x, y) + 1;
        return byteOrder(x, y);
      }
    }
    // Different ids never hold equal bytes: interning guarantees it.
    throw new Error(`contents ${a} and ${b} are equal but not interned together`);
  }

  /** Bytes read by the last compare() of two different contents. */
  lastCompareBytes = 0;
  /** Where compare() generates a seeded page that it must read past its second word. */
  private readonly compareA = new Uint32Array(WORDS_PER_PAGE);
  private readonly compareB = new Uint32Array(WORDS_PER_PAGE);

  /**
   * Bytes of page storage (page contents) held: the slab pages of the live
   * contents written in full, and the tails. (The slabs are allocated
   * zeroed in whole, but a page of them costs memory only once written.)
   */
  slabBytes(): number {
    return this.fullPages * PAGE_SIZE + this.tails.length * SLAB_PAGES * TAIL_WORDS * 4;
  }

  /**
   * What a bound on page contents charges (a script run's memory limit):
   * slabBytes, plus a full page for each SEED content not yet written out,
   * since any reader in place (the 2008 and 2009 mergers) writes it out
   * without interning anything, and the limit is checked at writes.
   */
  chargedBytes(): number {
    return this.slabBytes() + this.seedPages * PAGE_SIZE;
  }

  /** Bytes of page storage and metadata held. */
  memoryBytes(): number {
    return this.slabBytes()
      + this.refs.byteLength + this.chain.byteLength
      + this.gen.byteLength + this.meta.byteLength + this.buckets.byteLength;
  }

  // ---------------------------------------------------------------- internals

  /**
   * The live id holding the page with hash h, head and run whose word i
   * (i >= run) is src[off + i], with one more reference; 0 if none.
   */
  private find(h: number, head: number, run: number, src: Uint32Array, off: number): number {
    const m = this.meta;
    for (let id = this.buckets[h & this.bucketMask]; id !== 0; id = this.chain[id]) {
      if (m[4 * id + 3] !== (h | 0) || m[4 * id] !== head || (m[4 * id + 1] & RUN_MASK) !== run) continue;
      // A seeded page is interned by its chain's start only (internChain): never equal to the page looked for here.
      if ((m[4 * id + 1] & SEED) !== 0) continue;
      let w: Uint32Array;
      let o: number;
      if ((m[4 * id + 1] & FULL) !== 0) {
        w = this.pageWords[id >>> SLAB_SHIFT]!;
        o = (id & SLAB_MASK) * WORDS_PER_PAGE;
      } else {
        w = this.tails[id >>> SLAB_SHIFT];
        o = (id & SLAB_MASK) * TAIL_WORDS - run;
      }
      let i = run;
      while (i < WORDS_PER_PAGE && w[o + i] === src[off + i]) i++;
      if (i === WORDS_PER_PAGE) {
        this.refs[id]++;
        return id;
      }
    }
    return 0;
  }

  /** A new content (one reference) for the page of `find`'s arguments; only its tail is stored when `short`. */
  private add(h: number, head: number, run: number, src: Uint32Array, off: number, short: boolean): number {
    const id = this.allocId();
    const s = id >>> SLAB_SHIFT;
    const k = id & SLAB_MASK;
    this.meta[4 * id] = head;
    if (short) {
      const t = this.tails[s];
      const o = k * TAIL_WORDS - run;
      for (let i = run; i < WORDS_PER_PAGE; i++) t[o + i] = src[off + i];
      this.meta[4 * id + 1] = run;
    } else {
      this.slabWords(s).set(src.subarray(off, off + WORDS_PER_PAGE), k * WORDS_PER_PAGE);
      this.meta[4 * id + 1] = run | FULL;
      this.fullPages++;
    }
    this.meta[4 * id + 3] = h;
    this.meta[4 * id + 2] = run < WORDS_PER_PAGE ? src[off + run] : head;
    return this.link(id, h);
  }

  /**
   * The live seeded content whose chain starts from x (pages.ts), with one
   * more reference; a new SEED content if there is none.
   */
  private internChain(x: number): number {
    const h = internFinish(x ^ CHAIN_SALT);
    let m = this.meta;
    for (let id = this.buckets[h & this.bucketMask]; id !== 0; id = this.chain[id]) {
      if (m[4 * id + 3] === (h | 0) && (m[4 * id + 1] & SEED) !== 0 && (this.tails[id >>> SLAB_SHIFT][(id & SLAB_MASK) * TAIL_WORDS] | 0) === x) {
        this.refs[id]++;
        return id;
      }
    }
    const id = this.allocId();
    const head = xorshiftStep(x);
    // allocId may have grown the arrays: this.meta, not m, from here on.
    m = this.meta;
    m[4 * id] = head;
    m[4 * id + 1] = 1 | SEED;
    m[4 * id + 2] = xorshiftStep(head);
    m[4 * id + 3] = h;
    this.tails[id >>> SLAB_SHIFT][(id & SLAB_MASK) * TAIL_WORDS] = x;
    this.seedPages++;
    return this.link(id, h);
  }

  /** A new content `id` of hash `h` goes live with one reference, first in its bucket's chain. */
  private link(id: number, h: number): number {
    const b = h & this.bucketMask;
    this.chain[id] = this.buckets[b];
    this.buckets[b] = id;
    this.refs[id] = 1;
    this.live++;
    if (this.live > this.buckets.length * 2) this.rehash();
    return id;
  }

  /** The page of a content not written in its slab (SEED or SHORT) into words[base ..]. */
  private writeLazy(id: number, words: Uint32Array, base: number): void {
    if ((this.meta[4 * id + 1] & SEED) !== 0) writeSeedChain(this.tails[id >>> SLAB_SHIFT][(id & SLAB_MASK) * TAIL_WORDS] | 0, words, base);
    else this.writeShort(id, words, base);
  }

  /** The page of SHORT content id into words[base ..]. */
  private writeShort(id: number, words: Uint32Array, base: number): void {
    const m = this.meta[4 * id + 1];
    const run = m & RUN_MASK;
    words.fill(this.meta[4 * id], base, base + run);
    const t = this.tails[id >>> SLAB_SHIFT];
    const o = (id & SLAB_MASK) * TAIL_WORDS - run;
    for (let i = run; i < WORDS_PER_PAGE; i++) words[base + i] = t[o + i];
  }

  /** Writes a SHORT or SEED content's page into its slab page, for the callers that read slabs in place. */
  private makeFull(id: number): void {
    const m = this.meta[4 * id + 1];
    if ((m & FULL) !== 0 || id === 0 || id >= this.nextId) return;
    this.writeLazy(id, this.slabWords(id >>> SLAB_SHIFT), (id & SLAB_MASK) * WORDS_PER_PAGE);
    this.meta[4 * id + 1] = m | FULL;
    this.fullPages++;
    if ((m & SEED) !== 0) this.seedPages--;
  }

  private allocId(): number {
    const reused = this.freeIds.pop();
    if (reused !== undefined) return reused;
    const id = this.nextId++;
    if (id >= this.refs.length) this.grow(id + 1);
    if ((id >>> SLAB_SHIFT) >= this.tails.length) this.tails.push(new Uint32Array(SLAB_PAGES * TAIL_WORDS));
    return id;
  }

  /**
   * The page slab s as words, allocated when its first page is written in
   * full: a workload of SEED and SHORT contents allocates none (allocating
   * gibibytes of zeroed buffers nobody writes costs garbage collections).
   */
  private slabWords(s: number): Uint32Array {
    let w = this.pageWords[s];
    if (w === undefined) {
      while (this.pages.length <= s) {
        this.pages.push(undefined);
        this.pageWords.push(undefined);
      }
      const slab = new Uint8Array(SLAB_PAGES * PAGE_SIZE);
      this.pages[s] = slab;
      this.pageWords[s] = w = new Uint32Array(slab.buffer);
    }
    return w;
  }

  private grow(min: number): void {
    this.resize(nextCapacity(this.refs.length, min));
  }

  /** Reallocates the per-id arrays to `n` entries (n at least nextId). */
  private resize(n: number): void {
    this.refs = growInt32(this.refs, n);
    this.chain = growInt32(this.chain, n);
    this.gen = growUint16(this.gen, n);
    this.meta = growInt32(this.meta, 4 * n);
  }

  private rehash(): void {
    const size = this.buckets.length * 2;
    this.buckets = new Int32Array(size);
    this.bucketMask = size - 1;
    for (let id = 1; id < this.nextId; id++) {
      if (this.refs[id] <= 0) continue;
      const b = this.meta[4 * id + 3] & this.bucketMask;
      this.chain[id] = this.buckets[b];
      this.buckets[b] = id;
    }
  }
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
