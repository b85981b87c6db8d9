/**
 * `ksmctl workload run --user UID`: the workload's processes run as that
 * user and meet the era's permission checks; the administrator's setup
 * (sysfs knobs, the 2008 scanner program) stays root's.
 */
import test from 'ava';
import { workloadRun } from '../../src/cli/commands/workload-run.js';
import { resultJson } from '../../src/workload/runner.js';
import { loadWorkload } from '../../src/workload/schema.js';
import { ksmctl, STACK } from '../helpers/cli.js';

const TWO_GUESTS = 'examples/workloads/two-guests.json';

for (const abi of ['2008', '2009']) {
  test(`v1 ${abi}: as uid 1000, open("/dev/ksm") (root:root 0660) is EACCES, so nothing registers and no pass completes (EAGAIN)`, (t) => {
    const w = loadWorkload(TWO_GUESTS);
    const r = workloadRun(w, { era: 'v1', abi, user: 1000 });
    const registers = w.steps.filter((s) => s.kind === 'register').map((s) => s.index);
    for (const i of registers) t.true(r.errors.some((e) => e.step === i && e.errno === 'EACCES'), `register step ${i}`);
    for (const s of w.steps.filter((x) => x.kind === 'fullScans')) t.true(r.errors.some((e) => e.step === s.index && e.errno === 'EAGAIN'), `fullScans step ${s.index}`);
    for (const s of r.snapshots) t.is(s.pages_saved, 0);
  });
}

for (const era of ['v2', 'v3']) {
  test(`${era}: as uid 1000 the run is root's (madvise needs no privilege, the knobs are the administrator's)`, (t) => {
    const w = loadWorkload(TWO_GUESTS);
    t.deepEqual(resultJson(workloadRun(w, { era, user: 1000 })), resultJson(workloadRun(w, { era })));
  });
}

test('ksmctl workload run --user: parsed as a uid, refused calls listed, a bad uid is a usage error', (t) => {
  const r = ksmctl(['workload', 'run', TWO_GUESTS, '--era', 'v1', '--user', '1000']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /step 0: refused by the era with EACCES/);
  t.regex(r.stdout, /refused by the era with EAGAIN/);
  const bad = ksmctl(['workload', 'run', TWO_GUESTS, '--user', 'nobody']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /expected a user id/);
  t.notRegex(bad.stderr, STACK);
});
