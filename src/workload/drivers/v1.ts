/**
 * The workload driver of the /dev/ksm era (v1), in either ABI: a program per
 * workload process, written against the 2008 header (seed 001, hash-table
 * merger) or the 2009 header (seed 002, tree merger), on a kernel whose
 * driver speaks that ABI only, as the kernels of the time did.
 *
 * - register: open("/dev/ksm"), KSM_CREATE_SHARED_MEMORY_AREA (once per
 *   process; both fds stay open), then one KSM_REGISTER_MEMORY_REGION per
 *   region;
 * - unregister: KSM_REMOVE_MEMORY_REGION on the process's SMA fd (EBADF when
 *   the process never created one: the program has no fd to pass);
 * - scan N: 2008, KSM_SCAN {pages_to_scan N, max_pages_to_merge INT_MAX (no
 *   limit: the largest value that stays positive as the seed's int), run}
 *   through one SCAN fd a separate scanner process opened at setup; 2009, one
 *   kksmd batch of N (ksm_scan_start on the kthread's cursor);
 * - exit: the process exits; its fds close, and the release of its SMA file
 *   unregisters its regions (the seeds' only cleanup).
 *
 * The workload's processes run as `uid` (--user): a user without access to
 * the /dev/ksm node (root:root 0660) gets EACCES at open and registers
 * nothing. The 2008 scanner program is the administrator's (root).
 *
 * Neither ABI exposes a counter: every counter is derived (SCHEMA.md).
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../engine/constants.js';
import { ERRNO } from '../../engine/errno.js';
import type { ChecksumName } from '../../engine/hash/page-checksum.js';
import type { Range } from '../../engine/memory/memory.js';
import type { SinglePage } from '../../engine/pages.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../../v1-ioctl/constants.js';
import type { KsmAbi } from '../../v1-ioctl/device.js';
import { KsmDevice } from '../../v1-ioctl/device.js';
import { V1Kernel } from '../../v1-ioctl/kernel.js';
import { Libc } from '../../v1-ioctl/libc.js';
import * as h2008 from '../../v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../../v1-ioctl/linux-ksm-2009.js';
import type { CounterName, Counters, EraDriver } from '../driver.js';
import { fillRegion, internPage } from '../fill.js';
import type { Workload } from '../schema.js';

/** INT_MAX: "no merge limit" for KSM_SCAN (0xffffffff would be -1 as the seed's int, and scan nothing). */
const NO_MERGE_LIMIT = 0x7fffffff;

interface Proc {
  c: Libc;
  regions: Array<{ addr: number; pages: number }>;
  /** The /dev/ksm fd and the SMA fd, once the process registered something. */
  dev: number;
  sma: number;
}

export const V1_ABIS: readonly KsmAbi[] = ['2008', '2009'];

/** `--era v1` without `--abi`: the November 2008 ABI, the era's first (the only home of the hash-table merger). */
export const V1_DEFAULT_ABI: KsmAbi = '2008';

export class V1Driver implements EraDriver {
  readonly era = 'v1';
  readonly title: string;
  readonly exposed = new Set<CounterName>();
  private k: V1Kernel | null = null;
  private readonly procs = new Map<string, Proc>();
  /** 2008: the scanner process and its SCAN fd. */
  private scanner: Libc | null = null;
  private scanFd = -1;

  /** The merger's page checksum (bucket hash of the 2008 merger) instead of the era's own: an experiment, not era behaviour. */
  private readonly checksum: ChecksumName | undefined;

  /** The uid of the workload's processes (--user): the /dev/ksm node's mode decides what they may do. */
  private readonly uid: number;

  constructor(readonly abi: KsmAbi = V1_DEFAULT_ABI, opts: { checksum?: ChecksumName; uid?: number } = {}) {
    this.checksum = opts.checksum;
    this.uid = opts.uid ?? 0;
    if (!V1_ABIS.includes(abi)) throw new RangeError(`v1: no ABI ${String(abi)} (${V1_ABIS.join(', ')})`);
    this.title =
      abi === '2008'
        ? 'v1 2008: /dev/ksm ioctls (Nov 2008 ABI), hash-table merger (seed 001)'
        : 'v1 2009: /dev/ksm ioctls (Mar 2009 ABI), tree merger (seed 002)';
  }

  /** The simulated kernel (loaded by setup: the workload sizes the 2008 module's hash tables). */
  get kernel(): V1Kernel {
    if (this.k === null) throw new Error('v1: setup() has not run');
    return this.k;
  }

  get memory() {
    return this.kernel.memory;
  }

  setup(w: Workload): void {
    // Module load with the workload's parameters (SCHEMA.md hashTables: only
    // the Nov 2008 merger has these tables; page_hash_size changes results).
    const ht = w.hashTables;
    const k = new V1Kernel({ abi: this.abi, pageHashSize: ht.pageHash, rmapHashSize: ht.rmapHash, sha1HashSize: ht.sha1Cache });
    this.k = k;
    if (this.checksum !== undefined) {
      k.ksm2008?.useChecksum(this.checksum);
      k.ksm2009?.tree.useChecksum(this.checksum);
    }
    // Size the frame table for the whole workload at once (and the KSM page a merge allocates first).
    k.memory.frames.reserve(w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0) + 1);
    for (const { name, regions } of w.processes) {
      const c = new Libc(k, k.spawn(name, this.uid));
      const proc: Proc = { c, regions: [], dev: -1, sma: -1 };
      for (const region of regions) {
        const len = region.pages * PAGE_SIZE;
        const addr = c.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (addr < 0) throw new Error(`mmap of ${region.pages} pages for ${name} failed: ${c.perror('mmap')}`);
        fillRegion(k.memory, c.proc.mm, addr, region);
        proc.regions.push({ addr, pages: region.pages });
      }
      this.procs.set(name, proc);
    }
    // The pages are in: the content store's growth slack would be carried through every scan.
    k.memory.contents.trim();
    if (this.abi === '2008') {
      // A scanner program: KSM_SCAN runs in its context, on its own cursor.
      const s = new Libc(k, k.spawn('ksmscan'));
      const dev = s.open(KSM_DEVICE_PATH, O_RDWR);
      if (dev < 0) throw new Error(`ksmscan: ${s.perror('open /dev/ksm')}`);
      const fd = s.ioctl(dev, h2008.KSM_CREATE_SCAN);
      if (fd < 0) throw new Error(`ksmscan: ${s.perror('KSM_CREATE_SCAN')}`);
      this.scanner = s;
      this.scanFd = fd;
    }
  }

  private proc(name: string): Proc {
    const p = this.procs.get(name);
    if (p === undefined) throw new Error(`no process ${name}`);
    return p;
  }

  /** The syscall-level result of a libc call: the value, or -errno. */
  private sys(c: Libc, r: number): number {
    return r < 0 ? -c.errno : r;
  }

  register(proc: string, region: number): number {
    const p = this.proc(proc);
    const c = p.c;
    if (p.sma < 0) {
      if (p.dev < 0) {
        const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
        if (dev < 0) return -c.errno;
        p.dev = dev;
      }
      const sma = c.ioctl(p.dev, this.abi === '2008' ? h2008.KSM_CREATE_SHARED_MEMORY_AREA : h2009.KSM_CREATE_SHARED_MEMORY_AREA);
      if (sma < 0) return -c.errno;
      p.sma = sma;
    }
    const r = p.regions[region];
    const ret =
      this.abi === '2008'
        ? c.ioctl(p.sma, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages: r.pages, addr: r.addr }))
        : c.ioctl(p.sma, h2009.KSM_REGISTER_MEMORY_REGION, new h2009.ksm_memory_region({ npages: r.pages, addr: r.addr }));
    return this.sys(c, ret);
  }

  unregister(proc: string): number {
    const p = this.proc(proc);
    if (p.sma < 0) return -ERRNO.EBADF;
    const req = this.abi === '2008' ? h2008.KSM_REMOVE_MEMORY_REGION : h2009.KSM_REMOVE_MEMORY_REGION;
    return this.sys(p.c, p.c.ioctl(p.sma, req));
  }

  scan(pages: number): void {
    if (this.abi === '2008') {
      const s = this.scanner!;
      s.ioctl(this.scanFd, h2008.KSM_SCAN, new h2008.ksm_user_scan({ pages_to_scan: pages, max_pages_to_merge: NO_MERGE_LIMIT, flags: h2008.ksm_control_flags_run }));
    } else {
      // One kksmd batch of `pages` (ksm_scan_start(&kthread_ksm_scan, pages)).
      this.kernel.ksm2009!.tree.ksmScanStart(pages >>> 0);
    }
  }

  private scanCursor() {
    const f = this.scanner!.kernel.fdTable(this.scanner!.proc).get(this.scanFd);
    return f === null ? null : KsmDevice.scanCursor(f);
  }

  passes(): number {
    if (this.abi === '2008') return this.scanCursor()?.wraps ?? 0;
    return this.kernel.ksm2009!.tree.wraps;
  }

  pagesScanned(): number {
    if (this.abi === '2008') return this.scanCursor()?.positions ?? 0;
    return this.kernel.ksm2009!.tree.positions;
  }

  write(proc: string, region: number, page: number, content: SinglePage): number {
    const { c, regions } = this.proc(proc);
    return this.kernel.memory.writePage(c.proc.mm, regions[region].addr + page * PAGE_SIZE, internPage(this.memory, content));
  }

  exit(proc: string): void {
    this.proc(proc).c.exit(0);
  }

  counters(): Counters {
    if (this.abi === '2008') {
      const d = this.kernel.ksm2008!.derivedCounters();
      return { pages_shared: d.pagesShared, pages_sharing: d.pagesSharing, pages_unshared: 0, pages_volatile: 0, full_scans: this.passes() };
    }
    const c = this.kernel.ksm2009!.tree.counters();
    return { pages_shared: c.pagesShared, pages_sharing: c.pagesSharing, pages_unshared: c.pagesUnshared, pages_volatile: c.pagesVolatile, full_scans: c.fullScans };
  }

  regionRange(proc: string, region: number): Range {
    const { c, regions } = this.proc(proc);
    const r = regions[region];
    return { mm: c.proc.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE };
  }
}
