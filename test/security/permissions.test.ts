/**
 * The privilege boundaries of each era, as the kernels of the time drew
 * them: no seed checks a capability; what guards KSM is the mode of the
 * file a program opens, under generic_permission (owner, group, others,
 * then CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH), plus sysfs_open_file's own
 * refusal of a file without a write bit, and kobj_attr_store's -EIO for a
 * writable attribute with no store method.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import {
  CAP_DAC_OVERRIDE,
  CAP_DAC_READ_SEARCH,
  CAP_FULL_SET,
  capMask,
  type Cred,
  genericPermission,
  MAY_READ,
  MAY_WRITE,
} from '../../src/kernel/cred.js';
import { SysfsDir } from '../../src/kernel/sysfs.js';
import { KSM_DEVICE_PATH, O_RDONLY, O_RDWR } from '../../src/v1-ioctl/constants.js';
import { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import { Libc } from '../../src/v1-ioctl/libc.js';
import * as h2008 from '../../src/v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../../src/v1-ioctl/linux-ksm-2009.js';
import { MADV_SHAREABLE } from '../../src/v2-madvise/constants.js';
import { V2Kernel } from '../../src/v2-madvise/kernel.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';

const USER: Cred = { uid: 1000 };
const ROOT_NO_CAPS: Cred = { uid: 0, caps: 0n };
const USER_DAC_OVERRIDE: Cred = { uid: 1000, caps: capMask(CAP_DAC_OVERRIDE) };
const USER_READ_SEARCH: Cred = { uid: 1000, caps: capMask(CAP_DAC_READ_SEARCH) };

const perm = test.macro<[inode: { uid: number; gid: number; mode: number }, cred: Cred, mask: number, expected: number]>({
  exec(t, inode, cred, mask, expected) {
    t.is(genericPermission(inode, cred, mask), expected);
  },
  title: (_t, inode, cred, mask, expected) =>
    `generic_permission: uid ${cred.uid}${cred.gid !== undefined ? ` gid ${cred.gid}` : ''}${cred.groups ? ` groups ${cred.groups.join(',')}` : ''} caps ${cred.caps === undefined ? 'default' : `0x${cred.caps.toString(16)}`} ${mask === MAY_READ ? 'reading' : mask === MAY_WRITE ? 'writing' : 'opening rw'} ${inode.uid}:${inode.gid} 0${inode.mode.toString(8)}: ${expected ? 'EACCES' : 'allowed'}`,
});
const f644 = { uid: 0, gid: 0, mode: 0o644 };
const f444 = { uid: 0, gid: 0, mode: 0o444 };
const f000 = { uid: 0, gid: 0, mode: 0o000 };
test(perm, f644, USER, MAY_READ, 0);
test(perm, f644, USER, MAY_WRITE, -ERRNO.EACCES);
test(perm, f644, { uid: 0 }, MAY_WRITE, 0);
test(perm, f644, ROOT_NO_CAPS, MAY_WRITE, 0); // the owner's bits
test(perm, f444, ROOT_NO_CAPS, MAY_WRITE, -ERRNO.EACCES);
test(perm, f444, { uid: 0 }, MAY_WRITE, 0); // CAP_DAC_OVERRIDE (sysfs_open_file refuses it later)
test(perm, f644, USER_DAC_OVERRIDE, MAY_WRITE, 0);
test(perm, f000, USER_READ_SEARCH, MAY_READ, 0);
test(perm, f000, USER_READ_SEARCH, MAY_WRITE, -ERRNO.EACCES);
test(perm, f000, USER_READ_SEARCH, MAY_READ | MAY_WRITE, -ERRNO.EACCES);
test(perm, { uid: 0, gid: 36, mode: 0o660 }, { uid: 1000, groups: [36] }, MAY_READ | MAY_WRITE, 0);
test(perm, { uid: 0, gid: 36, mode: 0o660 }, { uid: 1000, gid: 36 }, MAY_READ | MAY_WRITE, 0);
test(perm, { uid: 0, gid: 36, mode: 0o660 }, { uid: 1000 }, MAY_READ, -ERRNO.EACCES);

test('a process of uid 0 has every capability after exec, anyone else none; fork keeps them', (t) => {
  const k = new V3Kernel();
  const root = k.spawn('init');
  const user = k.spawn('sh', 1000);
  t.is(root.caps, undefined);
  t.is(genericPermission(f000, root, MAY_WRITE), 0);
  t.is(genericPermission(f000, user, MAY_READ), -ERRNO.EACCES);
  const dropped = k.spawn('dropped', 0, { caps: 0n });
  const child = k.fork(dropped);
  if (typeof child === 'number') return t.fail();
  t.is(child.caps, 0n);
  t.is(genericPermission(f444, child, MAY_WRITE), -ERRNO.EACCES);
  t.is(CAP_FULL_SET & capMask(CAP_DAC_OVERRIDE), capMask(CAP_DAC_OVERRIDE));
});

// ---------------------------------------------------------------- sysfs, v3 and v2

const RW3 = ['sleep_millisecs', 'pages_to_scan', 'run', 'max_kernel_pages'];
const RO3 = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'];

test('v3: the sysfs files have the seed\'s modes (KSM_ATTR 0644, KSM_ATTR_RO 0444)', (t) => {
  const k = new V3Kernel();
  for (const n of RW3) t.is(k.sysfs.mode(n), 0o644, n);
  for (const n of RO3) t.is(k.sysfs.mode(n), 0o444, n);
});

test('v3: an ordinary user reads every file and writes none (EACCES); nothing changes', (t) => {
  const k = new V3Kernel();
  const u = k.spawn('u', 1000);
  for (const n of [...RW3, ...RO3]) t.is(typeof k.readSysfs(n, u), 'string', n);
  for (const n of [...RW3, ...RO3]) t.is(k.writeSysfs(n, '0\n', u), -ERRNO.EACCES, n);
  t.is(k.ksm.run, 1);
  t.is(k.ksm.pagesToScan, 200);
  t.is(k.ksm.sleepMillisecs, 20);
});

test('v3: root writes the 0644 files, with or without capabilities (it owns them); no one writes a 0444 file, root included (EACCES at open)', (t) => {
  const k = new V3Kernel();
  const root = k.spawn('root', 0);
  const rootNoCaps = k.spawn('root-nocaps', 0, { caps: 0n });
  const admin = k.spawn('admin', 1000, { caps: capMask(CAP_DAC_OVERRIDE) });
  t.is(k.writeSysfs('pages_to_scan', '10\n', root), 3);
  t.is(k.writeSysfs('pages_to_scan', '11\n', rootNoCaps), 3);
  t.is(k.writeSysfs('pages_to_scan', '12\n', admin), 3);
  t.is(k.ksm.pagesToScan, 12);
  for (const p of [root, rootNoCaps, admin]) for (const n of RO3) t.is(k.writeSysfs(n, '0\n', p), -ERRNO.EACCES, `${p.name} ${n}`);
});

test('v3: MADV_MERGEABLE and MADV_UNMERGEABLE need no privilege', (t) => {
  const k = new V3Kernel();
  const u = k.spawn('u', 1000);
  const a = k.mmap(u, 0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  t.is(k.madvise(u, a, 4 * PAGE_SIZE, MADV_MERGEABLE), 0);
  t.is(k.ksm.slots.size, 1);
  t.is(k.madvise(u, a, 4 * PAGE_SIZE, MADV_UNMERGEABLE), 0);
});

test('v2: the four files are 0644 / 0444; a user reads all and writes none; root writes run, not pages_shared', (t) => {
  const k = new V2Kernel();
  t.deepEqual(k.sysfs.names().map((n) => [n, k.sysfs.mode(n)]), [['sleep', 0o644], ['pages_to_scan', 0o644], ['run', 0o644], ['pages_shared', 0o444]]);
  const u = k.spawn('u', 1000);
  for (const n of k.sysfs.names()) {
    t.is(typeof k.readSysfs(n, u), 'string');
    t.is(k.writeSysfs(n, '1\n', u), -ERRNO.EACCES, n);
  }
  t.is(k.ksmdFlags, 0);
  t.is(k.writeSysfs('run', '1\n'), 2);
  t.is(k.writeSysfs('pages_shared', '1\n'), -ERRNO.EACCES);
  const p = k.spawn('p', 1000);
  const a = k.mmap(p, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  t.is(k.madvise(p, a, PAGE_SIZE, MADV_SHAREABLE), 0, 'registration is anyone\'s');
});

test('sysfs: a writable attribute without a store method opens, and the write gets EIO (kobj_attr_store); one with no write bit is EACCES', (t) => {
  const dir = new SysfsDir('/sys/kernel/mm/test', [
    { name: 'nostore', mode: 0o644, show: () => '0\n' },
    { name: 'ro', mode: 0o444, show: () => '0\n' },
    { name: 'noread', mode: 0o200, show: () => '0\n', store: (_b, c) => c },
  ]);
  t.is(dir.write('nostore', '1\n', { uid: 0 }), -ERRNO.EIO);
  t.is(dir.write('nostore', '1\n', { uid: 1000 }), -ERRNO.EACCES, 'the VFS check comes first');
  t.is(dir.write('nostore', '', { uid: 0 }), 0, 'an empty write reaches no store');
  t.is(dir.write('ro', '1\n', { uid: 0 }), -ERRNO.EACCES);
  t.is(dir.read('noread', { uid: 0 }), -ERRNO.EACCES, 'no read bit at all: sysfs_open_file refuses root too');
  t.is(dir.read('noread', { uid: 1000, caps: capMask(CAP_DAC_READ_SEARCH) }), -ERRNO.EACCES);
  t.is(dir.write('noread', '1\n', { uid: 0 }), 2);
});

// ---------------------------------------------------------------- /dev/ksm, v1

for (const abi of ['2008', '2009'] as const) {
  const h = abi === '2008' ? h2008 : h2009;
  const stopInfo = () =>
    abi === '2008'
      ? new h2008.ksm_kthread_info({ sleep: 0, pages_to_scan: 0, max_pages_to_merge: 0, flags: 0 })
      : new h2009.ksm_kthread_info({ sleep: 0, pages_to_scan: 0, flags: 0 });
  const runInfo = () =>
    abi === '2008'
      ? new h2008.ksm_kthread_info({ sleep: 1000, pages_to_scan: 100, max_pages_to_merge: 100, flags: 1 })
      : new h2009.ksm_kthread_info({ sleep: 1000, pages_to_scan: 100, flags: 1 });

  test(`v1 ${abi}: with the default node (root:root 0660) a user gets EACCES at open and so no KSM at all`, (t) => {
    const k = new V1Kernel({ abi });
    const c = new Libc(k, k.spawn('u', 1000));
    t.is(c.open(KSM_DEVICE_PATH, O_RDWR), -1);
    t.is(c.errno, ERRNO.EACCES);
    t.is(c.open(KSM_DEVICE_PATH, O_RDONLY), -1);
    const admin = new Libc(k, k.spawn('admin', 1000, 1000, { caps: capMask(CAP_DAC_OVERRIDE) }));
    t.true(admin.open(KSM_DEVICE_PATH, O_RDWR) >= 0, 'CAP_DAC_OVERRIDE opens it');
  });

  test(`v1 ${abi}: whoever can open /dev/ksm can stop kksmd for everyone (no capability check in ksm_dev_ioctl)`, (t) => {
    const k = new V1Kernel({ abi });
    k.setDeviceNode({ gid: 36 });
    const root = new Libc(k, k.spawn('root'));
    const rfd = root.open(KSM_DEVICE_PATH, O_RDWR);
    t.is(root.ioctl(rfd, h.KSM_START_STOP_KTHREAD, runInfo()), 0);
    const user = new Libc(k, k.spawn('qemu', 1000, 1000, { groups: [36] }));
    const fd = user.open(KSM_DEVICE_PATH, O_RDWR);
    t.true(fd >= 0);
    t.is(user.ioctl(fd, h.KSM_START_STOP_KTHREAD, stopInfo()), 0);
    const info = abi === '2008' ? new h2008.ksm_kthread_info() : new h2009.ksm_kthread_info();
    t.is(root.ioctl(rfd, h.KSM_GET_INFO_KTHREAD, info), 0);
    t.is(Number(info.values().flags), 0, 'the administrator\'s setting is gone');
    t.false(abi === '2008' ? k.ksm2008!.ksmdShouldRun() : k.ksm2009!.kthread.shouldRun());
  });

  test(`v1 ${abi}: an fd opened by root, inherited by a child that then drops to uid 1000, keeps every power (the check is at open only)`, (t) => {
    const k = new V1Kernel({ abi });
    const root = new Libc(k, k.spawn('root'));
    const fd = root.open(KSM_DEVICE_PATH, O_RDWR);
    t.is(root.ioctl(fd, h.KSM_START_STOP_KTHREAD, runInfo()), 0);
    const child = root.fork()!;
    child.proc.gid = 1000; // setgid(1000) first, as a careful daemon does
    t.is(k.machine.setuid(child.proc, 1000), 0);
    t.is(child.proc.caps, 0n);
    t.is(child.open(KSM_DEVICE_PATH, O_RDWR), -1, 'it could not open the node itself');
    t.is(child.ioctl(fd, h.KSM_START_STOP_KTHREAD, stopInfo()), 0);
    t.false(abi === '2008' ? k.ksm2008!.ksmdShouldRun() : k.ksm2009!.kthread.shouldRun());
  });
}
