/**
 * The soak's bounded run in CI (npm run soak does millions): random
 * operations in every era with every invariant recomputed after each one.
 */
import test from 'ava';
import { ERA_IDS } from '../../src/eras/registry.js';
import { runSoak, SOAK_ERA_IDS, SoakFailure } from '../../src/fuzz/soak.js';
import { formatSoak, parseSoakArgs } from '../../src/fuzz/soak-main.js';

test('a short soak: 12,000 operations over every era and kernel, zero invariant violations', (t) => {
  const r = runSoak({ seed: 20091124, ops: 12_000, worldOps: 800 });
  t.log(formatSoak(r));
  t.is(r.ops, 12_000);
  t.is(r.checks, 12_000);
  for (const e of SOAK_ERA_IDS) {
    t.true(r.perEra[e].ops > 0, `${e} ran`);
    t.true(r.perEra[e].merges > 0, `${e} merged`);
  }
  t.true(r.raceWrites > 0, 'writes landed inside merges');
  // The worlds this seed draws, and what they merge: as before the soak ran on the era adapter.
  const drawn = Object.fromEntries(Object.entries(r.perEra).map(([e, x]) => [e, [x.worlds, x.merges]]));
  t.deepEqual(drawn, { 'v1:2008': [2, 67], 'v1:2009': [2, 133], v2: [5, 413], 'v3:2.6.32': [1, 145], 'v3:3.9': [2, 240], 'v3:6.18': [3, 135] });
  t.true(r.refused > 0, 'hostile calls were refused');
});

test('the soak draws from every era of the registry, in its order (an era added later goes last, so old seeds keep their worlds)', (t) => {
  t.deepEqual(SOAK_ERA_IDS, ERA_IDS);
  t.deepEqual(SOAK_ERA_IDS.slice(0, 6), ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32', 'v3:3.9', 'v3:6.18']);
});

test('the same seed gives the same run; a world replays alone', (t) => {
  const a = runSoak({ seed: 7, ops: 3000, worldOps: 1000 });
  const b = runSoak({ seed: 7, ops: 3000, worldOps: 1000 });
  t.deepEqual({ ...a, ms: 0 }, { ...b, ms: 0 });
  const w2 = runSoak({ seed: 7, ops: 1000, worldOps: 1000, world: 2 });
  t.is(w2.worlds, 1);
  t.is(w2.ops, 1000);
});

test('a violation names the seed and the world to replay', (t) => {
  const e = new SoakFailure(5, 3, 'v3:2.6.32', 17, ['16: scan 4'], ['pid 100 at 0x1000 reads content 2, last written 3']);
  t.regex(e.message, /npm run soak -- --seed 5 --world 3/);
});

test('soak arguments', (t) => {
  t.like(parseSoakArgs(['--seed', '12', '--ops', '1_000', '--eras', 'v3,v2'], 1), { seed: 12, ops: 1000, eras: ['v3:2.6.32', 'v2'] });
  // The registry's ids, and the soak's old spellings.
  t.deepEqual(parseSoakArgs(['--eras', 'v1:2009,v3:6.18,v1-2008,v3-3.9'], 1).eras, ['v1:2009', 'v3:6.18', 'v1:2008', 'v3:3.9']);
  t.throws(() => parseSoakArgs(['--eras', 'v9'], 1), { message: /no era v9/ });
  t.throws(() => parseSoakArgs(['--ops', 'many'], 1), { message: /not a number/ });
});
