/**
 * Where ksmd's modelled CPU is reported: `workload run --ksmd-cpu` (table
 * line and the JSON's ksmd_cpu, absent without the option), `compare`'s
 * rows and JSON, and the model's arithmetic on a work record.
 */
import test from 'ava';
import { join } from 'node:path';
import { zeroWork } from '../../src/engine/merge/stats.js';
import { ksmdCpu, predictNs } from '../../src/cpu/model.js';
import { COST_NAMES, loadProfile, PRICED_WORK } from '../../src/cpu/profile.js';
import { ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const TWO_GUESTS = join(FIXTURES, 'workloads', 'two-guests.json');

test('the model is the sum of cost x count, plus the pass and wake-up overheads', (t) => {
  const p = structuredClone(loadProfile('default', {}));
  for (const k of COST_NAMES) p.costsNs[k] = 0;
  p.costsNs.pagesScanned = 100;
  p.costsNs.bytesCompared = 0.5;
  p.costsNs.pass = 1000;
  p.costsNs.wakeup = 10;
  const work = zeroWork();
  work.pagesScanned = 7;
  work.bytesCompared = 4096;
  work.cowBreaks = 1e9; // not ksmd's work: not priced
  t.is(predictNs(p, { work, passes: 2, wakeups: 3 }), 700 + 2048 + 2000 + 30);
  const c = ksmdCpu(p, { work, passes: 2, wakeups: 3 }, 0.001);
  t.is(c.seconds, 4778e-9);
  t.true(Math.abs(c.share! - 4.778e-3) < 1e-12);
  t.is(ksmdCpu(p, { work, passes: 0, wakeups: 0 }, 0).share, null);
  t.false((PRICED_WORK as readonly string[]).includes('cowBreaks'));
});

test('workload run --ksmd-cpu: ksmd_cpu in the JSON, a CPU line under the table; without it the document is the schema\'s', (t) => {
  const r = ksmctl(['workload', 'run', TWO_GUESTS, '--era', 'v3:6.18', '--ksmd-cpu', '--json']);
  t.is(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(doc), ['snapshots', 'ksmd_cpu']);
  const passes = doc.snapshots.filter((s: { label: string }) => /\.pass\d+$/.test(s.label)).length;
  t.like(doc.ksmd_cpu, { source: 'model', profile: 'default' });
  t.is(doc.ksmd_cpu.per_pass_ms.length, passes);
  t.true(doc.ksmd_cpu.seconds > 0 && doc.ksmd_cpu.share > 0 && doc.ksmd_cpu.share < 1);
  const sum = doc.ksmd_cpu.per_pass_ms.reduce((a: number, b: number) => a + b, 0);
  t.true(Math.abs(sum - doc.ksmd_cpu.seconds * 1000) < 0.01 * sum + 0.01, `per pass ${sum} ms, total ${doc.ksmd_cpu.seconds * 1000} ms`);
  const plain = ksmctl(['workload', 'run', TWO_GUESTS, '--era', 'v3:6.18', '--json']);
  t.deepEqual(Object.keys(JSON.parse(plain.stdout)), ['snapshots']);
  const table = ksmctl(['workload', 'run', TWO_GUESTS, '--era', 'v3:2.6.32', '--ksmd-cpu']);
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /^ksmd CPU \(model, profile default\): [0-9.]+ ms, [0-9.]+ % of a core over batches x sleep_millisecs of virtual time$/m);
  // The 2008 kthread sleeps 0 between batches unless told: no virtual time, no share.
  const v1 = ksmctl(['workload', 'run', TWO_GUESTS, '--era', 'v1:2008', '--ksmd-cpu']);
  t.regex(v1.stdout, /^ksmd CPU \(model, profile default\): [0-9.]+ ms \(no share of a core: no time passed between batches\)$/m);
});

test('workload run --ksmd-cpu with a profile that is not there: one line, exit 2', (t) => {
  const r = ksmctl(['workload', 'run', TWO_GUESTS, '--ksmd-cpu', '/nonexistent/p.json']);
  t.is(r.status, 2);
  t.is(r.stderr, 'ksmctl: /nonexistent/p.json: no such file or directory\n');
  t.notRegex(r.stderr, STACK);
});

test('compare: ksmd CPU rows in the table, ksmdCpu per configuration and ksmdCpuMs per pass in the JSON', (t) => {
  const args = ['compare', 'builtin:many-sharers:n=3,pages=64,passes=2', '--eras', 'v1:2008,v3:6.18'];
  const r = ksmctl(args);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^ksmd CPU \(model\)\s+[0-9.]+ ms\s+[0-9.]+ ms$/m);
  t.regex(r.stdout, /^ksmd share of a core\s+[0-9.]+ %\s+[0-9.]+ %$/m);
  const doc = JSON.parse(ksmctl([...args, '--json']).stdout);
  for (const c of doc.configurations) {
    t.is(c.ksmdCpu.profile, 'default');
    t.true(c.ksmdCpu.seconds > 0 && c.ksmdCpu.share > 0, JSON.stringify(c.ksmdCpu));
    const ms = c.passes.map((p: { ksmdCpuMs: number }) => p.ksmdCpuMs);
    t.true(ms.every((x: number, i: number) => i === 0 || x >= ms[i - 1]), 'cumulative');
    t.true(Math.abs(c.end.ksmdCpuMs - c.ksmdCpu.seconds * 1000) < 1e-6);
  }
});
