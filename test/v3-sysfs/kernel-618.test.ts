/**
 * The 6.18 merger's behaviours, one by one (mm/ksm.c of 6.18): the 6.11
 * ordering, KSM pages kept with one mapping, stale nodes, stable-node chains
 * and their pruning, zero pages, smart scanning, the advisor on the virtual
 * clock, per-process statistics, prctl and fork. Every test recomputes the
 * invariants of the memory model and of the merger.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, VM_MERGEABLE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { xxh64Low32 } from '../../src/engine/hash/xxhash.js';
import { jhash2 } from '../../src/engine/hash/jhash-lookup2.js';
import { MMF_VM_MERGEABLE } from '../../src/engine/memory/mm.js';
import { MMF_VM_MERGE_ANY, SIZEOF_KSM_RMAP_ITEM } from '../../src/engine/merge/mainline-618.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE, MEM_CANCEL_OFFLINE, MEM_GOING_OFFLINE, PR_GET_MEMORY_MERGE, PR_SET_MEMORY_MERGE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { counters, fill, pass, problems, region, saved, seed, sysfsNumber, world, write, zero } from '../helpers/v3x.js';

test('the checksum gate comes first (6.11): even a page equal to an existing KSM page merges on its second visit', (t) => {
  const { k, procs } = world('6.18', [[seed(1), seed(1), seed(2)]]);
  pass(k, 2);
  t.deepEqual(counters(k), { shared: 1, sharing: 1, unshared: 1, volatile: 0, fullScans: 2 });
  const late = region(k, k.spawn('late'), [seed(1)]);
  t.is(k.madvise(late.p, late.addr, PAGE_SIZE, MADV_MERGEABLE), 0);
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 1, unshared: 1, volatile: 1, fullScans: 3 }, 'first visit: checksum recorded');
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 2, unshared: 1, volatile: 0, fullScans: 4 }, 'second visit: merged');
  t.is(saved(k, [...procs, late]), 2);
  t.deepEqual(problems(k), []);
});

test('a KSM page left with one mapping stays a KSM page, counted in pages_shared, and later pages join it', (t) => {
  const { k, procs } = world('6.18', [[seed(5)], [seed(5)]]);
  pass(k, 2);
  t.deepEqual(counters(k), { shared: 1, sharing: 1, unshared: 0, volatile: 0, fullScans: 2 });
  write(k, procs[0], 0, seed(6));
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 0, unshared: 0, volatile: 1, fullScans: 3 });
  const f = procs[1].p.mm.vmas[0].frames[0];
  t.true(k.memory.frames.isKsm(f), 'still a KSM page');
  t.is(k.memory.frames.mapcount[f], 1);
  write(k, procs[0], 0, seed(5));
  pass(k, 2);
  t.deepEqual(counters(k), { shared: 1, sharing: 1, unshared: 0, volatile: 0, fullScans: 5 });
  t.is(procs[0].p.mm.vmas[0].frames[0], f, 'joined the same KSM page');
  t.deepEqual(problems(k), []);
});

test('a stable node whose KSM page is gone is stale: the keyhole check removes it with all its items', (t) => {
  const { k, procs } = world('6.18', [[seed(5), seed(5), seed(5)]]);
  pass(k, 2);
  t.deepEqual(counters(k), { shared: 1, sharing: 2, unshared: 0, volatile: 0, fullScans: 2 });
  for (let j = 0; j < 3; j++) write(k, procs[0], j, seed(10 + j));
  t.deepEqual(counters(k), { shared: 1, sharing: 2, unshared: 0, volatile: 0, fullScans: 2 }, 'counters wait for ksmd');
  pass(k);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 0, volatile: 3, fullScans: 3 });
  t.is(k.ksm.nodes.used, 1, 'only the migrate_nodes list head is left');
  t.deepEqual(problems(k), []);
});

test('max_page_sharing: a content with more mappings becomes a chain of dups in the stable tree', (t) => {
  const { k } = world('6.18', [[...Array(7)].map(() => fill(7))], { register: false });
  t.is(k.writeSysfs('max_page_sharing', '3\n'), 2);
  const r = { p: k.machine.processes.get(100)!, addr: k.machine.processes.get(100)!.mm.vmas[0].start };
  t.is(k.madvise(r.p, r.addr, 7 * PAGE_SIZE, MADV_MERGEABLE), 0);
  pass(k, 2);
  // 3 + 3 in two dups; the 7th page waits in the unstable tree for a partner.
  t.deepEqual(counters(k), { shared: 2, sharing: 4, unshared: 1, volatile: 0, fullScans: 2 });
  t.deepEqual([sysfsNumber(k, 'stable_node_chains'), sysfsNumber(k, 'stable_node_dups')], [1, 2]);
  t.is(k.writeSysfs('max_page_sharing', '4'), -ERRNO.EBUSY, 'only while no KSM page exists');
  t.deepEqual(problems(k), []);
});

test('stable_node_chains_prune_millisecs: a pruning lookup drops stale dups and collapses a chain left with one dup', (t) => {
  const { k, procs } = world('6.18', [[...Array(6)].map(() => fill(7)), [seed(99)]], { register: false });
  k.writeSysfs('max_page_sharing', '3');
  k.writeSysfs('stable_node_chains_prune_millisecs', '0');
  const [a, late] = procs;
  k.madvise(a.p, a.addr, 6 * PAGE_SIZE, MADV_MERGEABLE);
  pass(k, 2);
  t.deepEqual([sysfsNumber(k, 'stable_node_chains'), sysfsNumber(k, 'stable_node_dups'), sysfsNumber(k, 'pages_shared')], [1, 2, 2]);
  // Free the first dup's KSM page: COW its three mappings (pages 0..2 went to the first dup).
  for (let j = 0; j < 3; j++) write(k, a, j, seed(200 + j));
  write(k, late, 0, fill(7));
  k.madvise(late.p, late.addr, PAGE_SIZE, MADV_MERGEABLE);
  pass(k);
  // Revisiting pages 0..2 found the first dup stale: it went with its items.
  t.deepEqual([sysfsNumber(k, 'stable_node_chains'), sysfsNumber(k, 'stable_node_dups')], [1, 1]);
  pass(k);
  // The next lookup through the chain prunes it: one dup left, so the chain
  // collapses into it. It is full, so the late page waits in the unstable tree.
  t.deepEqual([sysfsNumber(k, 'stable_node_chains'), sysfsNumber(k, 'stable_node_dups')], [0, 0]);
  t.deepEqual(counters(k), { shared: 1, sharing: 2, unshared: 4, volatile: 0, fullScans: 4 });
  t.deepEqual(problems(k), []);
});

test('use_zero_pages: empty pages are mapped to the zero page; ksm_zero_pages, ksm_stat and MADV_UNMERGEABLE follow', (t) => {
  const { k, procs } = world('6.18', [[zero, zero, zero, seed(3)]], { register: false });
  t.is(k.writeSysfs('use_zero_pages', '1\n'), 2);
  const [a] = procs;
  k.madvise(a.p, a.addr, 4 * PAGE_SIZE, MADV_MERGEABLE);
  pass(k, 2);
  t.is(sysfsNumber(k, 'ksm_zero_pages'), 3);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 1, volatile: 3, fullScans: 2 });
  t.is(saved(k, procs), 2, 'three mappings of one frame');
  // The zero-page mappings are not scanned: their items go at the next pass.
  pass(k);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 1, volatile: 0, fullScans: 3 });
  t.is(k.readProc(a.p, 'ksm_stat'), `ksm_rmap_items 1\nksm_zero_pages 3\nksm_merging_pages 0\nksm_process_profit ${3 * PAGE_SIZE - SIZEOF_KSM_RMAP_ITEM}\nksm_merge_any: no\nksm_mergeable: yes\n`);
  t.is(sysfsNumber(k, 'general_profit'), 3 * PAGE_SIZE - SIZEOF_KSM_RMAP_ITEM);
  // A write and MADV_UNMERGEABLE both break the zero-page mappings.
  write(k, a, 0, seed(4));
  t.is(sysfsNumber(k, 'ksm_zero_pages'), 2);
  t.is(k.madvise(a.p, a.addr, 4 * PAGE_SIZE, MADV_UNMERGEABLE), 0);
  t.is(sysfsNumber(k, 'ksm_zero_pages'), 0);
  t.is(k.memory.readPage(a.p.mm, a.addr + PAGE_SIZE), k.memory.zero, 'still reads zeros');
  t.deepEqual(problems(k), []);
});

test('the checksum is the low 32 bits of XXH64 of the page (seed 0): zero_checksum is that of an empty page', (t) => {
  const { k } = world('6.18', []);
  t.is(k.ksm.zeroChecksum, xxh64Low32(new Uint8Array(PAGE_SIZE), 0, PAGE_SIZE, 0));
});

test('a checksum experiment (useChecksum) takes zero_checksum with the new checksum, so empty pages still go to the zero page', (t) => {
  const { k, procs } = world('6.18', [[zero, zero, zero, seed(3)]], { register: false });
  k.ksm.useChecksum('lookup2');
  t.is(k.ksm.zeroChecksum, jhash2(new Uint32Array(PAGE_SIZE / 4), 0, PAGE_SIZE / 4, 17));
  t.is(k.writeSysfs('use_zero_pages', '1\n'), 2);
  const [a] = procs;
  k.madvise(a.p, a.addr, 4 * PAGE_SIZE, MADV_MERGEABLE);
  pass(k, 2);
  t.is(sysfsNumber(k, 'ksm_zero_pages'), 3);
  t.deepEqual(problems(k), []);
});

test('smart_scan: a page that keeps failing is skipped on the skip_age schedule, pages_skipped counts it, pages_scanned does not', (t) => {
  const { k } = world('6.18', [[seed(1)]]);
  t.is(k.writeSysfs('smart_scan', '1\n'), 2);
  const skippedAt: number[] = [];
  for (let i = 1; i <= 24; i++) {
    const before = sysfsNumber(k, 'pages_skipped');
    pass(k);
    if (sysfsNumber(k, 'pages_skipped') > before) skippedAt.push(i);
  }
  // Visits with age 0..3 are not skipped; then skip_age(age) scans are skipped
  // before the next visit: 1 (age 4), 2 (6, 7), 4 (9..12), 8 (14..21), 8 (23..).
  t.deepEqual(skippedAt, [5, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 24]);
  t.is(sysfsNumber(k, 'pages_scanned'), 24 - skippedAt.length);
  t.deepEqual(problems(k), []);
});

test('pages_scanned counts every page handed to cmp_and_merge_page; full_scans and counters reset by run=2, pages_scanned not', (t) => {
  const { k } = world('6.18', [[seed(1), seed(1)], [seed(2)]]);
  pass(k, 3);
  t.is(sysfsNumber(k, 'pages_scanned'), 9);
  t.is(k.writeSysfs('run', '2'), 1);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 0, volatile: 0, fullScans: 0 });
  t.is(sysfsNumber(k, 'pages_scanned'), 9);
  t.deepEqual(problems(k), []);
});

test('ksm_stat and ksm_merging_pages per process; general_profit', (t) => {
  const { k, procs } = world('6.18', [[seed(1), seed(1), seed(2)], [seed(1)]]);
  pass(k, 2);
  const [a, b] = procs;
  t.is(k.readProc(a.p, 'ksm_merging_pages'), '2\n');
  t.is(k.readProc(b.p.pid, 'ksm_merging_pages'), '1\n');
  t.is(k.readProc(a.p, 'ksm_stat'), `ksm_rmap_items 3\nksm_zero_pages 0\nksm_merging_pages 2\nksm_process_profit ${2 * PAGE_SIZE - 3 * 64}\nksm_merge_any: no\nksm_mergeable: yes\n`);
  t.is(sysfsNumber(k, 'general_profit'), 2 * PAGE_SIZE - 4 * 64);
  k.exit(b.p);
  t.is(k.readProc(b.p, 'ksm_stat'), -ERRNO.ENOENT);
  t.is(k.readProc(a.p, 'smaps'), -ERRNO.ENOENT);
});

test('prctl(PR_SET_MEMORY_MERGE): every present and future VMA is mergeable, the setting is inherited by fork, 0 unmerges', (t) => {
  const k = new V3Kernel({ kernel: '6.18' });
  k.writeSysfs('smart_scan', '0');
  const p = k.spawn('qemu');
  const a = region(k, p, [seed(1), seed(1)]);
  t.is(k.prctl(p, PR_GET_MEMORY_MERGE), 0);
  t.is(k.prctl(p, PR_SET_MEMORY_MERGE, 1, 1), -ERRNO.EINVAL, 'arg3 must be 0');
  t.is(k.prctl(p, PR_GET_MEMORY_MERGE, 1), -ERRNO.EINVAL, 'arg2 must be 0');
  t.is(k.prctl(p, PR_SET_MEMORY_MERGE, 1), 0);
  t.is(k.prctl(p, PR_GET_MEMORY_MERGE), 1);
  t.truthy(p.mm.flags & MMF_VM_MERGEABLE && p.mm.flags & MMF_VM_MERGE_ANY);
  t.truthy(p.mm.vmas[0].flags & VM_MERGEABLE);
  const b = region(k, p, [seed(1)]);
  t.truthy(p.mm.vmas[1].flags & VM_MERGEABLE, 'a new mapping is mergeable at once');
  const child = k.fork(p);
  if (typeof child === 'number') return t.fail();
  t.is(k.prctl(child, PR_GET_MEMORY_MERGE), 1, 'inherited');
  t.truthy(k.ksm.slots.lookup(child.mm), 'and registered');
  pass(k, 2);
  t.deepEqual(counters(k), { shared: 1, sharing: 5, unshared: 0, volatile: 0, fullScans: 2 });
  t.is(k.readProc(child, 'ksm_stat').toString().split('\n')[4], 'ksm_merge_any: yes');
  t.is(k.prctl(p, PR_SET_MEMORY_MERGE, 0), 0);
  t.is(k.prctl(p, PR_GET_MEMORY_MERGE), 0);
  t.is(p.mm.vmas.filter((v) => v.flags & VM_MERGEABLE).length, 0);
  t.is(saved(k, [a, b]), 0, "the parent's pages are unmerged at once");
  t.is(k.readProc(p, 'ksm_stat').toString().split('\n')[5], 'ksm_mergeable: no');
  t.deepEqual(problems(k), []);
});

test('prctl is -EINVAL on the kernels before it', (t) => {
  for (const kernel of ['2.6.32', '3.9'] as const) {
    const k = new V3Kernel({ kernel });
    t.is(k.prctl(k.spawn('p'), PR_GET_MEMORY_MERGE), -ERRNO.EINVAL);
    t.is(k.readProc(k.spawn('q'), 'ksm_stat'), -ERRNO.ENOENT);
  }
});

test('a forked child of a merged process joins the KSM pages it inherited without merging anything', (t) => {
  const { k, procs } = world('6.18', [[seed(1), seed(1)]]);
  pass(k, 2);
  const child = k.fork(procs[0].p);
  if (typeof child === 'number') return t.fail();
  const attempts = k.ksm.stats.mergeAttempts;
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 3, unshared: 0, volatile: 0, fullScans: 3 });
  t.is(k.ksm.stats.mergeAttempts, attempts, 'no page write-protected or replaced');
  t.is(k.readProc(child, 'ksm_merging_pages'), '2\n');
  t.deepEqual(problems(k), []);
});

test('the scan-time advisor retunes pages_to_scan after each full scan from the virtual time and ksmd CPU time', (t) => {
  const k = new V3Kernel({ kernel: '6.18' });
  k.writeSysfs('smart_scan', '0');
  const p = k.spawn('guest');
  const n = 100_000;
  const addr = k.mmap(p, 0, n * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  for (let j = 0; j < n; j++) k.memory.writePage(p.mm, addr + j * PAGE_SIZE, k.memory.contents.internSpec(`s${j % 1000}`, (o) => o.fill(j % 251)));
  k.madvise(p, addr, n * PAGE_SIZE, MADV_MERGEABLE);
  t.is(k.writeSysfs('advisor_mode', 'scan-time\n'), 10);
  t.is(k.readSysfs('advisor_mode'), 'none [scan-time]\n');
  t.is(sysfsNumber(k, 'pages_to_scan'), 500, 'advisor_min_pages_to_scan');
  t.is(k.writeSysfs('pages_to_scan', '100'), -ERRNO.EINVAL, 'the advisor owns it');
  k.writeSysfs('run', '1');
  // One full scan at 500 pages per 20 ms batch: 200 batches, 4.2 s of virtual time, 0.2 s of CPU.
  while (sysfsNumber(k, 'full_scans') < 1) k.sleep(20);
  // scan_time 4 s; factor 200*100/4 = 5000; pages 500*100/5000 = 10; change ewma(0, 100) = 30;
  // pages 10*30/100 = 3; cpu 200 ms / 4 s = 5 %; per_page_cost 500/5 = 100: at least 100*10 = 1000.
  t.is(sysfsNumber(k, 'pages_to_scan'), 1000);
  t.is(k.writeSysfs('advisor_mode', 'none\n'), 5);
  t.is(sysfsNumber(k, 'pages_to_scan'), 100, 'back to DEFAULT_PAGES_TO_SCAN');
});

test('sleep_millisecs sleeps whole ticks of HZ = 250, and a new value ends the current sleep', (t) => {
  const { k } = world('6.18', [[seed(1)]]);
  k.writeSysfs('sleep_millisecs', '1');
  t.is(k.ksm.sleepMicros(), 4000);
  k.writeSysfs('sleep_millisecs', '20000');
  k.writeSysfs('run', '1');
  k.sleep(1);
  const after = k.ksmd.batches;
  k.sleep(1000);
  t.is(k.ksmd.batches, after, 'asleep for 20 s');
  k.writeSysfs('sleep_millisecs', '20000');
  k.sleep(1);
  t.is(k.ksmd.batches, after, 'the same value does not wake it');
  k.writeSysfs('sleep_millisecs', '10');
  k.sleep(1);
  t.is(k.ksmd.batches, after + 1, 'a new value does');
});

test('memory hot-remove: run reads back with KSM_RUN_OFFLINE (4), ksmd and the run writer wait until offlining ends', (t) => {
  const { k } = world('6.18', [[seed(1), seed(1)]]);
  k.writeSysfs('run', '1');
  k.sleep(100);
  const scans = sysfsNumber(k, 'full_scans');
  t.is(k.memoryNotify(MEM_GOING_OFFLINE), 0);
  t.is(k.readSysfs('run'), '5\n');
  k.sleep(1000);
  t.is(sysfsNumber(k, 'full_scans'), scans, 'ksmd waits');
  t.is(k.writeSysfs('run', '2'), 1, 'the writer is queued');
  t.is(k.readSysfs('run'), '5\n');
  t.is(sysfsNumber(k, 'pages_shared'), 1);
  t.is(k.memoryNotify(MEM_CANCEL_OFFLINE), 0);
  t.is(k.readSysfs('run'), '2\n', 'the queued store ran');
  t.is(sysfsNumber(k, 'pages_shared'), 0);
  t.deepEqual(problems(k), []);
});
