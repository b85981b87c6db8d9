/**
 * madvise(2) in the MADV_SHAREABLE era: sys_madvise of 2.6.29 with seed
 * 000's madvise_shareable -> ksm_register_memory, and what it does not check.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, VM_DONTCOPY } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import {
  MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, MADV_NORMAL, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_SHAREABLE,
  MADV_UNSHAREABLE, MADV_WILLNEED,
} from '../../src/v2-madvise/constants.js';
import { V2Kernel } from '../../src/v2-madvise/kernel.js';
import { internPage } from '../../src/workload/fill.js';
import { problems, seed, state, world } from '../helpers/v2.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function setup(pages = 4) {
  const k = new V2Kernel();
  const p = k.spawn('p');
  const addr = k.mmap(p, 0, pages * PAGE_SIZE, RW, ANON);
  return { k, p, addr };
}

const slots = (k: V2Kernel) => k.ksm.slots.map((s) => [s.addr, s.npages]);

const errnoCase = test.macro({
  exec(t, make: (addr: number) => [number, number, number], expected: number, slotsAfter?: number) {
    const { k, p, addr } = setup();
    const [a, len, advice] = make(addr);
    t.is(k.madvise(p, a, len, advice), expected);
    if (slotsAfter !== undefined) t.is(k.ksm.slots.length, slotsAfter);
  },
  title: (given) => `madvise ${given}`,
});

test('MADV_SHAREABLE over one mapping registers it: 0', errnoCase, (a) => [a, 4 * PAGE_SIZE, MADV_SHAREABLE], 0, 1);
test('unaligned start is EINVAL', errnoCase, (a) => [a + 1, PAGE_SIZE, MADV_SHAREABLE], -ERRNO.EINVAL, 0);
test('a length of 0 succeeds and registers nothing', errnoCase, (a) => [a, 0, MADV_SHAREABLE], 0, 0);
test('an unaligned length is rounded up', errnoCase, (a) => [a, 1, MADV_SHAREABLE], 0, 1);
test('a length that wraps the address space is EINVAL', errnoCase, (a) => [a, -PAGE_SIZE, MADV_SHAREABLE], -ERRNO.EINVAL, 0);
test('a length rounded up from small -ve to zero is EINVAL', errnoCase, (a) => [a, -1, MADV_SHAREABLE], -ERRNO.EINVAL, 0);
test('a range running past the mapping is ENOMEM, after registering the mapped part', errnoCase, (a) => [a, 8 * PAGE_SIZE, MADV_SHAREABLE], -ERRNO.ENOMEM, 1);
test('a range starting in a hole is ENOMEM, after registering the mapped part', errnoCase, (a) => [a - 2 * PAGE_SIZE, 4 * PAGE_SIZE, MADV_SHAREABLE], -ERRNO.ENOMEM, 1);
test('a range with no mapping at all is ENOMEM', errnoCase, () => [0x10000, PAGE_SIZE, MADV_SHAREABLE], -ERRNO.ENOMEM, 0);
test('MADV_UNSHAREABLE (13, never defined by the patch) is EINVAL from madvise_vma\'s default', errnoCase, (a) => [a, PAGE_SIZE, MADV_UNSHAREABLE], -ERRNO.EINVAL, 0);
test('an advice value the kernel does not know is EINVAL', errnoCase, (a) => [a, PAGE_SIZE, 14], -ERRNO.EINVAL, 0);
test('a negative advice value is EINVAL', errnoCase, (a) => [a, PAGE_SIZE, -1], -ERRNO.EINVAL, 0);
test('MADV_HWPOISON (100, a later kernel\'s) is EINVAL', errnoCase, (a) => [a, PAGE_SIZE, 100], -ERRNO.EINVAL, 0);
test('an unknown advice on an unmapped range is ENOMEM: the walk comes first', errnoCase, () => [0x10000, PAGE_SIZE, 13], -ERRNO.ENOMEM, 0);
test('an unknown advice with a length of 0 succeeds: nothing reaches madvise_vma', errnoCase, (a) => [a, 0, 13], 0, 0);
test('an unknown advice on an unaligned start is EINVAL', errnoCase, (a) => [a + 8, PAGE_SIZE, 13], -ERRNO.EINVAL, 0);
test('MADV_WILLNEED on anonymous memory is EBADF (no file)', errnoCase, (a) => [a, PAGE_SIZE, MADV_WILLNEED], -ERRNO.EBADF, 0);
test('MADV_REMOVE on private anonymous memory is EINVAL (no file)', errnoCase, (a) => [a, PAGE_SIZE, MADV_REMOVE], -ERRNO.EINVAL, 0);
test('MADV_DONTNEED succeeds', errnoCase, (a) => [a, PAGE_SIZE, MADV_DONTNEED], 0, 0);
test('MADV_NORMAL succeeds', errnoCase, (a) => [a, PAGE_SIZE, MADV_NORMAL], 0, 0);
test('MADV_RANDOM succeeds', errnoCase, (a) => [a, PAGE_SIZE, MADV_RANDOM], 0, 0);
test('MADV_SEQUENTIAL succeeds', errnoCase, (a) => [a, PAGE_SIZE, MADV_SEQUENTIAL], 0, 0);
test('MADV_DOFORK succeeds', errnoCase, (a) => [a, PAGE_SIZE, MADV_DOFORK], 0, 0);
test('non-integer arguments no C program could pass are EINVAL', errnoCase, (a) => [a + 0.5, PAGE_SIZE, MADV_SHAREABLE], -ERRNO.EINVAL, 0);

test('ksm_register_memory: one slot (mm, start, npages) per call, no VMA flag, one mm reference per slot', (t) => {
  const { k, p, addr } = setup(4);
  const flags = p.mm.vmas[0].flags;
  t.is(k.madvise(p, addr + PAGE_SIZE, 2 * PAGE_SIZE, MADV_SHAREABLE), 0);
  t.deepEqual(slots(k), [[addr + PAGE_SIZE, 2]]);
  t.is(k.ksm.slots[0].mm, p.mm);
  // No split, no flag: the registration is a plain address range.
  t.is(p.mm.vmas.length, 1);
  t.is(p.mm.vmas[0].flags, flags);
  t.is(p.mm.users, 2);
  // No de-duplication: the same range again is a second slot.
  t.is(k.madvise(p, addr + PAGE_SIZE, 2 * PAGE_SIZE, MADV_SHAREABLE), 0);
  t.deepEqual(slots(k), [[addr + PAGE_SIZE, 2], [addr + PAGE_SIZE, 2]]);
  t.is(p.mm.users, 3);
});

test('no VMA checks: read-only and shared mappings are registered (the scanner later skips non-anonymous pages)', (t) => {
  const k = new V2Kernel();
  const p = k.spawn('p');
  const ro = k.mmap(p, 0, 2 * PAGE_SIZE, PROT_READ, ANON);
  const sh = k.mmap(p, 0, 2 * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS);
  t.is(k.madvise(p, ro, 2 * PAGE_SIZE, MADV_SHAREABLE), 0);
  t.is(k.madvise(p, sh, 2 * PAGE_SIZE, MADV_SHAREABLE), 0);
  t.is(k.ksm.slots.length, 2);
});

test('a range over two mappings from the first VMA of the mm: one slot per mapping, then ENOMEM for the hole between', (t) => {
  const k = new V2Kernel();
  const p = k.spawn('p');
  const a = k.mmap(p, 0, 2 * PAGE_SIZE, RW, ANON);
  const b = k.mmap(p, 0, 3 * PAGE_SIZE, RW, ANON);
  t.true(b > a + 2 * PAGE_SIZE); // a guard page lies between
  // find_vma_prev gives no prev for the first VMA, so the walk goes on with
  // find_vma(start): it works although madvise_shareable never sets *prev.
  t.is(k.madvise(p, a, b + 3 * PAGE_SIZE - a, MADV_SHAREABLE), -ERRNO.ENOMEM);
  t.deepEqual(slots(k), [[a, 2], [b, 3]]);
});

test('adjacent private mappings with equal flags are one VMA in that kernel (vma_merge): one slot', (t) => {
  const k = new V2Kernel();
  const p = k.spawn('p');
  const a = k.mmap(p, 0, 2 * PAGE_SIZE, RW, ANON);
  const b = k.mmap(p, 0, 2 * PAGE_SIZE, RW, ANON);
  t.is(k.mmap(p, b + 2 * PAGE_SIZE, 2 * PAGE_SIZE, RW, ANON | MAP_FIXED), b + 2 * PAGE_SIZE);
  t.is(k.madvise(p, b, 4 * PAGE_SIZE, MADV_SHAREABLE), 0);
  t.deepEqual(slots(k), [[b, 4]]);
  t.true(a < b);
});

test('madvise_shareable never updates *prev: a range from a later VMA past its end comes back to it, registering an empty slot, and fails', (t) => {
  const k = new V2Kernel();
  const p = k.spawn('p');
  k.mmap(p, 0, 2 * PAGE_SIZE, RW, ANON);
  const b = k.mmap(p, 0, 2 * PAGE_SIZE, RW, ANON);
  const c = k.mmap(p, 0, 2 * PAGE_SIZE, RW, ANON);
  // prev is the first VMA; after b, `vma = prev->vm_next` is b again with
  // start == b's end: madvise_vma(b, end, end) registers an empty slot, and
  // the kernel would do so until kzalloc fails.
  t.is(k.madvise(p, b, c + 2 * PAGE_SIZE - b, MADV_SHAREABLE), -ERRNO.ENOMEM);
  t.deepEqual(slots(k), [[b, 2], [b + 2 * PAGE_SIZE, 0]]);
  // Its cursor never leaves the empty slot: scanning runs away from there.
  k.ksm.ksmScanStart(100);
  t.is(k.ksm.scan.slotIndex, k.ksm.slots[1]);
  t.is(k.ksm.wraps, 0);
});

test('the other advice values do what that kernel did to private anonymous memory', (t) => {
  const { k, p, addr } = setup(4);
  k.memory.writePage(p.mm, addr, internPage(k.memory, seed(3)));
  t.is(k.madvise(p, addr, 2 * PAGE_SIZE, MADV_DONTFORK), 0);
  t.deepEqual(p.mm.vmas.map((v) => [(v.start - addr) / PAGE_SIZE, (v.flags & VM_DONTCOPY) !== 0]), [[0, true], [2, false]]);
  t.is(k.madvise(p, addr, 4 * PAGE_SIZE, MADV_DOFORK), 0);
  t.is(k.madvise(p, addr, PAGE_SIZE, MADV_DONTNEED), 0);
  t.is(k.memory.readPage(p.mm, addr), k.memory.zero);
});

test('MADV_REMOVE on a shared writable mapping drops its pages; on a read-only shared one it is EACCES', (t) => {
  const k = new V2Kernel();
  const p = k.spawn('p');
  const a = k.mmap(p, 0, PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS);
  const b = k.mmap(p, 0, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS);
  t.is(k.madvise(p, a, PAGE_SIZE, MADV_REMOVE), 0);
  t.is(k.madvise(p, b, PAGE_SIZE, MADV_REMOVE), -ERRNO.EACCES);
  t.is(k.madvise(p, a, PAGE_SIZE, MADV_WILLNEED), 0);
});

test('a process that exited cannot call madvise: ESRCH', (t) => {
  const { k, p, addr } = setup();
  k.exit(p);
  t.is(k.madvise(p, addr, PAGE_SIZE, MADV_SHAREABLE), -ERRNO.ESRCH);
});

test('registration pins the mm: an exited process keeps its pages, and they keep being scanned and merged', (t) => {
  const { k, procs } = world([[seed(1), seed(7), seed(7)], [seed(2), seed(7), seed(7)]]);
  k.exit(procs[1].p);
  t.is(procs[1].p.mm.vmas.length, 1);
  t.is(procs[1].p.mm.users, 1);
  k.writeSysfs('pages_to_scan', '100\n');
  k.writeSysfs('run', '1\n');
  k.sleep(1);
  // Both processes' Z pages merged: 4 mappings of one KSM page.
  t.like(state(k), { ksmPages: 1, ksmMappings: 4 });
  t.is(k.memory.readPage(procs[1].p.mm, procs[1].addr + PAGE_SIZE), k.memory.readPage(procs[0].p.mm, procs[0].addr + PAGE_SIZE));
  t.deepEqual(problems(k), []);
});

test('fork does not register the child; the parent\'s merges leave the child\'s copy alone', (t) => {
  const { k, procs } = world([[seed(7), seed(7)]]);
  const child = k.fork(procs[0].p);
  if (typeof child === 'number') return t.fail();
  t.is(k.ksm.slots.length, 1);
  k.writeSysfs('pages_to_scan', '100\n');
  k.writeSysfs('run', '1\n');
  k.sleep(1);
  t.like(state(k), { ksmPages: 1, ksmMappings: 2 });
  const cv = child.mm.vmas[0];
  t.false(k.memory.frames.isKsm(cv.frames[0]));
  t.is(k.memory.readPage(child.mm, procs[0].addr), k.memory.readPage(procs[0].p.mm, procs[0].addr));
  t.deepEqual(problems(k), []);
});
