/**
 * "Whoever can open /dev/ksm can stop ksmd for everyone" (seed 002's review
 * thread, Anthony Liguori, 31 March 2009, #5: "any application that has
 * access to registering its memory with KSM also has the ability to disable
 * KSM"), and the answer the mainline interface gave (seed 003): registration
 * is madvise, which any process may call on its own memory, and control is
 * /sys/kernel/mm/ksm, whose 0644 files only root writes.
 *
 * Both halves run the same story: root starts the scanner, two guests of
 * ordinary users register identical memory and merge; a third ordinary user
 * tries to switch KSM off; then the guests fill more identical memory and
 * time passes. Under the March 2009 /dev/ksm (the device node root:kvm
 * 0660, so that qemu users of group kvm can register), the third user's
 * KSM_START_STOP_KTHREAD succeeds and nothing merges any more; a user
 * outside the group cannot even register (all or nothing). Under 2.6.32 the
 * same user's write to `run` is refused with EACCES and merging goes on.
 *
 *   npm run build && node dist/examples/permissions/dev-ksm-flaw.js
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { errnoName } from '../../src/engine/errno.js';
import type { Process } from '../../src/engine/machine.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../../src/v1-ioctl/constants.js';
import { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import { Libc } from '../../src/v1-ioctl/libc.js';
import * as h2009 from '../../src/v1-ioctl/linux-ksm-2009.js';
import { MADV_MERGEABLE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';

/** The group a distribution gives /dev/kvm (and here /dev/ksm) to. */
export const KVM_GID = 36;
const PAGES = 32;

export interface FlawReport {
  lines: string[];
  /** Pages saved (registered present pages minus distinct frames) after the guests' second fill. */
  v1SavedAfter: number;
  v1SavedBefore: number;
  v3SavedAfter: number;
  v3SavedBefore: number;
  /** What the third user's attempts returned. */
  v1StopResult: number;
  v3StopResult: number;
}

/** Fills pages [from, from + n) of a region with one byte value each (pages of equal value are identical). */
function fill(write: (addr: number, data: Uint8Array) => number, addr: number, from: number, n: number, byte: number): void {
  const page = new Uint8Array(PAGE_SIZE).fill(byte);
  for (let i = from; i < from + n; i++) if (write(addr + i * PAGE_SIZE, page) !== 0) throw new Error('fill failed');
}

/** The March 2009 /dev/ksm (seed 002): the flaw. */
function v1(lines: string[]): { before: number; after: number; stop: number } {
  const k = new V1Kernel({ abi: '2009', deviceNode: { uid: 0, gid: KVM_GID, mode: 0o660 } });
  const out = (s: string) => lines.push(s);
  const libc = (name: string, uid: number, groups: number[] = []) => {
    const c = new Libc(k, k.spawn(name, uid, uid, { groups }));
    c.trace = (l) => out(`  [${name} uid=${uid}] ${l}`);
    return c;
  };
  out('v1, March 2009 (seed 002): /dev/ksm is root:kvm 0660');

  const admin = libc('ksmctl', 0);
  const adm = admin.open(KSM_DEVICE_PATH, O_RDWR);
  admin.ioctl(adm, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: 20000, pages_to_scan: 1000, flags: h2009.ksm_control_flags_run }));

  const guests = [libc('qemu-alice', 1000, [KVM_GID]), libc('qemu-bob', 1001, [KVM_GID])];
  const regions = guests.map((g) => {
    const addr = g.mmap(0, 2 * PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    fill((a, d) => g.store(a, d), addr, 0, PAGES, 0x5a);
    const dev = g.open(KSM_DEVICE_PATH, O_RDWR);
    const sma = g.ioctl(dev, h2009.KSM_CREATE_SHARED_MEMORY_AREA);
    g.ioctl(sma, h2009.KSM_REGISTER_MEMORY_REGION, new h2009.ksm_memory_region({ npages: 2 * PAGES, addr }));
    return { g, addr };
  });
  const saved = () => k.memory.pagesSaved(regions.map(({ g, addr }) => ({ mm: g.proc.mm, start: addr, end: addr + 2 * PAGES * PAGE_SIZE }))).saved;
  k.sleep(1000);
  const before = saved();
  out(`  ... 1 s later: ${before} pages saved`);

  // Any member of kvm: it opened the device to register its guest, and the
  // same fd answers every request of the device.
  const mallory = libc('mallory', 1002, [KVM_GID]);
  const fd = mallory.open(KSM_DEVICE_PATH, O_RDWR);
  const stop = mallory.ioctl(fd, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: 0, pages_to_scan: 0, flags: 0 }));
  mallory.ioctl(fd, h2009.KSM_GET_INFO_KTHREAD, new h2009.ksm_kthread_info());
  // Outside the group: no KSM at all, not even for its own memory.
  const eve = libc('eve', 1003);
  eve.open(KSM_DEVICE_PATH, O_RDWR);

  for (const { g, addr } of regions) fill((a, d) => g.store(a, d), addr, PAGES, PAGES, 0xa5);
  k.sleep(1000);
  const after = saved();
  out(`  ... the guests fill ${PAGES} more identical pages each; 1 s later: ${after} pages saved (kksmd is stopped for everyone)`);
  return { before, after, stop };
}

/** The 2.6.32 answer (seed 003): control is root's, registration everyone's. */
function v3(lines: string[]): { before: number; after: number; stop: number } {
  const k = new V3Kernel();
  const out = (s: string) => lines.push(s);
  const who = (p: Process) => `[${p.name} uid=${p.uid}]`;
  const ret = (r: number) => (r < 0 ? `-1 ${errnoName(-r)}` : `${r}`);
  out('v3, Linux 2.6.32 (seed 003): /sys/kernel/mm/ksm/run is root 0644, madvise needs no privilege');

  const root = k.spawn('ksmctl', 0);
  const w = k.writeSysfs('/sys/kernel/mm/ksm/pages_to_scan', '1000\n', root);
  out(`  ${who(root)} write("/sys/kernel/mm/ksm/pages_to_scan", "1000\\n") = ${ret(w)}`);

  const guests = [k.spawn('qemu-alice', 1000, { groups: [KVM_GID] }), k.spawn('qemu-bob', 1001, { groups: [KVM_GID] })];
  const regions = guests.map((p) => {
    const len = 2 * PAGES * PAGE_SIZE;
    const addr = k.mmap(p, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    fill((a, d) => k.memory.writeBytes(p.mm, a, d), addr, 0, PAGES, 0x5a);
    out(`  ${who(p)} madvise(0x${addr.toString(16)}, ${len}, MADV_MERGEABLE) = ${ret(k.madvise(p, addr, len, MADV_MERGEABLE))}`);
    return { p, addr };
  });
  const saved = () => k.memory.pagesSaved(regions.map(({ p, addr }) => ({ mm: p.mm, start: addr, end: addr + 2 * PAGES * PAGE_SIZE }))).saved;
  k.sleep(1000);
  const before = saved();
  out(`  ... 1 s later: ${before} pages saved (pages_sharing ${String(k.readSysfs('pages_sharing')).trim()})`);

  const mallory = k.spawn('mallory', 1002, { groups: [KVM_GID] });
  const stop = k.writeSysfs('/sys/kernel/mm/ksm/run', '0\n', mallory);
  out(`  ${who(mallory)} write("/sys/kernel/mm/ksm/run", "0\\n") = ${ret(stop)}`);
  const run = k.readSysfs('/sys/kernel/mm/ksm/run', mallory);
  out(`  ${who(mallory)} read("/sys/kernel/mm/ksm/run") = ${JSON.stringify(run)}`);

  for (const { p, addr } of regions) fill((a, d) => k.memory.writeBytes(p.mm, a, d), addr, PAGES, PAGES, 0xa5);
  k.sleep(1000);
  const after = saved();
  out(`  ... the guests fill ${PAGES} more identical pages each; 1 s later: ${after} pages saved (ksmd still runs)`);
  const rootStop = k.writeSysfs('/sys/kernel/mm/ksm/run', '0\n', root);
  out(`  ${who(root)} write("/sys/kernel/mm/ksm/run", "0\\n") = ${ret(rootStop)}`);
  return { before, after, stop };
}

export function devKsmFlaw(): FlawReport {
  const lines: string[] = [];
  const a = v1(lines);
  lines.push('');
  const b = v3(lines);
  return { lines, v1SavedBefore: a.before, v1SavedAfter: a.after, v1StopResult: a.stop, v3SavedBefore: b.before, v3SavedAfter: b.after, v3StopResult: b.stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const l of devKsmFlaw().lines) console.log(l);
}
