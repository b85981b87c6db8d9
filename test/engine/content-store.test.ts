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
