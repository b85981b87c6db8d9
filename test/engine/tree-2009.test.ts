/**
 * The 2009 tree merger (seeds 002 and 000), checked against the seed code
 * path by path: the worked examples of spec/algorithms.md §b (layout S:
 * P1 = [U1, Z, Z, Z], P2 = [U2, Z, Z, Z]; layout T: P1 = [U1, X1, X2, X3],
 * P2 = [U2, X1, X2, X3]), driven as the spec drives them (one long batch
 * from a fresh cursor, the state taken at each wrap), their continuations,
 * and the scanner's cursor rules.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import { Memory } from '../../src/engine/memory/memory.js';
import type { Mm } from '../../src/engine/memory/mm.js';
import { Tree2009, type Seed2009 } from '../../src/engine/merge/tree-2009.js';
import { checkTree2009 } from '../../src/engine/merge/tree-2009-invariants.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { internPage } from '../../src/workload/fill.js';
import { seed } from '../helpers/v2.js';

const RW = PROT_READ | PROT_WRITE;

interface EWorld {
  memory: Memory;
  ksm: Tree2009;
  procs: Array<{ mm: Mm; addr: number; pages: number }>;
}

/** The engine alone: one mm per layout, one private region each, registered in order (get_task_mm + list_add_tail). */
function eworld(layouts: SinglePage[][], s: Seed2009 = '000', flags = MAP_PRIVATE | MAP_ANONYMOUS): EWorld {
  const memory = new Memory();
  const ksm = new Tree2009(memory, s);
  const procs = layouts.map((pages) => {
    const mm = memory.createMm();
    const addr = memory.mmap(mm, 0, pages.length * PAGE_SIZE, RW, flags);
    pages.forEach((c, j) => memory.writePage(mm, addr + j * PAGE_SIZE, internPage(memory, c)));
    memory.mmget(mm);
    ksm.addSlot(mm, addr, pages.length);
    return { mm, addr, pages: pages.length };
  });
  return { memory, ksm, procs };
}

const U1 = seed(1);
const U2 = seed(2);
const Z = seed(7);
const S = (s: Seed2009 = '000') => eworld([[U1, Z, Z, Z], [U2, Z, Z, Z]], s);
const T = (s: Seed2009 = '000') => eworld([[U1, seed(11), seed(12), seed(13)], [U2, seed(11), seed(12), seed(13)]], s);

interface St {
  pagesShared: number;
  ksmPages: number;
  mappings: number;
  unstable: number;
  volatile: number;
  wraps: number;
}

function st(w: EWorld): St {
  const c = w.ksm.counters();
  const m = w.ksm.ksmMappings();
  return { pagesShared: c.pagesShared, ksmPages: m.frames, mappings: m.addresses, unstable: c.pagesUnshared, volatile: c.pagesVolatile, wraps: c.fullScans };
}

/**
 * One ksm_scan_start from a fresh cursor, exactly long enough to end pass
 * `passes` (pass 1 has L - 1 positions, the others L; the trailing advance
 * makes the last wrap). `atWrap(k)` runs at the end of pass k, before the
 * unstable tree is flushed (a process may write then); the state is taken
 * after it.
 */
function drive(w: EWorld, passes: number, atWrap?: (pass: number) => void): St[] {
  const out: St[] = [];
  w.ksm.onWrap = () => {
    atWrap?.(w.ksm.wraps);
    out.push(st(w));
  };
  let positions = 0;
  for (const s of w.ksm.slots) positions += s.npages;
  w.ksm.ksmScanStart(positions - 1 + (passes - 1) * positions);
  w.ksm.onWrap = null;
  return out;
}

function problems(w: EWorld): string[] {
  return [...checkMemory(w.memory, w.ksm.leakedRefs), ...checkTree2009(w.ksm)];
}

const frameAt = (w: EWorld, p: number, i: number) => {
  const { mm, addr } = w.procs[p];
  const v = mm.vmaAt(addr + i * PAGE_SIZE)!;
  return v.frames[v.index(addr + i * PAGE_SIZE)];
};
const itemAt = (w: EWorld, p: number, i: number) => w.ksm.getRmapItem(w.procs[p].mm, w.procs[p].addr + i * PAGE_SIZE);
/** H, U (in the current tree: U*, in a flushed one: U), S, or - (no item). */
function stateOf(w: EWorld, p: number, i: number): string {
  const it = itemAt(w, p, i);
  if (!it) return '-';
  const ri = w.ksm.items;
  if (ri.stableTree[it]) return 'S';
  const t = ri.treeItem[it];
  if (!t) return 'H';
  return w.ksm.trees.gen[t] === w.ksm.unstableGen ? 'U*' : 'U';
}

test('layout S: no merge in pass 1, one KSM page with six mappings and pages_shared 5 from pass 2 on (000)', (t) => {
  const w = S();
  const passes = drive(w, 4);
  // Pass 1 covers positions 1..7 (a1..b3): the first advance of a fresh
  // cursor steps over a0. Each page gets a holder: the stable tree is empty,
  // the unstable search runs with no rmap_item (search only, and the tree is
  // empty anyway), then create_new_rmap_item stores its checksum.
  t.deepEqual(passes[0], { pagesShared: 0, ksmPages: 0, mappings: 0, unstable: 0, volatile: 7, wraps: 1 });
  // Pass 2 (a0..b3): a0 gets its first holder; a1 (holder, checksum equal)
  // is inserted into the unstable tree; a2 finds it there:
  // try_to_merge_two_pages copies a2 into a new page K, maps a2 and then a1
  // onto it (+1), and a1's tree_item moves to the stable tree; a2's own
  // holder is linked nowhere. a3 finds K through the stable tree (+1) and
  // is linked after a1; b0 is inserted; b1, b2, b3 join K the same way (+1
  // each): chain a1, b3, b2, b1, a3. 5 merges; 6 mappings of 1 KSM page.
  t.deepEqual(passes[1], { pagesShared: 5, ksmPages: 1, mappings: 6, unstable: 1, volatile: 2, wraps: 2 });
  // Pass 3: a0 is inserted; a1..a3 and b1..b3 map K, not PageAnon, and are
  // skipped; b0's unstable item is destroyed by update_tree (its tree was
  // flushed at the wrap), it searches only (a0 = U1 != U2) and gets a fresh
  // holder. Pass 4: the other way round.
  t.deepEqual(passes[2], { pagesShared: 5, ksmPages: 1, mappings: 6, unstable: 1, volatile: 2, wraps: 3 });
  t.deepEqual(passes[3], { pagesShared: 5, ksmPages: 1, mappings: 6, unstable: 1, volatile: 2, wraps: 4 });
  // After the last wrap: a0 was destroyed and got a holder in pass 4, b0
  // sits in the tree just flushed, a2 keeps the holder it had before it merged.
  t.is(stateOf(w, 0, 0), 'H');
  t.is(stateOf(w, 1, 0), 'U');
  t.is(stateOf(w, 0, 2), 'H');
  // The chain, walked from the node's head.
  const ri = w.ksm.items;
  const head = w.ksm.trees.rmapItem[w.ksm.stableRoot.node];
  const chain: string[] = [];
  for (let m = head; m; m = ri.next[m]) chain.push(`${ri.mm[m] === w.procs[0].mm.id ? 'a' : 'b'}${(ri.address[m] - w.procs[ri.mm[m] === w.procs[0].mm.id ? 0 : 1].addr) / PAGE_SIZE}`);
  t.deepEqual(chain, ['a1', 'b3', 'b2', 'b1', 'a3']);
  t.is(w.memory.frames.mapcount[frameAt(w, 0, 1)], 6);
  t.deepEqual(problems(w), []);
});

test('layout T: three KSM pages of two mappings each after pass 2, pages_shared 3', (t) => {
  const w = T();
  const passes = drive(w, 3);
  t.deepEqual(passes[0], { pagesShared: 0, ksmPages: 0, mappings: 0, unstable: 0, volatile: 7, wraps: 1 });
  // Pass 2: a0 gets a holder; a1, a2, a3 and b0 are inserted; b1, b2, b3
  // each find their twin in the unstable tree: K1, K2, K3 (+1 each), the
  // twins' items become stable nodes, b1..b3 keep their holders.
  t.deepEqual(passes[1], { pagesShared: 3, ksmPages: 3, mappings: 6, unstable: 1, volatile: 4, wraps: 2 });
  // Pass 3: a0 is inserted, b0 gets a holder again; nothing merges.
  t.deepEqual(passes[2], { pagesShared: 3, ksmPages: 3, mappings: 6, unstable: 1, volatile: 4, wraps: 3 });
  t.deepEqual(problems(w), []);
});

test('002 runs the same algorithm: the same KSM pages and mappings (its kernel has no counter to show)', (t) => {
  for (const make of [S, T]) {
    const a = drive(make('000'), 3).map(({ ksmPages, mappings }) => [ksmPages, mappings]);
    const b = drive(make('002'), 3).map(({ ksmPages, mappings }) => [ksmPages, mappings]);
    t.deepEqual(a, b);
  }
  t.true(new Tree2009(new Memory(), '000').exposesPagesShared);
  t.false(new Tree2009(new Memory(), '002').exposesPagesShared);
});

test('continuation: a merged holder address written and written back re-merges, and pages_shared counts it again', (t) => {
  const w = S();
  const { mm, addr } = w.procs[0];
  const a2 = addr + 2 * PAGE_SIZE;
  const states: string[] = [];
  const passes = drive(w, 6, (k) => {
    states.push(stateOf(w, 0, 2));
    // After pass 3, a2 (a holder whose address maps K) gets new contents W:
    // COW gives it a private page. After pass 5 it writes Z back.
    if (k === 3) w.memory.writePage(mm, a2, internPage(w.memory, seed(99)));
    if (k === 5) w.memory.writePage(mm, a2, internPage(w.memory, Z));
  });
  // pages_shared is never decremented: still 5 with one mapping fewer.
  t.like(passes[2], { pagesShared: 5, ksmPages: 1, mappings: 5 });
  // Pass 4: a2 is anonymous again and visited: its holder stays
  // (update_tree), the stable search finds nothing for W, the checksum
  // changed: stored, nothing else. Pass 5: checksum unchanged: inserted.
  t.like(passes[3], { pagesShared: 5, mappings: 5 });
  // Pass 6, after Z was written back: update_tree destroys the unstable
  // item, and the stable search (before any checksum test) finds K: merged
  // (+1) and linked. Six merge events for five pages saved.
  t.like(passes[5], { pagesShared: 6, ksmPages: 1, mappings: 6 });
  t.deepEqual(states, ['H', 'H', 'H', 'H', 'U*', 'S']);
  t.deepEqual(problems(w), []);
});

test('continuation: a zapped stable item is pruned by the first search that walks over it, with no wait', (t) => {
  const w = S();
  const { mm, addr } = w.procs[0];
  const states: string[] = [];
  const heads: number[] = [];
  drive(w, 5, (k) => {
    states.push(stateOf(w, 0, 1));
    heads.push(w.ksm.trees.rmapItem[w.ksm.stableRoot.node]);
    // After pass 2, a1 (the stable node's head) gets new contents W.
    if (k === 2) w.memory.writePage(mm, addr + PAGE_SIZE, internPage(w.memory, seed(99)));
  });
  // Pass 3 starts with a0, whose stable search walks the chain from the
  // head: a1 is zapped (anonymous), removed (no prev: the head moves to its
  // next, b3), and b3 is used. So a1's own visit finds no item: stable
  // search, pure unstable search, then a holder (wait is 0). Pass 4: into
  // the unstable tree; pass 5: destroyed, a holder again.
  t.deepEqual(states, ['H', 'S', 'H', 'U*', 'H']);
  t.is(heads[2], itemAt(w, 1, 3));
  t.is(w.ksm.items.prev[itemAt(w, 1, 3)], 0);
  t.deepEqual(problems(w), []);
});

test('continuation: a zapped stable item removed at its own visit sets wait: no holder at that visit', (t) => {
  const w = S();
  const { mm, addr } = w.procs[0];
  const states: string[] = [];
  const heads: number[] = [];
  const passes = drive(w, 5, (k) => {
    states.push(stateOf(w, 0, 3));
    heads.push(w.ksm.trees.rmapItem[w.ksm.stableRoot.node]);
    // After pass 2, a3 (the last item of chain a1, b3, b2, b1, a3) gets W.
    if (k === 2) w.memory.writePage(mm, addr + 3 * PAGE_SIZE, internPage(w.memory, seed(99)));
  });
  // Searches stop at the live head a1, so nobody walks over a3 before its
  // own visit in pass 3: update_tree finds it zapped and removes it (it had
  // a prev, b1: the head becomes b1) and sets wait; the stable search for W
  // finds nothing, the unstable search runs without an item, and wait keeps
  // create_new_rmap_item from running: a3 has no item. Pass 4: a holder;
  // pass 5: into the unstable tree.
  t.deepEqual(states, ['H', 'S', '-', 'H', 'U*']);
  t.is(heads[2], itemAt(w, 1, 1));
  t.like(passes[4], { pagesShared: 5, ksmPages: 1, mappings: 5 });
  t.deepEqual(problems(w), []);
});

test('remove_rmap_item_from_tree moves a stable node\'s head to the removed item\'s prev, into the middle of the chain', (t) => {
  const w = S();
  const b = w.procs[1];
  drive(w, 3, (k) => {
    // Chain a1, b3, b2, b1, a3 with head a1; b2's address is written.
    if (k === 2) w.memory.writePage(b.mm, b.addr + 2 * PAGE_SIZE, internPage(w.memory, seed(98)));
  });
  // Pass 3 visits b2 (anonymous now): zapped, removed. It had a prev (b3),
  // so the head became b3, whose prev is still a1: a1 sits before the head,
  // where searches (which walk forward only) no longer look.
  const ri = w.ksm.items;
  t.is(w.ksm.trees.rmapItem[w.ksm.stableRoot.node], itemAt(w, 1, 3));
  t.is(ri.prev[itemAt(w, 1, 3)], itemAt(w, 0, 1));
  t.is(ri.next[itemAt(w, 1, 3)], itemAt(w, 1, 1));
  t.deepEqual(problems(w), []);
});

test('a page enters the unstable tree only every other pass (update_tree destroys an unstable item at its next visit)', (t) => {
  const w = eworld([[seed(1), seed(2), seed(3)]]);
  const seen: string[][] = [];
  drive(w, 5, () => seen.push([1, 2].map((i) => stateOf(w, 0, i))));
  t.deepEqual(seen, [
    ['H', 'H'],
    ['U*', 'U*'],
    ['H', 'H'],
    ['U*', 'U*'],
    ['H', 'H'],
  ]);
});

test('the first batch of a fresh cursor steps over page 0; each batch visits its budget and then steps over one position', (t) => {
  const w = eworld([[seed(1), seed(2), seed(3), seed(4), seed(5), seed(6), seed(7), seed(8)]]);
  w.ksm.ksmScanStart(3);
  t.deepEqual([0, 1, 2, 3, 4].map((i) => stateOf(w, 0, i)), ['-', 'H', 'H', 'H', '-']);
  t.is(w.ksm.scan.pageIndex, 4);
  // The next batch starts on position 4 and never scans it.
  w.ksm.ksmScanStart(2);
  t.deepEqual([4, 5, 6, 7].map((i) => stateOf(w, 0, i)), ['-', 'H', 'H', '-']);
});

test('a budget of L - 1 pages steps over the same position in every batch, forever', (t) => {
  const w = eworld([[U1, Z, Z, Z], [Z, Z, Z, Z]]);
  for (let i = 0; i < 20; i++) w.ksm.ksmScanStart(7);
  // Each batch visits positions 1..7 and its trailing advance wraps to 0.
  t.is(stateOf(w, 0, 0), '-');
  t.is(w.ksm.wraps, 20);
  t.like(st(w), { ksmPages: 1, mappings: 7 });
});

test('a batch of 0 pages scans nothing but still moves the cursor, and the wraps flush the unstable tree', (t) => {
  const w = eworld([[seed(1), seed(2)], [seed(3), seed(4)]]);
  for (let i = 0; i < 8; i++) t.is(w.ksm.ksmScanStart(0), 0);
  t.is(w.ksm.stats.pagesScanned, 0);
  t.is(w.ksm.wraps, 2);
});

test('no slot: ksm_scan_start returns -EAGAIN when it enters the loop, 0 otherwise', (t) => {
  const ksm = new Tree2009(new Memory());
  t.is(ksm.ksmScanStart(5), -11);
  t.is(ksm.ksmScanStart(0), 0);
});

test('a slot of 0 pages never ends: the cursor runs away through the address space and other slots are not scanned again', (t) => {
  const w = eworld([[seed(1), seed(1)], [seed(1), seed(1)]]);
  w.ksm.addSlot(w.procs[0].mm, w.procs[0].addr + 2 * PAGE_SIZE, 0);
  w.ksm.ksmScanStart(10);
  const scanned = w.ksm.stats.pagesScanned;
  const wraps = w.ksm.wraps;
  // 2^31 and more pages of budget: passed over unmapped addresses at once.
  w.ksm.ksmScanStart(0x80000000);
  t.is(w.ksm.wraps, wraps);
  t.is(w.ksm.stats.pagesScanned, scanned);
  t.is(w.ksm.scan.slotIndex?.npages, 0);
  t.true(w.ksm.scan.pageIndex > 0x7fffffff);
});

test('an enormous budget gives exactly the state of running it page by page (repeating passes are skipped whole)', (t) => {
  const make = () => eworld([[seed(1), seed(7), seed(7), seed(9), seed(3)], [seed(2), seed(7), seed(9), seed(4)], [seed(3), seed(5)]]);
  const fast = make();
  const slow = make();
  slow.ksm.fastForwardBudget = Number.POSITIVE_INFINITY;
  const budget = 300_011;
  fast.ksm.ksmScanStart(budget);
  slow.ksm.ksmScanStart(budget);
  t.deepEqual(st(fast), st(slow));
  t.deepEqual(fast.ksm.stats, slow.ksm.stats);
  t.is(fast.ksm.positions, slow.ksm.positions);
  t.deepEqual(fast.ksm.scan.pageIndex, slow.ksm.scan.pageIndex);
  t.is(fast.ksm.slots.indexOf(fast.ksm.scan.slotIndex!), slow.ksm.slots.indexOf(slow.ksm.scan.slotIndex!));
  for (let p = 0; p < 3; p++) for (let i = 0; i < fast.procs[p].pages; i++) t.is(stateOf(fast, p, i), stateOf(slow, p, i));
  t.deepEqual(problems(fast), []);
});

test('when the second mapping of a new KSM page fails, the first is broken again and nothing is counted', (t) => {
  const w = eworld([[seed(5), seed(5)]]);
  let pinned = 0;
  let page1 = 0;
  const states: string[][] = [];
  drive(w, 5, (k) => {
    states.push([stateOf(w, 0, 0), stateOf(w, 0, 1)]);
    // After pass 2, pin page 0's frame as an O_DIRECT read in flight would:
    // its mapping is writable (the only one), so its write-protect will see
    // page_count != page_mapcount + 2 and refuse.
    if (k === 2) {
      pinned = frameAt(w, 0, 0);
      w.memory.frames.get(pinned);
      page1 = frameAt(w, 0, 1);
    }
    if (k === 3) {
      // Pass 3: page 0 (holder, checksum equal) went into the unstable tree;
      // page 1's unstable item was destroyed and its pure search found page
      // 0: try_to_merge_two_pages mapped page 1 onto a new KSM page, page 0
      // refused, and get_user_pages(write) broke COW at page 1 again: a new
      // private copy, no count, and no holder (the seed returns after the
      // attempt).
      t.is(w.ksm.ksmPagesShared, 0);
      t.false(w.memory.frames.isKsm(frameAt(w, 0, 1)));
      t.not(frameAt(w, 0, 1), page1);
      t.is(w.ksm.stats.mergeAttempts, 2);
      t.deepEqual(checkMemory(w.memory, new Map([[pinned, 1]])), []);
      w.memory.frames.put(pinned);
    }
  });
  // Pass 4: both get holders (page 0's unstable item is destroyed; the tree
  // is empty for page 1's pure search). Pass 5: page 0 is inserted, page 1
  // finds it: merged (+1).
  t.deepEqual(states, [['-', 'H'], ['H', 'U*'], ['U*', '-'], ['H', 'H'], ['S', 'H']]);
  t.is(w.ksm.ksmPagesShared, 1);
  t.deepEqual(problems(w), []);
});

test('pages of a shared mapping are not PageAnon: taken for KSM pages and never scanned', (t) => {
  const w = eworld([[seed(5), seed(5), seed(5)]], '000', MAP_SHARED | MAP_ANONYMOUS);
  drive(w, 4);
  t.is(w.ksm.rmapItemCount, 0);
  t.is(w.ksm.ksmPagesShared, 0);
  t.true(w.ksm.stats.pagesScanned > 0);
});

test('a range registered twice is visited twice per pass; an item revisited in its own pass leaves the tree cleanly', (t) => {
  const w = eworld([[seed(1), seed(2), seed(3)]]);
  const { mm, addr } = w.procs[0];
  w.memory.mmget(mm);
  w.ksm.addSlot(mm, addr, 3);
  drive(w, 6);
  t.is(w.ksm.stats.pagesScanned, 5 + 5 * 6);
  t.deepEqual(problems(w), []);
});

test('002: removing a region flushes the unstable tree, frees its items, and leaves its merged pages mapped but unfindable', (t) => {
  const w = eworld([[U1, Z, Z], [U2, Z, Z]], '002');
  drive(w, 2);
  t.like(st(w), { ksmPages: 1, mappings: 4 });
  const a = w.procs[0];
  const slot = w.ksm.removeMmFromHashAndTree(a.mm);
  t.is(slot?.addr, a.addr);
  t.is(w.ksm.slots.length, 1);
  t.is(w.ksm.unstableRoot.node, 0);
  for (let i = 0; i < 3; i++) t.is(stateOf(w, 0, i), '-');
  // The KSM page stays mapped in a; the counters see only b's addresses now.
  t.like(st(w), { ksmPages: 1, mappings: 2 });
  t.true(w.memory.frames.isKsm(frameAt(w, 0, 1)));
  // The cursor's slot is gone: scan_update_old_index restarts at the first slot.
  w.ksm.ksmScanStart(2);
  t.is(w.ksm.scan.slotIndex, w.ksm.slots[0]);
  t.is(w.ksm.removeMmFromHashAndTree(a.mm), null);
  w.memory.mmput(a.mm);
  t.deepEqual(problems(w), []);
});
