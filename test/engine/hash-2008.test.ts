/**
 * The November 2008 hash-table merger (seed 001) on its own: the worked
 * examples of spec/algorithms.md §a pass by pass, bucket collisions leaving
 * lone KSM pages, update_hash, the cursor's skipped positions, the merge
 * limit, runaway slots and the shortcuts for huge budgets.
 */
import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import type { SinglePage } from '../../src/engine/pages.js';
import type { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import { internPage } from '../../src/workload/fill.js';
import { framesOf, h2008, INT_MAX, ksmScan, problems, proc, register, scanner, seed, world, zero } from '../helpers/v1.js';
import { V1Kernel as Kernel } from '../../src/v1-ioctl/kernel.js';

const tail = (n: number): SinglePage => ({ kind: 'tail', n: BigInt(n) });

interface PassState {
  ksm: string;
  merges: number;
  entries: string[];
}

/**
 * Runs one long KSM_SCAN batch from a fresh cursor and records the state at
 * each wrap (the end of a pass): KSM pages / mappings (derived), merge events
 * so far, and the filed addresses as a0..a3, b0..b3.
 */
function longBatch(layouts: SinglePage[][], budget: number, opts = {}): { states: PassState[]; k: V1Kernel } {
  const { k, procs } = world(layouts, '2008', opts);
  const ksm = k.ksm2008!;
  const s = scanner(k);
  const names = new Map<string, string>();
  procs.forEach((p, i) => {
    for (let j = 0; j < p.pages; j++) names.set(`${p.c.proc.mm.id}:${p.addr + j * PAGE_SIZE}`, `${'ab'[i]}${j}`);
  });
  const states: PassState[] = [];
  const cursor = k.fdTable(s.c.proc).get(s.fd)!.privateData as { onWrap: (() => void) | null };
  cursor.onWrap = () => {
    const d = ksm.derivedCounters();
    states.push({
      ksm: `${d.pagesShared} / ${d.pagesShared + d.pagesSharing}`,
      merges: ksm.stats.merges,
      entries: ksm.pageHashEntries().map((e) => names.get(`${e.mm}:${e.addr}`)!).sort(),
    });
  };
  ksmScan(s, budget);
  return { states, k };
}

const U1 = seed(1);
const U2 = seed(2);
const Z = zero;

test('worked example S (six copies): pass 1 merges a1..a3 and b1..b3 into one KSM page; a0 joins nothing', (t) => {
  // Pass 1 visits a1..b3 (the first batch never scans page 0 of the first
  // slot): a1 files an entry; a2 finds it, K is made, a1 and a2 map it; a3,
  // b1, b2, b3 find a1's entry, whose page is now K, and join; b0 files an
  // entry. Pass 2: a0 files; b0 finds itself (used); the rest are KSM pages.
  const { states, k } = longBatch([[U1, Z, Z, Z], [U2, Z, Z, Z]], 24);
  t.deepEqual(states, [
    { ksm: '1 / 6', merges: 5, entries: ['a1', 'b0'] },
    { ksm: '1 / 6', merges: 5, entries: ['a0', 'a1', 'b0'] },
    { ksm: '1 / 6', merges: 5, entries: ['a0', 'a1', 'b0'] },
  ]);
  t.deepEqual(problems(k), []);
});

test('worked example T (three pairs): three KSM pages with two mappings each after pass 1', (t) => {
  const X1 = seed(11);
  const X2 = seed(12);
  const X3 = seed(13);
  const { states } = longBatch([[U1, X1, X2, X3], [U2, X1, X2, X3]], 24);
  t.deepEqual(states, [
    { ksm: '3 / 6', merges: 3, entries: ['a1', 'a2', 'a3', 'b0'] },
    { ksm: '3 / 6', merges: 3, entries: ['a0', 'a1', 'a2', 'a3', 'b0'] },
    { ksm: '3 / 6', merges: 3, entries: ['a0', 'a1', 'a2', 'a3', 'b0'] },
  ]);
});

test('a bucket collision leaves the scanned address alone on a fresh KSM page (no undo in 001)', (t) => {
  // page_hash_size 1: every page is in bucket 0. Position 1 (X) files an
  // entry; position 2 (Y) tries X: K = copy of Y is mapped at Y's address,
  // X's address refuses it, and the function reports failure. Y's address
  // is filed, its KSM page the representative of Y's contents.
  const X = seed(21);
  const Y = seed(22);
  const { k, procs } = world([[Z, X, Y]], '2008', { pageHashSize: 1 });
  const s = scanner(k);
  ksmScan(s, 2);
  const ksm = k.ksm2008!;
  t.deepEqual(ksm.derivedCounters(), { pagesShared: 1, pagesSharing: 0 });
  t.is(ksm.stats.merges, 0);
  const [, fx, fy] = framesOf(k, procs[0]);
  t.true(ksm.pageKsm(fy));
  t.false(ksm.pageKsm(fx));
  t.is(k.memory.frames.mapcount[fy], 1);
  t.deepEqual(ksm.pageHashEntries().map((e) => (e.addr - procs[0].addr) / PAGE_SIZE), [2, 1]); // newest first
  // With a big table X and Y sit in different buckets: nothing happens.
  const big = world([[Z, X, Y]], '2008', { pageHashSize: 4099 });
  ksmScan(scanner(big.k), 2);
  t.deepEqual(big.k.ksm2008!.derivedCounters(), { pagesShared: 0, pagesSharing: 0 });
  t.deepEqual(problems(k), []);
});

test('the lone KSM page of a collision serves its contents: a later identical page joins it', (t) => {
  const X = seed(21);
  const Y = seed(22);
  const { k } = world([[Z, X, Y, Y]], '2008', { pageHashSize: 1 });
  ksmScan(scanner(k), 3);
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 1, pagesSharing: 1 });
  t.is(k.ksm2008!.stats.merges, 1);
});

test('pages equal in their first 128 bytes have equal HMACs; the memcmp of the rest tells them apart', (t) => {
  const { k } = world([[Z, tail(3), tail(4)]], '2008', { pageHashSize: 1 });
  const ksm = k.ksm2008!;
  ksm.ksmTfmInit();
  ksmScan(scanner(k), 2);
  t.is(ksm.stats.merges, 0);
  t.deepEqual(ksm.derivedCounters(), { pagesShared: 1, pagesSharing: 0 }); // tail(4) alone on its copy
});

test('update_hash drops an entry whose page moved to another bucket, and the next visit files it again', (t) => {
  const { k, procs } = world([[Z, seed(1), seed(2)]]);
  const s = scanner(k);
  const ksm = k.ksm2008!;
  const p = procs[0];
  ksmScan(s, 2); // files positions 1 and 2
  const before = ksm.entryOf(p.c.proc.mm, p.addr + PAGE_SIZE)!;
  k.memory.writePage(p.c.proc.mm, p.addr + PAGE_SIZE, internPage(k.memory, seed(3)));
  ksmScan(s, 8); // cursor at 3 -> wraps; visits 0, 1, 2 ...
  const after = ksm.entryOf(p.c.proc.mm, p.addr + PAGE_SIZE)!;
  t.not(after.bucket, before.bucket);
  t.is(ksm.hashEntryCount, 3);
});

test('a representative written after its merge is passed over (its bucket changed) and re-filed at its visit', (t) => {
  // a1 represents Z (it maps K); a1 is then written; a new Z page at b1 must not merge with a1.
  const { k, procs } = world([[U1, Z, Z], [U2, Z]]);
  const s = scanner(k);
  const ksm = k.ksm2008!;
  ksmScan(s, 2); // a1 files, a2 joins it (K)
  const a = procs[0];
  k.memory.writePage(a.c.proc.mm, a.addr + PAGE_SIZE, internPage(k.memory, seed(9)));
  ksmScan(s, 3); // positions 4 (b0), 5 (b1): cursor was at 3 after the trailing advance
  t.deepEqual(ksm.derivedCounters(), { pagesShared: 1, pagesSharing: 0 }, 'b1 found no representative: a2 alone maps K');
  t.deepEqual(problems(k), []);
});

test('a batch of B pages covers B positions, then skips one; with B = 1 half the positions of an even list are never scanned', (t) => {
  const { k } = world([[seed(1), seed(2), seed(3), seed(4)]]);
  const s = scanner(k);
  for (let i = 0; i < 20; i++) ksmScan(s, 1);
  const filed = k.ksm2008!.pageHashEntries().map((e) => e.addr);
  t.is(filed.length, 2, 'positions 1 and 3 only');
});

test('max_pages_to_merge ends the batch after that many merges; the trailing advance still happens', (t) => {
  const { k, procs } = world([[Z, Z, Z, Z, Z, Z]]);
  const s = scanner(k);
  const cursor = k.fdTable(s.c.proc).get(s.fd)!.privateData as { pageIndex: number };
  ksmScan(s, 100, 2);
  // 1 files, 2 merges (1), 3 merges (2): stop; trailing advance to 4.
  t.is(k.ksm2008!.stats.merges, 2);
  t.is(cursor.pageIndex, 4);
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 1, pagesSharing: 2 });
  t.is(procs.length, 1);
});

test('a zero-page region makes the cursor run away through the address space, never wrapping', (t) => {
  const k = new Kernel({ abi: '2008' });
  const a = proc(k, 'a', [Z, Z]);
  register(a, '2008', 0);
  const s = scanner(k);
  const cursor = k.fdTable(s.c.proc).get(s.fd)!.privateData as { pageIndex: number; wraps: number; positions: number };
  t.is(ksmScan(s, INT_MAX), 0); // 2^31 - 1 positions, quickly
  t.is(cursor.wraps, 0);
  t.is(cursor.positions, INT_MAX);
  t.is(cursor.pageIndex, INT_MAX + 1);
  // On its way it scanned the region's page 1 (page 0 was skipped by the
  // first batch) and, past the guard page, the program's own stack page,
  // where its ioctl structs live.
  t.is(k.ksm2008!.hashEntryCount, 2);
});

test('a huge budget gives the same result with and without the pass-skipping shortcut', (t) => {
  const run = (fast: boolean) => {
    const { k } = world([[Z, seed(1), Z, seed(2)], [seed(1), Z, seed(5)]], '2008', { pageHashSize: 3 });
    k.ksm2008!.fastForward = fast;
    const s = scanner(k);
    ksmScan(s, 200_001);
    ksmScan(s, 7);
    const cursor = k.fdTable(s.c.proc).get(s.fd)!.privateData as { pageIndex: number; wraps: number; positions: number };
    return { d: k.ksm2008!.derivedCounters(), wraps: cursor.wraps, index: cursor.pageIndex, positions: cursor.positions, stats: { ...k.ksm2008!.stats }, entries: k.ksm2008!.pageHashEntries() };
  };
  t.deepEqual(run(true), run(false));
});

test('the sha1 cache has no observable effect: a one-entry cache gives the same merges', (t) => {
  const layouts = [[Z, Z, seed(1), seed(1), Z], [seed(1), Z, Z, seed(2)]];
  const run = (sha1HashSize: number) => {
    const { k } = world(layouts, '2008', { sha1HashSize });
    const s = scanner(k);
    for (let i = 0; i < 5; i++) ksmScan(s, 7);
    return k.ksm2008!.derivedCounters();
  };
  t.deepEqual(run(1), run(1031));
});

test('module parameters default to the seed formula on the simulated RAM', (t) => {
  const k = new Kernel({ abi: '2008', ramPages: 100000 });
  t.is(k.ksm2008!.npagesHash, 10000);
  t.is(k.ksm2008!.nrmapsHash, 10000);
  t.is(k.ksm2008!.nsha1sHash, 3125);
  const d = new Kernel({ abi: '2008' });
  t.is(d.ksm2008!.npagesHash, 26214); // 1 GiB: 262144 pages / 10
  t.is(d.ksm2008!.nsha1sHash, 8192);
  const p = new Kernel({ abi: '2008', pageHashSize: 4099, rmapHashSize: 7, sha1HashSize: 3 });
  t.deepEqual([p.ksm2008!.npagesHash, p.ksm2008!.nrmapsHash, p.ksm2008!.nsha1sHash], [4099, 7, 3]);
  t.throws(() => new Kernel({ abi: '2008', ramPages: 5 })); // 5 / 10 = 0 buckets: the module would not load
});

test('writes to merged pages break copy-on-write; the other mappings keep the KSM page', (t) => {
  const { k, procs } = world([[Z, Z, Z]]);
  ksmScan(scanner(k), 3); // positions 1, 2 and, after the wrap, 0
  const p = procs[0];
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 1, pagesSharing: 2 });
  k.memory.writePage(p.c.proc.mm, p.addr + 2 * PAGE_SIZE, internPage(k.memory, seed(4)));
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 1, pagesSharing: 1 });
  t.is(k.memory.readPage(p.c.proc.mm, p.addr + PAGE_SIZE), k.memory.zero);
  t.deepEqual(problems(k), []);
});

test('KSM pages are not anonymous, so the scanner skips them (PageKsm is !PageAnon)', (t) => {
  const { k, procs } = world([[Z, Z, Z]]);
  const s = scanner(k);
  ksmScan(s, 2); // positions 1 and 2 merge; the trailing advance wraps to 0
  const scanned = k.ksm2008!.stats.pagesScanned;
  ksmScan(s, 3); // positions 1, 2 (KSM pages, skipped) and 0 (anonymous: scanned, and it merges)
  t.is(k.ksm2008!.stats.pagesScanned - scanned, 1);
  t.is(procs[0].pages, 3);
  t.is(h2008.KSM_SCAN, 0x400cab40);
});
