/**
 * One small simulated machine per era, driven through that era's own front
 * end (the calls a program of the time made), with a shadow of what every
 * page of every live process must read: the soak and the fault tests run
 * random or scripted operations on it and ask `problems()` after each one.
 *
 * `problems()` recomputes everything from scratch: every page of every live
 * process reads what was last written to it (the shadow holds a reference
 * to each expected content, so content ids stay meaningful), the memory
 * model's invariants (mapcounts, refcounts, writable entries, content
 * references), and the era merger's own bookkeeping against its counters
 * (checkMainline2632, checkTree2009, checkHash2008).
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../engine/constants.js';
import type { Process } from '../engine/machine.js';
import { checkMemory } from '../engine/memory/invariants.js';
import type { Memory, MergeWindowEvent } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import { checkHash2008 } from '../engine/merge/hash-2008-invariants.js';
import { checkMainline2632 } from '../engine/merge/mainline-2632-invariants.js';
import { checkTree2009 } from '../engine/merge/tree-2009-invariants.js';
import type { Tree2009 } from '../engine/merge/tree-2009.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../v1-ioctl/constants.js';
import { KsmDevice } from '../v1-ioctl/device.js';
import { V1Kernel } from '../v1-ioctl/kernel.js';
import { Libc } from '../v1-ioctl/libc.js';
import * as h2008 from '../v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../v1-ioctl/linux-ksm-2009.js';
import { MADV_SHAREABLE } from '../v2-madvise/constants.js';
import { V2Kernel } from '../v2-madvise/kernel.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE } from '../v3-sysfs/constants.js';
import { V3Kernel } from '../v3-sysfs/kernel.js';
import type { KernelVersion } from '../v3-sysfs/kernels.js';
import { checkMainline3x } from '../engine/merge/mainline-3x-invariants.js';
import { Mainline2632 } from '../engine/merge/mainline-2632.js';
import { Mainline618 } from '../engine/merge/mainline-618.js';
import { internPage } from '../workload/fill.js';

/** The eras of the seeds (each with a merge-window hook in its merger). */
export const ERA_IDS = ['v1-2008', 'v1-2009', 'v2', 'v3'] as const;
/** The later mainline kernels of the v3 era (their page lock closes the merge window: no hook). */
export const LATER_IDS = ['v3-3.9', 'v3-6.18'] as const;
/** What the soak draws from. */
export const SOAK_ERA_IDS = [...ERA_IDS, ...LATER_IDS] as const;
export type EraId = (typeof SOAK_ERA_IDS)[number];

export const ERA_TITLES: Record<EraId, string> = {
  'v1-2008': 'v1 /dev/ksm, Nov 2008 ABI, hash-table merger (seed 001)',
  'v1-2009': 'v1 /dev/ksm, Mar 2009 ABI, tree merger (seed 002)',
  v2: 'v2 madvise(MADV_SHAREABLE) + sysfs, Apr 2009, tree merger (seed 000)',
  v3: 'v3 madvise(MADV_MERGEABLE) + sysfs, Linux 2.6.32 (seed 003)',
  'v3-3.9': 'v3 madvise(MADV_MERGEABLE) + sysfs, Linux 3.9 (seed 004)',
  'v3-6.18': 'v3 madvise(MADV_MERGEABLE) + sysfs, Linux 6.18',
};

export interface Region {
  addr: number;
  pages: number;
}

/** A live simulated process and what the world knows of it. */
export interface WorldProc {
  p: Process;
  regions: Region[];
  /** Expected content id of every mapped page (by page address); each holds one content reference. */
  shadow: Map<number, number>;
  /** v1: the C library handle, the /dev/ksm fd and the SMA fd (-1: none). */
  libc: Libc | null;
  dev: number;
  sma: number;
}

export abstract class World {
  abstract readonly era: EraId;
  abstract readonly memory: Memory;
  /** Live processes, in creation order. */
  readonly procs: WorldProc[] = [];
  /** Called at every merge window of every merge attempt (a write may land there). */
  onMergeWindow: ((e: MergeWindowEvent, w: World) => void) | null = null;
  private readonly byMm = new Map<number, WorldProc>();

  /** Installs the merge-window hook on the memory (once the subclass has built its kernel). */
  protected init(): void {
    this.memory.mergeWindow = (e) => this.onMergeWindow?.(e, this);
  }

  protected abstract spawnProcess(name: string, uid: number): { p: Process; libc: Libc | null };
  protected abstract forkProcess(wp: WorldProc): { p: Process; libc: Libc | null } | number;
  protected abstract exitProcess(wp: WorldProc): void;
  /** The era's registration of [addr, addr + len) of the process: 0 or -errno (or a positive oddity). */
  abstract register(wp: WorldProc, addr: number, len: number): number;
  /** The era's unregistration: 0 or -errno. */
  abstract unregister(wp: WorldProc, addr: number, len: number): number;
  /** One call of the era's scan routine with a budget of `pages`. */
  abstract scan(pages: number): void;
  /** Lets virtual time pass: the era's scanner thread runs as its knobs say. */
  abstract sleep(ms: number): void;
  /** The era's merger invariants. */
  protected abstract mergerProblems(): string[];
  /** Frame references the era's code holds outside the page tables (the 2009 tree's leak). */
  protected framePins(): ReadonlyMap<number, number> {
    return new Map();
  }
  /** Passes of the scanner so far (full_scans, or wraps). */
  abstract passes(): number;
  /** The address space under the scan cursor (ksmd's, or the 2008 SCAN fd's), or null. */
  abstract cursorMm(): Mm | null;
  /** Successful merges so far. */
  abstract merges(): number;

  spawn(name: string, uid = 0): WorldProc {
    const { p, libc } = this.spawnProcess(name, uid);
    const wp: WorldProc = { p, regions: [], shadow: new Map(), libc, dev: -1, sma: -1 };
    this.procs.push(wp);
    this.byMm.set(p.mm.id, wp);
    return wp;
  }

  /** The live process whose address space is mm, if any. */
  owner(mm: Mm): WorldProc | undefined {
    return this.byMm.get(mm.id);
  }

  /** mmap of `pages` anonymous private pages; every page reads zeros. Returns the address or -errno. */
  mmap(wp: WorldProc, pages: number): number {
    const addr = wp.libc ? wp.libc.mmap(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS) : this.sysMmap(wp.p, pages * PAGE_SIZE);
    if (addr < 0) return wp.libc ? -wp.libc.errno : addr;
    wp.regions.push({ addr, pages });
    const zero = this.memory.zero;
    for (let i = 0; i < pages; i++) this.setShadow(wp, addr + i * PAGE_SIZE, zero);
    return addr;
  }

  protected abstract sysMmap(p: Process, len: number): number;
  protected abstract sysMunmap(p: Process, addr: number, len: number): number;

  /** munmap of part of a region (page-aligned): 0 or -errno. */
  munmap(wp: WorldProc, addr: number, pages: number): number {
    const r = wp.libc ? (wp.libc.munmap(addr, pages * PAGE_SIZE) < 0 ? -wp.libc.errno : 0) : this.sysMunmap(wp.p, addr, pages * PAGE_SIZE);
    if (r < 0) return r;
    for (let i = 0; i < pages; i++) this.dropShadow(wp, addr + i * PAGE_SIZE);
    return 0;
  }

  /** The process writes a whole page: `content` (the caller keeps its own reference) becomes what addr reads. */
  writePage(wp: WorldProc, addr: number, content: number): number {
    this.memory.contents.ref(content); // the page's reference
    const r = this.memory.writePage(wp.p.mm, addr, content);
    if (r === 0) this.setShadow(wp, addr, content);
    return r;
  }

  /**
   * The process stores `data` at addr (inside one page). The expected page
   * is computed here from the shadow, independently of the write path.
   */
  writeBytes(wp: WorldProc, addr: number, data: Uint8Array): number {
    const base = addr - (addr % PAGE_SIZE);
    const old = wp.shadow.get(base);
    if (old === undefined) return this.memory.writeBytes(wp.p.mm, addr, data);
    const c = this.memory.contents;
    const scratch = c.scratch;
    scratch.set(c.slabOf(old).subarray(c.offsetOf(old), c.offsetOf(old) + PAGE_SIZE));
    scratch.set(data, addr - base);
    const expected = c.internScratch();
    const r = this.memory.writeBytes(wp.p.mm, addr, data);
    if (r === 0) this.setShadow(wp, base, expected);
    c.unref(expected);
    return r;
  }

  fork(wp: WorldProc): WorldProc | number {
    const r = this.forkProcess(wp);
    if (typeof r === 'number') return r;
    const child: WorldProc = { p: r.p, regions: wp.regions.map((x) => ({ ...x })), shadow: new Map(), libc: r.libc, dev: wp.dev, sma: wp.sma };
    for (const [a, c] of wp.shadow) this.setShadow(child, a, c);
    this.procs.push(child);
    this.byMm.set(child.p.mm.id, child);
    return child;
  }

  exit(wp: WorldProc): void {
    const i = this.procs.indexOf(wp);
    if (i < 0) return;
    this.procs.splice(i, 1);
    this.byMm.delete(wp.p.mm.id);
    for (const c of wp.shadow.values()) this.memory.contents.unref(c);
    wp.shadow.clear();
    this.exitProcess(wp);
  }

  private setShadow(wp: WorldProc, addr: number, content: number): void {
    this.memory.contents.ref(content);
    const old = wp.shadow.get(addr);
    wp.shadow.set(addr, content);
    if (old !== undefined) this.memory.contents.unref(old);
  }

  private dropShadow(wp: WorldProc, addr: number): void {
    const old = wp.shadow.get(addr);
    if (old === undefined) return;
    wp.shadow.delete(addr);
    this.memory.contents.unref(old);
  }

  /** Pages whose read differs from the shadow (merging made visible). */
  shadowProblems(): string[] {
    const out: string[] = [];
    for (const wp of this.procs) {
      for (const [addr, c] of wp.shadow) {
        const got = this.memory.readPage(wp.p.mm, addr);
        if (got !== c) out.push(`pid ${wp.p.pid} (${wp.p.name}) at 0x${addr.toString(16)} reads content ${got}, last written ${c}`);
      }
    }
    return out;
  }

  /** Content references the shadows hold (for checkMemory). */
  private contentPins(): Map<number, number> {
    const pins = new Map<number, number>();
    for (const wp of this.procs) for (const c of wp.shadow.values()) pins.set(c, (pins.get(c) ?? 0) + 1);
    for (const [c, n] of this.extraContentPins) pins.set(c, (pins.get(c) ?? 0) + n);
    return pins;
  }

  /** Contents the caller keeps referenced (a pool of page images). */
  readonly extraContentPins = new Map<number, number>();

  /** A page image the world keeps alive for its whole life (one reference held), by spec. */
  poolContent(seed: number): number {
    const id = internPage(this.memory, seed === 0 ? { kind: 'zero' } : { kind: 'seed', seed });
    const n = this.extraContentPins.get(id) ?? 0;
    if (n > 0) this.memory.contents.unref(id);
    else this.extraContentPins.set(id, 1);
    return id;
  }

  /** Every violation, recomputed from scratch: reads, memory model, merger bookkeeping. */
  problems(): string[] {
    return [...this.shadowProblems(), ...checkMemory(this.memory, this.framePins(), this.contentPins()), ...this.mergerProblems()];
  }

  /** A process by pid among the live ones. */
  proc(pid: number): WorldProc | undefined {
    return this.procs.find((w) => w.p.pid === pid);
  }
}

// ---------------------------------------------------------------- v3

export class V3World extends World {
  readonly era: EraId;
  readonly k: V3Kernel<KernelVersion>;
  readonly memory: Memory;

  constructor(readonly kernel: KernelVersion = '2.6.32') {
    super();
    this.era = kernel === '2.6.32' ? 'v3' : kernel === '3.9' ? 'v3-3.9' : 'v3-6.18';
    this.k = new V3Kernel<KernelVersion>({ kernel });
    this.memory = this.k.memory;
    this.init();
  }

  protected spawnProcess(name: string, uid: number) {
    return { p: this.k.spawn(name, uid), libc: null };
  }
  protected forkProcess(wp: WorldProc) {
    const c = this.k.fork(wp.p);
    return typeof c === 'number' ? c : { p: c, libc: null };
  }
  protected exitProcess(wp: WorldProc): void {
    this.k.exit(wp.p);
  }
  protected sysMmap(p: Process, len: number): number {
    return this.k.mmap(p, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  }
  protected sysMunmap(p: Process, addr: number, len: number): number {
    return this.k.munmap(p, addr, len);
  }
  register(wp: WorldProc, addr: number, len: number): number {
    return this.k.madvise(wp.p, addr, len, MADV_MERGEABLE);
  }
  unregister(wp: WorldProc, addr: number, len: number): number {
    return this.k.madvise(wp.p, addr, len, MADV_UNMERGEABLE);
  }
  scan(pages: number): void {
    this.k.ksm.ksmDoScan(pages);
  }
  sleep(ms: number): void {
    this.k.sleep(ms);
  }
  protected mergerProblems(): string[] {
    const ksm = this.k.ksm;
    return ksm instanceof Mainline2632 ? checkMainline2632(ksm) : checkMainline3x(ksm);
  }
  protected override framePins(): ReadonlyMap<number, number> {
    const ksm = this.k.ksm;
    return ksm instanceof Mainline618 && ksm.zeroPageFrame ? new Map([[ksm.zeroPageFrame, 1]]) : new Map();
  }
  passes(): number {
    return this.k.ksm.scan.seqnr;
  }
  cursorMm(): Mm | null {
    return this.k.ksm.scan.mmSlot.mm;
  }
  merges(): number {
    return this.k.ksm.stats.merges;
  }
}

// ---------------------------------------------------------------- v2

export class V2World extends World {
  readonly era = 'v2' as const;
  readonly k = new V2Kernel();
  readonly memory = this.k.memory;

  constructor() {
    super();
    this.init();
  }

  protected spawnProcess(name: string, uid: number) {
    return { p: this.k.spawn(name, uid), libc: null };
  }
  protected forkProcess(wp: WorldProc) {
    const c = this.k.fork(wp.p);
    return typeof c === 'number' ? c : { p: c, libc: null };
  }
  protected exitProcess(wp: WorldProc): void {
    this.k.exit(wp.p);
  }
  protected sysMmap(p: Process, len: number): number {
    return this.k.mmap(p, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  }
  protected sysMunmap(p: Process, addr: number, len: number): number {
    return this.k.munmap(p, addr, len);
  }
  register(wp: WorldProc, addr: number, len: number): number {
    return this.k.madvise(wp.p, addr, len, MADV_SHAREABLE);
  }
  /** MADV_UNSHAREABLE (13) does not exist in the patch: EINVAL. */
  unregister(wp: WorldProc, addr: number, len: number): number {
    return this.k.madvise(wp.p, addr, len, 13);
  }
  scan(pages: number): void {
    this.k.ksm.ksmScanStart(pages >>> 0);
  }
  sleep(ms: number): void {
    this.k.sleep(ms);
  }
  protected mergerProblems(): string[] {
    return checkTree2009(this.k.ksm);
  }
  protected override framePins(): ReadonlyMap<number, number> {
    return this.k.ksm.leakedRefs;
  }
  passes(): number {
    return this.k.ksm.wraps;
  }
  cursorMm(): Mm | null {
    return this.k.ksm.scan.slotIndex?.mm ?? null;
  }
  merges(): number {
    return this.k.ksm.stats.merges;
  }
}

// ---------------------------------------------------------------- v1

export class V1World extends World {
  readonly era: EraId;
  readonly k: V1Kernel;
  readonly memory: Memory;
  /** The administrator's process (root) and its /dev/ksm fd. */
  readonly admin: Libc;
  readonly adminFd: number;
  /** 2008: the scanner program's SCAN fd (in the admin process). */
  readonly scanFd: number;

  constructor(readonly abi: '2008' | '2009', opts: { pageHashSize?: number } = {}) {
    super();
    this.era = abi === '2008' ? 'v1-2008' : 'v1-2009';
    // The node as a site that lets its users register memory would set it.
    this.k = new V1Kernel({ abi, pageHashSize: opts.pageHashSize, deviceNode: { uid: 0, gid: 0, mode: 0o666 } });
    this.memory = this.k.memory;
    this.init();
    this.admin = new Libc(this.k, this.k.spawn('ksmctl'));
    this.adminFd = this.admin.open(KSM_DEVICE_PATH, O_RDWR);
    this.scanFd = abi === '2008' ? this.admin.ioctl(this.adminFd, h2008.KSM_CREATE_SCAN) : -1;
    if (this.adminFd < 0 || (abi === '2008' && this.scanFd < 0)) throw new Error(`v1 ${abi}: ${this.admin.perror('setup')}`);
  }

  get tree(): Tree2009 | null {
    return this.k.ksm2009?.tree ?? null;
  }

  protected spawnProcess(name: string, uid: number) {
    const libc = new Libc(this.k, this.k.spawn(name, uid));
    // The C library maps the page its ioctl structs live on at the first
    // struct argument: make that happen now, before the program maps (and
    // unmaps pieces of) its regions, so no munmap of a region can take it.
    libc.ioctl(-1, h2009.KSM_GET_INFO_KTHREAD, new h2009.ksm_kthread_info());
    libc.errno = 0;
    return { p: libc.proc, libc };
  }
  protected forkProcess(wp: WorldProc) {
    const c = wp.libc!.fork();
    return c === null ? -wp.libc!.errno : { p: c.proc, libc: c };
  }
  protected exitProcess(wp: WorldProc): void {
    wp.libc!.exit(0);
  }
  protected sysMmap(): number {
    throw new Error('v1 maps through its Libc');
  }
  protected sysMunmap(): number {
    throw new Error('v1 unmaps through its Libc');
  }

  /** open("/dev/ksm") and KSM_CREATE_SHARED_MEMORY_AREA once, then KSM_REGISTER_MEMORY_REGION. */
  register(wp: WorldProc, addr: number, len: number): number {
    const c = wp.libc!;
    if (wp.sma < 0) {
      if (wp.dev < 0) {
        const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
        if (dev < 0) return -c.errno;
        wp.dev = dev;
      }
      const sma = c.ioctl(wp.dev, h2008.KSM_CREATE_SHARED_MEMORY_AREA);
      if (sma < 0) return -c.errno;
      wp.sma = sma;
    }
    const npages = Math.ceil(len / PAGE_SIZE);
    const r =
      this.abi === '2008'
        ? c.ioctl(wp.sma, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages, addr }))
        : c.ioctl(wp.sma, h2009.KSM_REGISTER_MEMORY_REGION, new h2009.ksm_memory_region({ npages, addr }));
    return r < 0 ? -c.errno : r;
  }

  /** KSM_REMOVE_MEMORY_REGION: every slot of the process's SMA. */
  unregister(wp: WorldProc): number {
    if (wp.sma < 0) return 0;
    const c = wp.libc!;
    const r = c.ioctl(wp.sma, h2008.KSM_REMOVE_MEMORY_REGION);
    return r < 0 ? -c.errno : r;
  }

  /** close() of the process's SMA fd (the release runs on the last reference, in any process). */
  closeSma(wp: WorldProc): number {
    if (wp.sma < 0) return 0;
    const r = wp.libc!.close(wp.sma);
    wp.sma = -1;
    return r < 0 ? -wp.libc!.errno : r;
  }

  scan(pages: number): void {
    if (this.abi === '2008') {
      this.admin.ioctl(this.scanFd, h2008.KSM_SCAN, new h2008.ksm_user_scan({ pages_to_scan: pages, max_pages_to_merge: 0x7fffffff, flags: h2008.ksm_control_flags_run }));
    } else {
      this.k.ksm2009!.tree.ksmScanStart(pages >>> 0);
    }
  }

  /** KSM_START_STOP_KTHREAD by the administrator. */
  startStop(run: boolean, pagesToScan: number, sleepUs: number, caller: Libc = this.admin, fd = this.adminFd): number {
    const flags = run ? 1 : 0;
    return this.abi === '2008'
      ? caller.ioctl(fd, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: sleepUs, pages_to_scan: pagesToScan, max_pages_to_merge: 0x7fffffff, flags }))
      : caller.ioctl(fd, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: sleepUs, pages_to_scan: pagesToScan, flags }));
  }

  sleep(ms: number): void {
    this.k.sleep(ms);
  }
  protected mergerProblems(): string[] {
    return this.abi === '2008' ? checkHash2008(this.k.ksm2008!) : checkTree2009(this.k.ksm2009!.tree);
  }
  protected override framePins(): ReadonlyMap<number, number> {
    return this.k.ksm2009?.tree.leakedRefs ?? new Map();
  }
  /** The 2008 SCAN fd's cursor. */
  scanCursor() {
    const f = this.k.fdTable(this.admin.proc).get(this.scanFd);
    return f === null ? null : KsmDevice.scanCursor(f);
  }
  passes(): number {
    if (this.abi === '2009') return this.k.ksm2009!.tree.wraps;
    return this.scanCursor()?.wraps ?? 0;
  }
  cursorMm(): Mm | null {
    if (this.abi === '2009') return this.k.ksm2009!.tree.scan.slotIndex?.mm ?? null;
    return this.scanCursor()?.slotIndex?.mm ?? null;
  }
  merges(): number {
    return this.abi === '2008' ? this.k.ksm2008!.stats.merges : this.k.ksm2009!.tree.stats.merges;
  }
}

export function makeWorld(era: EraId, opts: { pageHashSize?: number } = {}): World {
  switch (era) {
    case 'v1-2008':
      return new V1World('2008', opts);
    case 'v1-2009':
      return new V1World('2009', opts);
    case 'v2':
      return new V2World();
    case 'v3':
      return new V3World();
    case 'v3-3.9':
      return new V3World('3.9');
    case 'v3-6.18':
      return new V3World('6.18');
  }
}
