/**
 * The 2008 merger's digest tables: ContentDigests must give page_hash()
 * (HMAC-SHA1 of the first 128 bytes) for every content, whatever it shares
 * with others, and Sha1Cache must behave as the seed's zero-filled
 * sha1_hash array, dense or sparse.
 */
import test from 'ava';
import fc from 'fast-check';
import { pageHmac } from '../../src/engine/hash/hmac-sha1.js';
import { ContentStore } from '../../src/engine/memory/content-store.js';
import { ContentDigests, DIGEST_WORDS, Sha1Cache } from '../../src/engine/merge/hash-2008-digests.js';

function digestBytes(words: Int32Array, at: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < DIGEST_WORDS; i++) for (let k = 0; k < 4; k++) out.push((words[at + i] >>> (8 * k)) & 0xff);
  return out;
}

/** Pages that often share their first 128 bytes and differ later, or differ early. */
const pageArb = fc
  .record({ prefix: fc.integer({ min: 0, max: 3 }), at: fc.integer({ min: 0, max: 4095 }), byte: fc.integer({ min: 1, max: 255 }) })
  .map(({ prefix, at, byte }) => {
    const p = new Uint8Array(4096).fill(prefix);
    p[at] = byte;
    return p;
  });

test('ContentDigests gives page_hash() of each content, shared prefixes or not, and follows a key change', (t) => {
  fc.assert(
    fc.property(fc.array(pageArb, { minLength: 1, maxLength: 12 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), (pages, key2) => {
      const s = new ContentStore();
      const d = new ContentDigests(s);
      const key1 = new Uint8Array(20).fill(7);
      for (const key of [key1, key2, key1]) {
        for (const p of pages) {
          const id = s.intern(p, 0);
          const at = d.of(id, key);
          t.deepEqual(digestBytes(d.digestWords, at), [...pageHmac(key, p, 0)]);
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('a freed and reused content id gets the digest of its new bytes', (t) => {
  const s = new ContentStore();
  const d = new ContentDigests(s);
  const key = new Uint8Array(20).fill(1);
  const a = new Uint8Array(4096).fill(1);
  const b = new Uint8Array(4096).fill(2);
  const ia = s.intern(a, 0);
  d.of(ia, key);
  s.unref(ia);
  const ib = s.intern(b, 0);
  t.is(ib, ia);
  t.deepEqual(digestBytes(d.digestWords, d.of(ib, key)), [...pageHmac(key, b, 0)]);
});

for (const size of [1031, (1 << 20) + 1]) {
  test(`Sha1Cache of ${size} entries starts zero-filled and keeps what was set (${size > 1 << 20 ? 'sparse' : 'dense'})`, (t) => {
    const c = new Sha1Cache(size);
    const zero = new Int32Array(DIGEST_WORDS);
    const v = Int32Array.from([1, -2, 3, 0x7fffffff, -0x80000000]);
    t.is(c.pfn(5), 0);
    t.true(c.equals(5, zero, 0));
    t.false(c.equals(5, v, 0));
    c.set(5, 42, v, 0);
    t.is(c.pfn(5), 42);
    t.true(c.equals(5, v, 0));
    t.false(c.equals(5, zero, 0));
    // The entry keeps the digest it was given, not a view of the source.
    v[0] = 9;
    t.false(c.equals(5, v, 0));
    t.is(c.pfn(size - 1), 0);
  });
}
