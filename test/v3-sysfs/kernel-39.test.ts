/**
 * The 3.9 merger (seed 004) behaviour by behaviour: the worked examples of
 * shared/spec/algorithms.md §d, the stable-tree search before the checksum
 * gate, the search that gives up on a stale node, no unsharing of KSM pages
 * with one mapping, per-NUMA-node trees and the merge_across_nodes rule, and
 * memory hot-remove (KSM_RUN_OFFLINE).
 */
import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { jhash2 } from '../../src/engine/hash/jhash-lookup3.js';
import { MADV_MERGEABLE, MEM_GOING_OFFLINE, MEM_OFFLINE } from '../../src/v3-sysfs/constants.js';
import { counters, pass, problems, region, saved, seed, sysfsNumber, world, write } from '../helpers/v3x.js';

const U1 = seed(1);
const U2 = seed(2);
const Z = seed(7);
const [X1, X2, X3] = [seed(11), seed(12), seed(13)];

test('worked example S (algorithms.md §d): the same counters as 2.6.32 after passes 1, 2, 3', (t) => {
  const { k } = world('3.9', [[U1, Z, Z, Z], [U2, Z, Z, Z]]);
  const rows = [];
  for (let i = 0; i < 3; i++) {
    pass(k);
    rows.push(counters(k));
  }
  t.deepEqual(rows, [
    { shared: 0, sharing: 0, unshared: 0, volatile: 8, fullScans: 1 },
    { shared: 1, sharing: 5, unshared: 2, volatile: 0, fullScans: 2 },
    { shared: 1, sharing: 5, unshared: 2, volatile: 0, fullScans: 3 },
  ]);
  t.deepEqual(problems(k), []);
});

test('worked example T and continuation T1: after P2 exits the KSM pages stay with one mapping each (no unshare)', (t) => {
  const { k, procs } = world('3.9', [[U1, X1, X2, X3], [U2, X1, X2, X3]]);
  pass(k, 3);
  t.deepEqual(counters(k), { shared: 3, sharing: 3, unshared: 2, volatile: 0, fullScans: 3 });
  k.exit(procs[1].p);
  pass(k);
  t.deepEqual(counters(k), { shared: 3, sharing: 0, unshared: 1, volatile: 0, fullScans: 4 });
  pass(k);
  t.deepEqual(counters(k), { shared: 3, sharing: 0, unshared: 1, volatile: 0, fullScans: 5 });
  for (let j = 1; j < 4; j++) t.true(k.memory.frames.isKsm(procs[0].p.mm.vmas[0].frames[j]));
  t.deepEqual(problems(k), []);
});

test('the stable tree is searched before the checksum gate: a page equal to a KSM page merges on its first visit', (t) => {
  const { k, procs } = world('3.9', [[Z, Z]]);
  pass(k, 2);
  const late = region(k, k.spawn('late'), [Z]);
  k.madvise(late.p, late.addr, PAGE_SIZE, MADV_MERGEABLE);
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 2, unshared: 0, volatile: 0, fullScans: 3 });
  t.is(saved(k, [...procs, late]), 2);
});

test('a stable-tree search that meets a stale node gives up for this pass [3.9]', (t) => {
  // Two KSM pages: X (inserted first, the root) and Y. The first page of p1
  // becomes a copy of Y while X's page is freed; scanned before X's items,
  // its search meets the stale root, removes it and finds nothing.
  const setup = (freeX: boolean) => {
    const { k, procs } = world('3.9', [[U1, X1, X1], [X2, X2]]);
    pass(k, 2);
    t.is(sysfsNumber(k, 'pages_shared'), 2);
    write(k, procs[0], 0, X2);
    if (freeX) for (const j of [1, 2]) write(k, procs[0], j, seed(100 + j));
    pass(k);
    return k;
  };
  const control = setup(false);
  t.deepEqual(counters(control), { shared: 2, sharing: 3, unshared: 0, volatile: 0, fullScans: 3 }, 'merged at once');
  const k = setup(true);
  t.deepEqual(counters(k), { shared: 1, sharing: 1, unshared: 0, volatile: 3, fullScans: 3 }, 'not merged this pass');
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 2, unshared: 2, volatile: 0, fullScans: 4 }, 'merged at the next visit');
  t.deepEqual(problems(k), []);
});

test('the checksum is jhash2 of the lookup3 generation', (t) => {
  const { k, procs } = world('3.9', [[U1]]);
  pass(k);
  const it = k.ksm.items;
  const item = it.lnext[k.ksm.slots.list()[0].rmapList];
  const bytes = k.memory.contents.bytes(k.memory.readPage(procs[0].p.mm, procs[0].addr));
  t.is(it.word[item], jhash2(new Uint32Array(bytes.buffer), 0, 1024, 17) >>> 0);
});

test('merge_across_nodes 0: one stable and one unstable tree per NUMA node; a match on another node is not merged', (t) => {
  const { k, procs } = world('3.9', [[Z, Z, U1], [Z, U1]], { register: false, numaNodes: 2, nodes: [0, 1] });
  t.is(k.writeSysfs('merge_across_nodes', '0\n'), 2);
  for (const r of procs) k.madvise(r.p, r.addr, r.pages * PAGE_SIZE, MADV_MERGEABLE);
  pass(k, 2);
  // Node 0: Z+Z merged, U1 alone; node 1: Z and U1 alone, their twins are on node 0.
  t.deepEqual(counters(k), { shared: 1, sharing: 1, unshared: 3, volatile: 0, fullScans: 2 });
  t.is(k.writeSysfs('merge_across_nodes', '1\n'), -ERRNO.EBUSY, 'only while pages_shared is 0');
  t.is(k.writeSysfs('run', '2\n'), 2);
  t.is(k.writeSysfs('merge_across_nodes', '1\n'), 2);
  t.is(k.writeSysfs('run', '1\n'), 2);
  pass(k, 2);
  t.deepEqual(counters(k), { shared: 2, sharing: 3, unshared: 0, volatile: 0, fullScans: 2 });
  t.deepEqual(problems(k), []);
});

test('merge_across_nodes store: kstrtoul errors as they are, values above 1 are EINVAL', (t) => {
  const { k } = world('3.9', []);
  t.is(k.writeSysfs('merge_across_nodes', '2\n'), -ERRNO.EINVAL);
  t.is(k.writeSysfs('merge_across_nodes', 'x\n'), -ERRNO.EINVAL);
  t.is(k.writeSysfs('merge_across_nodes', '99999999999999999999\n'), -ERRNO.ERANGE);
  t.is(k.writeSysfs('merge_across_nodes', '+0\n'), 3);
  t.is(k.readSysfs('merge_across_nodes'), '0\n');
});

test('run = 2 unmerges everything, removes every rmap_item and stable node, resets full_scans; new mms then go to the end', (t) => {
  const { k, procs } = world('3.9', [[Z, Z], [Z, U1]]);
  pass(k, 2);
  t.is(k.writeSysfs('run', '2\n'), 2);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 0, volatile: 0, fullScans: 0 });
  t.is(saved(k, procs), 0);
  t.is(k.ksm.nodes.used, 1);
  const late = region(k, k.spawn('late'), [Z]);
  k.madvise(late.p, late.addr, PAGE_SIZE, MADV_MERGEABLE);
  t.is(k.ksm.slotList().at(-1)?.mm, late.p.mm, 'KSM_RUN_UNMERGE: at the end of the list');
  t.deepEqual(problems(k), []);
});

test('memory hot-remove: KSM_RUN_OFFLINE shows in run, ksmd and merge_across_nodes wait; MEM_OFFLINE drops the nodes of the range', (t) => {
  const { k, procs } = world('3.9', [[Z, Z], [U1, U1]]);
  k.writeSysfs('run', '1\n');
  k.sleep(100);
  t.is(sysfsNumber(k, 'pages_shared'), 2);
  t.is(k.memoryNotify(MEM_GOING_OFFLINE), 0);
  t.is(k.readSysfs('run'), '5\n');
  const scans = sysfsNumber(k, 'full_scans');
  k.sleep(1000);
  t.is(sysfsNumber(k, 'full_scans'), scans);
  t.is(k.writeSysfs('merge_across_nodes', '0\n'), 2, 'queued behind the offlining');
  // The range holding procs[1]'s KSM page goes; its node is dropped without touching the page.
  const f = procs[1].p.mm.vmas[0].frames[0];
  t.is(k.memoryNotify(MEM_OFFLINE, f, 1), 0);
  t.is(k.readSysfs('run'), '1\n');
  t.is(sysfsNumber(k, 'pages_shared'), 1);
  t.is(k.readSysfs('merge_across_nodes'), '1\n', 'the queued store found KSM pages: EBUSY');
});
