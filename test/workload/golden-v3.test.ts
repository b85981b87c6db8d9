/**
 * Golden per-pass trajectories of the example workloads under v3 (seed 003).
 * The expected files are in test/golden/v3/; the reasoning for each, from
 * the seed code, is written here.
 */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import { join } from 'node:path';
import { resultJson, runWorkload } from '../../src/workload/runner.js';
import { loadWorkload } from '../../src/workload/schema.js';
import { FIXTURES, golden } from '../helpers/golden.js';

const run = (name: string) => resultJson(runWorkload(loadWorkload(join(FIXTURES, 'workloads', `${name}.json`)), createDriver('v3:2.6.32')));

test('worked-example: one KSM page with five sharers, ten pages left unstable', (t) => {
  // p1 = [X, X, X, a1..a5], p2 = [X, X, X, b1..b5]: pass 1 records 16
  // checksums (volatile 16); pass 2 inserts p1's first X, merges the second
  // with it (stable node + 1 member), and the other four X join through the
  // stable tree: shared 1, sharing 5; the ten distinct pages sit in the
  // unstable tree (unshared 10). Pass 3 changes nothing but full_scans.
  const r = run('worked-example');
  t.deepEqual(r, golden('v3/worked-example.json', r));
  t.deepEqual(r.snapshots.map((s) => [s.pages_shared, s.pages_sharing, s.pages_unshared, s.pages_volatile, s.full_scans]), [
    [0, 0, 0, 16, 1],
    [1, 5, 10, 0, 2],
    [1, 5, 10, 0, 3],
  ]);
});

test('two-guests: image and zero pages merge, writes unshare, exit leaves lone KSM pages to be unshared', (t) => {
  // Pass 2: 512 zero pages make one KSM page (1 + 511), the 512 image pages
  // pair up (512 nodes + 512 members): shared 513, sharing 1023; 256 private
  // pages unstable. The three writes change nothing until ksmd looks (only
  // pages_saved drops by 2 at once). Pass 4: guest-a's image page 5 was the
  // stable node: removed, its successor promoted (sharing -1), volatile;
  // guest-a's rewritten heap page fails the checksum gate (volatile); guest-b's
  // zero page 9 leaves the zero node's list (sharing -1), volatile; guest-b's
  // image page 5 is now a KSM page with mapcount 1: unshared by ksm_do_scan
  // (shared -1), volatile. Pass 5: all four pass the gate: unshared +4.
  // guest-b exits: its slot moves after the cursor, so pass 6 frees its items
  // first (sharing -255 zero, -511 image; unstable -130), then guest-a's 511
  // image KSM pages have mapcount 1 and are unshared (shared 1 left: zero).
  const r = run('two-guests');
  t.deepEqual(r, golden('v3/two-guests.json', r));
  t.deepEqual(r.snapshots.map((s) => [s.label, s.pages_shared, s.pages_sharing, s.pages_unshared, s.pages_volatile, s.pages_saved]), [
    ['2.pass1', 0, 0, 0, 1792, 0],
    ['2.pass2', 513, 1023, 256, 0, 1023],
    ['2.pass3', 513, 1023, 256, 0, 1023],
    ['after-writes', 513, 1023, 256, 0, 1021],
    ['7.pass1', 512, 1021, 255, 4, 1021],
    ['7.pass2', 512, 1021, 259, 0, 1021],
    ['after-exit', 512, 1021, 259, 0, 255],
    ['10.pass1', 1, 255, 129, 511, 255],
    ['10.pass2', 1, 255, 640, 0, 255],
  ]);
});

test('ksmpages-small: max_kernel_pages (2000) stops new KSM pages at 2000 of the 2048 pairs', (t) => {
  // All of a's 2048 tail pages enter the unstable tree in pass 2; b's pages
  // find their twins, but try_to_merge_two_pages refuses once pages_shared
  // reaches max_kernel_pages: 48 partners stay unstable, 48 scanned pages volatile.
  const r = run('ksmpages-small');
  t.deepEqual(r, golden('v3/ksmpages-small.json', r));
  t.deepEqual(r.snapshots[1], { label: '2.pass2', step: 2, pages_shared: 2000, pages_sharing: 2000, pages_unshared: 48, pages_volatile: 48, full_scans: 2, pages_saved: 2000 });
});

test('scan-steps: single batches advance page by page, and a batch ends at the end of a pass', (t) => {
  // 32 pages. Batches of 10, 10, 10 scan 30 pages (32 - 30 unvisited); the
  // 40-page batch scans the last 2 and stops at the end of the pass
  // (full_scans 1); the 64-page batch does all of pass 2 and stops: six
  // contents, 6 KSM pages and 26 sharers.
  const r = run('scan-steps');
  t.deepEqual(r, golden('v3/scan-steps.json', r));
  t.deepEqual(r.snapshots.map((s) => [s.label, s.pages_volatile, s.full_scans, s.pages_shared, s.pages_sharing]), [
    ['s10', 10, 0, 0, 0],
    ['s20', 20, 0, 0, 0],
    ['s30', 30, 0, 0, 0],
    ['s70', 32, 1, 0, 0],
    ['s134', 0, 2, 6, 26],
  ]);
});

test('the same workload gives the same trajectory twice', (t) => {
  t.deepEqual(run('two-guests'), run('two-guests'));
});
