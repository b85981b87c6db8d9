/**
 * `ksmctl verify`: the comparison itself, and its refusals (one line, exit
 * 2). Runs on the real kernel are in kernel.test.ts.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { closestEra, firstDifference, formatVerification, type Verification } from '../../src/real/verify.js';
import type { Snapshot } from '../../src/workload/runner.js';
import { KSMCTL, ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const snap = (label: string, over: Partial<Snapshot> = {}): Snapshot => ({ label, step: 2, pages_shared: 1, pages_sharing: 2, pages_unshared: 0, pages_volatile: 0, full_scans: 1, pages_saved: 2, ...over });

test('the simulated era closest to uname -r', (t) => {
  t.is(closestEra('6.18.44-fc-v1300').id, 'v3:6.18');
  t.is(closestEra('6.1.0-18-amd64').id, 'v3:6.18');
  t.is(closestEra('5.4.0').id, 'v3:6.18');
  t.is(closestEra('3.10.0-1160.el7.x86_64').id, 'v3:3.9');
  t.is(closestEra('2.6.32-754.el6').id, 'v3:2.6.32');
  t.is(closestEra('weird').id, 'v3:6.18');
});

test('the first difference: the snapshot, then the counter in the schema order; then the count of snapshots', (t) => {
  const a = [snap('2.pass1'), snap('2.pass2', { pages_sharing: 5, pages_saved: 5 })];
  t.is(firstDifference(a, a), null);
  t.deepEqual(firstDifference(a, [snap('2.pass1'), snap('2.pass2', { pages_sharing: 4, pages_saved: 4 })]), { snapshot: 2, label: '2.pass2', step: 2, counter: 'pages_sharing', real: 5, simulated: 4 });
  t.deepEqual(firstDifference(a, a.slice(0, 1)), { snapshot: 2, label: '2.pass2', step: 2, counter: 'snapshots', real: 2, simulated: 1 });
  const v = { workload: 'w', kernel: '6.18.1', era: 'v3:6.18', agree: false, snapshots: 2, difference: firstDifference(a, [snap('2.pass1', { full_scans: 2 }), a[1]]), real: { ms: 1500, snapshots: a, errors: [], passMs: [] }, simulated: { ms: 2.5, snapshots: a, errors: [] }, knobs: [['max_page_sharing', '10']] } as Verification;
  t.is(formatVerification(v), 'w: Linux 6.18.1 against v3:6.18 (max_page_sharing=10)\nsnapshot 1 (2.pass1, step 2) differs first in full_scans: 1 on the real kernel, 2 in v3:6.18 (real kernel 1.50 s, simulator 2.5 ms)');
  t.is(formatVerification({ ...v, agree: true, difference: null, knobs: [] }), 'w: Linux 6.18.1 against v3:6.18\nall 2 snapshots agree (real kernel 1.50 s, simulator 2.5 ms)');
});

const bad = test.macro({
  exec(t, args: string[], message: RegExp) {
    const r = ksmctl(args);
    t.is(r.status, 2);
    t.regex(r.stderr, message);
    t.notRegex(r.stderr, STACK);
  },
  title: (given) => `verify ${given}: exit 2, one line`,
});
test('with a non-simulated --era', bad, ['verify', join(FIXTURES, 'workloads', 'worked-example.json'), '--era', 'real'], /^ksmctl: verify compares the real kernel with a simulated era: --era real is not one$/m);
test('with an unknown --era', bad, ['verify', join(FIXTURES, 'workloads', 'worked-example.json'), '--era', 'v9'], /unknown --era "v9"/);
test('without a workload', bad, ['verify'], /^ksmctl: verify needs a workload \(or --recover\)$/m);
test('of a workload with scan steps', bad, ['verify', 'examples/workloads/scan-steps.json'], /steps\[2\] \(scan\): a scan step cannot run on the real kernel/);

test('workload run --era real refuses simulator-only options in one line', (t) => {
  const w = join(FIXTURES, 'workloads', 'worked-example.json');
  for (const [args, message] of [
    [['--kernel', '6.18'], /--abi and --kernel choose a simulated era/],
    [['--user', '1000'], /--user applies to the simulated eras/],
  ] as const) {
    const r = ksmctl(['workload', 'run', w, '--era', 'real', ...args]);
    t.is(r.status, 2);
    t.regex(r.stderr, message);
  }
});

test('not root: one line, exit 2, nothing touched (run as nobody where this test runs as root)', (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/runuser')) {
    t.pass('skipped: needs root (to become nobody) and runuser');
    return;
  }
  const r = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, KSMCTL, 'workload', 'run', join(FIXTURES, 'workloads', 'worked-example.json'), '--era', 'real'], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 2);
  t.regex(r.stderr, /^ksmctl: (the real kernel is driven as root only|no \/sys\/kernel\/mm\/ksm)/);
});
