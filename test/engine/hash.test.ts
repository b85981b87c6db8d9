import test from 'ava';
import fc from 'fast-check';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hmacSha1, pageHmac, PAGEHASH_LEN } from '../../src/engine/hash/hmac-sha1.js';
import * as l2 from '../../src/engine/hash/jhash-lookup2.js';
import * as l3 from '../../src/engine/hash/jhash-lookup3.js';
import { CHECKSUM_NAMES, pageChecksum, type ChecksumName } from '../../src/engine/hash/page-checksum.js';
import { sha1, Sha1 } from '../../src/engine/hash/sha1.js';
import { xxh32, xxh64Hex, xxh64Low32 } from '../../src/engine/hash/xxhash.js';
import { pageBytes, writePage, type SinglePageContent } from '../helpers/page-bytes.js';

/** A vector row: its fixed fields plus one hex string per hash column. */
interface PageRow { content: SinglePageContent; sha256: string; [column: string]: unknown }
interface KeyRow { length: number; ascii: string; hex: string; xxh64_seed0: string; [column: string]: unknown }
interface WordRow { words: string[]; [column: string]: unknown }
/** The hash columns of a row (the fixed fields are skipped by NON_HASH_KEYS). */
const columnsOf = (row: object) => Object.entries(row) as [string, string][];
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/vectors/${name}`, import.meta.url));
const vectors = JSON.parse(readFileSync(fixture('hashes.json'), 'utf8')) as {
  pages: PageRow[];
  shortKeys: KeyRow[];
  shortWordKeys: WordRow[];
};
const seeded = JSON.parse(readFileSync(fixture('seeded-pages.json'), 'utf8')) as {
  seeds: { seed: number; first8: string[]; last2: string[]; sha256: string }[];
  pages: { content: SinglePageContent; sha256: string }[];
};

const u32hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const HMAC_KEY = Uint8Array.from({ length: 20 }, (_, i) => i);

/** The 1024 little-endian words of a page, through a copy so the view is aligned. */
const pageWords = (page: Uint8Array): Uint32Array => new Uint32Array(page.slice().buffer);

/** One function per column of the page vectors; an unknown column fails the test. */
const PAGE_COLUMNS: Record<string, (page: Uint8Array) => string> = {
  lookup2_jhash_bytes_initval17: (p) => u32hex(l2.jhash(p, 0, 4096, 17)),
  lookup2_jhash2_words_initval17: (p) => u32hex(l2.jhash2(pageWords(p), 0, 1024, 17)),
  lookup3_jhash_bytes_initval17: (p) => u32hex(l3.jhash(p, 0, 4096, 17)),
  lookup3_jhash2_words_initval17: (p) => u32hex(l3.jhash2(pageWords(p), 0, 1024, 17)),
  xxh32_seed0: (p) => u32hex(xxh32(p, 0, 4096, 0)),
  xxh64_seed0: (p) => xxh64Hex(p, 0, 4096, 0),
  ksm_xxhash_checksum_u32: (p) => u32hex(xxh64Low32(p, 0, 4096)),
  hmac_sha1_first128: (p) => hex(pageHmac(HMAC_KEY, p, 0)),
};

/** Which page-vector column each registry checksum must reproduce. */
const REGISTRY_COLUMN: Record<ChecksumName, string> = {
  lookup2: 'lookup2_jhash2_words_initval17',
  'lookup2-bytes': 'lookup2_jhash_bytes_initval17',
  lookup3: 'lookup3_jhash2_words_initval17',
  xxhash: 'ksm_xxhash_checksum_u32',
};

const NON_HASH_KEYS = new Set(['content', 'sha256', 'length', 'ascii', 'hex', 'words']);

test('the local page generator matches the seeded-pages vectors', (t) => {
  for (const v of seeded.seeds) {
    const w = pageWords(pageBytes({ seed: v.seed }));
    t.deepEqual(Array.from(w.subarray(0, 8), u32hex), v.first8, `seed ${v.seed}`);
    t.deepEqual(Array.from(w.subarray(1022), u32hex), v.last2, `seed ${v.seed}`);
    t.is(createHash('sha256').update(pageBytes({ seed: v.seed })).digest('hex'), v.sha256);
  }
  for (const v of seeded.pages) {
    t.is(createHash('sha256').update(pageBytes(v.content)).digest('hex'), v.sha256, JSON.stringify(v.content));
  }
});

test('page vectors: every algorithm column', (t) => {
  let checked = 0;
  for (const v of vectors.pages) {
    const content = v.content;
    const page = pageBytes(content);
    t.is(createHash('sha256').update(page).digest('hex'), v.sha256, `page bytes of ${JSON.stringify(content)}`);
    for (const [key, want] of columnsOf(v)) {
      if (NON_HASH_KEYS.has(key)) continue;
      const fn = PAGE_COLUMNS[key];
      if (fn === undefined) {
        t.fail(`no implementation for page column ${key}`);
        continue;
      }
      t.is(fn(page), want, `${key} of ${JSON.stringify(content)}`);
      checked++;
    }
  }
  t.is(checked, vectors.pages.length * Object.keys(PAGE_COLUMNS).length);
});

test('page vectors: the pageChecksum registry, aligned, in a bigger buffer and unaligned', (t) => {
  // Three pages in one arena, plus an arena whose page starts at byte 1 (the byte-form fallback).
  const arena = new Uint8Array(3 * 4096);
  const odd = new Uint8Array(4096 + 8);
  const shifted = new Uint8Array(arena.buffer, 4096, 2 * 4096);
  for (const v of vectors.pages) {
    const content = v.content;
    writePage(content, arena, 8192);
    writePage(content, odd, 1);
    for (const name of CHECKSUM_NAMES) {
      const want = v[REGISTRY_COLUMN[name]] as string;
      const fn = pageChecksum(name);
      t.is(u32hex(fn(arena, 8192)), want, `${name} of ${JSON.stringify(content)}`);
      t.is(u32hex(fn(shifted, 4096)), want, `${name} through a subarray`);
      t.is(u32hex(fn(odd, 1)), want, `${name} unaligned`);
      t.is(fn(arena, 8192), fn(arena, 8192) >>> 0, 'unsigned result');
    }
  }
  t.throws(() => pageChecksum('sha1' as ChecksumName), { instanceOf: RangeError });
});

test('short key vectors: every algorithm column', (t) => {
  const columns: Record<string, (b: Uint8Array) => string> = {
    lookup2_jhash_initval0: (b) => u32hex(l2.jhash(b, 0, b.length, 0)),
    lookup2_jhash_initval17: (b) => u32hex(l2.jhash(b, 0, b.length, 17)),
    lookup3_jhash_initval0: (b) => u32hex(l3.jhash(b, 0, b.length, 0)),
    lookup3_jhash_initval17: (b) => u32hex(l3.jhash(b, 0, b.length, 17)),
    xxh32_seed0: (b) => u32hex(xxh32(b, 0, b.length, 0)),
    xxh64_seed0: (b) => xxh64Hex(b, 0, b.length, 0),
  };
  for (const v of vectors.shortKeys) {
    const key = fromHex(v.hex);
    t.is(key.length, v.length);
    t.is(new TextDecoder().decode(key), v.ascii);
    // The same key one byte into a bigger array checks that offsets are honoured.
    const shifted = new Uint8Array(key.length + 2);
    shifted.set(key, 1);
    for (const [col, want] of columnsOf(v)) {
      if (NON_HASH_KEYS.has(col)) continue;
      const fn = columns[col];
      if (fn === undefined) {
        t.fail(`no implementation for short key column ${col}`);
        continue;
      }
      t.is(fn(key), want, `${col} of ${JSON.stringify(v.ascii)}`);
      t.is(fn(shifted.subarray(1, 1 + key.length)), want, `${col} of a subarray`);
    }
    t.is(u32hex(xxh64Low32(key, 0, key.length)), v.xxh64_seed0.slice(8));
  }
});

test('short word key vectors: every algorithm column', (t) => {
  for (const v of vectors.shortWordKeys) {
    const list = v.words.map((w) => parseInt(w, 16));
    const words = new Uint32Array([0xffffffff, ...list]);
    const n = list.length;
    const columns: Record<string, () => number> = {
      lookup2_jhash2_initval0: () => l2.jhash2(words, 1, n, 0),
      lookup2_jhash2_initval17: () => l2.jhash2(words, 1, n, 17),
      lookup3_jhash2_initval0: () => l3.jhash2(words, 1, n, 0),
      lookup3_jhash2_initval17: () => l3.jhash2(words, 1, n, 17),
    };
    for (const [col, want] of columnsOf(v)) {
      if (NON_HASH_KEYS.has(col)) continue;
      const fn = columns[col];
      if (fn === undefined) {
        t.fail(`no implementation for word key column ${col}`);
        continue;
      }
      t.is(u32hex(fn()), want, `${col} of [${v.words.join(' ')}]`);
    }
  }
});

test('published self-test values', (t) => {
  const ascii = (s: string) => new TextEncoder().encode(s);
  const four = ascii('Four score and seven years ago');
  t.is(u32hex(l3.jhash(new Uint8Array(0), 0, 0, 0)), 'deadbeef');
  t.is(u32hex(l3.jhash(new Uint8Array(0), 0, 0, 0xdeadbeef)), 'bd5b7dde');
  t.is(u32hex(l3.jhash(four, 0, 30, 0)), '17770551');
  t.is(u32hex(l3.jhash(four, 0, 30, 1)), 'cd628161');
  t.is(u32hex(xxh32(ascii(''), 0, 0, 0)), '02cc5d05');
  t.is(u32hex(xxh32(ascii('abc'), 0, 3, 0)), '32d153ff');
  t.is(xxh64Hex(ascii(''), 0, 0, 0), 'ef46db3751d8e999');
  t.is(xxh64Hex(ascii('abc'), 0, 3, 0), '44bc2cf5ad770999');
  t.is(hex(sha1(ascii('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  t.is(hex(sha1(ascii(''))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
});

test('hmac-sha1: the page digest covers exactly the first 128 bytes', (t) => {
  t.is(PAGEHASH_LEN, 128);
  const a = pageBytes({ tail: 1 });
  const b = pageBytes({ tail: 2 });
  t.deepEqual(pageHmac(HMAC_KEY, a, 0), pageHmac(HMAC_KEY, b, 0));
  const c = pageBytes('zero');
  c[127] = 1;
  t.notDeepEqual(pageHmac(HMAC_KEY, c, 0), pageHmac(HMAC_KEY, a, 0));
  t.is(pageHmac(HMAC_KEY, a, 0).length, 20);
});

// BigInt XXH64 from the spec, used only as a test oracle.
const M64 = (1n << 64n) - 1n;
const Q1 = 0x9e3779b185ebca87n, Q2 = 0xc2b2ae3d27d4eb4fn, Q3 = 0x165667b19e3779f9n;
const Q4 = 0x85ebca77c2b2ae63n, Q5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M64;
const rd = (b: Uint8Array, p: number, n: number) => {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i]);
  return v;
};
const round = (acc: bigint, x: bigint) => (rotl((acc + x * Q2) & M64, 31n) * Q1) & M64;
const merge = (acc: bigint, v: bigint) => (((acc ^ round(0n, v)) * Q1) + Q4) & M64;
function refXxh64(b: Uint8Array, seed: bigint): bigint {
  let p = 0;
  const len = b.length;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + Q1 + Q2) & M64, v2 = (seed + Q2) & M64, v3 = seed, v4 = (seed - Q1) & M64;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, rd(b, p, 8)); v2 = round(v2, rd(b, p + 8, 8));
      v3 = round(v3, rd(b, p + 16, 8)); v4 = round(v4, rd(b, p + 24, 8));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = (seed + Q5) & M64;
  h = (h + BigInt(len)) & M64;
  for (; p + 8 <= len; p += 8) h = ((rotl(h ^ round(0n, rd(b, p, 8)), 27n) * Q1) + Q4) & M64;
  if (p + 4 <= len) { h = ((rotl(h ^ ((rd(b, p, 4) * Q1) & M64), 23n) * Q2) + Q3) & M64; p += 4; }
  for (; p < len; p++) h = (rotl(h ^ ((BigInt(b[p]) * Q5) & M64), 11n) * Q1) & M64;
  h ^= h >> 33n; h = (h * Q2) & M64; h ^= h >> 29n; h = (h * Q3) & M64; h ^= h >> 32n;
  return h;
}

test('the BigInt oracle agrees with the vectors', (t) => {
  for (const v of vectors.shortKeys) {
    t.is(refXxh64(fromHex(v.hex), 0n).toString(16).padStart(16, '0'), v.xxh64_seed0);
  }
  for (const v of vectors.pages) {
    t.is(refXxh64(pageBytes(v.content), 0n).toString(16).padStart(16, '0'), v.xxh64_seed0 as string);
  }
});

test('property: xxh64Low32 is the low 32 bits of XXH64 on random short inputs', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (b) => xxh64Low32(b, 0, b.length) === Number(refXxh64(b, 0n) & 0xffffffffn)),
    { numRuns: 2000 },
  );
  t.pass();
});

test('property: xxh64Hex equals the BigInt XXH64 for any seed, offset and length', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(7),
      fc.oneof(fc.constant(0), fc.nat(), fc.maxSafeNat()),
      (b, shift, seed) => {
        const buf = new Uint8Array(b.length + shift);
        buf.set(b, shift);
        return xxh64Hex(buf, shift, b.length, seed) === refXxh64(b, BigInt(seed)).toString(16).padStart(16, '0');
      },
    ),
    { numRuns: 1000 },
  );
  t.pass();
});

test('property: over a whole page the byte and word forms agree (lookup2 and lookup3)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4096, maxLength: 4096 }), fc.nat(), (page, initval) => {
      const w = pageWords(page);
      return (
        l2.jhash(page, 0, 4096, initval) === l2.jhash2(w, 0, 1024, initval) &&
        l3.jhash(page, 0, 4096, initval) === l3.jhash2(w, 0, 1024, initval)
      );
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('property: sha1 and hmac-sha1 agree with node:crypto', (t) => {
  const ctx = new Sha1();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 100 }), fc.nat(300), (data, key, cut) => {
      const want = createHash('sha1').update(data).digest('hex');
      const split = Math.min(cut, data.length);
      // Two updates at an arbitrary split exercise the partial-block path.
      const got = ctx.reset().update(data, 0, split).update(data, split).digest();
      return (
        hex(sha1(data)) === want &&
        hex(got) === want &&
        hex(hmacSha1(key, data)) === createHmac('sha1', key).update(data).digest('hex')
      );
    }),
    { numRuns: 500 },
  );
  t.pass();
});
