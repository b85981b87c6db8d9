/**
 * ioctl(2) on the device and SMA fds of the March 2009 ABI (seed 002), and
 * what each header's requests get from a kernel of the other ABI
 * (spec/v1-ioctl.md §2, "Telling the ABIs apart").
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ } from '../../src/engine/constants.js';
import { ERRNO, type ErrnoName } from '../../src/engine/errno.js';
import type { CStruct } from '../../src/kernel/cstruct.js';
import { requestTable } from '../../src/v1-ioctl/device.js';
import type { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import type { Libc } from '../../src/v1-ioctl/libc.js';
import { h2008, h2009, proc, register, seed, world, zero } from '../helpers/v1.js';

type Arg = (() => CStruct) | 'unmapped' | 'readonly' | undefined;

function setup(fail?: 'ksm_sma' | 'ksm_mem_slot'): { k: V1Kernel; c: Libc; dev: number; sma: number } {
  let failing: string | null = null;
  const { k, procs } = world([[seed(1), zero]], '2009', { failAlloc: (site) => site === failing });
  failing = fail ?? null;
  return { k, c: procs[0].c, dev: procs[0].dev, sma: procs[0].sma };
}

const NAMES = requestTable();
const nameOf = (req: number) => NAMES.get(req >>> 0)?.name ?? `0x${(req >>> 0).toString(16)}`;

const ioctl = test.macro<[fd: 'dev' | 'sma', request: number, arg: Arg, ret: number, errno?: ErrnoName, fail?: 'ksm_sma' | 'ksm_mem_slot']>({
  exec(t, fd, request, arg, ret, errno, fail) {
    const s = setup(fail);
    const a = arg === undefined ? 0 : arg === 'unmapped' ? 0x1000 : arg === 'readonly' ? s.c.mmap(0, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS) : arg();
    const r = s.c.ioctl(fd === 'dev' ? s.dev : s.sma, request, a);
    if (ret === -1) {
      t.is(r, -1);
      t.is(s.c.errno, ERRNO[errno!]);
    } else t.is(r, ret);
  },
  title: (_p, fd, request, arg, ret, errno, fail) =>
    `2009 kernel: ${nameOf(request)}${typeof arg === 'string' ? ` (${arg} argument)` : typeof arg === 'function' ? ` ${JSON.stringify(arg().values(), (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}` : ''} (0x${(request >>> 0).toString(16)}) on the ${fd} fd returns ${ret}${errno ? ` (${errno})` : ''}${fail ? ` when ${fail} allocation fails` : ''}`,
});

const info = (pages: number, flags: number) => () => new h2009.ksm_kthread_info({ sleep: 10, pages_to_scan: pages, flags });

test(ioctl, 'dev', h2009.KSM_GET_API_VERSION, undefined, 1); // the same 1 as 2008
test(ioctl, 'dev', h2009.KSM_CREATE_SHARED_MEMORY_AREA, undefined, 2);
test(ioctl, 'dev', h2009.KSM_CREATE_SHARED_MEMORY_AREA, undefined, -1, 'EPERM', 'ksm_sma');
test(ioctl, 'dev', h2009.KSM_START_STOP_KTHREAD, info(100, 1), 0);
test(ioctl, 'dev', h2009.KSM_START_STOP_KTHREAD, info(0, 1), ERRNO.EPERM);
test(ioctl, 'dev', h2009.KSM_START_STOP_KTHREAD, info(0, 0), 0);
test(ioctl, 'dev', h2009.KSM_START_STOP_KTHREAD, 'unmapped', -1, 'EFAULT');
test(ioctl, 'dev', h2009.KSM_GET_INFO_KTHREAD, info(0, 0), 0);
test(ioctl, 'dev', h2009.KSM_GET_INFO_KTHREAD, 'readonly', -1, 'EFAULT');
test(ioctl, 'dev', 0xab04, undefined, -1, 'EINVAL');
// The 2008 header's numbers on a 2009 device.
test(ioctl, 'dev', h2008.KSM_CREATE_SCAN, undefined, -1, 'EINVAL'); // 0xAB02 means nothing in 2009
test(ioctl, 'dev', h2008.KSM_START_STOP_KTHREAD, () => new h2008.ksm_kthread_info({ pages_to_scan: 1, max_pages_to_merge: 1, flags: 1 }), -1, 'EINVAL');
test(ioctl, 'dev', h2008.KSM_GET_INFO_KTHREAD, () => new h2008.ksm_kthread_info(), -1, 'EINVAL');

test(ioctl, 'sma', h2009.KSM_REGISTER_MEMORY_REGION, () => new h2009.ksm_memory_region({ npages: 1, addr: 0x5000 }), 0);
test(ioctl, 'sma', h2009.KSM_REGISTER_MEMORY_REGION, 'unmapped', -1, 'EFAULT');
test(ioctl, 'sma', h2009.KSM_REGISTER_MEMORY_REGION, () => new h2009.ksm_memory_region({ npages: 1, addr: 0x5000 }), -1, 'ENOMEM', 'ksm_mem_slot');
test(ioctl, 'sma', h2009.KSM_REMOVE_MEMORY_REGION, undefined, 0);
test(ioctl, 'sma', 0xabcd, undefined, ERRNO.EINVAL);
// A 2008 program's REGISTER on a 2009 SMA fd: +22, and nothing is registered.
test(ioctl, 'sma', h2008.KSM_REGISTER_MEMORY_REGION, () => new h2008.ksm_memory_region({ npages: 1, addr: 0x5000 }), ERRNO.EINVAL);
test(ioctl, 'sma', h2008.KSM_SCAN, () => new h2008.ksm_user_scan({ pages_to_scan: 1, max_pages_to_merge: 1, flags: 1 }), ERRNO.EINVAL);

test('a 2008 program\'s REGISTER on a 2009 kernel "succeeds" for a caller testing < 0, yet registers nothing', (t) => {
  const { k, procs } = world([[seed(1)]], '2009', {}, false);
  const p = procs[0];
  const r = p.c.ioctl(p.sma, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages: 1, addr: p.addr }));
  t.false(r < 0);
  t.is(r, 22);
  t.is(k.ksm2009!.tree.slots.length, 0);
});

test('a 2009 program\'s REGISTER on a 2008 kernel returns +22 and registers nothing', (t) => {
  const { k, procs } = world([[seed(1)]], '2008', {}, false);
  const p = procs[0];
  t.is(p.c.ioctl(p.sma, h2009.KSM_REGISTER_MEMORY_REGION, new h2009.ksm_memory_region({ npages: 1, addr: p.addr })), 22);
  t.is(k.ksm2008!.slots.length, 0);
});

test('START_STOP (2009) checks only pages_to_scan with the run flag, stores sleep, pages_to_scan and flags, ignores pad and reserved_bits', (t) => {
  const { c, dev, k } = setup();
  t.is(c.ioctl(dev, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: 3, pages_to_scan: 4, flags: 0x81, pad: 7, reserved_bits: 9n })), 0);
  t.deepEqual(k.ksm2009!.ksmDevIoctlGetInfoKthread(), { sleep: 3, pages_to_scan: 4, flags: 0x81 });
  // GET_INFO copies all 24 bytes: pad and reserved_bits come back as zeros here (the seed leaks kernel stack).
  const got = new h2009.ksm_kthread_info({ pad: 0xffffffff, reserved_bits: 0xffffn });
  t.is(c.ioctl(dev, h2009.KSM_GET_INFO_KTHREAD, got), 0);
  t.deepEqual(got.values(), { sleep: 3, pages_to_scan: 4, flags: 0x81, pad: 0, reserved_bits: 0n });
  // Refused: nothing stored.
  t.is(c.ioctl(dev, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: 1, flags: 1 })), 1);
  t.deepEqual(k.ksm2009!.ksmDevIoctlGetInfoKthread(), { sleep: 3, pages_to_scan: 4, flags: 0x81 });
});

test('2009 removal flushes the unstable tree for everybody and frees the items of the first slot of that mm', (t) => {
  const { k, procs } = world([[seed(1), seed(2), seed(3)], [seed(4), seed(5)]], '2009');
  const tree = k.ksm2009!.tree;
  tree.ksmScanStart(20); // two passes and more: items everywhere, some in the unstable tree
  t.true(tree.counters().pagesUnshared > 0);
  const before = tree.rmapItemCount;
  t.is(procs[1].c.ioctl(procs[1].sma, h2009.KSM_REMOVE_MEMORY_REGION), 0);
  t.is(tree.counters().pagesUnshared, 0);
  t.true(tree.rmapItemCount < before);
  t.is(tree.slots.length, 1);
});

test('2009: the SMA lives as long as its file; exit releases it and drops the mm reference', (t) => {
  const k = world([], '2009').k;
  const a = proc(k, 'a', [seed(1), seed(1)], '2009');
  t.is(register(a, '2009'), 0);
  const child = a.c.fork()!;
  a.c.exit(0);
  t.is(k.ksm2009!.tree.slots.length, 1, 'the child still holds the SMA fd');
  t.is(a.c.proc.mm.users, 1);
  child.exit(0);
  t.is(k.ksm2009!.tree.slots.length, 0);
  t.is(a.c.proc.mm.users, 0);
});
