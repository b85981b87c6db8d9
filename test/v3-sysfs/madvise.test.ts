/** madvise(2) in the MADV_MERGEABLE era: sys_madvise's checks and ksm_madvise's rules (seed 003). */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, VM_MERGEABLE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { MMF_VM_MERGEABLE } from '../../src/engine/memory/mm.js';
import { MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_WILLNEED } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { internPage } from '../../src/workload/fill.js';
import { counters, pass, problems, seed, world } from '../helpers/v3.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function setup(pages = 4) {
  const k = new V3Kernel();
  const p = k.spawn('p');
  const addr = k.mmap(p, 0, pages * PAGE_SIZE, RW, ANON);
  return { k, p, addr };
}

const errnoCase = test.macro({
  exec(t, make: (addr: number) => [number, number, number], expected: number) {
    const { k, p, addr } = setup();
    const [a, len, advice] = make(addr);
    t.is(k.madvise(p, a, len, advice), expected);
  },
  title: (given) => `madvise ${given}`,
});

test('unaligned start is EINVAL', errnoCase, (a) => [a + 1, PAGE_SIZE, MADV_MERGEABLE], -ERRNO.EINVAL);
test('an advice value the kernel does not know is EINVAL', errnoCase, (a) => [a, PAGE_SIZE, 14], -ERRNO.EINVAL);
test('MADV_HWPOISON (100) is EINVAL without CONFIG_MEMORY_FAILURE', errnoCase, (a) => [a, PAGE_SIZE, 100], -ERRNO.EINVAL);
test('a length of 0 succeeds and does nothing', errnoCase, (a) => [a, 0, MADV_MERGEABLE], 0);
test('a range running past the mapping is ENOMEM (after advising the mapped part)', errnoCase, (a) => [a, 8 * PAGE_SIZE, MADV_MERGEABLE], -ERRNO.ENOMEM);
test('a range with no mapping at all is ENOMEM', errnoCase, () => [0x10000, PAGE_SIZE, MADV_MERGEABLE], -ERRNO.ENOMEM);
test('an unaligned length is rounded up', errnoCase, (a) => [a, 1, MADV_MERGEABLE], 0);
test('a length that wraps the address space is EINVAL', errnoCase, (a) => [a, -PAGE_SIZE, MADV_MERGEABLE], -ERRNO.EINVAL);
test('MADV_WILLNEED on anonymous memory is EBADF (no file)', errnoCase, (a) => [a, PAGE_SIZE, MADV_WILLNEED], -ERRNO.EBADF);

test('MADV_MERGEABLE marks only the advised part of a VMA (split) and registers the mm once', (t) => {
  const { k, p, addr } = setup(4);
  t.is(k.madvise(p, addr + PAGE_SIZE, 2 * PAGE_SIZE, MADV_MERGEABLE), 0);
  t.deepEqual(p.mm.vmas.map((v) => [(v.start - addr) / PAGE_SIZE, v.pages, (v.flags & VM_MERGEABLE) !== 0]), [[0, 1, false], [1, 2, true], [3, 1, false]]);
  t.truthy(p.mm.flags & MMF_VM_MERGEABLE);
  t.is(k.madvise(p, addr, 4 * PAGE_SIZE, MADV_MERGEABLE), 0);
  t.is(k.ksm.slotList().length, 1);
});

test('MADV_MERGEABLE on a shared mapping is silently ignored', (t) => {
  const k = new V3Kernel();
  const p = k.spawn('p');
  const addr = k.mmap(p, 0, 2 * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS);
  t.is(k.madvise(p, addr, 2 * PAGE_SIZE, MADV_MERGEABLE), 0);
  t.is(p.mm.vmas[0].flags & VM_MERGEABLE, 0);
  t.is(k.ksm.slotList().length, 0);
});

test('MADV_UNMERGEABLE breaks COW in the caller only, and leaves the counters to ksmd', (t) => {
  const { k, procs } = world([[seed(7), seed(7)], [seed(7), seed(7)]]);
  pass(k);
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 3, unshared: 0, volatile: 0, fullScans: 2 });
  const [a, b] = procs;
  t.is(k.madvise(a.p, a.addr, 2 * PAGE_SIZE, MADV_UNMERGEABLE), 0);
  const f = (pp: typeof a, i: number) => pp.p.mm.vmas[0].frames[i];
  t.false(k.memory.frames.isKsm(f(a, 0)));
  t.false(k.memory.frames.isKsm(f(a, 1)));
  t.true(k.memory.frames.isKsm(f(b, 0)));
  // The comment above unmerge_ksm_pages: removing rmap_items is left to ksmd.
  t.deepEqual(counters(k), { shared: 1, sharing: 3, unshared: 0, volatile: 0, fullScans: 2 });
  pass(k);
  // P1 has no VM_MERGEABLE VMA left: its items go and its slot is freed.
  t.is(k.ksm.slotList().length, 1);
  t.is(counters(k).shared + counters(k).sharing, 2);
  t.deepEqual(problems(k), []);
  // Contents are untouched by all of this.
  t.is(k.memory.readPage(a.p.mm, a.addr), internPageOnce(k, 7));
});

function internPageOnce(k: V3Kernel, s: number): number {
  const id = internPage(k.memory, seed(s));
  k.memory.contents.unref(id);
  return id;
}

test('MADV_DONTNEED drops the pages: they read back as zero', (t) => {
  const { k, p, addr } = setup(2);
  k.memory.writePage(p.mm, addr, internPage(k.memory, seed(3)));
  t.is(k.madvise(p, addr, 2 * PAGE_SIZE, MADV_DONTNEED), 0);
  t.is(k.memory.readPage(p.mm, addr), k.memory.zero);
  t.deepEqual(problems(k), []);
});

test('fork of a registered mm registers the child (ksm_fork) behind the cursor', (t) => {
  const { k, procs } = world([[seed(7), seed(8)]]);
  pass(k);
  const child = k.fork(procs[0].p);
  if (typeof child === 'number') return t.fail();
  t.is(k.ksm.slotList().length, 2);
  t.truthy(child.mm.flags & MMF_VM_MERGEABLE);
  // Parent and child share the frames copy-on-write: nothing to merge, and
  // unstable_tree_search_insert refuses a page equal to itself (forked).
  pass(k);
  pass(k);
  t.is(counters(k).shared, 0);
  t.deepEqual(problems(k), []);
});
