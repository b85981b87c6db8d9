/**
 * The page digests of the November 2008 merger (seed 001), without an object
 * per digest: a SHA-1 digest is five 32-bit words in a typed array.
 *
 *   ContentDigests   page_hash() of each content id, computed once per
 *                    content and HMAC key (the seed recomputes it each time;
 *                    the result is a function of the first 128 bytes and the
 *                    key alone). words[5 * id ..] the digest, valid[id] 1
 *                    when it is there; reset when the id is freed. Contents
 *                    that open with the same 128 bytes (the worst case's
 *                    pages all do) share one HMAC through byPrefix.
 *   Sha1Cache        struct sha1_item sha1_hash[nsha1s_hash]: the digest of
 *                    a frame, cached by pfn % nsha1s_hash. pfn[i] the frame
 *                    (0: the zero-filled entry of vmalloc+memset),
 *                    words[5 * i ..] its digest as computed when it was
 *                    cached. Beyond DENSE_MAX entries (a huge
 *                    sha1_hash_size) the table is sparse.
 */
import { PAGEHASH_LEN, pageHmac } from '../hash/hmac-sha1.js';
import type { ContentStore } from '../memory/content-store.js';
import { growInt32, growUint8 } from '../memory/content-store.js';

/** Words of a SHA-1 digest. */
export const DIGEST_WORDS = 5;

function wordsOfDigest(d: Uint8Array, out: Int32Array, at: number): void {
  for (let i = 0; i < DIGEST_WORDS; i++) out[at + i] = d[4 * i] | (d[4 * i + 1] << 8) | (d[4 * i + 2] << 16) | (d[4 * i + 3] << 24);
}

export class ContentDigests {
  private words = new Int32Array(DIGEST_WORDS * 1024);
  private valid = new Uint8Array(1024);
  private key: Uint8Array | null = null;
  /** The first 128 bytes (as 64 UTF-16 code units) -> their digest under `key`; bounded. */
  private byPrefix = new Map<string, Int32Array>();
  private readonly halves: number[] = new Array(PAGEHASH_LEN / 2).fill(0);

  constructor(private readonly contents: ContentStore) {
    contents.onContentFreed((id) => {
      if (id < this.valid.length) this.valid[id] = 0;
    });
  }

  /** Offset in `digestWords` of page_hash(content id) under `key`, computing it if needed. */
  of(id: number, key: Uint8Array): number {
    if (key !== this.key) {
      this.valid.fill(0);
      this.byPrefix.clear();
      this.key = key;
    }
    if (id >= this.valid.length) {
      const n = Math.max(this.contents.capacity, id + 1);
      this.valid = growUint8(this.valid, n);
      this.words = growInt32(this.words, DIGEST_WORDS * n);
    }
    const at = DIGEST_WORDS * id;
    if (this.valid[id] === 0) {
      const prefix = this.prefixOf(id);
      let d = this.byPrefix.get(prefix);
      if (d === undefined) {
        d = new Int32Array(DIGEST_WORDS);
        wordsOfDigest(pageHmac(key, this.contents.slabOf(id), this.contents.offsetOf(id)), d, 0);
        if (this.byPrefix.size >= PREFIX_MEMO_MAX) this.byPrefix.clear();
        this.byPrefix.set(prefix, d);
      }
      for (let i = 0; i < DIGEST_WORDS; i++) this.words[at + i] = d[i];
      this.valid[id] = 1;
    }
    return at;
  }

  /** The first PAGEHASH_LEN bytes of content id as a string key (two bytes per code unit). */
  private prefixOf(id: number): string {
    const w = this.contents.wordsOf(id);
    const base = this.contents.offsetOf(id) >>> 2;
    const h = this.halves;
    for (let i = 0; i < PAGEHASH_LEN / 4; i++) {
      const x = w[base + i];
      h[2 * i] = x & 0xffff;
      h[2 * i + 1] = x >>> 16;
    }
    return String.fromCharCode.apply(null, h);
  }

  /** The array `of` returns offsets into (replaced when it grows). */
  get digestWords(): Int32Array {
    return this.words;
  }
}

const DENSE_MAX = 1 << 20;
/** Distinct prefixes remembered before the memo starts over (about 20 MiB). */
const PREFIX_MEMO_MAX = 1 << 16;

export class Sha1Cache {
  private readonly pfns: Int32Array | null;
  private readonly dense: Int32Array | null;
  private readonly sparse: Map<number, { pfn: number; words: Int32Array }> | null;

  constructor(readonly size: number) {
    if (size <= DENSE_MAX) {
      this.pfns = new Int32Array(size);
      this.dense = new Int32Array(DIGEST_WORDS * size);
      this.sparse = null;
    } else {
      this.pfns = null;
      this.dense = null;
      this.sparse = new Map();
    }
  }

  /** sha1_hash[index].pfn */
  pfn(index: number): number {
    return this.pfns !== null ? this.pfns[index] : (this.sparse!.get(index)?.pfn ?? 0);
  }

  /** Stores pfn and the digest at src[at ..] in sha1_hash[index]. */
  set(index: number, pfn: number, src: Int32Array, at: number): void {
    if (this.pfns !== null) {
      this.pfns[index] = pfn;
      const d = this.dense!;
      for (let i = 0, o = DIGEST_WORDS * index; i < DIGEST_WORDS; i++) d[o + i] = src[at + i];
      return;
    }
    this.sparse!.set(index, { pfn, words: src.slice(at, at + DIGEST_WORDS) });
  }

  /** Whether sha1_hash[index].sha1val equals the digest at src[at ..]. */
  equals(index: number, src: Int32Array, at: number): boolean {
    let w: Int32Array;
    let o: number;
    if (this.dense !== null) {
      w = this.dense;
      o = DIGEST_WORDS * index;
    } else {
      const e = this.sparse!.get(index);
      if (e === undefined) {
        for (let i = 0; i < DIGEST_WORDS; i++) if (src[at + i] !== 0) return false;
        return true;
      }
      w = e.words;
      o = 0;
    }
    for (let i = 0; i < DIGEST_WORDS; i++) if (w[o + i] !== src[at + i]) return false;
    return true;
  }
}
