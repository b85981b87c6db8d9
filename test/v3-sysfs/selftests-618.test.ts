/**
 * The kernel's own KSM self-tests (tools/testing/selftests/mm/ksm_tests.c)
 * run against `--kernel 6.18`, step for step as the C does them, with the
 * expectations the self-test publishes (assert_ksm_pages_count): merge,
 * merge through prctl, unmerge, zero pages with use_zero_pages 0 and 1, and
 * NUMA merging with merge_across_nodes 1 and 0 (on a two-node machine).
 *
 * The self-test drives ksmd through sysfs (run, sleep_millisecs 0,
 * pages_to_scan = the page count) and waits for full_scans to grow; here
 * ksmd runs on the virtual clock until it has.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE, PR_SET_MEMORY_MERGE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { problems, sysfsNumber } from '../helpers/v3x.js';

type K = V3Kernel<'6.18'>;
const KSM_MERGE_MADVISE = 0;
const KSM_MERGE_PRCTL = 1;

/** main(): save nothing (a fresh kernel), then run=2, sleep_millisecs=0, merge_across_nodes=1, pages_to_scan=page_count. */
function setUp(pageCount: number, numaNodes = 1): K {
  const k = new V3Kernel({ kernel: '6.18', numaNodes });
  for (const [f, v] of [['run', 2], ['sleep_millisecs', 0], ['merge_across_nodes', 1], ['pages_to_scan', pageCount]] as const) {
    if (k.writeSysfs(f, `${v}`) < 0) throw new Error(`cannot set ${f}`);
  }
  return k;
}

/** allocate_memory: mmap, memset(data), mprotect. */
function allocateMemory(k: K, p: Process, data: number, mapSize: number, node = -1): number {
  const addr = k.mmap(p, 0, mapSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (node >= 0 && k.mbind(p, addr, mapSize, node) !== 0) throw new Error('numa_alloc_onnode');
  k.memory.writeBytes(p.mm, addr, new Uint8Array(mapSize).fill(data));
  return addr;
}

/**
 * ksm_do_scan: wait until full_scans has grown by scanCount (ksmd runs
 * meanwhile). The C polls as fast as it can; here the clock moves a
 * microsecond at a time, so ksmd stops within a batch of the count.
 */
function ksmDoScan(k: K, scanCount: number): void {
  const init = sysfsNumber(k, 'full_scans');
  for (let us = 0; sysfsNumber(k, 'full_scans') < init + scanCount; us++) {
    if (us > 120_000_000) throw new Error('Scan time limit exceeded');
    k.sleep(0.001);
  }
}

/** ksm_merge_pages: madvise (or prctl), run=1, then at least 2 full scans ("merging occurs only after 2 scans"). */
function ksmMergePages(k: K, p: Process, mergeType: number, addr: number, size: number): void {
  if (mergeType === KSM_MERGE_MADVISE) {
    if (k.madvise(p, addr, size, MADV_MERGEABLE)) throw new Error('madvise');
  } else if (k.prctl(p, PR_SET_MEMORY_MERGE, 1, 0, 0, 0)) throw new Error('prctl');
  if (k.writeSysfs('run', '1') < 0) throw new Error('run');
  ksmDoScan(k, 2);
}

/** assert_ksm_pages_count, as published. */
function assertKsmPagesCount(k: K, duplPageCount: number): boolean {
  const pagesShared = sysfsNumber(k, 'pages_shared');
  const pagesSharing = sysfsNumber(k, 'pages_sharing');
  const maxPageSharing = sysfsNumber(k, 'max_page_sharing');
  // There must be at least 2 pages for merging, and one page can be shared
  // by max_page_sharing mappings: a remainder of 1 is a leftover page.
  if (duplPageCount % maxPageSharing === 1 || duplPageCount % maxPageSharing === 0) {
    return pagesShared === Math.floor(duplPageCount / maxPageSharing) && pagesSharing === pagesShared * (maxPageSharing - 1);
  }
  return pagesShared === Math.floor(duplPageCount / maxPageSharing) + 1 && pagesSharing === duplPageCount - pagesShared;
}

/** check_ksm_merge */
function checkKsmMerge(k: K, mergeType: number, pageCount: number): boolean {
  const p = k.spawn('ksm_tests');
  const map = allocateMemory(k, p, 0x2a /* '*' */, PAGE_SIZE * pageCount);
  ksmMergePages(k, p, mergeType, map, PAGE_SIZE * pageCount);
  return assertKsmPagesCount(k, pageCount);
}

test('ksm_tests -M -p 10: ten identical pages make one KSM page with nine sharers', (t) => {
  const k = setUp(10);
  t.true(checkKsmMerge(k, KSM_MERGE_MADVISE, 10));
  t.deepEqual([sysfsNumber(k, 'pages_shared'), sysfsNumber(k, 'pages_sharing')], [1, 9]);
  t.deepEqual(problems(k), []);
});

test('ksm_tests -M -t 1 -p 10: the same through prctl(PR_SET_MEMORY_MERGE)', (t) => {
  const k = setUp(10);
  t.true(checkKsmMerge(k, KSM_MERGE_PRCTL, 10));
  t.deepEqual(problems(k), []);
});

test('ksm_tests -M -p 257: one page more than max_page_sharing is left over', (t) => {
  const k = setUp(257);
  t.true(checkKsmMerge(k, KSM_MERGE_MADVISE, 257));
  t.deepEqual([sysfsNumber(k, 'pages_shared'), sysfsNumber(k, 'pages_sharing'), sysfsNumber(k, 'pages_unshared')], [1, 255, 1]);
});

test('ksm_tests -M -p 600: the pages beyond max_page_sharing go to a second and third KSM page (a stable-node chain)', (t) => {
  const k = setUp(600);
  t.true(checkKsmMerge(k, KSM_MERGE_MADVISE, 600));
  t.deepEqual([sysfsNumber(k, 'pages_shared'), sysfsNumber(k, 'pages_sharing'), sysfsNumber(k, 'stable_node_chains'), sysfsNumber(k, 'stable_node_dups')], [3, 597, 1, 3]);
  t.deepEqual(problems(k), []);
});

test("the self-test's own example: 11 pages with max_page_sharing 10 merge 10, the 11th is not affected", (t) => {
  const k = setUp(11);
  t.is(k.writeSysfs('max_page_sharing', '10'), 2);
  t.true(checkKsmMerge(k, KSM_MERGE_MADVISE, 11));
  t.deepEqual([sysfsNumber(k, 'pages_shared'), sysfsNumber(k, 'pages_sharing')], [1, 9]);
});

test('ksm_tests -U: two merged pages each written one byte are unmerged after one more scan', (t) => {
  const k = setUp(10);
  const p = k.spawn('ksm_tests');
  const pageCount = 2;
  const map = allocateMemory(k, p, 0x2a, PAGE_SIZE * pageCount);
  ksmMergePages(k, p, KSM_MERGE_MADVISE, map, PAGE_SIZE * pageCount);
  t.true(assertKsmPagesCount(k, 2));
  // change 1 byte in each of the 2 pages -- KSM must automatically unmerge them
  k.memory.writeBytes(p.mm, map, new Uint8Array([0x2d])); // '-'
  k.memory.writeBytes(p.mm, map + PAGE_SIZE, new Uint8Array([0x2b])); // '+'
  ksmDoScan(k, 1);
  t.true(assertKsmPagesCount(k, 0));
  t.deepEqual(problems(k), []);
});

const zeroPages = test.macro({
  exec(t, useZeroPages: 0 | 1) {
    const k = setUp(10);
    t.is(k.writeSysfs('use_zero_pages', `${useZeroPages}`), 1);
    const p = k.spawn('ksm_tests');
    const pageCount = 10;
    const map = allocateMemory(k, p, 0, PAGE_SIZE * pageCount);
    ksmMergePages(k, p, KSM_MERGE_MADVISE, map, PAGE_SIZE * pageCount);
    // 1) use_zero_pages 1: empty pages are merged with the kernel zero page
    //    instead of with each other; 2) use_zero_pages 0: merged as usual.
    t.true(assertKsmPagesCount(k, useZeroPages ? 0 : pageCount));
    t.is(sysfsNumber(k, 'ksm_zero_pages'), useZeroPages ? 10 : 0);
    t.deepEqual(problems(k), []);
  },
  title: (_p, useZeroPages) => `ksm_tests -Z -p 10 -z ${useZeroPages}: ${useZeroPages ? 'empty pages go to the zero page, no KSM page' : 'empty pages merge like any others'}`,
});
test(zeroPages, 1);
test(zeroPages, 0);

const numaMerge = test.macro({
  exec(t, mergeAcrossNodes: 0 | 1) {
    const k = setUp(10, 2);
    t.is(k.writeSysfs('merge_across_nodes', `${mergeAcrossNodes}`), 1);
    const p = k.spawn('ksm_tests');
    // allocate 2 pages in 2 different NUMA nodes and fill them with the same data
    const numa1 = allocateMemory(k, p, 0x2a, PAGE_SIZE, 0);
    const numa2 = allocateMemory(k, p, 0x2a, PAGE_SIZE, 1);
    ksmMergePages(k, p, KSM_MERGE_MADVISE, numa1, PAGE_SIZE);
    ksmMergePages(k, p, KSM_MERGE_MADVISE, numa2, PAGE_SIZE);
    // 1) merge_across_nodes 1: the 2 duplicate pages are merged; 2) 0: there
    //    is only 1 unique page in each node and they can't be shared.
    t.true(assertKsmPagesCount(k, mergeAcrossNodes ? 2 : 0));
    t.is(sysfsNumber(k, 'pages_unshared'), mergeAcrossNodes ? 0 : 2);
    t.deepEqual(problems(k), []);
  },
  title: (_p, m) => `ksm_tests -N -m ${m}: two identical pages on two NUMA nodes ${m ? 'merge' : 'stay apart'}`,
});
test(numaMerge, 1);
test(numaMerge, 0);

test('the self-test restores the tunables it changed (ksm_restore), and MADV_UNMERGEABLE then leaves nothing merged', (t) => {
  const k = setUp(10);
  const p = k.spawn('ksm_tests');
  const map = allocateMemory(k, p, 0x2a, PAGE_SIZE * 10);
  ksmMergePages(k, p, KSM_MERGE_MADVISE, map, PAGE_SIZE * 10);
  t.is(k.madvise(p, map, PAGE_SIZE * 10, MADV_UNMERGEABLE), 0); // ksm_unmerge_pages
  t.is(k.memory.pagesSaved([{ mm: p.mm, start: map, end: map + PAGE_SIZE * 10 }]).saved, 0);
  // The counters follow at ksmd's next visit.
  ksmDoScan(k, 1);
  t.true(assertKsmPagesCount(k, 0));
  for (const [f, v] of [['max_page_sharing', 256], ['merge_across_nodes', 1], ['pages_to_scan', 100], ['run', 0], ['sleep_millisecs', 20], ['stable_node_chains_prune_millisecs', 2000], ['use_zero_pages', 0]] as const) {
    t.true(k.writeSysfs(f, `${v}`) > 0, f);
  }
});
