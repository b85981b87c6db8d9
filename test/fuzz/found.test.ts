/**
 * What the fuzzers and the soak found, kept as regression tests.
 */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import { formatTable } from '../../src/format/table.js';
import { formatRun } from '../../src/cli/commands/workload-run.js';
import { runWorkload } from '../../src/workload/runner.js';
import { parseWorkloadText } from '../../src/workload/schema.js';

test('formatTable copes with 300,000 rows (it took Math.max of a spread column: "Maximum call stack size exceeded")', (t) => {
  const rows = Array.from({ length: 300_000 }, (_, i) => [i, 'x']);
  const out = formatTable(['n', 's'], rows, [true, false]);
  t.is(out.split('\n').length, 300_001);
  t.true(out.endsWith('299999  x'));
});

test('workload run: a batch far larger than memory completes a pass per page, one snapshot each, and the table prints', (t) => {
  // Found by the workload-json fuzzer: pagesToScan 5911301 on 8 pages gave 738,912 passes in the
  // first call of a fullScans step (SCHEMA.md: one snapshot per completed pass); the table crashed.
  const w = parseWorkloadText(JSON.stringify({
    name: 'huge-batch',
    processes: { b: [{ pages: 2, content: { tailFrom: 91 } }, { runs: [{ pages: 3, content: { tail: 7 } }, { pages: 3, content: { tail: 8 } }] }] },
    steps: [{ register: 'b' }, { fullScans: 1 }],
    pagesToScan: 200_000,
  }));
  const r = runWorkload(w, createDriver('v2'));
  t.true(r.snapshots.length > 20_000);
  t.notThrows(() => formatRun(r, false));
});

test('mmap of 16 TiB (a script\'s NPAGES 0xffffffff) is ENOMEM, as the heuristic overcommit answered, not a page table of that size', async (t) => {
  const { V3Kernel } = await import('../../src/v3-sysfs/kernel.js');
  const { V1Kernel } = await import('../../src/v1-ioctl/kernel.js');
  const { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } = await import('../../src/engine/constants.js');
  for (const k of [new V3Kernel(), new V1Kernel()]) {
    const p = k.spawn('p');
    t.is(k.mmap(p, 0, 0xffffffff * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS), -12);
  }
});

test('a 6.18 stable node whose page was freed and reused by another KSM page may keep its rmap_items until pruned (soak seed 20091124, world 1467)', async (t) => {
  // The 3.x checker took this kernel state for a bug: the soak stopped at that world's operation 341.
  const { runSoak } = await import('../../src/fuzz/soak.js');
  const r = runSoak({ seed: 20091124, ops: 1500, world: 1467 });
  t.is(r.perEra['v3:6.18'].ops, 1500);
});

test('a script with 09 (an octal constant with a 9) is a parse error at its place, not an exception (BigInt("0o9"))', async (t) => {
  const { runText } = await import('../helpers/script.js');
  const r = runText('oct.ksm', 'int x = 09;\nprint x\n');
  t.is(r.status, 2);
  t.regex(r.error ?? '', /^oct\.ksm:1:9: invalid digit "9" in octal constant/);
  t.is(runText('oct.ksm', 'int x = 010;\nprint x\n').stdout, '8\n');
});
