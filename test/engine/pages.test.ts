import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  describePage,
  pageInRun,
  pageKey,
  writePageBytes,
  type RunContent,
  type SinglePage,
} from '../../src/engine/pages.js';

interface SeedVector { seed: number; first8: string[]; last2: string[]; sha256: string }
interface PageVector { content: unknown; sha256: string }
interface EdgeVector { seed: number; sha256: string; note: string }
const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/vectors/seeded-pages.json', import.meta.url)), 'utf8'),
) as { seeds: SeedVector[]; pages: PageVector[]; edgeCases: EdgeVector[] };

function pageBytes(page: SinglePage): Uint8Array {
  const out = new Uint8Array(4096);
  writePageBytes(page, out, 0);
  return out;
}
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hexWords = (b: Uint8Array, from: number, to: number): string[] => {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const r: string[] = [];
  for (let j = from; j < to; j++) r.push(dv.getUint32(j * 4, true).toString(16).padStart(8, '0'));
  return r;
};
/** The fixture's JSON content forms (small values only, so JSON.parse is exact). */
function fromFixture(c: unknown): SinglePage {
  if (c === 'zero') return { kind: 'zero' };
  const o = c as Record<string, number>;
  if ('fill' in o) return { kind: 'fill', value: o.fill };
  if ('seed' in o) return { kind: 'seed', seed: o.seed };
  if ('tail' in o) return { kind: 'tail', n: BigInt(o.tail) };
  throw new Error(`unexpected fixture content ${JSON.stringify(c)}`);
}

test('the fixture has the seed vectors, the page vectors and the edge case', (t) => {
  t.true(vectors.seeds.length >= 6);
  t.true(vectors.seeds.some((v) => v.seed === 4294967295));
  t.true(vectors.pages.length >= 4);
  t.is(vectors.edgeCases.length, 1);
});

for (const v of vectors.seeds) {
  test(`seed ${v.seed}: first8, last2 and sha256`, (t) => {
    const b = pageBytes({ kind: 'seed', seed: v.seed });
    t.deepEqual(hexWords(b, 0, 8), v.first8);
    t.deepEqual(hexWords(b, 1022, 1024), v.last2);
    t.is(sha256(b), v.sha256);
  });
}

for (const v of vectors.pages) {
  test(`page ${JSON.stringify(v.content)}: sha256`, (t) => {
    t.is(sha256(pageBytes(fromFixture(v.content))), v.sha256);
  });
}

for (const v of vectors.edgeCases) {
  test(`edge case seed ${v.seed} (x starts at 1): same page as seed 0`, (t) => {
    t.is(Math.imul(v.seed | 0, 2654435761 | 0) + 1, 0); // the premise of the edge case
    const b = pageBytes({ kind: 'seed', seed: v.seed });
    t.is(sha256(b), v.sha256);
    t.deepEqual(b, pageBytes({ kind: 'seed', seed: 0 }));
  });
}

test('tail pages hold n little-endian in bytes 4088..4095, up to 2^64-1', (t) => {
  const max = pageBytes({ kind: 'tail', n: 2n ** 64n - 1n });
  t.true(max.subarray(0, 4088).every((x) => x === 0));
  t.true(max.subarray(4088).every((x) => x === 0xff));
  const v = 0x0102030405060708n;
  const b = pageBytes({ kind: 'tail', n: v });
  t.deepEqual([...b.subarray(4088)], [8, 7, 6, 5, 4, 3, 2, 1]);
  t.true(b.subarray(0, 4088).every((x) => x === 0));
});

test('fill pages: every byte equal', (t) => {
  for (const value of [0, 1, 0x7f, 0x80, 0xff]) {
    const b = pageBytes({ kind: 'fill', value });
    t.true(b.every((x) => x === value), `fill ${value}`);
  }
  t.deepEqual(pageBytes({ kind: 'fill', value: 0 }), pageBytes({ kind: 'zero' }));
});

test('writePageBytes writes exactly its 4096 bytes at an offset, into views with a byteOffset, overwriting old contents', (t) => {
  const backing = new ArrayBuffer(4 * 4096 + 8);
  const view = new Uint8Array(backing, 4, 3 * 4096);
  new Uint8Array(backing).fill(0xaa);
  writePageBytes({ kind: 'seed', seed: 7 }, view, 4096);
  writePageBytes({ kind: 'zero' }, view, 8192);
  const all = new Uint8Array(backing);
  t.true(all.subarray(0, 4 + 4096).every((x) => x === 0xaa));
  t.deepEqual(view.slice(4096, 8192), pageBytes({ kind: 'seed', seed: 7 }));
  t.true(view.subarray(8192, 12288).every((x) => x === 0));
  t.true(all.subarray(4 + 3 * 4096).every((x) => x === 0xaa));
  // A second buffer, then the first again: the cached word views stay correct.
  const other = new Uint8Array(4096);
  writePageBytes({ kind: 'fill', value: 3 }, other, 0);
  writePageBytes({ kind: 'tail', n: 5n }, view, 0);
  t.true(other.every((x) => x === 3));
  t.deepEqual(view.slice(0, 4096), pageBytes({ kind: 'tail', n: 5n }));
});

test('writePageBytes rejects unaligned or out-of-range offsets', (t) => {
  const buf = new Uint8Array(8192);
  t.throws(() => writePageBytes({ kind: 'zero' }, buf, 2), { instanceOf: RangeError });
  t.throws(() => writePageBytes({ kind: 'zero' }, buf, 4100), { instanceOf: RangeError });
  t.throws(() => writePageBytes({ kind: 'zero' }, buf, -4), { instanceOf: RangeError });
  t.throws(() => writePageBytes({ kind: 'zero' }, new Uint8Array(new ArrayBuffer(8200), 2, 4096), 0), {
    instanceOf: RangeError,
  });
});

test('pageInRun: seedFrom, tailFrom, cycle and single-page forms', (t) => {
  t.deepEqual(pageInRun({ kind: 'seedFrom', seed: 100 }, 3), { kind: 'seed', seed: 103 });
  t.deepEqual(pageInRun({ kind: 'seedFrom', seed: 4294967294 }, 1), { kind: 'seed', seed: 4294967295 });
  t.deepEqual(pageInRun({ kind: 'tailFrom', n: 2n ** 64n - 2n }, 1), { kind: 'tail', n: 2n ** 64n - 1n });
  const cycle: RunContent = {
    kind: 'cycle',
    items: [{ kind: 'zero' }, { kind: 'fill', value: 1 }, { kind: 'seed', seed: 5 }],
  };
  t.deepEqual(
    [0, 1, 2, 3, 4, 7].map((i) => pageInRun(cycle, i)),
    [
      { kind: 'zero' },
      { kind: 'fill', value: 1 },
      { kind: 'seed', seed: 5 },
      { kind: 'zero' },
      { kind: 'fill', value: 1 },
      { kind: 'fill', value: 1 },
    ],
  );
  t.deepEqual(pageInRun({ kind: 'fill', value: 9 }, 12), { kind: 'fill', value: 9 });
  t.deepEqual(pageInRun({ kind: 'zero' }, 0), { kind: 'zero' });
});

test('pageKey and describePage', (t) => {
  const cases: Array<[SinglePage, string, string]> = [
    [{ kind: 'zero' }, 'z', '"zero"'],
    [{ kind: 'fill', value: 7 }, 'f:7', '{"fill":7}'],
    [{ kind: 'seed', seed: 123 }, 's:123', '{"seed":123}'],
    [{ kind: 'tail', n: 99n }, 't:99', '{"tail":99}'],
    [{ kind: 'tail', n: 2n ** 64n - 1n }, 't:18446744073709551615', '{"tail":18446744073709551615}'],
  ];
  for (const [page, key, desc] of cases) {
    t.is(pageKey(page), key);
    t.is(describePage(page), desc);
  }
});

test('seeded pages are fast enough for millions of pages', (t) => {
  const pages = 16384;
  const buf = new Uint8Array(pages * 4096);
  const start = performance.now();
  for (let i = 0; i < pages; i++) writePageBytes({ kind: 'seed', seed: i }, buf, i * 4096);
  const ms = performance.now() - start;
  t.log(`${pages} seeded pages in ${ms.toFixed(1)} ms`);
  t.true(ms < 5000);
  t.deepEqual(buf.slice(7 * 4096, 8 * 4096), pageBytes({ kind: 'seed', seed: 7 }));
});
