/** Interned page contents: identity means equal bytes, and compare() is memcmp. */
import test from 'ava';
import fc from 'fast-check';
import { ContentStore } from '../../src/engine/memory/content-store.js';

/** Pages made of a run of one repeated word, then a few random words: the shapes compare() shortcuts. */
const pageArb = fc
  .record({
    word: fc.constantFrom(0, 1, 0xff, 0x01000000, 0xffffffff),
    run: fc.integer({ min: 0, max: 1024 }),
    tail: fc.array(fc.tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  })
  .map(({ word, run, tail }) => {
    const page = new Uint8Array(4096);
    const w = new Uint32Array(page.buffer);
    w.fill(word, 0, run);
    for (const [i, b] of tail) page[i * 4 + (b & 3)] = b;
    return page;
  });

function memcmp(a: Uint8Array, b: Uint8Array): { sign: number; read: number } {
  for (let i = 0; i < 4096; i++) if (a[i] !== b[i]) return { sign: a[i] < b[i] ? -1 : 1, read: i + 1 };
  return { sign: 0, read: 4096 };
}

test('compare() gives memcmp\'s sign and the bytes memcmp reads', (t) => {
  fc.assert(
    fc.property(pageArb, pageArb, (a, b) => {
      const s = new ContentStore();
      const ia = s.intern(a, 0);
      const ib = s.intern(b, 0);
      const want = memcmp(a, b);
      if (want.sign === 0) return ia === ib;
      return ia !== ib && s.compare(ia, ib) === want.sign && s.lastCompareBytes === want.read && s.compare(ib, ia) === -want.sign;
    }),
    { numRuns: 2000, seed: 4096 },
  );
  t.pass();
});

test('equal bytes intern to one id; the last reference frees it and the id is reused', (t) => {
  const s = new ContentStore();
  const page = new Uint8Array(4096).fill(7);
  const a = s.intern(page, 0);
  const b = s.intern(page.slice(), 0);
  t.is(a, b);
  t.is(s.refs[a], 2);
  s.unref(a);
  s.unref(a);
  t.is(s.refs[a], 0);
  const other = s.intern(new Uint8Array(4096).fill(9), 0);
  t.is(other, a);
  t.deepEqual(s.bytes(other), new Uint8Array(4096).fill(9));
});

test('internSpec generates a page once while it lives', (t) => {
  const s = new ContentStore();
  let calls = 0;
  const fill = (out: Uint8Array) => {
    calls++;
    out.fill(3);
  };
  const a = s.internSpec('f:3', fill);
  const b = s.internSpec('f:3', fill);
  t.is(a, b);
  t.is(calls, 1);
  s.unref(a);
  s.unref(b);
  s.internSpec('f:3', fill);
  t.is(calls, 2);
});

function pageOf(word: number, last: number): Uint8Array {
  const page = new Uint8Array(4096);
  new Uint32Array(page.buffer).fill(word);
  page[4095] = last;
  return page;
}

test('trim() cuts the per-id arrays to the ids handed out and keeps every content, reference and free id', (t) => {
  const s = new ContentStore();
  const ids: number[] = [];
  for (let i = 0; i < 3000; i++) ids.push(s.intern(pageOf(i % 7, i & 0xff), 0));
  for (const id of ids) s.ref(id);
  const freed = s.intern(pageOf(99, 1), 0);
  s.unref(freed);
  const limit = s.idLimit;
  t.true(s.capacity > limit);
  let trimmedTo = -1;
  s.onCapacityTrimmed((n) => (trimmedTo = n));
  const refsBefore = Array.from(s.refs.subarray(0, limit));
  s.trim();
  t.is(s.capacity, limit);
  t.is(trimmedTo, limit);
  t.deepEqual(Array.from(s.refs), refsBefore);
  for (let i = 0; i < 3000; i++) {
    t.deepEqual(s.bytes(ids[i]), pageOf(i % 7, i & 0xff));
    // Interning the same bytes again finds the same id (the buckets survive).
    t.is(s.intern(pageOf(i % 7, i & 0xff), 0), ids[i]);
  }
  t.is(s.compare(ids[0], ids[7]), -1);
  // The freed id is handed out first, then the arrays grow again.
  t.is(s.intern(pageOf(98, 2), 0), freed);
  const next = s.intern(pageOf(98, 3), 0);
  t.is(next, limit);
  t.true(s.capacity > limit);
  t.deepEqual(s.bytes(next), pageOf(98, 3));
});

test('a content id freed 65536 times (its 16-bit generation wraps) is not handed out for a stale spec', (t) => {
  const s = new ContentStore();
  const a = s.internSpec('a', (out) => out.fill(1));
  s.unref(a);
  // Cycle the same id through 65535 more contents: its generation comes back to the one 'a' was cached with.
  for (let i = 1; i < 65536; i++) {
    const id = s.intern(pageOf(i, 2), 0);
    t.is(id, a);
    s.unref(id);
  }
  const b = s.intern(pageOf(0x12345678, 9), 0);
  t.is(b, a);
  let calls = 0;
  const again = s.internSpec('a', (out) => {
    calls++;
    out.fill(1);
  });
  t.is(calls, 1);
  t.not(again, b);
  t.deepEqual(s.bytes(again), new Uint8Array(4096).fill(1));
});
