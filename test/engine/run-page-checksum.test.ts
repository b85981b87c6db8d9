/** The era checksums of pages opening with a run of one word, computed past the run, equal the full hashes. */
import test from 'ava';
import fc from 'fast-check';
import { CHECKSUM_NAMES, pageChecksum, runVariantOf } from '../../src/engine/hash/page-checksum.js';

const pageArb = fc
  .record({
    word: fc.constantFrom(0, 1, 0xff, 0x01010101, 0x80000000, 0xffffffff, 0x12345678),
    run: fc.integer({ min: 1, max: 1024 }),
    tail: fc.array(fc.tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 8 }),
    offset: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ word, run, tail, offset }) => {
    const buf = new Uint32Array(1024 * 5);
    const base = offset * 1024;
    buf.fill(word, base, base + 1024);
    for (const [i, v] of tail) if (i >= run) buf[base + i] = v;
    return { buf, base, word, run };
  });

for (const name of CHECKSUM_NAMES) {
  test(`${name}: the checksum from the state after a run of one word is the full page checksum`, (t) => {
    const full = pageChecksum(name);
    const run = runVariantOf(full);
    if (run === undefined) return t.fail('no run variant');
    fc.assert(
      fc.property(pageArb, ({ buf, base, word, run: r }) => {
        const bytes = new Uint8Array(buf.buffer);
        return run(word | 0, r, buf, base) === full(bytes, base * 4);
      }),
      { numRuns: 500, seed: 18 },
    );
    t.pass();
  });
}
