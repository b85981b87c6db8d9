/**
 * LTP's KSM tests against `--kernel 6.18`, as the C runs them, with the
 * expectations LTP publishes:
 *
 * - ksm01 (testcases/kernel/mem/ksm/ksm01.c, create_same_memory() of
 *   ksm_test.h): three processes, four phases of contents, max_page_sharing
 *   raised to the whole memory, run=2 then run=0 at the end;
 * - ksm06 (test_ksm_merge_across_nodes): identical pages on every NUMA node,
 *   merged into one KSM page with merge_across_nodes 1 and one per node with 0.
 *
 * - ksm07 (create_memory_for_smartscan): with smart_scan 1, one page that
 *   cannot merge is skipped in at least half of the full scans.
 *
 * LTP waits for two full scans after the processes stop writing
 * (wait_ksmd_full_scan, polling every second) and stops ksmd (run=0) while
 * it reads the counters; ksmd runs on the virtual clock meanwhile. Since
 * 2023 LTP runs ksm01 to ksm06 with smart_scan 0 (its save_restore list:
 * "mem: disable KSM smart scan for ksm tests", so that pages_volatile stays
 * 0), and ksm07 with smart_scan 1.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import { MADV_MERGEABLE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { internPage } from '../../src/workload/fill.js';
import { problems, sysfsNumber } from '../helpers/v3x.js';

type K = V3Kernel<'6.18' | '3.9'>;
const MB = 1 << 20;

/** save_restore's {"/sys/kernel/mm/ksm/smart_scan", value, TST_SR_SKIP_MISSING}. */
function smartScan(k: K, value: 0 | 1): void {
  if (k.sysfs.has('smart_scan')) k.writeSysfs('smart_scan', `${value}`);
}

/** wait_ksmd_full_scan: at least two more full scans, read once a second. */
function waitKsmdFullScan(k: K): number {
  const target = sysfsNumber(k, 'full_scans') + 2;
  let count = 0;
  while (sysfsNumber(k, 'full_scans') < target) {
    k.sleep(1000);
    if (++count > 600) throw new Error('ksmd made no progress');
  }
  return count;
}

/** final_group_check: run=0 while the counters are read, then back. */
function finalGroupCheck(k: K): Record<string, number> {
  const run = sysfsNumber(k, 'run');
  k.writeSysfs('run', '0');
  const names = ['run', 'pages_shared', 'pages_sharing', 'pages_volatile', 'pages_unshared', 'sleep_millisecs', 'pages_to_scan'];
  const values = Object.fromEntries(names.map((n) => [n, sysfsNumber(k, n)]));
  values.run = run;
  k.writeSysfs('run', `${run}`);
  return values;
}

const expected = (run: number, shared: number, sharing: number, volatile: number, unshared: number, sleep: number, toScan: number) => ({
  run, pages_shared: shared, pages_sharing: sharing, pages_volatile: volatile, pages_unshared: unshared, sleep_millisecs: sleep, pages_to_scan: toScan,
});

interface Child {
  p: Process;
  memory: number[];
}

/** create_ksm_child up to its first stop: size/unit mappings of unit MB, each MADV_MERGEABLE, nothing written yet. */
function createKsmChild(k: K, i: number, size: number, unit: number): Child {
  const p = k.spawn(`ksm01-child${i}`);
  const memory: number[] = [];
  for (let j = 0; j < size / unit; j++) {
    const addr = k.mmap(p, 0, unit * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (k.madvise(p, addr, unit * MB, MADV_MERGEABLE) !== 0) throw new Error('madvise');
    memory.push(addr);
  }
  return { p, memory };
}

/** ksm_child_memset: every byte the data; if not all mergeable, the last byte 'e'. */
function ksmChildMemset(k: K, c: Child, unit: number, data: string, mergeable: boolean): void {
  const content = () => internPage(k.memory, { kind: 'fill', value: data.charCodeAt(0) });
  for (const addr of c.memory) for (let off = 0; off < unit * MB; off += PAGE_SIZE) k.memory.writePage(c.p.mm, addr + off, content());
  if (!mergeable) k.memory.writeBytes(c.p.mm, c.memory[c.memory.length - 1] + unit * MB - 1, new Uint8Array([0x65]));
}

function createSameMemory(k: K, size: number, num: number, unit: number) {
  const pages = MB / PAGE_SIZE;
  const total = size * pages * num;
  const data0 = [['c', true], ['c', true], ['d', true], ['d', true]] as const;
  const data1 = [['a', true], ['b', true], ['d', true], ['d', false]] as const;
  const data2 = [['a', true], ['a', true], ['d', true], ['d', true]] as const;
  const datas = Array.from({ length: num }, (_, i) => (i === 0 ? data0 : i === 1 ? data1 : i === 2 ? data2 : data0));
  const children = datas.map((_, i) => createKsmChild(k, i, size, unit));
  // KSM merging...
  if (k.sysfs.has('max_page_sharing')) {
    k.writeSysfs('run', '2');
    if (k.writeSysfs('max_page_sharing', `${total}`) < 0) throw new Error('max_page_sharing');
  }
  k.writeSysfs('run', '1');
  k.writeSysfs('pages_to_scan', `${total}`);
  k.writeSysfs('sleep_millisecs', '0');
  const checks = [];
  for (let phase = 0; phase < 4; phase++) {
    // resume_ksm_children, each writes its memory, stop_ksm_children
    children.forEach((c, i) => ksmChildMemset(k, c, unit, datas[i][phase][0], datas[i][phase][1]));
    waitKsmdFullScan(k);
    checks.push(finalGroupCheck(k));
  }
  // KSM unmerging...
  k.writeSysfs('run', '2');
  checks.push(finalGroupCheck(k));
  // stop KSM.
  k.writeSysfs('run', '0');
  checks.push(finalGroupCheck(k));
  return { checks, total, children };
}

const ksm01 = test.macro({
  exec(t, kernel: '6.18' | '3.9', size: number) {
    const k = new V3Kernel({ kernel }) as K;
    smartScan(k, 0);
    const num = 3;
    const { checks, total, children } = createSameMemory(k, size, num, 1);
    t.deepEqual(checks, [
      expected(1, 2, total - 2, 0, 0, 0, total),
      expected(1, 3, total - 3, 0, 0, 0, total),
      expected(1, 1, total - 1, 0, 0, 0, total),
      expected(1, 1, total - 2, 0, 1, 0, total),
      expected(2, 0, 0, 0, 0, 0, total),
      expected(0, 0, 0, 0, 0, 0, total),
    ]);
    // verify(): every child reads back what it wrote last.
    const d = internPage(k.memory, { kind: 'fill', value: 0x64 });
    for (const [i, c] of children.entries()) {
      for (const addr of c.memory) for (let off = 0; off < MB; off += PAGE_SIZE) {
        const last = i === 1 && addr === c.memory[c.memory.length - 1] && off === MB - PAGE_SIZE;
        if (!last && k.memory.readPage(c.p.mm, addr + off) !== d) t.fail(`child ${i} reads wrong data at 0x${(addr + off).toString(16)}`);
      }
    }
    k.memory.contents.unref(d);
    t.deepEqual(problems(k), []);
  },
  title: (_p, kernel, size) => `LTP ksm01 under ${kernel} (-s ${size}): 3 processes, 4 phases, then run=2 and run=0`,
});

test(ksm01, '6.18', 32);
test(ksm01, '3.9', 16);

/** test_ksm_merge_across_nodes (ksm06) */
const ksm06 = test.macro({
  exec(t, kernel: '6.18' | '3.9', numNodes: number) {
    const k = new V3Kernel({ kernel, numaNodes: numNodes }) as K;
    smartScan(k, 0);
    const nrPages = 100;
    const p = k.spawn('ksm06');
    for (let i = 0; i < numNodes; i++) {
      const len = nrPages * PAGE_SIZE;
      const addr = k.mmap(p, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      t.is(k.madvise(p, addr, len, MADV_MERGEABLE), 0);
      // Use mbind() to make sure each node contains length size memory.
      t.is(k.mbind(p, addr, len, i), 0);
      k.memory.writeBytes(p.mm, addr, new Uint8Array(len).fill(10));
    }
    k.writeSysfs('sleep_millisecs', '0');
    k.writeSysfs('pages_to_scan', `${nrPages * numNodes}`);
    // merge_across_nodes can be changed only when there are no ksm shared
    // pages in the system: run 2 first, then 1 after changing it.
    k.writeSysfs('run', '2');
    if (k.sysfs.has('max_page_sharing')) t.true(k.writeSysfs('max_page_sharing', `${nrPages * numNodes}`) > 0);
    const group = (mergeAcrossNodes: number) => {
      k.writeSysfs('run', '2');
      t.is(k.writeSysfs('merge_across_nodes', `${mergeAcrossNodes}`), 1);
      k.writeSysfs('run', '1');
      waitKsmdFullScan(k);
      return finalGroupCheck(k);
    };
    t.deepEqual(group(1), expected(1, 1, nrPages * numNodes - 1, 0, 0, 0, nrPages * numNodes));
    t.deepEqual(group(0), expected(1, numNodes, nrPages * numNodes - numNodes, 0, 0, 0, nrPages * numNodes));
    // While KSM pages exist the knob cannot change.
    t.is(k.writeSysfs('merge_across_nodes', '1'), -16 /* EBUSY */);
    k.writeSysfs('run', '2');
    t.is(k.writeSysfs('merge_across_nodes', '1'), 1);
    t.deepEqual(problems(k), []);
  },
  title: (_p, kernel, n) => `LTP ksm06 under ${kernel} on ${n} NUMA nodes: one KSM page across nodes, one per node with merge_across_nodes 0`,
});

test(ksm06, '6.18', 2);
test(ksm06, '6.18', 4);
test(ksm06, '3.9', 2);

test('LTP ksm07 under 6.18: smart_scan skips the one page that cannot merge in at least half of the full scans', (t) => {
  const k = new V3Kernel({ kernel: '6.18' });
  smartScan(k, 1);
  const p = k.spawn('ksm07');
  const memory = k.mmap(p, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  t.is(k.madvise(p, memory, PAGE_SIZE, MADV_MERGEABLE), 0);
  k.memory.writeBytes(p.mm, memory, new Uint8Array(PAGE_SIZE).fill(0x61));
  k.writeSysfs('run', '2');
  // Set default ksm scan values.
  k.writeSysfs('run', '1');
  k.writeSysfs('pages_to_scan', '100');
  k.writeSysfs('sleep_millisecs', '0');
  const fullScansBegin = sysfsNumber(k, 'full_scans');
  const pagesSkippedBegin = sysfsNumber(k, 'pages_skipped');
  waitKsmdFullScan(k);
  k.writeSysfs('run', '0');
  const diffPages = sysfsNumber(k, 'pages_skipped') - pagesSkippedBegin;
  const diffScans = sysfsNumber(k, 'full_scans') - fullScansBegin;
  t.true(diffPages >= Math.floor((diffScans * 50) / 100), `${diffPages} skipped in ${diffScans} scans`);
  // After the first visits the schedule settles at 8 skips out of every 9 scans (skip_age).
  t.true(diffPages > diffScans * 0.85, `${diffPages} skipped in ${diffScans} scans`);
  t.deepEqual(problems(k), []);
});
