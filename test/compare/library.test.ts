/** The parameterized built-in workloads (src/workload/library.ts). */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { builtinNames, builtinWorkload } from '../../src/workload/builtin.js';
import { applyPreload, builtinPreload, GENERATORS } from '../../src/workload/library.js';
import { runWorkload } from '../../src/workload/runner.js';
import { totalPages, WorkloadError } from '../../src/workload/schema.js';

test('every generator is listed among the built-ins, after the fixed ones', (t) => {
  const names = builtinNames();
  t.true(names.includes('guests'));
  for (const g of GENERATORS) t.true(names.includes(g.name));
  t.deepEqual(
    GENERATORS.map((g) => g.name),
    ['identical-guests', 'ksmpages-worst', 'zero-heavy', 'volatile-churn', 'many-sharers', 'from-files'],
  );
});

test('the fixed guests built-in is unchanged by the library', (t) => {
  const w = builtinWorkload('guests')!;
  t.is(w.name, 'guests');
  t.is(w.processes.length, 4);
  t.is(totalPages(w), 4 * 3072);
});

test('parameters left out take their defaults; given ones are applied', (t) => {
  const d = builtinWorkload('identical-guests')!;
  t.is(d.processes.length, 4);
  t.is(totalPages(d), 4 * 4096);
  const w = builtinWorkload('identical-guests:n=3,pages=100,zero=20,private=30,batch=64,passes=2')!;
  t.is(w.name, 'identical-guests:n=3,pages=100,zero=20,private=30,batch=64,passes=2');
  t.is(w.pagesToScan, 64);
  t.deepEqual(
    w.processes[1].regions[0].runs.map((r) => [r.pages, r.content.kind]),
    [
      [20, 'zero'],
      [50, 'seedFrom'],
      [30, 'seedFrom'],
    ],
  );
  t.like(w.steps[w.steps.length - 1], { kind: 'fullScans', count: 2 });
});

const bad = test.macro({
  exec(t, spec: string, message: RegExp) {
    const e = t.throws(() => builtinWorkload(spec), { instanceOf: WorkloadError });
    t.regex(e!.message, message);
    t.is(e!.message.split('\n').length, 1);
  },
  title: (_, spec: string) => `a bad parameter is a one-line workload error: ${spec}`,
});
test(bad, 'zero-heavy:nope=1', /builtin:zero-heavy:nope=1: unknown parameter "nope" \(zero-heavy takes n, pages, zero, batch, passes\)/);
test(bad, 'zero-heavy:n=0', /n must be in 1\.\.1024, got 0/);
test(bad, 'zero-heavy:n=two', /n must be a non-negative integer, got "two"/);
test(bad, 'zero-heavy:n', /parameter n needs a value/);
test(bad, 'zero-heavy:n=2,n=3', /parameter n given twice/);
test(bad, 'from-files:path=/no/such/dir', /cannot read \/no\/such\/dir: no such file or directory/);

test('an unknown name is no built-in at all', (t) => {
  t.is(builtinWorkload('no-such-workload:n=1'), undefined);
});

test('ksmpages-worst: page i of every process is zero but for its last 8 bytes, holding i', (t) => {
  const w = builtinWorkload('ksmpages-worst:n=3,pages=16')!;
  t.is(w.processes.length, 3);
  for (const p of w.processes) t.deepEqual(p.regions[0].runs[0].content, { kind: 'tailFrom', n: 0n });
});

test('volatile-churn: the hot pages get new contents, equal across guests, after every pass', (t) => {
  const w = builtinWorkload('volatile-churn:n=2,pages=8,hot=50,rounds=2')!;
  const writes = w.steps.filter((s) => s.kind === 'write');
  t.is(writes.length, 2 * 4 * 2);
  const kinds = w.steps.map((s) => s.kind).filter((k, i, a) => k !== a[i - 1]);
  t.deepEqual(kinds, ['register', 'fullScans', 'write', 'fullScans', 'write', 'fullScans']);
  const content = (proc: string, page: number) => writes.filter((s) => s.kind === 'write' && s.proc === proc && s.page === page).map((s) => (s.kind === 'write' ? s.content : null));
  t.deepEqual(content('guest-0', 3), content('guest-1', 3));
  const [r1, r2] = content('guest-0', 3);
  t.notDeepEqual(r1, r2);
});

test('many-sharers: every page of every process holds one content', (t) => {
  const w = builtinWorkload('many-sharers:n=5,pages=7')!;
  t.is(totalPages(w), 35);
  t.true(w.processes.every((p) => p.regions[0].runs[0].content.kind === 'seed'));
});

test('from-files: guests read real files, page-aligned, common part first, then their own', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksm-files-'));
  // a.bin: 1.5 pages; b.bin: 1 page; c.bin: 2 pages, read in name order.
  const file = (name: string, bytes: number, fill: number) => writeFileSync(join(dir, name), Buffer.alloc(bytes, fill));
  file('a.bin', PAGE_SIZE + PAGE_SIZE / 2, 0xaa);
  file('b.bin', PAGE_SIZE, 0xbb);
  file('c.bin', 2 * PAGE_SIZE, 0xcc);
  const w = builtinWorkload(`from-files:path=${dir},n=2,pages=3,overlap=67`)!;
  const pre = builtinPreload(w)!;
  t.truthy(pre);
  t.deepEqual(pre.sources.map((s) => s.slice(dir.length + 1)), ['a.bin', 'b.bin', 'c.bin']);
  // Stream pages: a0, a1 (half zero), b0, c0, c1. Common: 2 pages; own: 1 each.
  t.deepEqual([...pre.fills[0].pages], [0, 1, 2]);
  t.deepEqual([...pre.fills[1].pages], [0, 1, 3]);

  // What the guests read back after the preload is the files' bytes.
  const d = createDriver('v3:2.6.32');
  let checked = 0;
  runWorkload(w, d, {
    afterSetup: (drv) => {
      applyPreload(drv, pre);
      const r = drv.regionRange('guest-1', 0);
      const page = (k: number) => drv.memory.contents.bytes(drv.memory.readPage(r.mm, r.start + k * PAGE_SIZE));
      t.is(page(0)[100], 0xaa);
      t.is(page(1)[100], 0xaa);
      t.is(page(1)[PAGE_SIZE - 1], 0);
      t.is(page(2)[0], 0xcc);
      checked++;
    },
  });
  t.is(checked, 1);
});
