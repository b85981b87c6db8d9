/**
 * The one EraSession, for every era of the registry: a session is an era's
 * adapter (src/eras) with a workload's processes on it. Everything an era
 * does differently (how a process registers, how ksmd is steered, which
 * counters it exposed, what a page's state is) is the adapter's; what is
 * left here is the same in every era: processes and their regions, loading
 * a workload, page writes and churn, new guests, per-process statistics.
 *
 * A session either boots its era for a workload (`new AdapterSession(entry)`,
 * then `load`), or adopts an adapter over a kernel that already runs (the
 * ksmctl host's: `AdapterSession.adopt`, used by kernel-view.ts), whose
 * counters, knobs, controls and files it then shows and steers.
 */
import { predictNs } from '../cpu/model.js';
import { loadProfile } from '../cpu/profile.js';
import { PAGE_SIZE } from '../engine/constants.js';
import { errnoName } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { RunContent, SinglePage } from '../engine/pages.js';
import { COUNTER_NAMES, type EraAdapter, type EraFile } from '../eras/adapter.js';
import { straceResult } from '../eras/calls.js';
import { PAGE_STATE_LABELS } from '../eras/page-states.js';
import type { EraEntry } from '../eras/registry.js';
import { type Region, regionPage, type Workload } from '../workload/schema.js';
import { applyPreload, type Preload } from '../workload/library.js';
import { ksmPagesByNode } from './nodes.js';
import {
  type CallRecord,
  type ChurnOptions,
  type CounterValue,
  type EraSession,
  type Knobs,
  type KsmdState,
  type NodeInfo,
  type ProcessInfo,
  type SessionEraInfo,
  type SessionSupport,
  sessionEraInfo,
  type StateLabel,
  type WorkTotals,
} from './session.js';

/** One mapped region of a session process. */
export interface SessionRegion {
  addr: number;
  pages: number;
  /** Registered through a call the era accepted. */
  registered: boolean;
  /** The workload's description of its initial content. */
  template: Region;
}

export interface SessionProc {
  p: Process;
  regions: SessionRegion[];
}

/** A virtual hour: the horizon of a single step. */
const HOUR_MICROS = 3_600_000_000;

export class AdapterSession implements EraSession {
  readonly info: SessionEraInfo;
  readonly counterNames = COUNTER_NAMES;
  private a: EraAdapter | null;
  private readonly procs = new Map<number, SessionProc>();
  private workload: Workload | undefined;
  private random = 0x2545f491;
  private guestsSpawned = 0;

  /** A session of `era`, booted by `load`; or, given `adapter`, a session of that running adapter (see adopt). */
  constructor(
    readonly era: EraEntry,
    adapter: EraAdapter | null = null,
  ) {
    this.info = sessionEraInfo(era);
    this.a = adapter;
  }

  /**
   * A session of an adapter that drives a kernel which already runs (the
   * ksmctl host's): its counters, knobs, ksmd, files and controls. Its
   * processes are not the session's: kernel-view.ts reads them from the
   * kernel. It loads no workload.
   */
  static adopt(adapter: EraAdapter): AdapterSession {
    return new AdapterSession(adapter.era, adapter);
  }

  /** The era's adapter (after `load`, or the adopted one). */
  get adapter(): EraAdapter {
    if (this.a === null) throw new Error(`${this.era.id}: no workload loaded yet`);
    return this.a;
  }

  get support(): SessionSupport {
    return { unmerge: this.a?.canUnmerge ?? false };
  }

  get stateLabels(): readonly StateLabel[] {
    return this.a?.stateLabels ?? PAGE_STATE_LABELS;
  }

  // ------------------------------------------------------------ loading

  /**
   * Boots the era for `w` (v1: the 2008 module takes its hashTables; v3: as
   * many NUMA nodes as its regions name), does what a user of the era did
   * before registering anything (adapter.startup: the batch size, ksmd
   * started where it boots stopped) and writes the workload's "sysfs" knobs;
   * then its processes are spawned, mapped, placed and filled, and its
   * steps are played up to the first scan step. A preload (a snapshot's
   * pages, from-files' bytes) is written in before the first step.
   */
  load(w: Workload, preload?: Preload): CallRecord[] {
    if (this.workload !== undefined || this.a !== null) throw new Error('a session loads one workload');
    this.workload = w;
    let numaNodes = 1;
    for (const p of w.processes) for (const r of p.regions) numaNodes = Math.max(numaNodes, (r.node ?? 0) + 1);
    const a = this.era.boot({ hashTables: w.hashTables, numaNodes });
    this.a = a;
    const calls = a.startup(w.pagesToScan);
    for (const [name, value] of w.sysfs ?? []) calls.push(name === 'pages_to_scan' ? a.setPagesToScan(Number(value)) : a.writeFile(name, value));
    a.reserve(
      w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0),
      w.processes.length,
    );
    const byName = new Map<string, SessionProc>();
    for (const { name, regions } of w.processes) byName.set(name, this.createProcess(name, regions, calls));
    if (preload !== undefined) {
      applyPreload({ memory: a.memory, regionRange: (proc, region) => {
        const sp = byName.get(proc)!;
        const r = sp.regions[region];
        return { mm: sp.p.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE };
      } }, preload);
    }
    for (const step of w.steps) {
      if (step.kind === 'scan' || step.kind === 'fullScans') break;
      const proc = 'proc' in step ? byName.get(step.proc) : undefined;
      if (proc === undefined || proc.p.exited) continue;
      switch (step.kind) {
        case 'register':
          proc.regions.forEach((r, i) => {
            if (step.region === undefined || step.region === i) calls.push(...this.registerRegion(proc, r));
          });
          break;
        case 'unregister': {
          const registered = proc.regions.filter((r) => r.registered);
          if (a.unregister(proc.p, registered, calls) >= 0) for (const r of proc.regions) r.registered = false;
          break;
        }
        case 'write': {
          const r = proc.regions[step.region];
          a.writePage(proc.p, r.addr + step.page * PAGE_SIZE, step.content);
          break;
        }
        case 'exit':
          calls.push(this.exit(proc.p.pid));
          break;
      }
    }
    return calls;
  }

  /** Spawns a process, maps its regions, places them on their nodes (an mbind call in the log for a node other than 0) and fills them. */
  private createProcess(name: string, regions: Region[], calls: CallRecord[]): SessionProc {
    const a = this.adapter;
    const p = a.spawn(name);
    const proc: SessionProc = { p, regions: [] };
    for (const region of regions) {
      const addr = a.mmap(p, region.pages);
      if (addr < 0) throw new Error(`mmap of ${region.pages} pages for ${name} failed: ${errnoName(-addr)}`);
      const node = region.node ?? 0;
      if (node !== 0) {
        const r = a.bind(p, addr, region.pages, node);
        const mask = `0x${(1n << BigInt(node)).toString(16)}`;
        calls.push({ text: `[pid ${p.pid}] mbind(0x${addr.toString(16)}, ${region.pages * PAGE_SIZE}, MPOL_BIND, [${mask}], ${node + 1}, 0) ${straceResult(r)}`, ok: r >= 0 });
      }
      a.fill(p, addr, region);
      proc.regions.push({ addr, pages: region.pages, registered: false, template: region });
    }
    this.procs.set(p.pid, proc);
    return proc;
  }

  private registerRegion(proc: SessionProc, r: SessionRegion): CallRecord[] {
    const calls: CallRecord[] = [];
    if (this.adapter.register(proc.p, r.addr, r.pages, calls) >= 0) r.registered = true;
    return calls;
  }

  // ------------------------------------------------------------ time

  now(): number {
    return this.adapter.now();
  }

  advance(micros: number, maxBatches?: number): number {
    return this.adapter.ksmd.advanceTo(this.now() + micros, maxBatches);
  }

  step(): number {
    if (this.ksmdState() !== 'sleeping') return 0;
    return this.adapter.ksmd.advanceTo(this.now() + HOUR_MICROS, 1);
  }

  ksmdState(): KsmdState {
    if (!this.knobs().run) return 'stopped';
    return this.adapter.ksmd.state;
  }

  work(): WorkTotals {
    const a = this.adapter;
    const s = a.merger.stats;
    const ksmdCpuNs = predictNs(loadProfile(), { work: a.merger.work(), passes: a.merger.passes(), wakeups: a.ksmd.batches });
    return { pagesScanned: s.pagesScanned, merges: s.merges, batches: a.ksmd.batches, ksmdCpuNs };
  }

  // ------------------------------------------------------------ the era's files and controls

  counters(): CounterValue[] {
    const a = this.adapter;
    const c = a.counters();
    return COUNTER_NAMES.map((name) => ({ name, value: c[name], exposed: a.exposed.has(name) }));
  }

  knobs(): Knobs {
    return this.adapter.knobs();
  }

  files(): EraFile[] {
    return this.adapter.files();
  }

  start(): CallRecord {
    return this.adapter.start();
  }

  stop(): CallRecord {
    return this.adapter.stop();
  }

  unmerge(): CallRecord {
    return this.adapter.unmerge();
  }

  setPagesToScan(n: number): CallRecord {
    return this.adapter.setPagesToScan(n);
  }

  setSleep(micros: number): CallRecord {
    return this.adapter.setSleep(micros);
  }

  writeFile(name: string, value: string): CallRecord {
    return this.adapter.writeFile(name, value);
  }

  // ------------------------------------------------------------ measuring

  /** Registered ranges of a process, in address order. */
  private ranges(proc: SessionProc): Range[] {
    return proc.regions
      .filter((r) => r.registered)
      .map((r) => ({ mm: proc.p.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE }))
      .sort((a, b) => a.start - b.start);
  }

  private live(): SessionProc[] {
    return [...this.procs.values()].filter((s) => !s.p.exited).sort((a, b) => a.p.pid - b.p.pid);
  }

  /** The ranges the scanner still scans: live processes', and an exited one's where its registration pins its mm (v2). */
  private scannedRanges(): Range[] {
    const keep = this.adapter.exitKeepsRegistration;
    return [...this.procs.values()].filter((s) => !s.p.exited || keep).flatMap((s) => this.ranges(s));
  }

  pagesSaved(): number {
    return this.adapter.memory.pagesSaved(this.scannedRanges()).saved;
  }

  nodes(): NodeInfo[] {
    const a = this.adapter;
    return ksmPagesByNode(a.memory, this.scannedRanges(), a.numaNodes);
  }

  processes(): ProcessInfo[] {
    const a = this.adapter;
    return this.live().map((s) => {
      let registeredPages = 0;
      let mergedPages = 0;
      for (const r of this.ranges(s)) {
        registeredPages += (r.end - r.start) / PAGE_SIZE;
        mergedPages += a.countMerged(r);
      }
      const info: ProcessInfo = { pid: s.p.pid, name: s.p.name, registeredPages, mergedPages, cowBreaks: s.p.mm.ksmCowBreaks };
      const stat = a.procStat(s.p);
      if (stat !== null) info.stat = stat;
      return info;
    });
  }

  pageStates(pid: number, out?: Uint8Array): Uint8Array {
    const proc = this.procs.get(pid);
    if (proc === undefined || proc.p.exited) return new Uint8Array(0);
    return this.adapter.pageStates(proc.p.mm, this.ranges(proc), out);
  }

  // ------------------------------------------------------------ process actions

  private proc(pid: number): SessionProc {
    const s = this.procs.get(pid);
    if (s === undefined || s.p.exited) throw new Error(`no live process ${pid}`);
    return s;
  }

  /** xorshift32: churn is reproducible from run to run. */
  private next32(): number {
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }

  churn(pid: number, pages: number, opts: ChurnOptions = {}): CallRecord {
    const s = this.proc(pid);
    const targets = s.regions.filter((r, i) => r.registered && (opts.region === undefined || opts.region === i));
    const total = targets.reduce((n, r) => n + r.pages, 0);
    const revert = Math.floor((opts.revert ?? 0) * 0x100000000);
    let written = 0;
    let reverted = 0;
    for (let k = 0; k < pages && total > 0; k++) {
      let i = this.next32() % total;
      let r = targets[0];
      for (const t of targets) {
        if (i < t.pages) {
          r = t;
          break;
        }
        i -= t.pages;
      }
      const back = this.next32() < revert;
      const page: SinglePage = back ? regionPage(r.template, i) : { kind: 'seed', seed: this.next32() };
      if (this.adapter.writePage(s.p, r.addr + i * PAGE_SIZE, page) === 0) {
        written++;
        if (back) reverted++;
      }
    }
    const where = opts.region === undefined ? 'registered pages' : `pages of region ${opts.region}`;
    const how = reverted ? ` (${reverted} back to their first content)` : '';
    return { text: `[pid ${pid}] ${s.p.name} writes ${written} random ${where}${how}`, ok: written === pages };
  }

  exit(pid: number): CallRecord {
    const s = this.proc(pid);
    this.adapter.exit(s.p);
    return { text: `[pid ${pid}] exit_group(0) = ?`, ok: true };
  }

  spawnGuest(): { pid: number; calls: CallRecord[] } {
    const w = this.workload;
    if (w === undefined || w.processes.length === 0) throw new Error('no workload loaded');
    const template = w.processes[0];
    const name = this.guestName(template.name);
    const shared = sharedContents(w);
    const regions = template.regions.map((region) => ({
      ...region,
      runs: region.runs.map((run) => ({
        pages: run.pages,
        content: shared.has(contentKey(run.content)) ? run.content : this.freshContent(run.content),
      })),
    }));
    const calls: CallRecord[] = [];
    const proc = this.createProcess(name, regions, calls);
    const maps: CallRecord[] = proc.regions.map((r) => ({
      text: `[pid ${proc.p.pid}] mmap(NULL, ${r.pages * PAGE_SIZE}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x${r.addr.toString(16)}`,
      ok: true,
    }));
    calls.unshift(...maps);
    for (const r of proc.regions) calls.push(...this.registerRegion(proc, r));
    return { pid: proc.p.pid, calls };
  }

  /** guest-a → guest-e (the first letter not in use), or NAME-2, NAME-3, ... */
  private guestName(template: string): string {
    const used = new Set([...this.procs.values()].map((s) => s.p.name));
    const m = /^(.*[-_])([a-z])$/.exec(template);
    if (m) {
      for (let c = m[2].charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
        const n = m[1] + String.fromCharCode(c);
        if (!used.has(n)) return n;
      }
    }
    for (let k = 2; ; k++) if (!used.has(`${template}-${k}`)) return `${template}-${k}`;
  }

  /** A run content of the same form with new random values (a private run of a new guest). */
  private freshContent(c: RunContent): RunContent {
    this.guestsSpawned++;
    const seed = (this.next32() & 0x3fffffff) + 0x40000000;
    switch (c.kind) {
      case 'seed':
        return { kind: 'seed', seed };
      case 'seedFrom':
        return { kind: 'seedFrom', seed: seed & 0x7fff0000 };
      case 'tail':
        return { kind: 'tail', n: (BigInt(seed) << 20n) + BigInt(this.guestsSpawned) };
      case 'tailFrom':
        return { kind: 'tailFrom', n: BigInt(seed) << 20n };
      default:
        return c;
    }
  }
}

/** A key per run content, equal for equal contents. */
function contentKey(c: RunContent): string {
  switch (c.kind) {
    case 'zero':
      return 'zero';
    case 'fill':
      return `fill:${c.value}`;
    case 'seed':
    case 'seedFrom':
      return `${c.kind}:${c.seed}`;
    case 'tail':
    case 'tailFrom':
      return `${c.kind}:${c.n}`;
    case 'cycle':
      return `cycle:${c.items.map(contentKey).join(',')}`;
  }
}

/** Run contents that two or more processes have (the shared image); zero and fill pages always count as shared. */
function sharedContents(w: Workload): Set<string> {
  const owners = new Map<string, Set<string>>();
  for (const p of w.processes) {
    for (const region of p.regions) {
      for (const run of region.runs) {
        const k = contentKey(run.content);
        const set = owners.get(k) ?? new Set<string>();
        set.add(p.name);
        owners.set(k, set);
      }
    }
  }
  const shared = new Set<string>();
  for (const [k, set] of owners) if (set.size > 1 || k === 'zero' || k.startsWith('fill:') || k.startsWith('cycle:')) shared.add(k);
  return shared;
}
