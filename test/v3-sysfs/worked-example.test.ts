/**
 * The worked examples of spec/algorithms.md §c, checked against seed 003's
 * code path by path. Layout S: P1 = [U1, Z, Z, Z], P2 = [U2, Z, Z, Z];
 * layout T: P1 = [U1, X1, X2, X3], P2 = [U2, X1, X2, X3]. pages_to_scan
 * (200) exceeds the 8 pages, so each ksmd batch is exactly one full scan.
 */
import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { internPage } from '../../src/workload/fill.js';
import { counters, pass, problems, seed, world } from '../helpers/v3.js';

const S = () => world([[seed(1), seed(7), seed(7), seed(7)], [seed(2), seed(7), seed(7), seed(7)]]);
const T = () => world([[seed(1), seed(11), seed(12), seed(13)], [seed(2), seed(11), seed(12), seed(13)]]);

test('layout S: volatile 8 after pass 1, one KSM page with five sharers from pass 2 on', (t) => {
  const { k } = S();
  // Pass 1: get_next_rmap_item allocates 8 zeroed items; cmp_and_merge_page
  // finds an empty stable tree, and every checksum differs from the 0 a new
  // item starts with, so all 8 store their checksum and stay in no tree.
  pass(k);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 0, volatile: 8, fullScans: 1 });
  // Pass 2: checksums now match. a0 (U1) goes into the unstable tree; a1 (Z)
  // too; a2 finds a1 there: try_to_merge_two_pages makes a KSM page, a1
  // becomes a stable node (unshared -1, shared +1) and a2 is appended
  // (sharing +1); a3 then finds the node in the stable tree (sharing +1);
  // b0 (U2) is inserted; b1, b2, b3 each match the stable node (+1 each).
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 5, unshared: 2, volatile: 0, fullScans: 2 });
  // Pass 3: a0 and b0 lose their stale unstable state in get_next_rmap_item
  // (-1 each, no rb_erase: the tree was flushed) and are inserted again; the
  // six KSM mappings are in the stable tree with mapcount 6: nothing to do.
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 5, unshared: 2, volatile: 0, fullScans: 3 });
  t.is(k.memory.frames.mapcount[k.memory.mms.get(1)!.vmas[0].frames[1]], 6);
  t.deepEqual(problems(k), []);
});

test('continuation S1: a write to a merged page leaves the stable list, then re-enters the unstable tree a pass later', (t) => {
  const { k, procs } = S();
  pass(k);
  pass(k);
  pass(k);
  const { p, addr } = procs[0];
  k.memory.writePage(p.mm, addr + 2 * PAGE_SIZE, internPage(k.memory, seed(99)));
  // Pass 4: a2's item is a stable member but its page is no longer KSM, so
  // cmp_and_merge_page removes it (sharing -1; next = NULL zeroes the
  // oldchecksum it shares storage with); the stable search finds nothing and
  // the checksum gate (0 != c(W)) stores c(W): one volatile page.
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 4, unshared: 2, volatile: 1, fullScans: 4 });
  // Pass 5: the checksum now matches and a2 is inserted into the unstable tree.
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 4, unshared: 3, volatile: 0, fullScans: 5 });
  t.deepEqual(problems(k), []);
});

test('layout T: three KSM pages after pass 2', (t) => {
  const { k } = T();
  pass(k);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 0, volatile: 8, fullScans: 1 });
  // a0..a3 and b0 are inserted (5); b1, b2, b3 each find their twin: three
  // stable nodes, three members, and 5 - 3 = 2 left in the unstable tree.
  pass(k);
  t.deepEqual(counters(k), { shared: 3, sharing: 3, unshared: 2, volatile: 0, fullScans: 2 });
  pass(k);
  t.deepEqual(counters(k), { shared: 3, sharing: 3, unshared: 2, volatile: 0, fullScans: 3 });
  t.deepEqual(problems(k), []);
});

test('continuation T1: after P2 exits, ksmd frees its items first and unshares P1\'s lone KSM pages', (t) => {
  const { k, procs } = T();
  pass(k);
  pass(k);
  pass(k);
  k.exit(procs[1].p);
  // Counters move only when ksmd reaches the exited mm.
  t.deepEqual(counters(k), { shared: 3, sharing: 3, unshared: 2, volatile: 0, fullScans: 3 });
  // __ksm_exit moved P2's slot right after the cursor (the list head between
  // batches), so pass 4 starts with it: it is exiting, so all 4 items go
  // (b0's stale unstable node -1, members b1..b3 sharing -3) and the slot is
  // freed. Then P1: a0 is dropped and re-inserted; a1..a3 map KSM pages with
  // mapcount 1, so ksm_do_scan unshares each (break_cow, node erased: shared
  // -1) and stores its checksum.
  pass(k);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 1, volatile: 3, fullScans: 4 });
  t.is(k.ksm.rmapItems, 4);
  // Pass 5: the stored checksums match: a1..a3 enter the unstable tree.
  pass(k);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 4, volatile: 0, fullScans: 5 });
  t.deepEqual(problems(k), []);
});

test('pages_to_scan equal to the page count gives alternating full and empty batches', (t) => {
  const { k } = S();
  k.ksm.pagesToScan = 8;
  k.ksm.ksmDoScan(8); // scans all 8 pages without reaching the end of the list
  t.is(k.ksm.scan.seqnr, 0);
  const scanned = k.ksm.stats.pagesScanned;
  k.ksm.ksmDoScan(8); // finds only the end of the list: full_scans +1, nothing scanned
  t.is(k.ksm.scan.seqnr, 1);
  t.is(k.ksm.stats.pagesScanned, scanned);
});
