/** The intern hash is one function of the bytes, however it is computed. */
import test from 'ava';
import fc from 'fast-check';
import { internHashShort, internHashWords } from '../../src/engine/hash/intern-hash.js';
import { seedChainStart, writePageBytes } from '../../src/engine/pages.js';
import { ContentStore } from '../../src/engine/memory/content-store.js';

test('a page of one run and a short tail hashes from head, run and tail as from its words', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 1000, max: 1024 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 24, maxLength: 24 }),
      (head, run, tail) => {
        const page = new Uint32Array(1024).fill(head);
        const t32 = Uint32Array.from(tail);
        for (let i = run; i < 1024; i++) page[i] = t32[i - run];
        return internHashShort(head, run, t32, 0) === internHashWords(page, 0);
      },
    ),
    { numRuns: 500, seed: 18 },
  );
  t.pass();
});

test('a seeded page is one content whether interned as its seed or from its bytes, and reads back whole', (t) => {
  const s = new ContentStore();
  const one = new Uint8Array(4096);
  for (const seed of [0, 1, 7, 0xffffffff, 123456789, 4050964655]) {
    writePageBytes({ kind: 'seed', seed }, one, 0);
    t.not(seedChainStart(new Uint32Array(one.buffer), 0), 0);
    const a = s.internSeed(seed);
    t.is(s.intern(one, 0), a);
    t.is(s.internWords(new Uint32Array(one.buffer), 0), a);
    t.deepEqual(s.bytes(a), one);
    // The slab view, written on demand, holds the same bytes, and the content is still found by seed.
    const slab = s.slabOf(a);
    t.deepEqual(slab.slice(s.offsetOf(a), s.offsetOf(a) + 4096), one);
    t.is(s.internSeed(seed), a);
  }
  // Seeds 0 and 4050964655 start from the same state (SCHEMA.md): one content.
  t.is(s.internSeed(0), s.internSeed(4050964655));
});

test('seeded contents interned past the store\'s first capacity read back as their seeds', (t) => {
  const s = new ContentStore();
  const one = new Uint8Array(4096);
  const ids = Array.from({ length: 3000 }, (_, i) => s.internSeed(1000 + i));
  ids.forEach((id, i) => {
    writePageBytes({ kind: 'seed', seed: 1000 + i }, one, 0);
    t.deepEqual(s.bytes(id), one);
  });
});

test('a page that is a seeded page but for one word is another content, and compares as memcmp does', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 1023 }), fc.integer({ min: 1, max: 0xffffffff }), (seed, at, flip) => {
      const s = new ContentStore();
      const page = new Uint8Array(4096);
      writePageBytes({ kind: 'seed', seed }, page, 0);
      const words = new Uint32Array(page.buffer);
      words[at] ^= flip;
      if (seedChainStart(words, 0) !== 0) return false;
      const a = s.internSeed(seed);
      const b = s.intern(page, 0);
      if (a === b) return false;
      const ref = Buffer.compare(Buffer.from(s.bytes(a)), Buffer.from(page));
      if (s.compare(a, b) !== ref || s.compare(b, a) !== -ref) return false;
      // memcmp reads up to and including the first differing byte.
      const x = Buffer.from(s.bytes(a));
      let i = 0;
      while (x[i] === page[i]) i++;
      return s.lastCompareBytes === i + 1;
    }),
    { numRuns: 300, seed: 18 },
  );
  t.pass();
});

test('a SHORT content interned from its words and from its tail is one content, and reads back whole', (t) => {
  const s = new ContentStore();
  const page = new Uint32Array(1024);
  page[1022] = 7;
  page[1023] = 9;
  const a = s.internWords(page, 0);
  const b = s.internShort(0, 1022, Uint32Array.of(7, 9), 0);
  t.is(a, b);
  t.deepEqual(s.bytes(a), new Uint8Array(page.buffer));
  // The slab view, written on demand, holds the same bytes.
  const slab = s.slabOf(a);
  t.deepEqual(slab.slice(s.offsetOf(a), s.offsetOf(a) + 4096), new Uint8Array(page.buffer));
  t.is(s.internWords(page, 0), a);
});

test('a SEED content is charged a full page against memory bounds, before and after it is written out, and nothing once freed', (t) => {
  const s = new ContentStore();
  // The first content allocates its slab's tails: the base is taken after it.
  s.internShort(0, 1024, new Uint32Array(1), 0);
  const base = s.chargedBytes();
  const a = s.internSeed(7);
  t.is(s.chargedBytes(), base + 4096);
  s.slabOf(a);
  t.is(s.chargedBytes(), base + 4096);
  const b = s.internSeed(8);
  t.is(s.chargedBytes(), base + 2 * 4096);
  s.unref(a);
  s.unref(b);
  t.is(s.chargedBytes(), base);
});
