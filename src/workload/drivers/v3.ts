/**
 * The workload driver of the mainline era (v3): registration is
 * madvise(MADV_MERGEABLE) per region, unregistration madvise(MADV_UNMERGEABLE),
 * a scan is one ksmd batch (ksm_do_scan), and the counters are the kernel's
 * own sysfs files. One driver for every kernel version of the era
 * (v3-sysfs/kernels.ts): 2.6.32 (seed 003, the default), 3.9 (seed 004) and
 * 6.18.
 *
 * Setup writes, through the sysfs files: pages_to_scan (the workload's batch
 * size); under 6.18, smart_scan 0 and use_zero_pages 0, as the kernel oracle
 * runs the real kernel; then the workload's own "sysfs" knobs and those of
 * the command line. A region with a "node" is mbind()ed to that NUMA node
 * before its pages are written; the machine has as many nodes as the
 * highest node named needs.
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../engine/constants.js';
import { errnoName } from '../../engine/errno.js';
import type { ChecksumName } from '../../engine/hash/page-checksum.js';
import type { Range } from '../../engine/memory/memory.js';
import type { SinglePage } from '../../engine/pages.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE } from '../../v3-sysfs/constants.js';
import { type AnyMerger, V3Kernel } from '../../v3-sysfs/kernel.js';
import { DEFAULT_KERNEL, KERNEL_TITLES, type KernelVersion } from '../../v3-sysfs/kernels.js';
import { COUNTER_NAMES, type Counters, type EraDriver } from '../driver.js';
import { fillRegion, internPage } from '../fill.js';
import { type Workload, WorkloadError } from '../schema.js';
import { madviseRegion, madviseRegions, type Proc, procOf } from './madvise.js';

export interface MainlineDriverOptions<K extends KernelVersion> {
  /** The kernel version (default 2.6.32). */
  kernel?: K;
  /** The merger's page checksum instead of its kernel's (an experiment, not era behaviour). */
  checksum?: ChecksumName;
  /** /sys/kernel/mm/ksm files to write after the workload's own, in order (the command line's --sysfs). */
  sysfs?: ReadonlyArray<readonly [string, string]>;
  /** NUMA nodes of regions, overriding the workload's (--node PROC[:REGION]=N): key "proc" or "proc:region". */
  nodes?: ReadonlyMap<string, number>;
  /** The uid of the workload's processes (--user; default root). */
  uid?: number;
}

/** The v3 driver of any kernel version; V3Driver below is the 2.6.32 one. */
export class MainlineDriver<K extends KernelVersion = KernelVersion> implements EraDriver {
  readonly era = 'v3';
  readonly exposed = new Set(COUNTER_NAMES);
  readonly kernelVersion: K;
  private k: V3Kernel<K>;
  private readonly procs = new Map<string, Proc>();

  constructor(private readonly opts: MainlineDriverOptions<K> = {}) {
    this.kernelVersion = (opts.kernel ?? DEFAULT_KERNEL) as K;
    this.k = this.boot(1);
  }

  /** Makes the kernel; the machine's NUMA nodes are fixed at boot. */
  private boot(numaNodes: number): V3Kernel<K> {
    const k = new V3Kernel<K>({ kernel: this.kernelVersion, numaNodes });
    if (this.opts.checksum !== undefined) (k.ksm as AnyMerger).useChecksum(this.opts.checksum);
    return k;
  }

  get kernel(): V3Kernel<K> {
    return this.k;
  }

  get title(): string {
    return `v3: madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, ${KERNEL_TITLES[this.kernelVersion]}`;
  }

  get memory() {
    return this.k.memory;
  }

  private nodeOf(proc: string, region: number, fromFile: number | undefined): number {
    return this.opts.nodes?.get(`${proc}:${region}`) ?? this.opts.nodes?.get(proc) ?? fromFile ?? 0;
  }

  private echo(name: string, value: string, where: string): void {
    const r = this.k.writeSysfs(name, `${value}\n`);
    if (r < 0) {
      throw new WorkloadError({
        kind: 'schema',
        place: where,
        detail: `echo ${value} > /sys/kernel/mm/ksm/${name} failed with ${errnoName(-r)} under ${KERNEL_TITLES[this.kernelVersion]}`,
      });
    }
  }

  setup(w: Workload): void {
    let nodes = 1;
    for (const { name, regions } of w.processes) regions.forEach((r, i) => (nodes = Math.max(nodes, this.nodeOf(name, i, r.node) + 1)));
    if (nodes > this.k.numaNodes) this.k = this.boot(nodes);
    const k = this.k;
    // The batch size of fullScans steps, set through the era's own knob.
    this.echo('pages_to_scan', `${w.pagesToScan}`, 'pagesToScan');
    if (this.kernelVersion === '6.18') {
      // As the kernel oracle runs the real 6.18 (unless the workload says otherwise).
      this.echo('smart_scan', '0', 'setup');
      this.echo('use_zero_pages', '0', 'setup');
    }
    for (const [name, value] of w.sysfs ?? []) this.echo(name, value, `sysfs.${name}`);
    for (const [name, value] of this.opts.sysfs ?? []) this.echo(name, value, `--sysfs ${name}=${value}`);
    // Size the frame and rmap_item tables for the whole workload at once.
    const total = w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0);
    k.memory.frames.reserve(total + 1);
    k.ksm.items.reserve(total + w.processes.length + 1);
    for (const { name, regions } of w.processes) {
      const p = k.spawn(name, this.opts.uid ?? 0);
      const proc: Proc = { p, regions: [] };
      regions.forEach((region, i) => {
        const len = region.pages * PAGE_SIZE;
        const addr = k.mmap(p, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (addr < 0) throw new Error(`mmap of ${region.pages} pages for ${name} failed: ${addr}`);
        const node = this.nodeOf(name, i, region.node);
        if (node !== 0) {
          const r = k.mbind(p, addr, len, node);
          if (r < 0) throw new Error(`mbind of ${name}'s region ${i} to node ${node} failed: ${errnoName(-r)}`);
        }
        fillRegion(k.memory, p.mm, addr, region);
        proc.regions.push({ addr, pages: region.pages });
      });
      this.procs.set(name, proc);
    }
    // The pages are in: the content store's growth slack would be carried through every scan.
    k.memory.contents.trim();
  }

  private proc(name: string): Proc {
    return procOf(this.procs, name);
  }

  register(proc: string, region: number): number {
    return madviseRegion(this.k, this.proc(proc), region, MADV_MERGEABLE);
  }

  unregister(proc: string): number {
    return madviseRegions(this.k, this.proc(proc), MADV_UNMERGEABLE);
  }

  scan(pages: number): void {
    (this.k.ksm as AnyMerger).ksmDoScan(pages);
  }

  passes(): number {
    return (this.k.ksm as AnyMerger).scan.seqnr;
  }

  pagesScanned(): number {
    return (this.k.ksm as AnyMerger).stats.pagesScanned;
  }

  write(proc: string, region: number, page: number, content: SinglePage): number {
    const { p, regions } = this.proc(proc);
    return this.k.memory.writePage(p.mm, regions[region].addr + page * PAGE_SIZE, internPage(this.memory, content));
  }

  exit(proc: string): void {
    this.k.exit(this.proc(proc).p);
  }

  counters(): Counters {
    const read = (name: string) => Number(String(this.k.readSysfs(name)).trim());
    const c = {} as Counters;
    for (const n of COUNTER_NAMES) c[n] = read(n);
    return c;
  }

  regionRange(proc: string, region: number): Range {
    const { p, regions } = this.proc(proc);
    const r = regions[region];
    return { mm: p.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE };
  }
}

/** The v3 driver of Linux 2.6.32 (seed 003). */
export class V3Driver extends MainlineDriver<'2.6.32'> {
  constructor(opts: Omit<MainlineDriverOptions<'2.6.32'>, 'kernel'> = {}) {
    super({ ...opts, kernel: '2.6.32' });
  }
}
