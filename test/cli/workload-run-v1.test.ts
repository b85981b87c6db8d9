/** `ksmctl workload run --era v1 [--abi 2008|2009]` end to end: the built binary, as a user runs it. */
import test from 'ava';
import { join } from 'node:path';
import { ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const example = join(FIXTURES, 'workloads', 'worked-example.json');

test('--era v1 without --abi runs the November 2008 ABI on the hash-table merger', (t) => {
  const r = ksmctl(['workload', 'run', example, '--era', 'v1']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^worked-example under v1:2008: \/dev\/ksm ioctls \(Nov 2008 ABI\), hash-table merger \(seed 001\)$/m);
  // Nothing is exposed by the era: every counter is marked derived.
  t.regex(r.stdout, /^snapshot\s+step\s+pages_shared\*\s+pages_sharing\*\s+pages_unshared\*\s+pages_volatile\*\s+full_scans\*\s+pages_saved$/m);
  t.regex(r.stdout, /^2\.pass1\s+2\s+1\s+5\s+0\s+0\s+6\s+5$/m);
});

test('--abi 2009 runs the March 2009 ABI on the tree merger', (t) => {
  const r = ksmctl(['workload', 'run', example, '--era', 'v1', '--abi', '2009']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^worked-example under v1:2009: .*tree merger \(seed 002\)$/m);
  t.regex(r.stdout, /^2\.pass1\s+2\s+5\s+5\s+0\s+11\s+6\s+5$/m);
});

test('--json prints the schema document for both ABIs', (t) => {
  for (const [abi, first] of [
    ['2008', { label: '2.pass1', step: 2, pages_shared: 1, pages_sharing: 5, pages_unshared: 0, pages_volatile: 0, full_scans: 6, pages_saved: 5 }],
    ['2009', { label: '2.pass1', step: 2, pages_shared: 5, pages_sharing: 5, pages_unshared: 0, pages_volatile: 11, full_scans: 6, pages_saved: 5 }],
  ] as const) {
    const r = ksmctl(['workload', 'run', example, '--era', 'v1', '--abi', abi, '--json']);
    t.is(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    t.deepEqual(Object.keys(doc), ['snapshots']);
    t.deepEqual(doc.snapshots[0], first);
  }
});

const refused = test.macro<[args: string[], message: RegExp]>({
  exec(t, args, message) {
    const r = ksmctl(['workload', 'run', example, ...args]);
    t.is(r.status, 2);
    t.regex(r.stderr, message);
    t.notRegex(r.stderr, STACK);
  },
  title: (_p, args) => `ksmctl workload run ${args.join(' ')} is refused with one line`,
});

test(refused, ['--era', 'v1', '--abi', '2010'], /argument '2010' is invalid|Allowed choices are 2008, 2009/);
test(refused, ['--era', 'v3', '--abi', '2008'], /--abi applies to --era v1 only/);
