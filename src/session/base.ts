/**
 * The era-independent half of an EraSession: processes and their regions,
 * loading a workload, page writes and churn, per-process statistics and the
 * frame half of the memory map. An era's session extends it with its front
 * end's calls (registration, controls, counters) and the page states only
 * its merger's tracking items can tell (`markTracked`).
 */
import type { Ksmd } from '../engine/clock.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../engine/constants.js';
import { errnoName, strerror } from '../engine/errno.js';
import type { Machine, Process } from '../engine/machine.js';
import { FRAME_KSM } from '../engine/memory/frames.js';
import type { Memory, Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import type { MergeStats } from '../engine/merge/stats.js';
import type { RunContent, SinglePage } from '../engine/pages.js';
import { fillRegion, internPage } from '../workload/fill.js';
import { type Region, regionPage, type Workload } from '../workload/schema.js';
import {
  type CallRecord,
  type ChurnOptions,
  type CounterValue,
  type EraSession,
  type Knobs,
  type KsmdState,
  PAGE_ABSENT,
  PAGE_MERGED,
  PAGE_STATE_LABELS,
  PAGE_UNSCANNED,
  type ProcessInfo,
  type SessionEraInfo,
  type SessionSupport,
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

/** A registered range of a process and where its pages start in pageStates' output. */
export interface StateRange {
  start: number;
  end: number;
  /** Index in the output of the page at `start`. */
  offset: number;
}

/** A virtual hour: the horizon of a single step. */
const HOUR_MICROS = 3_600_000_000;

export abstract class BaseSession implements EraSession {
  abstract readonly info: SessionEraInfo;
  abstract readonly support: SessionSupport;
  abstract readonly counterNames: readonly string[];

  /** The era's machine (processes, memory, clock) and its ksmd. */
  protected abstract readonly machine: Machine;
  protected abstract readonly ksmd: Ksmd;
  /** The merger's work counters. */
  protected abstract mergeStats(): MergeStats;
  /** The era's way to start a process (as after exec). */
  protected abstract spawnProcess(name: string): Process;
  /** mmap(NULL, bytes, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0): address or -errno. */
  protected abstract mmap(p: Process, bytes: number): number;
  /** The era's registration of one region: its result (0 or -errno) and the calls as issued. */
  protected abstract register(p: Process, addr: number, bytes: number): { result: number; calls: CallRecord[] };
  /** The era's unregistration of all of a process's registered regions: the calls, and whether it worked. */
  protected abstract unregister(p: Process, regions: SessionRegion[]): { ok: boolean; calls: CallRecord[] };
  protected abstract exitProcess(p: Process): void;
  /**
   * Marks the pages the merger tracks: for each page of `ranges` (registered
   * ranges of mm, in address order) that is neither absent nor merged in
   * `out`, PAGE_VOLATILE or PAGE_UNSTABLE from the merger's items. Pages it
   * leaves alone stay PAGE_UNSCANNED.
   */
  protected abstract markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void;

  abstract counters(): CounterValue[];
  abstract knobs(): Knobs;
  abstract start(): CallRecord;
  abstract stop(): CallRecord;
  abstract unmerge(): CallRecord;
  abstract setPagesToScan(n: number): CallRecord;
  abstract setSleep(micros: number): CallRecord;

  readonly stateLabels: readonly StateLabel[] = PAGE_STATE_LABELS;
  /**
   * The era's registration pins the address space, so an exited process's
   * regions stay registered, scanned and counted in pages_saved (as the
   * workload runner's EraDriver.exitKeepsRegistration).
   */
  protected readonly exitKeepsRegistration: boolean = false;

  protected readonly procs = new Map<number, SessionProc>();
  protected workload: Workload | undefined;
  private random = 0x2545f491;
  private guestsSpawned = 0;

  protected get memory(): Memory {
    return this.machine.memory;
  }

  // ------------------------------------------------------------ loading

  load(w: Workload): CallRecord[] {
    if (this.workload !== undefined) throw new Error('a session loads one workload');
    this.workload = w;
    const calls = this.startup(w);
    const byName = new Map<string, SessionProc>();
    for (const { name, regions } of w.processes) byName.set(name, this.createProcess(name, regions));
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
          const u = this.unregister(proc.p, proc.regions.filter((r) => r.registered));
          calls.push(...u.calls);
          if (u.ok) for (const r of proc.regions) r.registered = false;
          break;
        }
        case 'write': {
          const r = proc.regions[step.region];
          this.memory.writePage(proc.p.mm, r.addr + step.page * PAGE_SIZE, internPage(this.memory, step.content));
          break;
        }
        case 'exit':
          calls.push(this.exit(proc.p.pid));
          break;
      }
    }
    return calls;
  }

  /**
   * What a user of the era does before registering anything: by default set
   * ksmd's batch to the workload's pagesToScan. An era whose ksmd starts
   * stopped or unconfigured does more here.
   */
  protected startup(w: Workload): CallRecord[] {
    return [this.setPagesToScan(w.pagesToScan)];
  }

  private createProcess(name: string, regions: Region[]): SessionProc {
    const p = this.spawnProcess(name);
    const proc: SessionProc = { p, regions: [] };
    for (const region of regions) {
      const addr = this.mmap(p, region.pages * PAGE_SIZE);
      if (addr < 0) throw new Error(`mmap of ${region.pages} pages for ${name} failed: ${errnoName(-addr)}`);
      fillRegion(this.memory, p.mm, addr, region);
      proc.regions.push({ addr, pages: region.pages, registered: false, template: region });
    }
    this.procs.set(p.pid, proc);
    return proc;
  }

  private registerRegion(proc: SessionProc, r: SessionRegion): CallRecord[] {
    const { result, calls } = this.register(proc.p, r.addr, r.pages * PAGE_SIZE);
    if (result >= 0) r.registered = true;
    return calls;
  }

  // ------------------------------------------------------------ time

  now(): number {
    return this.machine.clock.now;
  }

  advance(micros: number, maxBatches?: number): number {
    return this.ksmd.advanceTo(this.machine.clock.now + micros, maxBatches);
  }

  step(): number {
    if (this.ksmdState() !== 'sleeping') return 0;
    return this.ksmd.advanceTo(this.machine.clock.now + HOUR_MICROS, 1);
  }

  ksmdState(): KsmdState {
    if (!this.knobs().run) return 'stopped';
    return this.ksmd.state;
  }

  work(): WorkTotals {
    const s = this.mergeStats();
    return { pagesScanned: s.pagesScanned, merges: s.merges, batches: this.ksmd.batches };
  }

  // ------------------------------------------------------------ measuring

  /** Registered ranges of a process, in address order. */
  protected ranges(proc: SessionProc): Range[] {
    return proc.regions
      .filter((r) => r.registered)
      .map((r) => ({ mm: proc.p.mm, start: r.addr, end: r.addr + r.pages * PAGE_SIZE }))
      .sort((a, b) => a.start - b.start);
  }

  private live(): SessionProc[] {
    return [...this.procs.values()].filter((s) => !s.p.exited).sort((a, b) => a.p.pid - b.p.pid);
  }

  pagesSaved(): number {
    const counted = [...this.procs.values()].filter((s) => !s.p.exited || this.exitKeepsRegistration);
    return this.memory.pagesSaved(counted.flatMap((s) => this.ranges(s))).saved;
  }

  processes(): ProcessInfo[] {
    return this.live().map((s) => {
      let registeredPages = 0;
      let mergedPages = 0;
      for (const r of this.ranges(s)) {
        registeredPages += (r.end - r.start) / PAGE_SIZE;
        mergedPages += this.countMerged(r);
      }
      return { pid: s.p.pid, name: s.p.name, registeredPages, mergedPages, cowBreaks: s.p.mm.ksmCowBreaks };
    });
  }

  /** Pages of a registered range mapped to a KSM page. */
  countMerged(r: Range): number {
    const flags = this.memory.frames.flags;
    let n = 0;
    for (const v of r.mm.vmas) {
      if (v.end <= r.start || v.start >= r.end) continue;
      const frames = v.frames;
      for (let i = v.index(Math.max(v.start, r.start)), to = v.index(Math.min(v.end, r.end)); i < to; i++) {
        const f = frames[i];
        if (f !== 0 && flags[f] & FRAME_KSM) n++;
      }
    }
    return n;
  }

  pageStates(pid: number, out?: Uint8Array): Uint8Array {
    const proc = this.procs.get(pid);
    if (proc === undefined || proc.p.exited) return new Uint8Array(0);
    return this.statesOf(proc.p.mm, this.ranges(proc), out);
  }

  /**
   * The states of the pages of `ranges` (ranges of mm, in address order, not
   * overlapping), as pageStates gives them for a process of the session:
   * for a kernel the session adopted (src/session/kernel-view.ts), its
   * processes are not the session's own.
   */
  statesOf(mm: Mm, ranges: readonly Range[], out?: Uint8Array): Uint8Array {
    const stateRanges: StateRange[] = [];
    let total = 0;
    for (const r of ranges) {
      stateRanges.push({ start: r.start, end: r.end, offset: total });
      total += (r.end - r.start) / PAGE_SIZE;
    }
    const states = out !== undefined && out.length >= total ? out.subarray(0, total) : new Uint8Array(total);
    states.fill(PAGE_ABSENT);
    const flags = this.memory.frames.flags;
    for (const sr of stateRanges) {
      for (const v of mm.vmas) {
        if (v.end <= sr.start || v.start >= sr.end) continue;
        const from = Math.max(v.start, sr.start);
        const base = sr.offset + (from - sr.start) / PAGE_SIZE;
        const frames = v.frames;
        for (let i = v.index(from), to = v.index(Math.min(v.end, sr.end)), k = base; i < to; i++, k++) {
          const f = frames[i];
          if (f !== 0) states[k] = flags[f] & FRAME_KSM ? PAGE_MERGED : PAGE_UNSCANNED;
        }
      }
    }
    this.markTracked(mm, stateRanges, states);
    return states;
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
      if (this.memory.writePage(s.p.mm, r.addr + i * PAGE_SIZE, internPage(this.memory, page)) === 0) {
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
    this.exitProcess(s.p);
    return { text: `[pid ${pid}] exit_group(0) = ?`, ok: true };
  }

  spawnGuest(): { pid: number; calls: CallRecord[] } {
    const w = this.workload;
    if (w === undefined || w.processes.length === 0) throw new Error('no workload loaded');
    const template = w.processes[0];
    const name = this.guestName(template.name);
    const shared = sharedContents(w);
    const regions = template.regions.map((region) => ({
      pages: region.pages,
      runs: region.runs.map((run) => ({
        pages: run.pages,
        content: shared.has(contentKey(run.content)) ? run.content : this.freshContent(run.content),
      })),
    }));
    const proc = this.createProcess(name, regions);
    const calls: CallRecord[] = proc.regions.map((r) => ({
      text: `[pid ${proc.p.pid}] mmap(NULL, ${r.pages * PAGE_SIZE}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x${r.addr.toString(16)}`,
      ok: true,
    }));
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

/** The text of a sysfs write as a shell user types it, with bash's complaint when the write fails. */
export function echoCall(value: string | number, path: string, result: number): CallRecord {
  const text = `echo ${value} > ${path}`;
  return result < 0 ? { text: `${text}  (write error: ${strerror(-result)})`, ok: false } : { text, ok: true };
}

/** A syscall's result in strace form: `= 0`, `= -1 EINVAL (Invalid argument)`. */
export function straceResult(result: number): string {
  return result < 0 ? `= -1 ${errnoName(-result)} (${strerror(-result)})` : `= ${result}`;
}

/** An madvise call in strace form, as process p issued it. */
export function madviseCall(p: Process, addr: number, bytes: number, advice: string, result: number): CallRecord {
  return { text: `[pid ${p.pid}] madvise(0x${addr.toString(16)}, ${bytes}, ${advice}) ${straceResult(result)}`, ok: result >= 0 };
}

/** Private anonymous read-write memory, as every session maps its regions. */
export const REGION_PROT = PROT_READ | PROT_WRITE;
export const REGION_FLAGS = MAP_PRIVATE | MAP_ANONYMOUS;
