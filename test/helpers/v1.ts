/** Building small /dev/ksm worlds for tests: processes with pages of given contents, registered through SMA fds. */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../../src/v1-ioctl/constants.js';
import type { KsmAbi } from '../../src/v1-ioctl/device.js';
import { V1Kernel, type V1KernelOptions } from '../../src/v1-ioctl/kernel.js';
import { Libc } from '../../src/v1-ioctl/libc.js';
import * as h2008 from '../../src/v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../../src/v1-ioctl/linux-ksm-2009.js';
import { internPage } from '../../src/workload/fill.js';

export { h2008, h2009 };

export const seed = (s: number): SinglePage => ({ kind: 'seed', seed: s });
export const zero: SinglePage = { kind: 'zero' };
export const INT_MAX = 0x7fffffff;

export interface Proc {
  c: Libc;
  addr: number;
  pages: number;
  dev: number;
  sma: number;
}

export interface V1World {
  k: V1Kernel;
  procs: Proc[];
}

/** A process with one region holding `pages`, its /dev/ksm fd and an SMA fd (not registered yet). */
export function proc(k: V1Kernel, name: string, pages: SinglePage[], abi: KsmAbi = '2008'): Proc {
  const c = new Libc(k, k.spawn(name));
  const addr = c.mmap(0, Math.max(1, pages.length) * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  pages.forEach((p, i) => k.memory.writePage(c.proc.mm, addr + i * PAGE_SIZE, internPage(k.memory, p)));
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  const sma = c.ioctl(dev, abi === '2008' ? h2008.KSM_CREATE_SHARED_MEMORY_AREA : h2009.KSM_CREATE_SHARED_MEMORY_AREA);
  if (dev < 0 || sma < 0) throw new Error(`setup of ${name} failed: ${c.perror('ksm')}`);
  return { c, addr, pages: pages.length, dev, sma };
}

/** KSM_REGISTER_MEMORY_REGION of the whole region, in the header of `abi`. */
export function register(p: Proc, abi: KsmAbi = '2008', npages = p.pages, addr: number | bigint = p.addr): number {
  return abi === '2008'
    ? p.c.ioctl(p.sma, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages, addr }))
    : p.c.ioctl(p.sma, h2009.KSM_REGISTER_MEMORY_REGION, new h2009.ksm_memory_region({ npages, addr }));
}

/** One process per layout, registered in order, on a kernel speaking `abi`. */
export function world(layouts: SinglePage[][], abi: KsmAbi = '2008', opts: V1KernelOptions = {}, doRegister = true): V1World {
  const k = new V1Kernel({ abi, ...opts });
  const procs = layouts.map((pages, i) => proc(k, `p${i + 1}`, pages, abi));
  if (doRegister) for (const p of procs) if (register(p, abi) !== 0) throw new Error('register failed');
  return { k, procs };
}

/** A scanner process with a SCAN fd (2008). */
export function scanner(k: V1Kernel): { c: Libc; fd: number } {
  const c = new Libc(k, k.spawn('ksmscan'));
  const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
  const fd = c.ioctl(dev, h2008.KSM_CREATE_SCAN);
  if (fd < 0) throw new Error(c.perror('KSM_CREATE_SCAN'));
  return { c, fd };
}

/** KSM_SCAN through a SCAN fd: the ioctl's result. */
export function ksmScan(s: { c: Libc; fd: number }, pages: number, maxMerge = INT_MAX, flags = 1): number {
  return s.c.ioctl(s.fd, h2008.KSM_SCAN, new h2008.ksm_user_scan({ pages_to_scan: pages, max_pages_to_merge: maxMerge, flags }));
}

/** The content id a page spec interns to (no reference kept). */
export function contentOf(k: V1Kernel, p: SinglePage): number {
  const id = internPage(k.memory, p);
  k.memory.contents.unref(id);
  return id;
}

/** Frames mapped at each page of a process's region (0 = none). */
export function framesOf(k: V1Kernel, p: Proc): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.pages; i++) {
    const v = p.c.proc.mm.vmaAt(p.addr + i * PAGE_SIZE);
    out.push(v === null ? 0 : v.frames[v.index(p.addr + i * PAGE_SIZE)]);
  }
  return out;
}

export function problems(k: V1Kernel): string[] {
  return checkMemory(k.memory);
}
