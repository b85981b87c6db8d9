/**
 * ioctl(2) on the three kinds of fd of the November 2008 ABI (seed 001):
 * return values and errno exactly as the seed's handlers return them,
 * including the positive EINVAL of ksm_sma_ioctl/ksm_scan_ioctl and the
 * positive EPERM of ksm_dev_ioctl_start_stop_kthread.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ } from '../../src/engine/constants.js';
import { ERRNO, type ErrnoName } from '../../src/engine/errno.js';
import type { KsmAllocSite } from '../../src/engine/merge/hash-2008.js';
import type { CStruct } from '../../src/kernel/cstruct.js';
import { FIOCLEX, KSM_DEVICE_PATH, O_RDWR } from '../../src/v1-ioctl/constants.js';
import { KsmDevice, requestTable } from '../../src/v1-ioctl/device.js';
import { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import { Libc } from '../../src/v1-ioctl/libc.js';
import { h2008, h2009, INT_MAX, ksmScan, proc, register, scanner, seed, world, zero } from '../helpers/v1.js';

type FdKind = 'dev' | 'sma' | 'scan';
/** The third argument: a struct (made fresh per test), an unmapped or read-only address, or nothing. */
type Arg = (() => CStruct) | 'unmapped' | 'readonly' | undefined;

interface Setup {
  k: V1Kernel;
  c: Libc;
  fds: Record<FdKind, number>;
}

/** One registered process with its /dev/ksm fd (0), SMA fd (1) and a SCAN fd (2); `fail` fails from then on. */
function setup(fail?: KsmAllocSite): Setup {
  let failing: KsmAllocSite | null = null;
  const { k, procs } = world([[seed(1), zero]], '2008', { failAlloc: (site) => site === failing });
  const p = procs[0];
  const scanFd = p.c.ioctl(p.dev, h2008.KSM_CREATE_SCAN);
  failing = fail ?? null;
  return { k, c: p.c, fds: { dev: p.dev, sma: p.sma, scan: scanFd } };
}

function argOf(s: Setup, arg: Arg): number | CStruct {
  if (arg === undefined) return 0;
  if (arg === 'unmapped') return 0x1000;
  if (arg === 'readonly') return s.c.mmap(0, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
  return arg();
}

const NAMES = requestTable();
const nameOf = (req: number) => NAMES.get(req >>> 0)?.name ?? `0x${(req >>> 0).toString(16)}`;
const argTitle = (a: Arg) => (a === undefined ? '' : typeof a === 'string' ? ` (${a} argument)` : ` ${a().constructor.name}${JSON.stringify(a().values(), (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}`);

const ioctl = test.macro<[fd: FdKind, request: number, arg: Arg, ret: number, errno?: ErrnoName, fail?: KsmAllocSite]>({
  exec(t, fd, request, arg, ret, errno, fail) {
    const s = setup(fail);
    const r = s.c.ioctl(s.fds[fd], request, argOf(s, arg));
    if (ret === -1) {
      t.is(r, -1);
      t.is(s.c.errno, ERRNO[errno!]);
    } else t.is(r, ret);
  },
  title: (_p, fd, request, arg, ret, errno, fail) =>
    `${nameOf(request)}${argTitle(arg)} on the ${fd} fd returns ${ret}${errno ? ` (${errno})` : ''}${fail ? ` when ${fail} allocation fails` : ''}`,
});

const info = (sleep: number, pages: number, max: number, flags: number) => () => new h2008.ksm_kthread_info({ sleep, pages_to_scan: pages, max_pages_to_merge: max, flags });
const userScan = (pages: number, max: number, flags: number) => () => new h2008.ksm_user_scan({ pages_to_scan: pages, max_pages_to_merge: max, flags });
const region = (npages: number, addr: number) => () => new h2008.ksm_memory_region({ npages, addr });

// ksm_dev_ioctl: r = -EINVAL by default.
test(ioctl, 'dev', h2008.KSM_GET_API_VERSION, undefined, 1);
test(ioctl, 'dev', h2008.KSM_CREATE_SHARED_MEMORY_AREA, undefined, 3); // the lowest free fd: 0..2 are taken
test(ioctl, 'dev', h2008.KSM_CREATE_SCAN, undefined, 3);
test(ioctl, 'dev', h2008.KSM_START_STOP_KTHREAD, info(1000, 100, 10, 1), 0);
test(ioctl, 'dev', h2008.KSM_START_STOP_KTHREAD, info(0, 0, 0, 0), 0);
test(ioctl, 'dev', h2008.KSM_START_STOP_KTHREAD, info(0, 0, 10, 1), ERRNO.EPERM);
test(ioctl, 'dev', h2008.KSM_START_STOP_KTHREAD, info(0, 100, 0, 1), ERRNO.EPERM);
test(ioctl, 'dev', h2008.KSM_START_STOP_KTHREAD, info(0, 0, 0, 3), ERRNO.EPERM);
test(ioctl, 'dev', h2008.KSM_START_STOP_KTHREAD, 'unmapped', -1, 'EFAULT');
test(ioctl, 'dev', h2008.KSM_GET_INFO_KTHREAD, info(9, 9, 9, 9), 0);
test(ioctl, 'dev', h2008.KSM_GET_INFO_KTHREAD, 'unmapped', -1, 'EFAULT');
test(ioctl, 'dev', h2008.KSM_GET_INFO_KTHREAD, 'readonly', -1, 'EFAULT');
test(ioctl, 'dev', h2008.KSM_REGISTER_MEMORY_REGION, region(1, 0x1000), -1, 'EINVAL');
test(ioctl, 'dev', h2008.KSM_SCAN, userScan(1, 1, 1), -1, 'EINVAL');
test(ioctl, 'dev', 0xab05, undefined, -1, 'EINVAL');
// The 2009 header's kthread requests reach the default case of a 2008 device.
test(ioctl, 'dev', h2009.KSM_START_STOP_KTHREAD, () => new h2009.ksm_kthread_info({ pages_to_scan: 1, flags: 1 }), -1, 'EINVAL');
test(ioctl, 'dev', h2009.KSM_GET_INFO_KTHREAD, () => new h2009.ksm_kthread_info(), -1, 'EINVAL');
// Allocation failures, as each function handles them.
test(ioctl, 'dev', h2008.KSM_CREATE_SHARED_MEMORY_AREA, undefined, -1, 'EPERM', 'ksm_sma'); // fd = -1 returned as is
test(ioctl, 'dev', h2008.KSM_CREATE_SCAN, undefined, -1, 'ENOMEM', 'ksm_scan');

// ksm_sma_ioctl: r = EINVAL (positive) by default.
test(ioctl, 'sma', h2008.KSM_REGISTER_MEMORY_REGION, region(4, 0x2000), 0);
test(ioctl, 'sma', h2008.KSM_REGISTER_MEMORY_REGION, region(0, 0), 0); // nothing is validated
test(ioctl, 'sma', h2008.KSM_REGISTER_MEMORY_REGION, 'unmapped', -1, 'EFAULT');
test(ioctl, 'sma', h2008.KSM_REGISTER_MEMORY_REGION, region(4, 0x2000), -1, 'ENOMEM', 'ksm_mem_slot');
test(ioctl, 'sma', h2008.KSM_REMOVE_MEMORY_REGION, undefined, 0);
test(ioctl, 'sma', h2008.KSM_REMOVE_MEMORY_REGION, 'unmapped', 0); // no argument is read
test(ioctl, 'sma', h2008.KSM_GET_API_VERSION, undefined, ERRNO.EINVAL);
test(ioctl, 'sma', h2008.KSM_SCAN, userScan(1, 1, 1), ERRNO.EINVAL);
test(ioctl, 'sma', h2009.KSM_REGISTER_MEMORY_REGION, () => new h2009.ksm_memory_region({ npages: 1, addr: 0x2000 }), ERRNO.EINVAL);
test(ioctl, 'sma', 0xdeadbeef, undefined, ERRNO.EINVAL);

// ksm_scan_ioctl: r = EINVAL (positive) by default.
test(ioctl, 'scan', h2008.KSM_SCAN, userScan(10, 10, 1), 0);
test(ioctl, 'scan', h2008.KSM_SCAN, userScan(10, 10, 0), 0);
test(ioctl, 'scan', h2008.KSM_SCAN, 'unmapped', -1, 'EFAULT');
test(ioctl, 'scan', h2008.KSM_REMOVE_MEMORY_REGION, undefined, ERRNO.EINVAL);
test(ioctl, 'scan', h2008.KSM_CREATE_SCAN, undefined, ERRNO.EINVAL);

// do_vfs_ioctl answers these before any driver.
test(ioctl, 'sma', FIOCLEX, undefined, 0);

test('KSM_SCAN with no slot registered returns -EAGAIN once the loop is entered, 0 otherwise', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const s = scanner(k);
  t.is(ksmScan(s, 10, 10), -1);
  t.is(s.c.errno, ERRNO.EAGAIN);
  t.is(ksmScan(s, 0, 10), 0); // pages_to_scan 0: the loop is not entered
  t.is(ksmScan(s, 10, 0), 0); // max_pages_to_merge 0: likewise
  t.is(ksmScan(s, 0x80000000, 10), 0); // a negative int
  t.is(ksmScan(s, 10, 10, 0), 0); // no run flag: nothing at all
});

test('START_STOP stores every field whole, the run flag clear or not; GET_INFO reads back what was stored', (t) => {
  const { c, fds } = setup();
  t.is(c.ioctl(fds.dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: 5, pages_to_scan: 0, max_pages_to_merge: 0, flags: 0xfe })), 0);
  const got = new h2008.ksm_kthread_info({ sleep: 1, pages_to_scan: 1, max_pages_to_merge: 1, flags: 1 });
  t.is(c.ioctl(fds.dev, h2008.KSM_GET_INFO_KTHREAD, got), 0);
  t.deepEqual(got.values(), { sleep: 5, pages_to_scan: 0, max_pages_to_merge: 0, flags: 0xfe });
  // __u32 values above INT_MAX are stored into ints and read back unchanged.
  t.is(c.ioctl(fds.dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: 0xffffffff, pages_to_scan: 0x80000000, max_pages_to_merge: 1, flags: 1 })), 0);
  c.ioctl(fds.dev, h2008.KSM_GET_INFO_KTHREAD, got);
  t.deepEqual(got.values(), { sleep: 0xffffffff, pages_to_scan: 0x80000000, max_pages_to_merge: 1, flags: 1 });
  t.is(setupKsm(c).kthreadPagesToScan, -0x80000000);
});

function setupKsm(c: Libc) {
  return c.kernel.ksm2008!;
}

test('a refused START_STOP stores nothing', (t) => {
  const { c, fds } = setup();
  c.ioctl(fds.dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: 7, pages_to_scan: 8, max_pages_to_merge: 9, flags: 0 }));
  t.is(c.ioctl(fds.dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: 1, pages_to_scan: 0, max_pages_to_merge: 9, flags: 1 })), 1);
  t.deepEqual(setupKsm(c).ksmDevIoctlGetInfoKthread(), { sleep: 7, pages_to_scan: 8, max_pages_to_merge: 9, flags: 0 });
});

test('the HMAC transform is created by the first KSM_CREATE_SCAN or running START_STOP, and its failure is returned', (t) => {
  let failing = true;
  const k = new V1Kernel({ abi: '2008', failAlloc: (site) => failing && site === 'tfm' });
  const c = new Libc(k, k.spawn('ctl'));
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  t.is(k.ksm2008!.tfm, null);
  // Without the run flag no transform is needed.
  t.is(c.ioctl(dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ pages_to_scan: 1, max_pages_to_merge: 1 })), 0);
  t.is(c.ioctl(dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ pages_to_scan: 1, max_pages_to_merge: 1, flags: 1 })), -1);
  t.is(c.errno, ERRNO.ENOMEM);
  t.is(k.ksm2008!.ksmdFlags, 0); // nothing stored
  // The transform is tried before the zero check: a zero pages_to_scan still reports the transform's error.
  t.is(c.ioctl(dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ flags: 1 })), -1);
  t.is(c.ioctl(dev, h2008.KSM_CREATE_SCAN), -1);
  t.is(c.errno, ERRNO.ENOMEM);
  failing = false;
  t.is(c.ioctl(dev, h2008.KSM_CREATE_SCAN), 1);
  t.truthy(k.ksm2008!.tfm);
  t.is(k.ksm2008!.tfm!.hmacKey.length, 20);
});

test('the HMAC key comes from a seeded generator: the same seed gives the same key', (t) => {
  const key = (seedValue?: number) => {
    const k = new V1Kernel({ abi: '2008', randomSeed: seedValue });
    k.ksm2008!.ksmTfmInit();
    return Buffer.from(k.ksm2008!.tfm!.hmacKey).toString('hex');
  };
  t.is(key(), key());
  t.is(key(42), key(42));
  t.not(key(42), key(43));
});

test('an SMA registers the caller\'s mm, whoever created the SMA', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const a = proc(k, 'a', [seed(1)]);
  const child = a.c.fork()!;
  // The child inherits the SMA fd and registers its own memory through it.
  t.is(child.ioctl(a.sma, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages: 1, addr: a.addr })), 0);
  t.is(k.ksm2008!.slots.length, 1);
  t.is(k.ksm2008!.slots[0].mm, child.proc.mm);
});

test('registration validates nothing: unaligned, unmapped, overlapping and zero-page regions are all accepted', (t) => {
  const k = new V1Kernel({ abi: '2008' });
  const a = proc(k, 'a', [seed(1), seed(2)]);
  t.is(register(a, '2008', 2, a.addr + 100), 0);
  t.is(register(a, '2008', 5, 0x10000), 0);
  t.is(register(a, '2008', 2), 0);
  t.is(register(a, '2008', 2), 0);
  t.is(register(a, '2008', 0), 0);
  t.is(register(a, '2008', 0xffffffff), 0); // stored in an int: -1
  t.deepEqual(k.ksm2008!.slots.map((s) => s.npages), [2, 5, 2, 2, 0, -1]);
  t.is(k.ksm2008!.slots[0].addr, a.addr + 100);
});

test('ioctl on a closed or never-opened fd fails with EBADF', (t) => {
  const { c, fds } = setup();
  t.is(c.close(fds.sma), 0);
  t.is(c.ioctl(fds.sma, h2008.KSM_REMOVE_MEMORY_REGION), -1);
  t.is(c.errno, ERRNO.EBADF);
  t.is(c.ioctl(99, h2008.KSM_GET_API_VERSION), -1);
  t.is(c.errno, ERRNO.EBADF);
});

test('a SCAN fd has its own cursor; KSM_SCAN without the run flag does not move it', (t) => {
  const { k } = world([[seed(1), seed(2), seed(3)]]);
  const s1 = scanner(k);
  const s2 = scanner(k);
  const cursor = (s: { c: Libc; fd: number }) => KsmDevice.scanCursor(k.fdTable(s.c.proc).get(s.fd)!)!;
  ksmScan(s1, 1);
  t.is(cursor(s1).pageIndex, 2); // advanced to 1, scanned it, advanced once more
  t.is(cursor(s2).slotIndex, null);
  ksmScan(s2, 1, INT_MAX, 0);
  t.is(cursor(s2).slotIndex, null);
  ksmScan(s2, 1);
  t.is(cursor(s2).pageIndex, 2);
});
