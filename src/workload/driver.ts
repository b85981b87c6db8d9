/**
 * The workload runner's view of an era: the era adapter (src/eras) booted
 * for one workload, with the workload's processes and regions by name. The
 * runner (runner.ts) plays the steps through it; what each step means in an
 * era (which call registers, what one batch is, which counters the era
 * exposed) is the adapter's, written once for every tool.
 *
 * Setup, in order: the era boots (v1: the 2008 module takes the workload's
 * hash table sizes; v3: as many NUMA nodes as the regions name), ksmd's
 * batch is set to the workload's pagesToScan through the era's own knob,
 * then the era's workload knobs (registry: 6.18 runs with smart_scan 0 and
 * use_zero_pages 0, as the kernel oracle runs the real kernel), the
 * workload's "sysfs" and those of the command line; then each process is
 * spawned, its regions mapped, placed on their nodes and filled.
 */
import { errnoName } from '../engine/errno.js';
import type { ChecksumName } from '../engine/hash/page-checksum.js';
import type { Process } from '../engine/machine.js';
import type { Memory, Range } from '../engine/memory/memory.js';
import type { SinglePage } from '../engine/pages.js';
import { PAGE_SIZE } from '../engine/constants.js';
import { COUNTER_NAMES, type CounterName, type Counters, type EraAdapter, type MappedRegion } from '../eras/adapter.js';
import type { EraEntry, EraInfo } from '../eras/registry.js';
import { type Workload, WorkloadError } from './schema.js';

export { COUNTER_NAMES, type CounterName, type Counters };

/** Options of a workload driver: another checksum, extra knobs, NUMA placement, the processes' uid. */
export interface DriverOptions {
  /** The merger's page checksum instead of its era's own (an experiment, not era behaviour). */
  checksum?: ChecksumName;
  /** Knob files to write after the workload's own, in order (the command line's --sysfs). */
  sysfs?: ReadonlyArray<readonly [string, string]>;
  /** NUMA nodes of regions, overriding the workload's (--node PROC[:REGION]=N): key "proc" or "proc:region". */
  nodes?: ReadonlyMap<string, number>;
  /** The uid of the workload's processes (--user; default root). The administrator's setup stays root's. */
  uid?: number;
}

interface Proc {
  p: Process;
  regions: MappedRegion[];
}

/** What the runner drives: a WorkloadDriver, or a tool's wrapper of one (compare counts passes through it). */
export interface EraDriver {
  readonly era: EraInfo;
  readonly title: string;
  readonly exposed: ReadonlySet<CounterName>;
  readonly exitKeepsRegistration: boolean;
  readonly memory: Memory;
  setup(w: Workload): void;
  register(proc: string, region: number): number;
  unregister(proc: string): number;
  scan(pages: number): void;
  passes(): number;
  pagesScanned(): number;
  write(proc: string, region: number, page: number, content: SinglePage): number;
  exit(proc: string): void;
  counters(): Counters;
  regionRange(proc: string, region: number): Range;
  /**
   * pages_saved over these registered regions, for a driver whose memory is
   * not the engine's (the real kernel: /proc/PID/pagemap); absent, the
   * runner measures `memory` over their regionRange.
   */
  measurePagesSaved?(regions: ReadonlyArray<readonly [proc: string, region: number]>): number;
}

export class WorkloadDriver implements EraDriver {
  private a: EraAdapter | null = null;
  private readonly procs = new Map<string, Proc>();

  constructor(
    readonly era: EraEntry,
    private readonly opts: DriverOptions = {},
  ) {}

  /** What it models, for humans (`v3: madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, mainline Linux 2.6.32 (seed 003)`). */
  get title(): string {
    return `${this.era.id}: ${this.era.title}`;
  }

  /** The counters the era itself exposed to user space; the others are derived. */
  get exposed(): ReadonlySet<CounterName> {
    return new Set(this.era.exposed);
  }

  /** Whether a registration outlives its process (the April 2009 patch pins a registered mm). */
  get exitKeepsRegistration(): boolean {
    return this.adapter.exitKeepsRegistration;
  }

  /** The booted era (after setup). */
  get adapter(): EraAdapter {
    if (this.a === null) throw new Error(`${this.era.id}: setup() has not run`);
    return this.a;
  }

  get memory(): Memory {
    return this.adapter.memory;
  }

  private nodeOf(proc: string, region: number, fromFile: number | undefined): number {
    return this.opts.nodes?.get(`${proc}:${region}`) ?? this.opts.nodes?.get(proc) ?? fromFile ?? 0;
  }

  /** echo VALUE > /sys/kernel/mm/ksm/NAME before the first step; a refusal is the workload's error at its place. */
  private knob(a: EraAdapter, name: string, value: string, where: string, file?: string): void {
    const r = a.writeSysfs(name, `${value}\n`);
    // A store of the April 2009 era refuses bad input by consuming nothing (0).
    if (r <= 0) {
      const why = r < 0 ? `failed with ${errnoName(-r)}` : 'stored nothing (write returned 0)';
      throw new WorkloadError({ kind: 'schema', file, place: where, detail: `echo ${value} > /sys/kernel/mm/ksm/${name} ${why} under ${this.era.system}` });
    }
  }

  /** Boots the era and creates the processes and regions with their initial contents. */
  setup(w: Workload): void {
    let nodes = 1;
    for (const { name, regions } of w.processes) regions.forEach((r, i) => (nodes = Math.max(nodes, this.nodeOf(name, i, r.node) + 1)));
    // The real kernel has no simulator to boot: its runs go through src/real (ksmctl workload run --era real).
    if (this.era.boot === undefined) throw new Error(`era ${this.era.id} is not simulated: it runs through its own driver`);
    const a = this.era.boot({ checksum: this.opts.checksum, numaNodes: nodes, hashTables: w.hashTables });
    this.a = a;
    // The batch size of fullScans steps, set through the era's own knob (v1: none to set; scan steps pass their budget).
    // What the file says is refused at its place in the file; --sysfs below is the command line's.
    if (this.era.family !== 'v1') this.knob(a, 'pages_to_scan', `${w.pagesToScan}`, 'pagesToScan', w.source);
    for (const [name, value] of this.era.workloadKnobs) this.knob(a, name, value, 'setup');
    for (const [name, value] of w.sysfs ?? []) this.knob(a, name, value, `sysfs.${name}`, w.source);
    for (const [name, value] of this.opts.sysfs ?? []) this.knob(a, name, value, `--sysfs ${name}=${value}`);
    // Size the tables for the whole workload at once.
    a.reserve(
      w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0),
      w.processes.length,
    );
    for (const { name, regions } of w.processes) {
      const p = a.spawn(name, this.opts.uid ?? 0);
      const proc: Proc = { p, regions: [] };
      regions.forEach((region, i) => {
        const addr = a.mmap(p, region.pages);
        if (addr < 0) throw new Error(`mmap of ${region.pages} pages for ${name} failed: ${errnoName(-addr)}`);
        const node = this.nodeOf(name, i, region.node);
        const r = a.bind(p, addr, region.pages, node);
        if (r < 0) throw new Error(`mbind of ${name}'s region ${i} to node ${node} failed: ${errnoName(-r)}`);
        a.fill(p, addr, region);
        proc.regions.push({ addr, pages: region.pages });
      });
      this.procs.set(name, proc);
    }
    // The pages are in: the content store's growth slack would be carried through every scan.
    a.memory.contents.trim();
  }

  private proc(name: string): Proc {
    const p = this.procs.get(name);
    if (p === undefined) throw new Error(`no process ${name}`);
    return p;
  }

  /** The era's registration call for one region of a process: 0 or -errno. */
  register(proc: string, region: number): number {
    const { p, regions } = this.proc(proc);
    const r = regions[region];
    return this.adapter.register(p, r.addr, r.pages);
  }

  /** The era's unregistration of all of a process's regions: 0 or -errno. */
  unregister(proc: string): number {
    const { p, regions } = this.proc(proc);
    return this.adapter.unregister(p, regions);
  }

  /** One call of the era's scan routine with a budget of `pages`. */
  scan(pages: number): void {
    this.adapter.scan(pages);
  }

  /** Completed passes so far. */
  passes(): number {
    return this.adapter.passes();
  }

  /** Pages the scanner has visited so far (to tell a stuck scanner from a busy one). */
  pagesScanned(): number {
    return this.adapter.pagesScanned();
  }

  /** Process `proc` writes a whole page: 0 or -errno. */
  write(proc: string, region: number, page: number, content: SinglePage): number {
    const { p, regions } = this.proc(proc);
    return this.adapter.writePage(p, regions[region].addr + page * PAGE_SIZE, content);
  }

  exit(proc: string): void {
    this.adapter.exit(this.proc(proc).p);
  }

  counters(): Counters {
    return this.adapter.counters();
  }

  /** Where region r of proc lives. */
  regionRange(proc: string, region: number): Range {
    const { p, regions } = this.proc(proc);
    const r = regions[region];
    return { mm: p.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE };
  }
}
