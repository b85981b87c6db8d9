/** `ksmctl workload run` end to end: the built binary, as a user runs it. */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'ksmctl-'));
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

test('--json prints exactly the schema document', (t) => {
  const r = ksmctl(['workload', 'run', join(FIXTURES, 'workloads', 'worked-example.json'), '--json']);
  t.is(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(doc), ['snapshots']);
  t.deepEqual(doc.snapshots[1], { label: '2.pass2', step: 2, pages_shared: 1, pages_sharing: 5, pages_unshared: 10, pages_volatile: 0, full_scans: 2, pages_saved: 5 });
});

test('the default output is a readable table', (t) => {
  const r = ksmctl(['workload', 'run', join(FIXTURES, 'workloads', 'two-guests.json')]);
  t.is(r.status, 0);
  t.regex(r.stdout, /^two-guests under v3/m);
  t.regex(r.stdout, /^snapshot\s+step\s+pages_shared\s+pages_sharing/m);
  t.regex(r.stdout, /^after-exit\s+9\s+512\s+1021\s+259\s+0\s+5\s+255$/m);
});

test('with no arguments and no terminal, ksmctl says the TUI needs one and runs the built-in default workload as a table', (t) => {
  const r = ksmctl([]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /the TUI needs a terminal.*ksmctl workload run builtin:guests/);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stdout, /^guests under v3/m);
});

const bad = test.macro({
  exec(t, text: string | null, args: string[], message: RegExp) {
    const path = text === null ? join(tmp, 'does-not-exist.json') : file(`w${Math.random()}.json`, text);
    const r = ksmctl(['workload', 'run', path, ...args]);
    t.is(r.status, 2);
    t.is(r.stdout, '');
    t.regex(r.stderr, message);
    t.notRegex(r.stderr, STACK);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  },
  title: (given) => `a bad workload (${given}) exits 2 with a one-line error`,
});

test('unknown key', bad, '{"processes": {}, "steps": [], "extra": 1}', [], /top level: unknown key "extra"/);
test('invalid JSON', bad, '{"processes": {},\n "steps": [,]}', [], /:2:\d+: invalid JSON/);
test('missing file', bad, null, [], /cannot read/);
test('unknown process in a step', bad, '{"processes": {"a": [{"pages": 1, "content": "zero"}]}, "steps": [{"register": "b"}]}', [], /steps\[0\] \(register\): unknown process "b"/);
test('page out of range', bad, '{"processes": {"a": [{"pages": 1, "content": "zero"}]}, "steps": [{"write": {"proc": "a", "region": 0, "page": 1, "content": "zero"}}]}', [], /steps\[0\] \(write\): unknown page 1/);
test('fullScans with nothing registered', bad, '{"processes": {"a": [{"pages": 1, "content": "zero"}]}, "steps": [{"fullScans": 1}]}', [], /steps\[0\] \(fullScans\): fullScans with no registered region/);

test('an unknown era is refused with the list of known eras', (t) => {
  const r = ksmctl(['workload', 'run', join(FIXTURES, 'workloads', 'worked-example.json'), '--era', 'v9']);
  t.is(r.status, 2);
  t.regex(r.stderr, /--era.*v9.*(not one of|Allowed choices)/is);
  t.notRegex(r.stderr, STACK);
});

test('an unknown command exits 2 with help', (t) => {
  const r = ksmctl(['frobnicate']);
  t.is(r.status, 2);
  t.regex(r.stderr, /^ksmctl: unknown command 'frobnicate'\n/);
});
