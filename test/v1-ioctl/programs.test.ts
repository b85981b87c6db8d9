/**
 * Legacy programs of both vintages against one simulated kernel whose
 * /dev/ksm speaks both ABIs: the request number tells the device which
 * header a caller was compiled with, and each header is served by its own
 * seed's merger (2008: hash table and SCAN fds; 2009: trees and kksmd).
 */
import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import { KSM_DEVICE_PATH, O_RDWR, O_TRUNC } from '../../src/v1-ioctl/constants.js';
import { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import { Libc } from '../../src/v1-ioctl/libc.js';
import * as k2008 from '../../src/v1-ioctl/linux-ksm-2008.js';
import * as k2009 from '../../src/v1-ioctl/linux-ksm-2009.js';

/**
 * A guest launcher of November 2008, compiled with that header: registers
 * its guest RAM and scans it from its own context through a SCAN fd.
 * Returns its fds.
 */
function guest2008(c: Libc, pages: number, fill: (i: number) => number): { dev: number; sma: number; scan: number; ram: number } {
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  if (dev === -1) throw new Error(c.perror('open'));
  if (c.ioctl(dev, k2008.KSM_GET_API_VERSION) !== k2008.KSM_API_VERSION) throw new Error('KSM_API_VERSION mismatch');
  const sma = c.ioctl(dev, k2008.KSM_CREATE_SHARED_MEMORY_AREA);
  const ram = c.memalign(PAGE_SIZE, pages * PAGE_SIZE);
  for (let i = 0; i < pages; i++) c.memset(ram + i * PAGE_SIZE, fill(i), PAGE_SIZE);
  const region = new k2008.ksm_memory_region();
  region.npages = pages;
  region.addr = BigInt(ram);
  if (c.ioctl(sma, k2008.KSM_REGISTER_MEMORY_REGION, region) === -1) throw new Error(c.perror('KSM_REGISTER_MEMORY_REGION'));
  const scan = c.ioctl(dev, k2008.KSM_CREATE_SCAN);
  return { dev, sma, scan, ram };
}

/** ksm_register_memory() of ksmpages.c (Andrea Arcangeli, 31 March 2009, the 002 thread), on the 2009 header. */
function ksmRegisterMemory(c: Libc, p: number, pages: number): number {
  let r = 1;
  const fd = c.open(KSM_DEVICE_PATH, O_RDWR | O_TRUNC);
  if (fd === -1) return r;
  const ksmFd = c.ioctl(fd, k2009.KSM_CREATE_SHARED_MEMORY_AREA);
  if (ksmFd === -1) {
    c.close(fd);
    return r;
  }
  const ksmRegion = new k2009.ksm_memory_region();
  ksmRegion.npages = pages;
  ksmRegion.addr = BigInt(p);
  r = c.ioctl(ksmFd, k2009.KSM_REGISTER_MEMORY_REGION, ksmRegion);
  if (r) {
    c.close(ksmFd);
    c.close(fd);
  }
  return r;
}

/** main() of ksmpages.c at `pages` pages: every page zero but its last 8 bytes, which hold its index. */
function ksmpages(c: Libc, pages: number): number {
  const p = c.memalign(PAGE_SIZE, pages * PAGE_SIZE);
  if (!p) throw new Error(c.perror('memalign'));
  if (ksmRegisterMemory(c, p, pages)) throw new Error('failed to register into ksm, run inside VM');
  for (let page = 0; page < pages; page++) {
    const word = new Uint8Array(8);
    new DataView(word.buffer).setBigUint64(0, BigInt(page), true);
    c.store(p + page * PAGE_SIZE + PAGE_SIZE - 8, word);
  }
  return p;
}

test('a program for the 2008 header and programs for the 2009 header run against the same kernel, each on its own merger', (t) => {
  const k = new V1Kernel({ abi: 'both' });
  // The 2008 guest: 8 pages, fill pattern i % 2 (two contents).
  const g = new Libc(k, k.spawn('qemu-2008'));
  const fds = guest2008(g, 8, (i) => i % 2);
  // Two copies of ksmpages (2009 header), 32 pages each.
  const a = new Libc(k, k.spawn('ksmpages'));
  const b = new Libc(k, k.spawn('ksmpages'));
  ksmpages(a, 32);
  ksmpages(b, 32);
  t.is(k.ksm2008!.slots.length, 1);
  t.is(k.ksm2009!.tree.slots.length, 2);

  // The 2009 kthread, started with the 2009 request on the same device.
  const ctl = new Libc(k, k.spawn('ksmctl'));
  const dev = ctl.open(KSM_DEVICE_PATH, O_RDWR);
  t.is(ctl.ioctl(dev, k2009.KSM_START_STOP_KTHREAD, new k2009.ksm_kthread_info({ sleep: 1000, pages_to_scan: 100, flags: k2009.ksm_control_flags_run })), 0);
  // The 2008 guest scans in its own context.
  for (let i = 0; i < 3; i++) t.is(g.ioctl(fds.scan, k2008.KSM_SCAN, new k2008.ksm_user_scan({ pages_to_scan: 8, max_pages_to_merge: 8, flags: k2008.ksm_control_flags_run })), 0);
  k.sleep(100);

  // 2008: 8 pages of two contents -> 2 KSM pages, 6 more mappings, all from the hash merger.
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 2, pagesSharing: 6 });
  t.is(k.ksm2008!.stats.merges, 6);
  // 2009: the two copies' 32 tail pages pair up: 32 KSM pages with 2 mappings each.
  const c9 = k.ksm2009!.tree.counters();
  t.is(c9.pagesSharing, 32);
  t.is(c9.pagesShared, 32);
  // Each kthread answers its own header.
  const i8 = new k2008.ksm_kthread_info();
  const i9 = new k2009.ksm_kthread_info();
  t.is(ctl.ioctl(dev, k2008.KSM_GET_INFO_KTHREAD, i8), 0);
  t.is(ctl.ioctl(dev, k2009.KSM_GET_INFO_KTHREAD, i9), 0);
  t.deepEqual(i8.values(), { sleep: 0, pages_to_scan: 0, max_pages_to_merge: 0, flags: 0 });
  t.deepEqual(i9.values(), { sleep: 1000, pages_to_scan: 100, flags: 1, pad: 0, reserved_bits: 0n });
  // Both headers agree on the version, so it tells nothing.
  t.is(ctl.ioctl(dev, k2008.KSM_GET_API_VERSION), ctl.ioctl(dev, k2009.KSM_GET_API_VERSION));
  t.deepEqual(checkMemory(k.memory), []);
});

test('the shared REMOVE request empties an SMA in both mergers', (t) => {
  const k = new V1Kernel({ abi: 'both' });
  const c = new Libc(k, k.spawn('mixed'));
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  const sma = c.ioctl(dev, k2008.KSM_CREATE_SHARED_MEMORY_AREA);
  const mem = c.memalign(PAGE_SIZE, 4 * PAGE_SIZE);
  t.is(c.ioctl(sma, k2008.KSM_REGISTER_MEMORY_REGION, new k2008.ksm_memory_region({ npages: 2, addr: mem })), 0);
  t.is(c.ioctl(sma, k2009.KSM_REGISTER_MEMORY_REGION, new k2009.ksm_memory_region({ npages: 2, addr: mem + 2 * PAGE_SIZE })), 0);
  t.is(k.ksm2008!.slots.length, 1);
  t.is(k.ksm2009!.tree.slots.length, 1);
  t.is(c.ioctl(sma, k2009.KSM_REMOVE_MEMORY_REGION), 0);
  t.is(k.ksm2008!.slots.length, 0);
  t.is(k.ksm2009!.tree.slots.length, 0);
});

test('on the bilingual device each header keeps its own answers: CREATE_SCAN works, the 2009 START_STOP still checks only pages_to_scan', (t) => {
  const k = new V1Kernel({ abi: 'both' });
  const c = new Libc(k, k.spawn('a'));
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  t.true(c.ioctl(dev, k2008.KSM_CREATE_SCAN) >= 0);
  t.is(c.ioctl(dev, k2009.KSM_START_STOP_KTHREAD, new k2009.ksm_kthread_info({ pages_to_scan: 1, flags: 1 })), 0);
  t.is(c.ioctl(dev, k2008.KSM_START_STOP_KTHREAD, new k2008.ksm_kthread_info({ pages_to_scan: 1, flags: 1 })), ERRNO.EPERM); // max_pages_to_merge 0
  t.is(c.ioctl(dev, 0xab05), -1);
  t.is(c.errno, ERRNO.EINVAL);
});

test('a page one merger merged is not anonymous any more, so the other skips it', (t) => {
  const k = new V1Kernel({ abi: 'both' });
  const c = new Libc(k, k.spawn('a'));
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  const sma = c.ioctl(dev, k2008.KSM_CREATE_SHARED_MEMORY_AREA);
  const mem = c.memalign(PAGE_SIZE, 4 * PAGE_SIZE);
  for (let i = 0; i < 4; i++) c.memset(mem + i * PAGE_SIZE, 7, PAGE_SIZE);
  c.ioctl(sma, k2008.KSM_REGISTER_MEMORY_REGION, new k2008.ksm_memory_region({ npages: 4, addr: mem }));
  c.ioctl(sma, k2009.KSM_REGISTER_MEMORY_REGION, new k2009.ksm_memory_region({ npages: 4, addr: mem }));
  const scan = c.ioctl(dev, k2008.KSM_CREATE_SCAN);
  c.ioctl(scan, k2008.KSM_SCAN, new k2008.ksm_user_scan({ pages_to_scan: 4, max_pages_to_merge: 4, flags: 1 }));
  t.is(k.ksm2008!.stats.merges, 3);
  k.ksm2009!.tree.ksmScanStart(20);
  t.is(k.ksm2009!.tree.stats.merges, 0);
  t.deepEqual(checkMemory(k.memory), []);
});
