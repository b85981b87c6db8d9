/**
 * The workload driver of the mainline era (v3, Linux 2.6.32, seed 003):
 * registration is madvise(MADV_MERGEABLE) per region, unregistration
 * madvise(MADV_UNMERGEABLE), a scan is one ksmd batch (ksm_do_scan), and the
 * counters are the kernel's own sysfs files.
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../engine/constants.js';
import type { ChecksumName } from '../../engine/hash/page-checksum.js';
import type { Process } from '../../engine/machine.js';
import type { Range } from '../../engine/memory/memory.js';
import type { SinglePage } from '../../engine/pages.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE } from '../../v3-sysfs/constants.js';
import { V3Kernel } from '../../v3-sysfs/kernel.js';
import { COUNTER_NAMES, type Counters, type EraDriver } from '../driver.js';
import { fillRegion, internPage } from '../fill.js';
import type { Workload } from '../schema.js';

interface Proc {
  p: Process;
  regions: Array<{ addr: number; pages: number }>;
}

export class V3Driver implements EraDriver {
  readonly era = 'v3';
  readonly title = 'v3: madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, Linux 2.6.32 (seed 003)';
  readonly exposed = new Set(COUNTER_NAMES);
  readonly kernel = new V3Kernel();
  private readonly procs = new Map<string, Proc>();

  /** opts.checksum: the merger's page checksum instead of 2.6.32's (an experiment, not era behaviour). */
  constructor(opts: { checksum?: ChecksumName } = {}) {
    if (opts.checksum !== undefined) this.kernel.ksm.useChecksum(opts.checksum);
  }

  get memory() {
    return this.kernel.memory;
  }

  setup(w: Workload): void {
    const k = this.kernel;
    // The batch size of fullScans steps, set through the era's own knob.
    const r = k.writeSysfs('pages_to_scan', `${w.pagesToScan}\n`);
    if (r < 0) throw new Error(`echo ${w.pagesToScan} > pages_to_scan failed: ${r}`);
    // Size the frame and rmap_item tables for the whole workload at once.
    const total = w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0);
    k.memory.frames.reserve(total + 1);
    k.ksm.items.reserve(total + w.processes.length + 1);
    for (const { name, regions } of w.processes) {
      const p = k.spawn(name);
      const proc: Proc = { p, regions: [] };
      for (const region of regions) {
        const len = region.pages * PAGE_SIZE;
        const addr = k.mmap(p, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (addr < 0) throw new Error(`mmap of ${region.pages} pages for ${name} failed: ${addr}`);
        fillRegion(k.memory, p.mm, addr, region);
        proc.regions.push({ addr, pages: region.pages });
      }
      this.procs.set(name, proc);
    }
  }

  private proc(name: string): Proc {
    const p = this.procs.get(name);
    if (p === undefined) throw new Error(`no process ${name}`);
    return p;
  }

  register(proc: string, region: number): number {
    const { p, regions } = this.proc(proc);
    const r = regions[region];
    return this.kernel.madvise(p, r.addr, r.pages * PAGE_SIZE, MADV_MERGEABLE);
  }

  unregister(proc: string): number {
    const { p, regions } = this.proc(proc);
    for (const r of regions) {
      const err = this.kernel.madvise(p, r.addr, r.pages * PAGE_SIZE, MADV_UNMERGEABLE);
      if (err) return err;
    }
    return 0;
  }

  scan(pages: number): void {
    this.kernel.ksm.ksmDoScan(pages);
  }

  passes(): number {
    return this.kernel.ksm.scan.seqnr;
  }

  pagesScanned(): number {
    return this.kernel.ksm.stats.pagesScanned;
  }

  write(proc: string, region: number, page: number, content: SinglePage): number {
    const { p, regions } = this.proc(proc);
    return this.kernel.memory.writePage(p.mm, regions[region].addr + page * PAGE_SIZE, internPage(this.memory, content));
  }

  exit(proc: string): void {
    this.kernel.exit(this.proc(proc).p);
  }

  counters(): Counters {
    const read = (name: string) => Number(String(this.kernel.readSysfs(name)).trim());
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
