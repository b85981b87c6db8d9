/**
 * The host's own soak, bounded for CI (npm run soak:host runs it long): a
 * long-lived machine per era given scripts that end, fork, fail and pause,
 * the verbs, views, controls and sleeps, with pid_max and the mm id
 * maximum lowered so that both wrap many times; after every request only
 * the guests paused on purpose are alive, the invariants hold, and no mm
 * id is lost.
 */
import test from 'ava';
import { formatHostSoak, HOST_SOAK_ERAS, HostSoakFailure, runHostSoak } from '../../src/host/soak.js';

test('a short host soak: 300 requests in each era of the registry, every check after every request', (t) => {
  const r = runHostSoak({ seed: 20251207, ops: 300 * HOST_SOAK_ERAS.length, worldOps: 300 });
  t.log(formatHostSoak(r, 8));
  t.is(r.ops, 300 * HOST_SOAK_ERAS.length);
  t.is(r.worlds, HOST_SOAK_ERAS.length);
  t.is(r.checks, 300 * HOST_SOAK_ERAS.length);
  t.true(r.mmIdReuses > 0 && r.pidWraps > 0, 'pids and mm ids wrapped');
  for (const kind of ['failing', 'forks', 'view', 'control', 'verb', 'sleep']) t.true((r.kinds.get(kind) ?? 0) > 0, kind);
});

test('a violation names the seed and the world to replay', (t) => {
  const e = new HostSoakFailure(3, 2, 17, 'v2: something', ['0: state'], 400);
  t.regex(e.message, /^host soak: world 2, request 17, seed 3: v2: something\n {2}last requests:\n {4}0: state\nreplay: npm run soak:host -- --seed 3 --world 2 --world-ops 400$/);
});
