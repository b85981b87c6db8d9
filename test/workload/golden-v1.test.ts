/**
 * Golden per-pass trajectories of the example workloads under v1, in both
 * ABIs, with the reasoning from the seed code. Expected files are in
 * test/golden/v1-2008/ and test/golden/v1-2009/.
 *
 * Reading a v1 trajectory: neither ABI exposes a counter, so every column is
 * derived (SCHEMA.md). 2008: pages_shared = distinct KSM frames mapped at
 * registered addresses, pages_sharing = those addresses minus those frames,
 * no unstable/volatile. 2009: pages_shared counts merge events (the April
 * 2009 ksm_pages_shared, never decremented), pages_unshared/volatile are the
 * tree merger's rmap_items in / out of the current unstable tree.
 * full_scans counts wraps of the scan cursor. Scans are KSM_SCAN through a
 * SCAN fd (2008) or kksmd batches (2009); both advance before each visit
 * and once more at the end, so every call steps over one position, and a
 * call of pagesToScan pages may wrap several times: each snapshot of such a
 * call holds the state at the end of the call.
 *
 * The 2008 trajectories are also reproduced by a second, plain model of the
 * seed (test/helpers/ref-2008.ts), so the two implementations agree on
 * every number below.
 */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import { join } from 'node:path';
import type { SinglePage } from '../../src/engine/pages.js';
import { resultJson, runWorkload, type Snapshot } from '../../src/workload/runner.js';
import { loadWorkload, parseWorkloadText } from '../../src/workload/schema.js';
import { FIXTURES, golden } from '../helpers/golden.js';
import { runRef2008 } from '../helpers/ref-2008.js';
import { ksmScan, scanner, seed, world, zero } from '../helpers/v1.js';

const load = (name: string) => loadWorkload(join(FIXTURES, 'workloads', `${name}.json`));
const run = (name: string, abi: '2008' | '2009') => resultJson(runWorkload(load(name), createDriver(`v1:${abi}`)));
const row = (s: Snapshot) => [s.label, s.pages_shared, s.pages_sharing, s.pages_unshared, s.pages_volatile, s.full_scans, s.pages_saved];

// ---------------------------------------------------------------- the seeds' worked example (algorithms.md §0, §a, §b)

/**
 * The state at the end of passes 1, 2, 3 of one long batch from a fresh
 * cursor: a batch of 8k - 1 pages ends with its trailing advance wrapping for
 * the k-th time, exactly where the long batch is at its k-th wrap.
 */
function passes(layouts: SinglePage[][], abi: '2008' | '2009'): string[] {
  return [7, 15, 23].map((budget) => {
    const { k } = world(layouts, abi);
    if (abi === '2008') {
      ksmScan(scanner(k), budget);
      const d = k.ksm2008!.derivedCounters();
      return `${d.pagesShared} / ${d.pagesShared + d.pagesSharing}`;
    }
    k.ksm2009!.tree.ksmScanStart(budget);
    const m = k.ksm2009!.tree.ksmMappings();
    return `${m.frames} / ${m.addresses}`;
  });
}

const S = [[seed(1), zero, zero, zero], [seed(2), zero, zero, zero]];
const T = [[seed(1), seed(11), seed(12), seed(13)], [seed(2), seed(11), seed(12), seed(13)]];

test('the seeds\' worked example, 2008: layout S is one KSM page with 6 mappings from pass 1, T three with 2 each', (t) => {
  // Pass 1 (a1..b3; a0 is stepped over by the fresh cursor): S: a1 files an
  // entry, a2 finds it and K is made, a3, b1..b3 join K through a1's entry;
  // b0 files. T: a1..a3 file, b1..b3 each find their twin. Merging happens on
  // first sight; nothing changes afterwards (a0 files in pass 2).
  t.deepEqual(passes(S, '2008'), ['1 / 6', '1 / 6', '1 / 6']);
  t.deepEqual(passes(T, '2008'), ['3 / 6', '3 / 6', '3 / 6']);
});

test('the seeds\' worked example, 2009: nothing in pass 1 (holders only), then S is 1 KSM page / 6 mappings and T 3 / 6', (t) => {
  // Pass 1 gives every visited page a holder (checksum). Pass 2: S: a1 enters
  // the unstable tree, a2 finds it (K, a1 the stable node), a3 and b1..b3 join
  // through the stable tree; T: a1..a3 enter the unstable tree and b1..b3
  // find their twins. Pass 3 changes nothing.
  t.deepEqual(passes(S, '2009'), ['0 / 0', '1 / 6', '1 / 6']);
  t.deepEqual(passes(T, '2009'), ['0 / 0', '3 / 6', '3 / 6']);
});

// ---------------------------------------------------------------- v1 2008 (seed 001)

test('2008 worked-example: the first call of 100 pages runs six passes over 16 positions; all six X pages on one KSM page', (t) => {
  // p1 = [X, X, X, a1..a5], p2 = [X, X, X, b1..b5]. The call visits 1..15,
  // then 0..15 five times and 0..3: six wraps, one snapshot per wrap, all
  // with the state at the end of the call. X at 1 files an entry, X at 2
  // finds it (K, 2 mappings), p2's X pages join K through p1's entry, and X
  // at 0 joins at its first visit in pass 2. The ten distinct pages file
  // entries and never merge. 1 KSM page, 6 mappings: shared 1, sharing 5.
  const r = run('worked-example', '2008');
  t.deepEqual(r, golden('v1-2008/worked-example.json', r));
  t.is(r.snapshots.length, 6);
  for (const s of r.snapshots) t.deepEqual(row(s).slice(1), [1, 5, 0, 0, 6, 5]);
});

test('2008 scan-steps: pages merge at first sight, batch by batch; the stepped-over positions merge in the next pass', (t) => {
  // a = [Z, F1, S5, T3] x 4, b = [Z, F2, S5, T4] x 4: 32 positions, six
  // contents. s10: visits 1..10: a1/a5/a9 (F1), a2/a6/a10 (S5), a3/a7 (T3),
  // a4/a8 (Z) on 4 KSM pages, 10 mappings. s20: 11 stepped over, 12..21:
  // a12..a15 join, b0 (Z), b2 (S5) and b4 (Z) join, b1 files and b5 makes a
  // fifth KSM page with it; b3 files: 5 pages, 19 mappings. s30: 22 stepped
  // over, 23..31 and, after the wrap, 0: b7 pairs with b3 (sixth page), the
  // rest join; 30 mappings on 6 pages (a11 and b6 were never visited).
  // s70: 1 stepped over; a11 and b6 join in pass 2: 32 mappings, 26 saved.
  const r = run('scan-steps', '2008');
  t.deepEqual(r, golden('v1-2008/scan-steps.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['s10', 4, 6, 0, 0, 0, 6],
    ['s20', 5, 14, 0, 0, 0, 14],
    ['s30', 6, 24, 0, 0, 1, 24],
    ['s70', 6, 26, 0, 0, 2, 26],
    ['s134', 6, 26, 0, 0, 4, 26],
  ]);
});

test('2008 two-guests: bucket collisions leave lone KSM pages, nothing ever unmerges, the exit unregisters guest-b', (t) => {
  // 1792 positions in calls of 200: pass 1 steps over 0, 201, ..., 1608
  // (a0[0], a0[201], a1[146], a1[347], a2[36], b0[109], b1[54], b1[255],
  // b1[456]). Zero pages: a0[1] files, the other 508 visited join K0. Image:
  // b1[i] finds a1[i] (507 pairs: a1[146], a1[347] were not filed, b1[54],
  // b1[255], b1[456] not visited). The wrapping call goes on to pass 2's
  // 0..16: a0[0] joins: 509 + 507 = 1016 saved. 4099 buckets hold ~770
  // contents, so many share a bucket: a page that meets a different ordinary
  // page filed in its bucket is left alone on a fresh KSM page (no undo in
  // 001). 22 of guest-a's heap pages meet one of guest-a's image pages
  // (still ordinary then) this way, a1[456] one more; guest-b's heap meets
  // mostly KSM pages by then (a KSM candidate just fails) and only 3 stay
  // lone. 508 + 26 = 534 KSM pages. Pass 2 merges the five missed pairs (b1[456]
  // joins a1[456]'s lone page) and the two missed zero pages: 1023 = 511
  // zero sharers + 512 pairs; 513 + 25 lone = 538.
  // Writes: a1[5] leaves its pair (b1[5] now alone on that page) and b0[9]
  // leaves K0: sharing 1021 at once; a2[0] was an ordinary page. 7.pass1:
  // b0[9] (fill 1) meets an ordinary page in its bucket and is left lone:
  // 539. guest-b exits: its SMA file is released, its slots and 131 entries
  // removed, its mm torn down: 511 image pages and a's 22 lone heap pages
  // are KSM pages with one mapping (shared 534), K0 keeps guest-a's 256
  // mappings (sharing 255).
  const r = run('two-guests', '2008');
  t.deepEqual(r, golden('v1-2008/two-guests.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['2.pass1', 534, 1016, 0, 0, 1, 1016],
    ['2.pass2', 538, 1023, 0, 0, 2, 1023],
    ['2.pass3', 538, 1023, 0, 0, 3, 1023],
    ['after-writes', 538, 1021, 0, 0, 3, 1021],
    ['7.pass1', 539, 1021, 0, 0, 4, 1021],
    ['7.pass2', 539, 1021, 0, 0, 5, 1021],
    ['after-exit', 534, 255, 0, 0, 5, 255],
    ['10.pass1', 534, 255, 0, 0, 6, 255],
    ['10.pass2', 534, 255, 0, 0, 7, 255],
  ]);
});

test('2008 ksmpages-small: 2048 tail contents in 4099 buckets; collisions delay some pairs by a pass, then all 2048 pairs share', (t) => {
  // a[i] = b[i] = tail i (equal first 128 bytes: the HMAC matches and the
  // memcmp of the rest decides). Pass 1 steps over 0, 513, 1026, 1539 of a
  // and 4, 517, 1030, 1543 of b (positions 2052, ...). A b[i] whose bucket
  // holds a newer ordinary page of other contents is left on a lone copy
  // before it reaches a[i]'s entry, and its lone page is filed; a[i] joins it
  // at its next visit. After pass 1 (and 0..7 of pass 2): 2042 KSM pages with
  // 4083 mappings; pass 2 completes every pair: 2048 pages, 2 mappings each.
  const r = run('ksmpages-small', '2008');
  t.deepEqual(r, golden('v1-2008/ksmpages-small.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['2.pass1', 2042, 2041, 0, 0, 1, 2041],
    ['2.pass2', 2048, 2048, 0, 0, 2, 2048],
    ['2.pass3', 2048, 2048, 0, 0, 3, 2048],
  ]);
});

test('2008: a plain model of seed 001 gives the same snapshots on every example workload', (t) => {
  for (const name of ['worked-example', 'scan-steps', 'two-guests', 'ksmpages-small']) t.deepEqual(run(name, '2008'), runRef2008(load(name)), name);
});

// ---------------------------------------------------------------- v1 2009 (seed 002)

test('2009 worked-example: six passes in the first call, 5 merges', (t) => {
  // The same rhythm as v2 (the same tree merger and cursor): pass 1 makes
  // holders; pass 2: X at 1 enters the unstable tree, X at 2 finds it (+1),
  // p2's three X join through the stable tree (+3); pass 3: X at 0 joins
  // (+1). The ten distinct pages alternate between holder and unstable; at
  // the end of the call none is in the current tree: volatile 10 + the
  // holder of X at 2 (never linked anywhere after its merge).
  const r = run('worked-example', '2009');
  t.deepEqual(r, golden('v1-2009/worked-example.json', r));
  for (const s of r.snapshots) t.deepEqual(row(s).slice(1), [5, 5, 0, 11, 6, 5]);
});

test('2009 scan-steps: holders in pass 1, every content merged by the 40-page batch', (t) => {
  // s10..s30 visit 30 positions of pass 1 (11 and 22 stepped over): holders
  // only. s70 runs pass 2: the six two-page contents pair up through the
  // unstable tree and every other visited page joins through the stable
  // tree, 11 and 22 too (the stable search precedes any checksum); a0 and a1
  // join in pass 3's first positions: 26 merges, 26 saved.
  const r = run('scan-steps', '2009');
  t.deepEqual(r, golden('v1-2009/scan-steps.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['s10', 0, 0, 0, 10, 0, 0],
    ['s20', 0, 0, 0, 20, 0, 0],
    ['s30', 0, 0, 0, 30, 1, 0],
    ['s70', 26, 26, 0, 6, 2, 26],
    ['s134', 26, 26, 0, 6, 4, 26],
  ]);
});

test('2009 two-guests: as v2 until the exit, which here releases guest-b\'s SMA and unregisters it', (t) => {
  // Until the exit the trajectory is v2's (same merger, same cursor; see
  // golden-v2.test.ts): 15 merges by the end of the wrapping call of pass 1,
  // 1014 and 1020 after passes 2 and 3, the three out-of-phase image pairs
  // in pass 4 (1023). The writes lower pages_sharing at once (1018), never
  // pages_shared. The exit closes guest-b's SMA fd: ksm_sma_release runs
  // remove_mm_from_hash_and_tree for each of its three slots (the unstable
  // tree is flushed, guest-b's rmap_items freed), the mm references go and
  // guest-b's address space is torn down. guest-a keeps K0 with 256 mappings
  // (sharing 255) and 511 image KSM pages now mapped once; pages_shared, a
  // count of merges, stays 1023. volatile 130: guest-a's 128 heap items,
  // a1[5]'s fresh holder and a0[2]'s holder (the scanned page of the first
  // zero merge keeps its holder).
  // (v2 differs from here on: its exited guest is pinned and stays scanned.)
  const r = run('two-guests', '2009');
  t.deepEqual(r, golden('v1-2009/two-guests.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['2.pass1', 15, 15, 0, 1769, 1, 15],
    ['2.pass2', 1014, 1014, 0, 775, 2, 1014],
    ['2.pass3', 1020, 1020, 0, 765, 3, 1020],
    ['after-writes', 1020, 1018, 0, 765, 3, 1018],
    ['7.pass1', 1023, 1021, 0, 759, 4, 1021],
    ['7.pass2', 1023, 1021, 0, 761, 5, 1021],
    ['after-exit', 1023, 255, 0, 130, 5, 255],
    ['10.pass1', 1023, 255, 0, 130, 6, 255],
    ['10.pass2', 1023, 255, 0, 130, 7, 255],
  ]);
});

test('2009 ksmpages-small: pairs split by a stepped-over position merge a pass or two later', (t) => {
  // As under v2: pass 1 gives holders (its wrapping call puts a[1..7] in the
  // unstable tree); pass 2 merges every pair whose a-page was seen in passes
  // 1 and 2 and whose b-page was seen in pass 2: 2036; pass 3 adds the eight
  // pairs whose b-page searches while its a-page is in the tree: 2044.
  const r = run('ksmpages-small', '2009');
  t.deepEqual(r, golden('v1-2009/ksmpages-small.json', r));
  t.deepEqual(r.snapshots.map(row), [
    ['2.pass1', 0, 0, 7, 4082, 1, 0],
    ['2.pass2', 2036, 2036, 2, 2054, 2, 2036],
    ['2.pass3', 2044, 2044, 1, 2039, 3, 2044],
  ]);
});

test('unregister under v1 is KSM_REMOVE_MEMORY_REGION on the SMA fd; merged pages stay merged', (t) => {
  const doc = {
    name: 'unregister-v1',
    processes: { p1: [{ pages: 2, content: { seed: 7 } }], p2: [{ pages: 2, content: { seed: 7 } }], p3: [{ pages: 1, content: 'zero' }] },
    steps: [{ register: 'p1' }, { register: 'p2' }, { fullScans: 2 }, { unregister: 'p1' }, { unregister: 'p3' }, { snapshot: 'after' }],
  };
  for (const abi of ['2008', '2009'] as const) {
    const w = parseWorkloadText(JSON.stringify(doc), 'inline');
    const r = resultJson(runWorkload(w, createDriver(`v1:${abi}`)));
    // p3 never registered: it has no SMA fd to pass.
    t.deepEqual(r.errors, [{ step: 4, errno: 'EBADF' }], abi);
    const last = r.snapshots[r.snapshots.length - 1];
    // Only p2's two pages are measured now; they still map the KSM page p1 shares.
    t.is(last.pages_saved, 1, abi);
  }
});
