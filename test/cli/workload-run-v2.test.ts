/** `ksmctl workload run --era v2` end to end: the built binary, as a user runs it. */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const example = (name: string) => join(FIXTURES, 'workloads', `${name}.json`);

test('--era v2 --json prints exactly the schema document, the golden trajectory', (t) => {
  const r = ksmctl(['workload', 'run', example('two-guests'), '--era', 'v2', '--json']);
  t.is(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(doc), ['snapshots']);
  t.deepEqual(doc, JSON.parse(readFileSync(join(ROOT, 'test', 'golden', 'v2', 'two-guests.json'), 'utf8')));
});

test('the v2 table marks the counters the era did not expose', (t) => {
  const r = ksmctl(['workload', 'run', example('worked-example'), '--era', 'v2']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^worked-example under v2: madvise\(MADV_SHAREABLE\)/m);
  t.regex(r.stdout, /^snapshot\s+step\s+pages_shared\s+pages_sharing\*\s+pages_unshared\*\s+pages_volatile\*\s+full_scans\*\s+pages_saved$/m);
  t.regex(r.stdout, /^2\.pass1\s+2\s+5\s+5\s+0\s+11\s+6\s+5$/m);
  t.regex(r.stdout, /not exposed by this era/);
});

test('an unregister step under v2 is listed as refused, in the table and in the JSON, without failing the run', (t) => {
  const doc = {
    processes: { a: [{ pages: 2, content: 'zero' }] },
    steps: [{ register: 'a' }, { unregister: 'a' }, { snapshot: 'end' }],
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ksmctl-v2-')), 'unregister.json');
  writeFileSync(file, JSON.stringify(doc));
  const table = ksmctl(['workload', 'run', file, '--era', 'v2']);
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /step 1: refused by the era with EINVAL/);
  const json = ksmctl(['workload', 'run', file, '--era', 'v2', '--json']);
  t.deepEqual(JSON.parse(json.stdout).errors, [{ step: 1, errno: 'EINVAL' }]);
  t.notRegex(table.stderr + json.stderr, STACK);
});
