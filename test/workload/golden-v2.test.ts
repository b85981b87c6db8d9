/**
 * Golden per-pass trajectories of the example workloads under v2 (seed 000,
 * the 2009 tree merger), with the reasoning from the seed code, and where
 * they part from v3 (seed 003) on the same files and why. The expected files
 * are in test/golden/v2/.
 *
 * Reading a v2 trajectory: `pages_shared` is ksm_pages_shared, +1 per
 * successful merge and never decremented; `pages_sharing` is derived
 * (registered addresses on KSM pages minus those pages); `pages_unshared`
 * and `pages_volatile` are the rmap_items in the current unstable tree and
 * in no tree; `full_scans` counts wraps of the cursor. A fullScans step
 * calls ksm_scan_start(pagesToScan) until enough wraps happened; a call can
 * wrap several times, and each snapshot holds the state at the end of its
 * call. Every batch steps over one position: it advances before each visit
 * and once more after the last.
 */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import { join } from 'node:path';
import { resultJson, runWorkload, type Snapshot } from '../../src/workload/runner.js';
import { loadWorkload, parseWorkloadText } from '../../src/workload/schema.js';
import { FIXTURES, golden } from '../helpers/golden.js';

const load = (name: string) => loadWorkload(join(FIXTURES, 'workloads', `${name}.json`));
const run = (name: string) => resultJson(runWorkload(load(name), createDriver('v2')));
const runV3 = (name: string) => resultJson(runWorkload(load(name), createDriver('v3:2.6.32')));
const row = (s: Snapshot) => [s.label, s.pages_shared, s.pages_sharing, s.pages_unshared, s.pages_volatile, s.full_scans, s.pages_saved];

test('worked-example: one call of 100 pages runs six passes over the 16 positions; 5 merges, all six X pages on one KSM page', (t) => {
  // p1 = [X, X, X, a1..a5], p2 = [X, X, X, b1..b5]: 16 positions. The first
  // call visits positions 1..15 (pass 1: holders), then 0..15 five times and
  // 0..4 of a seventh pass (15 + 5 * 16 + 5 = 100). Pass 2: p1's X at 0 gets
  // its first holder, the X at 1 goes into the unstable tree, the X at 2
  // finds it: a new KSM page with 2 mappings (+1); p2's three X pages merge
  // through the stable tree (+3). Pass 3: p1's first X (holder from pass 2)
  // joins through the stable tree (+1). 5 merges = 5 pages saved. The ten
  // distinct pages go in and out of the unstable tree every other pass; at
  // the end of the call (a1, a2 just visited as holders) none is in the
  // current tree: volatile 10 + p1's X at 2, whose holder was never linked.
  const r = run('worked-example');
  t.deepEqual(r, golden('v2/worked-example.json', r));
  t.is(r.snapshots.length, 6);
  for (const s of r.snapshots) t.deepEqual(row(s).slice(1), [5, 5, 0, 11, 6, 5]);
  // v3 ends each batch at the end of a pass: one snapshot per pass, and
  // merges from pass 2 as well; it counts 1 KSM page (pages_shared) and 5
  // sharers where v2 counts 5 merge events.
  const v3 = runV3('worked-example');
  t.deepEqual(v3.snapshots.map((s) => [s.pages_shared, s.pages_sharing, s.pages_saved]), [[0, 0, 0], [1, 5, 5], [1, 5, 5]]);
});

test('scan-steps: single batches of the 2009 scanner; everything merged by the 40-page batch', (t) => {
  // 32 positions: a = [Z, F1, S5, T3] x 4, b = [Z, F2, S5, T4] x 4.
  // s10: the fresh cursor steps over position 0, visits 1..10 (holders) and
  // advances to 11. s20: 11 is stepped over, 12..21 visited. s30: 22 stepped
  // over, 23..31, the wrap (full_scans 1), position 0: 30 holders; 11 and 22
  // never seen. s70: 1 stepped over, 2..31 visited, wrap, 0..9. Pass 2 pairs
  // up every content: a2/a6 (S5), a3/a7 (T3), a4/a8 (Z), a5/a9 (F1), b1/b5
  // (F2), b3/b7 (T4) make 6 KSM pages through the unstable tree (+6), and
  // every other visited page joins through the stable tree, 11 and 22
  // included (first visits: the stable search comes before any checksum):
  // 24 merges; pass 3 adds a0 and a1 (never visited before): 26. 32 pages on
  // 6 KSM pages: 26 saved. Volatile: the six scanned pages of the six
  // two-page merges keep their holders. s134: nothing left to merge; two
  // more wraps.
  const r = run('scan-steps');
  t.deepEqual(r, golden('v2/scan-steps.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['s10', 0, 0, 0, 10, 0, 0],
    ['s20', 0, 0, 0, 20, 0, 0],
    ['s30', 0, 0, 0, 30, 1, 0],
    ['s70', 26, 26, 0, 6, 2, 26],
    ['s134', 26, 26, 0, 6, 4, 26],
  ]);
  // v3's batch stops at the end of a pass (s70: full_scans 1, no merge yet)
  // and its pass 2 ends at s134; here the 40-page batch runs through the wrap.
  const v3 = runV3('scan-steps');
  t.deepEqual(v3.snapshots.map((s) => [s.label, s.full_scans, s.pages_saved]), [['s10', 0, 0], ['s20', 0, 0], ['s30', 0, 0], ['s70', 1, 0], ['s134', 2, 26]]);
});

test('two-guests: skipped positions and the every-other-pass rhythm delay some pairs; pages_shared never goes down; the exited guest stays pinned', (t) => {
  // 6 slots (a: 256 zero, 512 image, 128 heap; then b the same, its heap
  // different), 1792 positions, calls of 200 pages: each call steps over one
  // position, so pass k misses 8 or 9 positions (1 + 201 j).
  // 2.pass1 (the call that wraps also visits 0..16 of pass 2): zero pages 1
  // and 2 make a KSM page, 3..16 join: 15 merges.
  // 2.pass2: every zero page visited in pass 2 joins the zero KSM page (a0[17]
  // and a0[218], b0[126] were stepped over; a0[0] had its first holder):
  // 507; each image pair a1[i]/b1[i] merges when a1[i] was visited in passes 1
  // and 2 (then it is in the unstable tree) and b1[i] in pass 2: 512 - 4 - 3 =
  // 505; the call then visits 0..33 of pass 3: a0[0] and a0[17] join (+2):
  // 1014. 2.pass3: the last two zero pages and four image pairs whose a-page
  // missed pass 1 or 2 (+6): 1020. Three image pairs (b1[71], b1[272],
  // b1[473] missed pass 2) are out of phase: each of a and b is in the
  // unstable tree in alternate passes; they merge in pass 4, b's pure search
  // finding a.
  // Writes: a2[0] (holder) and the KSM mappings a1[5] and b0[9] lose their
  // sharing at once (pages_saved 1018, sharing 1018); pages_shared stays 1020.
  // 7.pass1: the three out-of-phase pairs (+3): 1023, sharing 1021. a1[5] was
  // the stable node of its pair: its visit finds it zapped and removes it
  // (wait: no holder); b1[5] keeps mapping that KSM page, no longer findable.
  // guest-b exits: its mm is pinned by get_task_mm and stays scanned, its
  // pages stay registered and present: nothing changes.
  const r = run('two-guests');
  t.deepEqual(r, golden('v2/two-guests.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['2.pass1', 15, 15, 0, 1769, 1, 15],
    ['2.pass2', 1014, 1014, 0, 775, 2, 1014],
    ['2.pass3', 1020, 1020, 0, 765, 3, 1020],
    ['after-writes', 1020, 1018, 0, 765, 3, 1018],
    ['7.pass1', 1023, 1021, 0, 759, 4, 1021],
    ['7.pass2', 1023, 1021, 0, 761, 5, 1021],
    ['after-exit', 1023, 1021, 0, 761, 5, 1021],
    ['10.pass1', 1023, 1021, 0, 761, 6, 1021],
    ['10.pass2', 1023, 1021, 0, 761, 7, 1021],
  ]);
  // v3 merges everything in pass 2 (its scanner visits every page once per
  // pass), counts KSM pages (513) where v2 counts merge events, lowers its
  // counters when ksmd sees the writes, and frees the exited guest's items
  // and unshares guest-a's lone image pages (its pages_saved falls to 255 at
  // the exit itself: the exited guest's memory is gone).
  const v3 = runV3('two-guests');
  t.deepEqual(v3.snapshots.map((s) => [s.label, s.pages_shared, s.pages_sharing]), [
    ['2.pass1', 0, 0], ['2.pass2', 513, 1023], ['2.pass3', 513, 1023], ['after-writes', 513, 1023], ['7.pass1', 512, 1021],
    ['7.pass2', 512, 1021], ['after-exit', 512, 1021], ['10.pass1', 1, 255], ['10.pass2', 1, 255],
  ]);
  t.is(v3.snapshots[6].pages_saved, 255);
});

test('ksmpages-small: no max_kernel_pages in 2009; pairs split by a skipped position merge a pass or two later', (t) => {
  // a[i] = b[i] = tail i, 4096 positions, calls of 512. Pass 1 misses
  // positions 0, 513, ..., 3591 (8); pass 2 misses 8, 521, ..., 3599. The
  // wrapping call of pass 1 goes on into pass 2: a[1..7] enter the unstable
  // tree (unshared 7). Pass 2: b[i] merges with a[i] when a[i] was visited in
  // passes 1 and 2 (a[0], a[513], a[1026], a[1539] first seen in pass 2;
  // a[8], a[521], a[1034], a[1547] missed it) and b[i] visited in pass 2
  // (b[12], b[525], b[1038], b[1551] missed it): 2048 - 12 = 2036. Pass 3:
  // the eight pairs whose a-page is now in the unstable tree while b's
  // unstable item is destroyed merge by b's pure search (+8): 2044; the four
  // whose b-page missed pass 2 are out of phase until pass 4.
  const r = run('ksmpages-small');
  t.deepEqual(r, golden('v2/ksmpages-small.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['2.pass1', 0, 0, 7, 4082, 1, 0],
    ['2.pass2', 2036, 2036, 2, 2054, 2, 2036],
    ['2.pass3', 2044, 2044, 1, 2039, 3, 2044],
  ]);
  // v3 stops at max_kernel_pages = 2000 KSM pages.
  t.deepEqual(runV3('ksmpages-small').snapshots.map((s) => s.pages_saved), [0, 2000, 2000]);
});

test('unregister under v2 is refused with the era\'s errno and the run goes on', (t) => {
  const doc = {
    name: 'unregister-v2',
    processes: { p1: [{ pages: 2, content: { seed: 7 } }], p2: [{ pages: 2, content: { seed: 7 } }] },
    steps: [{ register: 'p1' }, { register: 'p2' }, { fullScans: 2 }, { unregister: 'p1' }, { fullScans: 1 }],
  };
  const r = resultJson(runWorkload(parseWorkloadText(JSON.stringify(doc), 'inline'), createDriver('v2')));
  t.deepEqual(r.errors, [{ step: 3, errno: 'EINVAL' }]);
  // Still registered: the three other pages joined the first KSM page.
  t.is(r.snapshots[r.snapshots.length - 1].pages_saved, 3);
});
