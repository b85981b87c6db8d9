/**
 * The workload driver of the April 2009 era (v2, seed 000): registration is
 * madvise(MADV_SHAREABLE) per region; unregistration did not exist, so it is
 * madvise(MADV_UNSHAREABLE), which that kernel refuses (EINVAL); a scan is
 * one call of ksm_scan_start with the step's budget; an exited registered
 * process stays pinned and scanned. The era exposed only pages_shared; the
 * other counters are derived as SCHEMA.md defines them for the 2009 tree
 * merger.
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../engine/constants.js';
import { ERRNO } from '../../engine/errno.js';
import type { ChecksumName } from '../../engine/hash/page-checksum.js';
import type { Range } from '../../engine/memory/memory.js';
import type { SinglePage } from '../../engine/pages.js';
import { MADV_SHAREABLE, MADV_UNSHAREABLE } from '../../v2-madvise/constants.js';
import { V2Kernel } from '../../v2-madvise/kernel.js';
import type { CounterName, Counters, EraDriver } from '../driver.js';
import { fillRegion, internPage } from '../fill.js';
import type { Workload } from '../schema.js';
import { madviseRegion, madviseRegions, type Proc, procOf } from './madvise.js';

export class V2Driver implements EraDriver {
  readonly era = 'v2';
  readonly title = 'v2: madvise(MADV_SHAREABLE) + /sys/kernel/mm/ksm (4 files), April 2009 (seed 000)';
  readonly exposed: ReadonlySet<CounterName> = new Set<CounterName>(['pages_shared']);
  readonly kernel = new V2Kernel();
  /** get_task_mm at registration: an exited process's registered memory stays, scanned and counted. */
  readonly exitKeepsRegistration = true;
  private readonly procs = new Map<string, Proc>();

  /** The uid of the workload's processes (--user). */
  private readonly uid: number;

  /** opts.checksum: the merger's page checksum instead of the 2009 one (an experiment, not era behaviour); opts.uid: the processes' user. */
  constructor(opts: { checksum?: ChecksumName; uid?: number } = {}) {
    this.uid = opts.uid ?? 0;
    if (opts.checksum !== undefined) this.kernel.ksm.useChecksum(opts.checksum);
  }

  get memory() {
    return this.kernel.memory;
  }

  setup(w: Workload): void {
    const k = this.kernel;
    // The batch size of fullScans steps, set through the era's own knob
    // (the scan steps call ksm_scan_start with their budget directly).
    const r = k.writeSysfs('pages_to_scan', `${w.pagesToScan}\n`);
    if (r <= 0) throw new Error(`echo ${w.pagesToScan} > pages_to_scan failed: ${r}`);
    // Size the frame table for the whole workload at once (and the KSM page a merge allocates first).
    k.memory.frames.reserve(w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0) + 1);
    for (const { name, regions } of w.processes) {
      const p = k.spawn(name, this.uid);
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
    // The pages are in: the content store's growth slack would be carried through every scan.
    k.memory.contents.trim();
  }

  private proc(name: string): Proc {
    return procOf(this.procs, name);
  }

  register(proc: string, region: number): number {
    return madviseRegion(this.kernel, this.proc(proc), region, MADV_SHAREABLE);
  }

  /** What a program of the time could try: the unimplemented MADV_UNSHAREABLE, refused (EINVAL also with no region). */
  unregister(proc: string): number {
    const p = this.proc(proc);
    return madviseRegions(this.kernel, p, MADV_UNSHAREABLE) || (p.regions.length ? 0 : -ERRNO.EINVAL);
  }

  scan(pages: number): void {
    this.kernel.ksm.ksmScanStart(pages);
  }

  passes(): number {
    return this.kernel.ksm.wraps;
  }

  pagesScanned(): number {
    return this.kernel.ksm.stats.pagesScanned;
  }

  write(proc: string, region: number, page: number, content: SinglePage): number {
    const { p, regions } = this.proc(proc);
    if (p.exited) return -ERRNO.ESRCH;
    return this.kernel.memory.writePage(p.mm, regions[region].addr + page * PAGE_SIZE, internPage(this.memory, content));
  }

  /** The process exits; its registered address space stays pinned by the slots and keeps being scanned. */
  exit(proc: string): void {
    this.kernel.exit(this.proc(proc).p);
  }

  counters(): Counters {
    const c = this.kernel.ksm.counters();
    // pages_shared is the era's own file; the rest are derived.
    const shared = Number(String(this.kernel.readSysfs('pages_shared')).trim());
    return {
      pages_shared: shared,
      pages_sharing: c.pagesSharing,
      pages_unshared: c.pagesUnshared,
      pages_volatile: c.pagesVolatile,
      full_scans: c.fullScans,
    };
  }

  regionRange(proc: string, region: number): Range {
    const { p, regions } = this.proc(proc);
    const r = regions[region];
    return { mm: p.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE };
  }
}
