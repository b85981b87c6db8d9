/**
 * `ksmctl workload run -` reads the workload JSON from standard input: the
 * same run as from the file, a bounded read, and one-line errors naming <stdin>.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_WORKLOAD_BYTES } from '../../src/io/files.js';
import { ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const FILE = join(FIXTURES, 'workloads', 'ksmpages-small.json');

test('workload run - runs the JSON on stdin as it runs the file', (t) => {
  const fromFile = ksmctl(['workload', 'run', FILE, '--json']);
  const fromStdin = ksmctl(['workload', 'run', '-', '--json'], { input: readFileSync(FILE, 'utf8') });
  t.is(fromFile.status, 0);
  t.deepEqual(fromStdin, fromFile);
});

const bad = test.macro({
  exec(t, input: string, message: RegExp) {
    const r = ksmctl(['workload', 'run', '-'], { input });
    t.is(r.status, 2);
    t.is(r.stdout, '');
    t.regex(r.stderr, message);
    t.is(r.stderr.split('\n').length, 2, 'one line');
    t.notRegex(r.stderr, STACK);
  },
  title: (title) => `workload run - with ${title ?? ''} is one line, exit 2`,
});

test('bad JSON', bad, '{"processes":', /^ksmctl: <stdin>:\d+:\d+: invalid JSON/);
test('nothing', bad, '', /^ksmctl: <stdin>:/);
test('a semantic error', bad, '{"processes": {"a": [{"pages": 1, "content": "zero"}]}, "steps": [{"register": "b"}]}', /^ksmctl: <stdin>: steps\[0\] \(register\): unknown process "b" \(known: a\)\n$/);
test('more than a workload file may have', bad, ' '.repeat(MAX_WORKLOAD_BYTES + 1), /^ksmctl: <stdin>: more than a workload file may have \(16 MiB\)\n$/);
