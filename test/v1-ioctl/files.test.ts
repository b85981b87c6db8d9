/**
 * File descriptors and file lifetimes: the lowest free number first, dup and
 * fork sharing one struct file, the device node's permission bits, and the
 * seeds' release behaviour: an SMA's regions stay registered while any copy
 * of its fd is open, in any process (the lifetime problem of the 002 review
 * thread, Anthony Liguori #22, Chris Wright #21), and go when the last copy
 * closes.
 */
import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { FIOCLEX, FIONCLEX, KSM_DEVICE_PATH, O_CLOEXEC, O_RDONLY, O_RDWR, O_WRONLY } from '../../src/v1-ioctl/constants.js';
import { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import { Libc } from '../../src/v1-ioctl/libc.js';
import { h2008, ksmScan, problems, proc, register, scanner, seed, world, zero } from '../helpers/v1.js';

test('open returns the lowest free descriptor, and so do the anon fds', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const c = new Libc(k, k.spawn('a'));
  t.is(c.open(KSM_DEVICE_PATH, O_RDWR), 0);
  t.is(c.open(KSM_DEVICE_PATH, O_RDWR), 1);
  t.is(c.ioctl(0, h2008.KSM_CREATE_SHARED_MEMORY_AREA), 2);
  t.is(c.close(0), 0);
  t.is(c.ioctl(1, h2008.KSM_CREATE_SCAN), 0);
  t.is(c.dup(1), 3);
  t.is(c.dup2(1, 7), 7);
  t.is(c.open(KSM_DEVICE_PATH, O_RDONLY), 4);
  t.deepEqual(k.fdTable(c.proc).entries().map((e) => [e.fd, e.file.path]), [
    [0, 'anon_inode:ksm-scan'],
    [1, KSM_DEVICE_PATH],
    [2, 'anon_inode:ksm-sma'],
    [3, KSM_DEVICE_PATH],
    [4, KSM_DEVICE_PATH],
    [7, KSM_DEVICE_PATH],
  ]);
});

test('a process runs out of descriptors at RLIMIT_NOFILE: open and anon_inode_getfd fail with EMFILE', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const c = new Libc(k, k.spawn('a'));
  k.fdTable(c.proc).limit = 3;
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  t.is(c.ioctl(dev, h2008.KSM_CREATE_SHARED_MEMORY_AREA), 1);
  t.is(c.ioctl(dev, h2008.KSM_CREATE_SCAN), 2);
  t.is(c.ioctl(dev, h2008.KSM_CREATE_SHARED_MEMORY_AREA), -1);
  t.is(c.errno, ERRNO.EMFILE);
  t.is(c.open(KSM_DEVICE_PATH, O_RDWR), -1);
  t.is(c.errno, ERRNO.EMFILE);
  t.is(c.dup(0), -1);
  t.is(c.errno, ERRNO.EMFILE);
});

const perm = test.macro<[uid: number, gid: number, node: { uid: number; gid: number; mode: number }, flags: number, ok: boolean]>({
  exec(t, uid, gid, node, flags, ok) {
    const k = new V1Kernel({ abi: '2008', deviceNode: node });
    const c = new Libc(k, k.spawn('a', uid, gid));
    const fd = c.open(KSM_DEVICE_PATH, flags);
    if (ok) t.is(fd, 0);
    else {
      t.is(fd, -1);
      t.is(c.errno, ERRNO.EACCES);
    }
  },
  title: (_p, uid, gid, node, flags, ok) =>
    `uid ${uid} gid ${gid} ${ok ? 'may' : 'may not'} open ${node.uid}:${node.gid} 0${node.mode.toString(8)} with access mode ${flags & 3}`,
});

test(perm, 0, 0, { uid: 0, gid: 0, mode: 0o660 }, O_RDWR, true);
test(perm, 0, 0, { uid: 0, gid: 0, mode: 0o000 }, O_RDWR, true); // root: CAP_DAC_OVERRIDE
test(perm, 1000, 1000, { uid: 0, gid: 0, mode: 0o660 }, O_RDWR, false);
test(perm, 1000, 1000, { uid: 0, gid: 0, mode: 0o660 }, O_RDONLY, false);
test(perm, 1000, 1000, { uid: 0, gid: 0, mode: 0o664 }, O_RDONLY, true);
test(perm, 1000, 1000, { uid: 0, gid: 0, mode: 0o664 }, O_RDWR, false);
test(perm, 1000, 36, { uid: 0, gid: 36, mode: 0o660 }, O_RDWR, true); // a kvm-style group
test(perm, 1000, 1000, { uid: 1000, gid: 0, mode: 0o600 }, O_RDWR, true);
test(perm, 1000, 1000, { uid: 1000, gid: 0, mode: 0o200 }, O_WRONLY, true);
test(perm, 1000, 1000, { uid: 1000, gid: 0, mode: 0o200 }, 3, false); // mode 3 asks for read and write
test(perm, 1000, 1000, { uid: 1000, gid: 0, mode: 0o066 }, O_RDONLY, false); // the owner's bits decide for the owner

test('only /dev/ksm exists', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const c = new Libc(k, k.spawn('a'));
  t.is(c.open('/dev/kvm', O_RDWR), -1);
  t.is(c.errno, ERRNO.ENOENT);
});

test('the seeds never set close-on-exec; O_CLOEXEC and FIOCLEX do', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const c = new Libc(k, k.spawn('a'));
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
  const sma = c.ioctl(dev, h2008.KSM_CREATE_SHARED_MEMORY_AREA);
  const table = k.fdTable(c.proc);
  t.true(table.cloexec(dev));
  t.false(table.cloexec(sma));
  t.is(c.ioctl(sma, FIOCLEX), 0);
  t.true(table.cloexec(sma));
  t.is(c.ioctl(sma, FIONCLEX), 0);
  t.false(table.cloexec(sma));
  t.false(table.cloexec(c.dup(dev))); // dup clears it
});

test('closing the /dev/ksm fd changes nothing: the SMA and SCAN fds stay valid', (t) => {
  const { k, procs } = world([[seed(1), seed(1)]]);
  const p = procs[0];
  const scanFd = p.c.ioctl(p.dev, h2008.KSM_CREATE_SCAN);
  t.is(p.c.close(p.dev), 0);
  t.is(k.ksm2008!.slots.length, 1);
  t.is(ksmScan({ c: p.c, fd: scanFd }, 4), 0);
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 1, pagesSharing: 1 });
  t.is(p.c.ioctl(p.sma, h2008.KSM_REMOVE_MEMORY_REGION), 0);
  t.is(k.ksm2008!.slots.length, 0);
});

test('a region registered through an SMA fd stays registered while any copy of the fd is open', (t) => {
  const { k, procs } = world([[seed(1)]]);
  const p = procs[0];
  const copy = p.c.dup(p.sma);
  t.is(p.c.close(p.sma), 0);
  t.is(k.ksm2008!.slots.length, 1, 'dup keeps the file');
  t.is(p.c.close(copy), 0);
  t.is(k.ksm2008!.slots.length, 0, 'the last close releases it');
});

test('fork: the child inherits the SMA fd, and the parent\'s memory is scanned and merged after the parent exits', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const a = proc(k, 'a', [seed(1), seed(2), seed(1)]);
  register(a);
  const child = a.c.fork()!;
  const mm = a.c.proc.mm;
  // The child no longer needs the memory itself; it only keeps the fd.
  child.munmap(a.addr, 3 * PAGE_SIZE);
  a.c.exit(0);
  t.true(a.c.proc.exited);
  t.is(mm.users, 1, 'the slot\'s get_task_mm reference keeps the address space');
  t.is(mm.vmas.length > 0, true);
  const s = scanner(k);
  ksmScan(s, 10);
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 1, pagesSharing: 1 }, 'the exited parent\'s two seed-1 pages merged');
  // The last copy closes (the child exits): the slot goes, the mm with it.
  child.exit(0);
  t.is(k.ksm2008!.slots.length, 0);
  t.is(mm.users, 0);
  t.is(mm.vmas.length, 0);
  t.deepEqual(problems(k), []);
});

test('exit closes every fd: the SMA is released, its slots and hash entries removed; merged pages stay merged', (t) => {
  const { k, procs } = world([[seed(1), seed(2)], [seed(1), seed(3)]]);
  const s = scanner(k);
  ksmScan(s, 8);
  const ksm = k.ksm2008!;
  t.deepEqual(ksm.derivedCounters(), { pagesShared: 1, pagesSharing: 1 });
  t.true(ksm.hashEntryCount > 0);
  // Process 1 leaves through REMOVE: its pages stay merged (no unmerge in the seed).
  t.is(procs[0].c.ioctl(procs[0].sma, h2008.KSM_REMOVE_MEMORY_REGION), 0);
  t.is(ksm.slots.length, 1);
  t.true(ksm.pageHashEntries().every((e) => e.mm !== procs[0].c.proc.mm.id));
  t.is(k.memory.frames.isKsm(k.memory.mmById[procs[0].c.proc.mm.id].vmas[0].frames[0]), true);
  procs[1].c.exit(0);
  t.is(ksm.slots.length, 0);
  t.is(ksm.hashEntryCount, 0);
  t.deepEqual(problems(k), []);
});

test('removal unlinks the first slot of the same mm, not the one it frees (seed 001 remove_mm_from_hash)', (t) => {
  // Region A through SMA1, then region B of the same process through SMA2;
  // closing SMA2 unlinks A and frees B, which stays on the scan list.
  const k = new V1Kernel({ abi: '2008' });
  const a = proc(k, 'a', [seed(1), seed(2), zero, zero]);
  const sma2 = a.c.ioctl(a.dev, h2008.KSM_CREATE_SHARED_MEMORY_AREA);
  t.is(register(a, '2008', 2, a.addr), 0); // A: pages 0..1 through SMA1
  t.is(a.c.ioctl(sma2, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages: 2, addr: a.addr + 2 * PAGE_SIZE })), 0); // B
  const ksm = k.ksm2008!;
  const [slotA, slotB] = ksm.slots;
  const users = a.c.proc.mm.users;
  t.is(a.c.close(sma2), 0);
  t.deepEqual(ksm.slots, [slotB]);
  t.false(slotA.linked);
  t.true(slotB.linked);
  t.false(slotB.allocated, 'B is freed but still linked');
  t.is(a.c.proc.mm.users, users - 1);
  // The scanner still walks B: its two zero pages merge.
  ksmScan(scanner(k), 4);
  t.deepEqual(ksm.derivedCounters(), { pagesShared: 1, pagesSharing: 1 });
  // Closing SMA1 now removes A from the SMA list, unlinking the first slot of the mm: B.
  t.is(a.c.close(a.sma), 0);
  t.deepEqual(ksm.slots, []);
});
