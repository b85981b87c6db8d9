/** `ksmctl workload run --kernel / --sysfs / --node` end to end: the built binary, as a user runs it. */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'ksmctl-kernel-'));
const file = (name: string, doc: unknown) => {
  const p = join(tmp, name);
  writeFileSync(p, JSON.stringify(doc));
  return p;
};
const snapshots = (stdout: string) => (JSON.parse(stdout) as { snapshots: Array<Record<string, unknown>> }).snapshots;

test('--kernel 6.18 --json prints what the real Linux 6.18 printed for two-guests', (t) => {
  const r = ksmctl(['workload', 'run', join(FIXTURES, 'workloads', 'two-guests.json'), '--era', 'v3', '--kernel', '6.18', '--json']);
  t.is(r.status, 0, r.stderr);
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'oracle-618', 'two-guests.expected.json'), 'utf8'));
  t.deepEqual(snapshots(r.stdout), expected.snapshots);
});

test('the table names the kernel; 2.6.32 stays the default', (t) => {
  const w = join(FIXTURES, 'workloads', 'worked-example.json');
  t.regex(ksmctl(['workload', 'run', w, '--kernel', '3.9']).stdout, /^worked-example under v3:3\.9: .*Linux 3\.9 \(seed 004\)$/m);
  t.regex(ksmctl(['workload', 'run', w]).stdout, /^worked-example under v3:2\.6\.32: .*Linux 2\.6\.32 \(seed 003\)$/m);
});

test('a workload\'s "kernel" is used unless --kernel says otherwise', (t) => {
  const w = file('k.json', { kernel: '6.18', processes: { a: [{ pages: 2, content: 'zero' }] }, steps: [{ register: 'a' }, { fullScans: 1 }] });
  t.regex(ksmctl(['workload', 'run', w]).stdout, /Linux 6\.18$/m);
  t.regex(ksmctl(['workload', 'run', w, '--kernel', '2.6.32']).stdout, /Linux 2\.6\.32 \(seed 003\)$/m);
  t.is(ksmctl(['workload', 'run', w, '--era', 'v2']).status, 0, 'other eras ignore it');
});

test('--sysfs writes knobs before the first step: use_zero_pages maps empty pages to the zero page', (t) => {
  const w = file('z.json', { processes: { a: [{ pages: 4, content: 'zero' }] }, steps: [{ register: 'a' }, { fullScans: 2 }] });
  const plain = snapshots(ksmctl(['workload', 'run', w, '--kernel', '6.18', '--json']).stdout);
  const zero = snapshots(ksmctl(['workload', 'run', w, '--kernel', '6.18', '--sysfs', 'use_zero_pages=1', '--json']).stdout);
  t.deepEqual([plain[1].pages_shared, plain[1].pages_sharing, plain[1].pages_saved], [1, 3, 3]);
  t.deepEqual([zero[1].pages_shared, zero[1].pages_sharing, zero[1].pages_saved], [0, 0, 3]);
});

test('--node places regions on NUMA nodes; with merge_across_nodes 0 twins on two nodes stay apart', (t) => {
  const w = file('n.json', { processes: { a: [{ pages: 2, content: { fill: 1 } }], b: [{ pages: 2, content: { fill: 1 } }] }, steps: [{ register: 'a' }, { register: 'b' }, { fullScans: 2 }] });
  const run = (...args: string[]) => snapshots(ksmctl(['workload', 'run', w, '--kernel', '6.18', '--json', ...args]).stdout)[1];
  const together = run();
  t.deepEqual([together.pages_shared, together.pages_sharing], [1, 3]);
  const apart = run('--node', 'b=1', '--sysfs', 'merge_across_nodes=0');
  t.deepEqual([apart.pages_shared, apart.pages_sharing], [2, 2]);
  const oneRegion = run('--node', 'b:0=1');
  t.deepEqual([oneRegion.pages_shared, oneRegion.pages_sharing], [1, 3], 'merging across nodes by default');
});

const bad = test.macro({
  exec(t, args: string[], message: RegExp) {
    const r = ksmctl(['workload', 'run', join(FIXTURES, 'workloads', 'worked-example.json'), ...args]);
    t.is(r.status, 2);
    t.regex(r.stderr, message);
    t.notRegex(r.stderr, STACK);
  },
  title: (given) => `${given}: exit 2, one line`,
});

test('an unknown --kernel', bad, ['--kernel', '4.19'], /--kernel.*4\.19.*(not one of|Allowed choices)/is);
test('--kernel with another era', bad, ['--era', 'v1', '--kernel', '6.18'], /--kernel applies to --era v3 only/);
test('--sysfs with another era', bad, ['--era', 'v2', '--sysfs', 'run=1'], /--sysfs and --node apply to --era v3 only/);
test('a --sysfs file the kernel lacks', bad, ['--kernel', '6.18', '--sysfs', 'max_kernel_pages=0'], /--sysfs max_kernel_pages=0: echo 0 > \/sys\/kernel\/mm\/ksm\/max_kernel_pages failed with ENOENT under Linux 6\.18/);
test('a --sysfs value the kernel refuses', bad, ['--kernel', '6.18', '--sysfs', 'max_page_sharing=1'], /failed with EINVAL/);
test('a malformed --sysfs', bad, ['--kernel', '6.18', '--sysfs', 'use_zero_pages'], /--sysfs needs NAME=VALUE/);
test('a malformed --node', bad, ['--kernel', '6.18', '--node', 'p1'], /--node needs PROC=NODE or PROC:REGION=NODE/);
