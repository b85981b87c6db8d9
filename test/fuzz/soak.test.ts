/**
 * The soak's bounded run in CI (npm run soak does millions): random
 * operations in every era with every invariant recomputed after each one.
 */
import test from 'ava';
import { runSoak, SoakFailure } from '../../src/fuzz/soak.js';
import { formatSoak, parseSoakArgs } from '../../src/fuzz/soak-main.js';
import { SOAK_ERA_IDS } from '../../src/fuzz/worlds.js';

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
  t.true(r.refused > 0, 'hostile calls were refused');
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
  const e = new SoakFailure(5, 3, 'v3', 17, ['16: scan 4'], ['pid 100 at 0x1000 reads content 2, last written 3']);
  t.regex(e.message, /npm run soak -- --seed 5 --world 3/);
});

test('soak arguments', (t) => {
  t.like(parseSoakArgs(['--seed', '12', '--ops', '1_000', '--eras', 'v3,v2'], 1), { seed: 12, ops: 1000, eras: ['v3', 'v2'] });
  t.throws(() => parseSoakArgs(['--eras', 'v9'], 1), { message: /no era v9/ });
  t.throws(() => parseSoakArgs(['--ops', 'many'], 1), { message: /not a number/ });
});
