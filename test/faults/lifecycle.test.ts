/**
 * Faults of the processes' and regions' lifetimes, each against the seed
 * function whose behaviour it checks: a process exits in the middle of a
 * scan batch; a region is unregistered while the cursor sits in it; a forked
 * child closes an inherited SMA fd; run=2 in the middle of a pass; a KSM
 * page's last sharer goes away. After every step every page of every live
 * process reads its last write, the memory model's invariants hold, and the
 * merger's counters recomputed from its structures equal the incremental
 * ones (World.problems()).
 */
import test, { type ExecutionContext } from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { FRAME_KSM } from '../../src/engine/memory/frames.js';
import type { Hash2008 } from '../../src/engine/merge/hash-2008.js';
import type { Mainline2632 } from '../../src/engine/merge/mainline-2632.js';
import type { Tree2009 } from '../../src/engine/merge/tree-2009.js';
import type { V1Adapter } from '../../src/eras/v1.js';
import { makeWorld, type World, type WorldProc } from '../../src/fuzz/worlds.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../../src/v1-ioctl/constants.js';
import { Libc } from '../../src/v1-ioctl/libc.js';
import * as h2009 from '../../src/v1-ioctl/linux-ksm-2009.js';

/** These scenarios are 2.6.32's (seed 003): a world on that kernel. */
const v3World = () => makeWorld('v3:2.6.32');
const v2World = () => makeWorld('v2');
const v1World = (abi: '2008' | '2009') => makeWorld(`v1:${abi}`);

/** The world's merger, as the algorithm the scenario is about. */
function m2632(w: World): Mainline2632 {
  const m = w.adapter.merger;
  if (m.algorithm !== 'mainline-2632') throw new Error(`not 2.6.32: ${m.algorithm}`);
  return m;
}
function tree2009(w: World): Tree2009 {
  const m = w.adapter.merger;
  if (m.algorithm !== 'tree-2009') throw new Error(`not the 2009 trees: ${m.algorithm}`);
  return m;
}
function hash2008(w: World): Hash2008 {
  const m = w.adapter.merger;
  if (m.algorithm !== 'hash-2008') throw new Error(`not the 2008 hash table: ${m.algorithm}`);
  return m;
}

const N = 4;

function clean(t: ExecutionContext, w: World, when: string): void {
  const bad = w.problems();
  t.deepEqual(bad, [], `${when}: ${bad.slice(0, 5).join('; ')}`);
}

/** Processes named `names`, each with N pages of one content, registered in order. */
function guests(w: World, names: string[], seed = 7): Array<{ wp: WorldProc; addr: number }> {
  const X = w.poolContent(seed);
  return names.map((n) => {
    const wp = w.spawn(n);
    const addr = w.mmap(wp, N);
    for (let i = 0; i < N; i++) w.writePage(wp, addr + i * PAGE_SIZE, X);
    if (w.register(wp, addr, N * PAGE_SIZE) !== 0) throw new Error(`register ${n}`);
    return { wp, addr };
  });
}

/** Whether any page of the N at addr maps a KSM page (the 2008/2009 cursors skip some positions forever). */
function anyKsm(w: World, wp: WorldProc, addr: number): boolean {
  for (let i = 0; i < N; i++) if (isKsm(w, wp, addr + i * PAGE_SIZE)) return true;
  return false;
}

function isKsm(w: World, wp: WorldProc, addr: number): boolean {
  const v = wp.p.mm.vmaAt(addr);
  if (v === null) return false;
  const f = v.frames[v.index(addr)];
  return f !== 0 && (w.memory.frames.flags[f] & FRAME_KSM) !== 0;
}

/** Scans one page at a time until the cursor is on mm (checking after each batch). */
function cursorTo(t: ExecutionContext, w: World, wp: WorldProc): void {
  for (let i = 0; i < 200 && w.cursorMm() !== wp.p.mm; i++) {
    w.scan(1);
    clean(t, w, `positioning batch ${i}`);
  }
  t.is(w.cursorMm(), wp.p.mm, 'the cursor sits in the process');
}

function scans(t: ExecutionContext, w: World, n: number, budget: number, label: string): void {
  for (let i = 0; i < n; i++) {
    w.scan(budget);
    clean(t, w, `${label} ${i}`);
  }
}

// ---------------------------------------------------------------- a process exits in the middle of a scan batch

test('v3 (003 __ksm_exit, scan_get_next_rmap_item): a process exits while ksmd\'s cursor sits on its mm_slot; the next batch frees all its rmap_items without using budget', (t) => {
  const w = v3World();
  const [a, b, c] = guests(w, ['a', 'b', 'c']);
  scans(t, w, 4, 100, 'pass');
  const ksm = m2632(w);
  t.deepEqual([ksm.pagesShared, ksm.pagesSharing], [1, 3 * N - 1]);
  // Into the middle of b: a batch of 1 leaves the cursor after b's first page.
  cursorTo(t, w, b.wp);
  w.exit(b.wp);
  clean(t, w, 'right after exit');
  t.true(ksm.slots.has(b.wp.p.mm.id), '__ksm_exit leaves the slot under the cursor to ksmd');
  t.is(ksm.pagesSharing, 3 * N - 1, 'counters unchanged until ksmd gets there');
  const scanned = ksm.stats.pagesScanned;
  w.scan(1);
  clean(t, w, 'next batch');
  t.false(ksm.slots.has(b.wp.p.mm.id), 'the exited mm\'s slot is freed');
  t.is(ksm.stats.pagesScanned - scanned, 1, 'the cleanup took no budget: one page of the next mm was scanned');
  scans(t, w, 3, 100, 'pass after');
  t.deepEqual([ksm.pagesShared, ksm.pagesSharing], [1, 2 * N - 1]);
  t.true(isKsm(w, a.wp, a.addr) && isKsm(w, c.wp, c.addr));
});

test('v3 (003 __ksm_exit): a process whose slot the cursor is not on is moved just after the cursor, and cleaned up at the start of the next batch', (t) => {
  const w = v3World();
  const [a, , c] = guests(w, ['a', 'b', 'c']);
  scans(t, w, 4, 100, 'pass');
  cursorTo(t, w, a.wp);
  w.exit(c.wp);
  clean(t, w, 'after exit');
  const slots = m2632(w).slotList().map((s) => s.mm?.id);
  t.is(slots[1], c.wp.p.mm.id, 'list_move: right after the cursor\'s slot');
  scans(t, w, 3, 100, 'after');
  t.false(m2632(w).slots.has(c.wp.p.mm.id));
  t.deepEqual([m2632(w).pagesShared, m2632(w).pagesSharing], [1, 2 * N - 1]);
});

test('v3 (003 try_to_merge_two_pages, try_to_merge_with_ksm_page): the unstable-tree partner exits between the two replace_page calls; ksm_test_exit gives -EFAULT and break_cow undoes the first', (t) => {
  const w = v3World();
  const X = w.poolContent(7);
  const [a, b] = ['a', 'b'].map((n) => {
    const wp = w.spawn(n);
    const addr = w.mmap(wp, 1);
    w.writePage(wp, addr, X);
    w.register(wp, addr, PAGE_SIZE);
    return { wp, addr };
  });
  let exited: WorldProc | null = null;
  w.onMergeWindow = (e, world) => {
    if (exited || e.window !== 'compared') return;
    // ksmd holds mm1's mmap_sem, not the partner's: the partner may exit now.
    exited = world.owner(e.vma.mm) === a.wp ? b.wp : a.wp;
    world.exit(exited);
  };
  scans(t, w, 6, 10, 'scan');
  t.truthy(exited);
  const survivor = exited === a.wp ? b : a;
  t.false(isKsm(w, survivor.wp, survivor.addr), 'break_cow gave the first page a private copy again');
  t.is(w.memory.readPage(survivor.wp.p.mm, survivor.addr), X);
  t.is(m2632(w).pagesShared, 0);
  t.is(m2632(w).stats.merges, 0);
});

test('v2 (000 ksm_register_memory: get_task_mm): a registered process that exits mid-batch keeps its mm pinned; its frozen pages go on merging', (t) => {
  const w = v2World();
  const [a, b] = guests(w, ['a', 'b']);
  cursorTo(t, w, b.wp);
  w.exit(b.wp);
  clean(t, w, 'after exit');
  t.is(b.wp.p.mm.users, 1, 'the slot\'s reference keeps the address space');
  scans(t, w, 24, 3, 'scan');
  t.true(anyKsm(w, a.wp, a.addr));
  t.true(anyKsm(w, b.wp, b.addr), 'the exited b\'s pages merged too');
});

for (const abi of ['2008', '2009'] as const) {
  test(`v1 ${abi} (${abi === '2008' ? '001' : '002'} ksm_sma_release, scan_update_old_index): a process exits during a batch; its SMA file is released once the batch drops slots_lock, and the cursor restarts at the first slot`, (t) => {
    const w = v1World(abi);
    const [a, b, c] = guests(w, ['a', 'b', 'c']);
    scans(t, w, 8, 5, 'scan');
    cursorTo(t, w, b.wp);
    // exit_mm: the task's reference goes; the slot's get_task_mm reference keeps the mm.
    // exit_files: ksm_sma_release takes slots_lock for writing, after ksm_scan_start's read side.
    w.exit(b.wp);
    clean(t, w, 'after exit');
    t.is(b.wp.p.mm.exiting, true, 'its slots are gone with the SMA: nothing pins the mm any more');
    w.scan(1);
    clean(t, w, 'next batch');
    t.not(w.cursorMm(), b.wp.p.mm);
    scans(t, w, 12, 5, 'scan after');
    t.is(w.memory.readPage(a.wp.p.mm, a.addr), w.memory.readPage(c.wp.p.mm, c.addr));
  });
}

// ---------------------------------------------------------------- a region is unregistered while the cursor sits in it

test('v3 (003 ksm_madvise, unmerge_ksm_pages, get_next_rmap_item): MADV_UNMERGEABLE of the VMA the cursor is in; counters stay until ksmd passes, then drop', (t) => {
  const w = v3World();
  const [a, b] = guests(w, ['a', 'b']);
  scans(t, w, 4, 100, 'pass');
  cursorTo(t, w, b.wp);
  t.true(m2632(w).scan.address > b.addr && m2632(w).scan.address < b.addr + N * PAGE_SIZE, 'the cursor is inside b\'s region');
  t.is(w.unregister(b.wp, b.addr, N * PAGE_SIZE), 0);
  clean(t, w, 'after MADV_UNMERGEABLE');
  for (let i = 0; i < N; i++) t.false(isKsm(w, b.wp, b.addr + i * PAGE_SIZE), 'break_ksm gave every page a private copy');
  t.is(m2632(w).pagesSharing, 2 * N - 1, 'the counters wait for ksmd');
  scans(t, w, 3, 100, 'pass after');
  t.deepEqual([m2632(w).pagesShared, m2632(w).pagesSharing, m2632(w).rmapItems], [1, N - 1, N]);
  t.true(isKsm(w, a.wp, a.addr));
});

test('v3 (003 scan_get_next_rmap_item, remove_trailing_rmap_items): munmap of the region under the cursor', (t) => {
  const w = v3World();
  const [, b] = guests(w, ['a', 'b']);
  scans(t, w, 4, 100, 'pass');
  cursorTo(t, w, b.wp);
  t.is(w.munmap(b.wp, b.addr, N), 0);
  clean(t, w, 'after munmap');
  scans(t, w, 3, 100, 'pass after');
  t.is(m2632(w).pagesShared + m2632(w).pagesSharing, N, 'only a\'s pages are tracked (shared or unshared by ksmd)');
});

test('v1 2009 (002 ksm_sma_ioctl_remove_memory_region, remove_mm_from_hash_and_tree, scan_update_old_index): KSM_REMOVE_MEMORY_REGION of the slot the kthread cursor is in', (t) => {
  const w = v1World('2009');
  const [a, b] = guests(w, ['a', 'b', 'c']);
  scans(t, w, 10, 5, 'scan');
  const tree = tree2009(w);
  cursorTo(t, w, b.wp);
  const gen = tree.unstableGen;
  t.is(w.unregister(b.wp, b.addr, N * PAGE_SIZE), 0);
  clean(t, w, 'after remove');
  t.true(tree.unstableGen > gen, 'the unstable tree was flushed for everybody');
  t.true(isKsm(w, b.wp, b.addr), 'removal unmerges nothing: b still maps the KSM page read-only');
  w.scan(1);
  clean(t, w, 'next batch');
  t.is(w.cursorMm(), a.wp.p.mm, 'scan_update_old_index: the cursor\'s slot is gone, it restarts at the first slot');
  // b writes: copy-on-write, and nobody else sees it.
  t.is(w.writePage(b.wp, b.addr, w.poolContent(9)), 0);
  scans(t, w, 10, 5, 'scan after');
});

test('v1 2008 (001 ksm_sma_ioctl_remove_memory_region, remove_mm_from_hash, scan_update_old_index): KSM_REMOVE_MEMORY_REGION of the slot the SCAN fd\'s cursor is in', (t) => {
  const w = v1World('2008');
  const [a, b] = guests(w, ['a', 'b', 'c']);
  scans(t, w, 6, 5, 'scan');
  cursorTo(t, w, b.wp);
  t.is(w.unregister(b.wp, b.addr, N * PAGE_SIZE), 0);
  clean(t, w, 'after remove');
  t.is(hash2008(w).pageHashEntries().filter((e) => e.mm === b.wp.p.mm.id).length, 0, 'b\'s hash entries are gone');
  w.scan(1);
  clean(t, w, 'next batch');
  t.is(w.cursorMm(), a.wp.p.mm);
  scans(t, w, 6, 5, 'scan after');
});

test('v2 (000 ksm_scan_start, is_present_pte): no unregistration exists (EINVAL); munmap under the cursor leaves a slot whose pages are skipped', (t) => {
  const w = v2World();
  const [, b] = guests(w, ['a', 'b']);
  cursorTo(t, w, b.wp);
  t.is(w.unregister(b.wp, b.addr, N * PAGE_SIZE), -22);
  t.is(w.munmap(b.wp, b.addr, N), 0);
  clean(t, w, 'after munmap');
  scans(t, w, 12, 3, 'scan');
  t.is(tree2009(w).slots.length, 2, 'the slot stays');
});

// ---------------------------------------------------------------- a forked child closes an inherited SMA fd

for (const abi of ['2008', '2009'] as const) {
  test(`v1 ${abi} (${abi === '2008' ? '001' : '002'} ksm_sma_release on the last fput only): a forked child closes its copy of the SMA fd; the parent's regions stay registered until the parent's close`, (t) => {
    const w = v1World(abi);
    const [a, b] = guests(w, ['a', 'b']);
    const child = w.fork(a.wp);
    if (typeof child === 'number') return t.fail();
    t.is(w.adapter.closeRegistrationFd(child.p), 0);
    clean(t, w, 'after the child\'s close');
    scans(t, w, 12, 5, 'scan');
    t.true(anyKsm(w, a.wp, a.addr) && anyKsm(w, b.wp, b.addr), 'still registered: they merged');
    t.is(w.memory.readPage(child.p.mm, a.addr), w.poolContent(7), 'the child reads the same page');
    const slots = () => (abi === '2008' ? hash2008(w).slots.length : tree2009(w).slots.length);
    t.is(slots(), 2);
    t.is(w.adapter.closeRegistrationFd(a.wp.p), 0);
    clean(t, w, 'after the parent\'s close');
    t.is(slots(), 1, 'the last reference released the SMA: its slots are removed');
    t.true(isKsm(w, a.wp, a.addr), 'merged pages stay merged until written');
    t.is(w.writePage(a.wp, a.addr, w.poolContent(9)), 0);
    scans(t, w, 6, 5, 'scan after');
  });

  test(`v1 ${abi} (${abi === '2008' ? '001' : '002'} ksm_sma_release): the parent exits while a forked child holds the SMA fd; the slot's mm reference keeps the parent's pages scanned`, (t) => {
    const w = v1World(abi);
    const [a, b] = guests(w, ['a', 'b']);
    const child = w.fork(a.wp);
    if (typeof child === 'number') return t.fail();
    const mm = a.wp.p.mm;
    w.exit(a.wp);
    clean(t, w, 'after the parent\'s exit');
    t.false(mm.exiting, 'get_task_mm\'s reference pins the exited parent\'s address space');
    scans(t, w, 12, 5, 'scan');
    t.true(isKsm(w, b.wp, b.addr));
    w.exit(child);
    clean(t, w, 'after the child\'s exit: last fput');
    t.true(mm.exiting);
  });
}

// ---------------------------------------------------------------- run=2 in the middle of a pass

test('v3 (003 run_store, unmerge_and_remove_all_rmap_items): run=2 in the middle of a pass unmerges everything, zeroes the counters and full_scans; run=1 starts over', (t) => {
  const w = v3World();
  const [a, b, c] = guests(w, ['a', 'b', 'c']);
  scans(t, w, 4, 100, 'pass');
  cursorTo(t, w, b.wp);
  w.scan(2);
  t.is(w.adapter.writeSysfs('run', '2\n'), 2);
  clean(t, w, 'after run=2');
  const ksm = m2632(w);
  t.deepEqual([ksm.pagesShared, ksm.pagesSharing, ksm.pagesUnshared, ksm.rmapItems, ksm.scan.seqnr], [0, 0, 0, 0, 0]);
  for (const g of [a, b, c]) for (let i = 0; i < N; i++) t.false(isKsm(w, g.wp, g.addr + i * PAGE_SIZE));
  t.is(ksm.scan.mmSlot, ksm.mmHead, 'the cursor is at the list head');
  t.is(ksm.slots.size, 3, 'the mm_slots stay registered');
  t.is(w.adapter.writeSysfs('run', '2\n'), 2, 'writing the current value again is a no-op');
  t.is(w.adapter.writeSysfs('run', '1\n'), 2);
  w.sleep(200);
  clean(t, w, 'after run=1 and 200 ms');
  t.deepEqual([ksm.pagesShared, ksm.pagesSharing], [1, 3 * N - 1]);
});

test('v3 (003 unmerge_and_remove_all_rmap_items): run=2 while an exited process waits for ksmd frees its slot', (t) => {
  const w = v3World();
  const [a, b] = guests(w, ['a', 'b', 'c']);
  scans(t, w, 4, 100, 'pass');
  cursorTo(t, w, a.wp);
  w.exit(b.wp);
  t.true(m2632(w).slots.has(b.wp.p.mm.id));
  t.is(w.adapter.writeSysfs('run', '2\n'), 2);
  clean(t, w, 'after run=2');
  t.false(m2632(w).slots.has(b.wp.p.mm.id));
});

test('v2 (000 run_store): 2 written to run in the middle of a pass is stored whole; kksmd stops (bit 0 clear) and nothing is undone', (t) => {
  const w = v2World();
  const [a, b] = guests(w, ['a', 'b']);
  t.is(w.adapter.writeSysfs('pages_to_scan', '3\n'), 2);
  t.is(w.adapter.writeSysfs('run', '1\n'), 2);
  w.sleep(10);
  cursorTo(t, w, b.wp);
  const before = tree2009(w).ksmMappings();
  t.is(w.adapter.writeSysfs('run', '2\n'), 2);
  t.is(w.adapter.readSysfs('run'), '2\n');
  const pos = tree2009(w).positions;
  w.sleep(100);
  clean(t, w, 'after run=2');
  t.is(tree2009(w).positions, pos, 'kksmd does not scan');
  t.deepEqual(tree2009(w).ksmMappings(), before, 'merged pages stay merged');
  t.true(anyKsm(w, a.wp, a.addr));
});

// ---------------------------------------------------------------- a KSM page's last sharer goes away

test('v3 (003 ksm_do_scan: page_mapcount == 1, break_cow, remove_rmap_item_from_tree): the other sharer exits; the lone KSM page is unshared', (t) => {
  const w = v3World();
  const X = w.poolContent(7);
  const [a, b] = ['a', 'b'].map((n) => {
    const wp = w.spawn(n);
    const addr = w.mmap(wp, 1);
    w.writePage(wp, addr, X);
    w.register(wp, addr, PAGE_SIZE);
    return { wp, addr };
  });
  scans(t, w, 4, 100, 'pass');
  t.true(isKsm(w, a.wp, a.addr));
  w.exit(b.wp);
  scans(t, w, 4, 100, 'after exit');
  t.false(isKsm(w, a.wp, a.addr), 'a has an ordinary page again');
  t.deepEqual([m2632(w).pagesShared, m2632(w).pagesSharing], [0, 0]);
});

test('v3 (003 stable_tree_search, get_ksm_page): every mapping of a KSM page goes; its stale stable node is pruned when a page of the same content is looked up', (t) => {
  const w = v3World();
  const [a, b] = guests(w, ['a', 'b']);
  scans(t, w, 4, 100, 'pass');
  w.munmap(a.wp, a.addr, N);
  w.munmap(b.wp, b.addr, N);
  clean(t, w, 'after both munmaps');
  const c = guests(w, ['c'])[0];
  scans(t, w, 4, 100, 'pass after');
  t.true(m2632(w).pagesShared <= 1);
  t.is(w.memory.readPage(c.wp.p.mm, c.addr), w.poolContent(7));
});

for (const make of [() => v2World(), () => v1World('2009'), () => v1World('2008')]) {
  const probe = make();
  const seedFn =
    probe.era.id === 'v1:2008'
      ? '001 cmp_and_merge_page, page_hash entries of a freed page'
      : `${probe.era.id === 'v2' ? '000' : '002'} stable_tree_search, is_zapped_item, remove_rmap_item_from_tree`;
  test(`${probe.era.id} (${seedFn}): every mapping of a KSM page goes; later scans prune what pointed at it`, (t) => {
    const w = make();
    const [a, b] = guests(w, ['a', 'b']);
    scans(t, w, 12, 5, 'scan');
    t.true(isKsm(w, a.wp, a.addr));
    w.munmap(a.wp, a.addr, N);
    w.munmap(b.wp, b.addr, N);
    clean(t, w, 'after both munmaps');
    const c = guests(w, ['c'])[0];
    scans(t, w, 12, 5, 'scan after');
    t.is(w.memory.readPage(c.wp.p.mm, c.addr), w.poolContent(7));
  });
}

test('v1 2009 (002 ksm_dev_ioctl_start_stop_kthread): KSM_START_STOP_KTHREAD with the run bit clear in the middle of a pass stops kksmd after its batch; nothing is undone', (t) => {
  const w = v1World('2009');
  const [a, b] = guests(w, ['a', 'b']);
  t.is(w.adapter.setKnobs({ run: true, pagesToScan: 3, sleepMicros: 1000 }), 0);
  w.sleep(30);
  clean(t, w, 'running');
  t.is(w.adapter.setKnobs({ run: false, pagesToScan: 3, sleepMicros: 1000 }), 0);
  const pos = tree2009(w).positions;
  const info = new h2009.ksm_kthread_info();
  const c = new Libc((w.adapter as V1Adapter).kernel, w.adapter.spawn('ksminfo'));
  t.is(c.ioctl(c.open(KSM_DEVICE_PATH, O_RDWR), h2009.KSM_GET_INFO_KTHREAD, info), 0);
  t.is(Number(info.values().flags), 0);
  w.sleep(100);
  clean(t, w, 'stopped');
  t.is(tree2009(w).positions, pos);
  t.is(w.memory.readPage(a.wp.p.mm, a.addr), w.memory.readPage(b.wp.p.mm, b.addr));
});
