/** The intern hash is one function of the bytes, however it is computed. */
import test from 'ava';
import fc from 'fast-check';
import { internHashShort, internHashWords } from '../../src/engine/hash/intern-hash.js';
import { writePageBytes, writeSeedPages4 } from '../../src/engine/pages.js';
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

test('seeded pages written four at a time are the seeded pages, with their intern hashes', (t) => {
  const words = new Uint32Array(4 * 1024 + 1024);
  const hashes = new Uint32Array(4);
  const one = new Uint8Array(4096);
  for (const seeds of [[0, 1, 2, 3], [4050964655, 7, 0xffffffff, 123456789]]) {
    writeSeedPages4(seeds[0], seeds[1], seeds[2], seeds[3], words, 1024, hashes);
    seeds.forEach((seed, k) => {
      writePageBytes({ kind: 'seed', seed }, one, 0);
      t.deepEqual(new Uint8Array(words.buffer, (1 + k) * 4096, 4096), one);
      t.is(hashes[k], internHashWords(new Uint32Array(one.buffer), 0));
    });
  }
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
