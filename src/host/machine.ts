/**
 * The simulated host behind `ksmctl host`: one machine of an era (any entry
 * of the era registry) that lives between commands. A workload, if given,
 * is booted into it through the era's adapter (its processes mapped, filled
 * and registered with the era's own calls, as every tool does) and then
 * left running; the legacy ksmctl verbs run the
 * era's ksmctl program on it, scripts run on it and may leave processes
 * behind (pause()), and time passes on it.
 *
 * Time: with the `real` clock, the virtual clock follows the wall clock:
 * before each command the machine catches up with the time elapsed since the
 * last one, ksmd's batches included, within a budget of computing time (a
 * machine that cannot keep up falls behind, as a loaded one would). With the
 * `manual` clock, time passes only when a script sleeps or waits, or on a
 * `sleep` request (tests).
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { errnoName } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import { type EraAdapter, type MappedRegion, REGION_FLAGS, REGION_PROT } from '../eras/adapter.js';
import { eraById, type EraId, V1_DEFAULT_ABI } from '../eras/registry.js';
import type { EraSystem } from '../eras/system.js';
import type { Workload } from '../workload/schema.js';
import { runKsmctl } from '../script/ksmctl.js';
import { runScript } from '../script/run.js';
import { Runtime, type Sink } from '../script/runtime.js';
import { mmapCall } from '../script/strace.js';
import { KernelView, type ViewAction } from '../session/kernel-view.js';
import type { CallRecord } from '../session/session.js';
import type { HostInfo, HostProcess, HostState, HostView, OutputChunk, ViewRequest } from './protocol.js';
import { DEFAULT_LIMITS, type RequestLimits } from './limits.js';
import { HostExec } from './exec.js';
import { HostSink, HostTrace } from './trace.js';

export type ClockMode = 'real' | 'manual';

/** The host's era when none is asked for: v1, with the one default ABI. */
export const DEFAULT_HOST_ERA: EraId = `v1:${V1_DEFAULT_ABI}`;

export interface HostMachineOptions {
  /** The host kernel's era (default DEFAULT_HOST_ERA). */
  era?: EraId;
  workload?: Workload;
  clock?: ClockMode;
  /** Wall clock in ms (tests pass their own). */
  wallNow?: () => number;
  /** The limits of each request (DEFAULT_LIMITS where not given). */
  limits?: Partial<RequestLimits>;
}

/** Computing time one catch-up may take before the virtual clock is let fall behind. */
const CATCH_UP_BUDGET_MS = 250;
/** Virtual time advanced per step of a catch-up. */
const CATCH_UP_STEP_US = 50_000;

class Collector implements Sink {
  chunks: OutputChunk[] = [];
  trace(line: string): void {
    this.chunks.push({ fd: 2, text: `${line}\n` });
  }
  stdout(text: string): void {
    this.chunks.push({ fd: 1, text });
  }
  stderr(text: string): void {
    this.chunks.push({ fd: 2, text });
  }
}

export class HostMachine {
  /** The era's adapter: the host's kernel, booted from its registry entry. */
  readonly adapter: EraAdapter;
  /** The system calls the host's programs make, built from the adapter. */
  readonly sys: EraSystem;
  readonly clockMode: ClockMode;
  readonly workloadName: string | null;
  /** Processes started here (workload guests, script processes), by pid. */
  private readonly procs = new Map<number, string>();
  private readonly wallNow: () => number;
  private wallBase: number;
  private virtualBase: number;
  commands = 0;
  /** Every call the host's programs issued, for live views. */
  readonly trace: HostTrace;
  private liveView: KernelView | null = null;
  /** What one request may use (src/host/limits.ts). */
  readonly limits: Readonly<RequestLimits>;
  /** Run before each command's catch-up: real programs' memory brought up to date (exec.ts), so the command sees it. */
  beforeCommand: (() => void) | null = null;
  private execHost: HostExec | null = null;

  constructor(opts: HostMachineOptions) {
    this.adapter = eraById(opts.era ?? DEFAULT_HOST_ERA).boot();
    this.sys = this.adapter.system();
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.sys.memory.maxMappedPages = this.limits.maxMappedPages;
    this.trace = new HostTrace(() => this.sys.machine.clock.now);
    this.clockMode = opts.clock ?? 'real';
    this.wallNow = opts.wallNow ?? Date.now;
    this.workloadName = opts.workload?.name ?? null;
    if (opts.workload) this.boot(opts.workload);
    this.wallBase = this.wallNow();
    this.virtualBase = this.sys.machine.clock.now;
  }

  /** What the host is, for its answers to ping and status. */
  info(): Omit<HostInfo, 'pid' | 'socket'> {
    const e = this.adapter.era;
    return { era: e.id, abi: e.abi ?? null, title: `${e.id}: ${e.title}`, workload: this.workloadName, clock: this.clockMode };
  }

  /**
   * Starts the workload's processes (mapped and filled) and registers their
   * regions as its steps say, up to its first scan step, all through the
   * era's adapter; every call goes to the trace with its pid.
   */
  private boot(w: Workload): void {
    const a = this.adapter;
    const guests = new Map<string, { p: Process; regions: MappedRegion[] }>();
    for (const { name, regions } of w.processes) {
      const p = a.spawn(name);
      this.procs.set(p.pid, name);
      const mapped: MappedRegion[] = [];
      for (const region of regions) {
        const addr = a.mmap(p, region.pages);
        this.trace.push(`[pid ${p.pid}] ${mmapCall(0, region.pages * PAGE_SIZE, REGION_PROT, REGION_FLAGS, -1, 0, addr)}`);
        if (addr < 0) throw new Error(`${name}: mmap of ${region.pages} pages failed (${errnoName(-addr)})`);
        a.fill(p, addr, region);
        mapped.push({ addr, pages: region.pages });
      }
      guests.set(name, { p, regions: mapped });
    }
    for (const step of w.steps) {
      if (step.kind === 'scan' || step.kind === 'fullScans') break;
      if (step.kind !== 'register') continue;
      const g = guests.get(step.proc);
      if (g === undefined) continue;
      g.regions.forEach((r, i) => {
        if (step.region !== undefined && step.region !== i) return;
        const calls: CallRecord[] = [];
        a.register(g.p, r.addr, r.pages, calls);
        for (const c of calls) this.trace.push(c.text, c.ok);
      });
    }
  }

  /** A command's sink: output to `out`, every call to the host's trace (and to `out` when `echo`). */
  private sink(out: Sink, echo: boolean): HostSink {
    const before = new Set(this.sys.machine.processes.keys());
    const first = () => {
      for (const pid of this.sys.machine.processes.keys()) if (!before.has(pid)) return pid;
      return 0;
    };
    return new HostSink(out, this.trace, echo, first);
  }

  /** Real programs attached to the host (`ksmctl exec --host`), made on first use. */
  get exec(): HostExec {
    this.execHost ??= new HostExec(this);
    return this.execHost;
  }

  /** Real clock: catch up with the wall clock (within the budget). */
  sync(): void {
    this.beforeCommand?.();
    if (this.clockMode !== 'real') return;
    const target = this.virtualBase + (this.wallNow() - this.wallBase) * 1000;
    const start = Date.now();
    const clock = this.sys.machine.clock;
    while (clock.now < target) {
      this.sys.advanceTo(Math.min(target, clock.now + CATCH_UP_STEP_US));
      if (Date.now() - start > CATCH_UP_BUDGET_MS) break;
    }
    // Whatever was not done is not owed: the machine fell behind.
    this.wallBase = this.wallNow();
    this.virtualBase = clock.now;
  }

  /** After a command that moved the virtual clock itself (sleep, a script), the wall clock restarts from there. */
  private rebase(): void {
    this.wallBase = this.wallNow();
    this.virtualBase = this.sys.machine.clock.now;
  }

  ksmctl(args: string[]): { output: OutputChunk[]; status: number } {
    this.sync();
    this.commands++;
    const out = new Collector();
    const rt = new Runtime(this.sys, this.sink(out, false), true);
    const r = runKsmctl(rt, args);
    this.procs.set(r.pid, 'ksmctl');
    this.rebase();
    return { output: out.chunks, status: r.status };
  }

  /**
   * Runs a script within the request limits. A run that fails (an error, a
   * limit passed, an expect) has its processes reaped: each one still alive
   * is killed, as the run's end would have ended them; only a run that ends
   * well leaves its paused processes behind (pause(): deliberately).
   */
  run(file: string, source: string, trace: boolean, defines?: Record<string, string>, args?: string[]): { output: OutputChunk[]; status: number } {
    this.sync();
    this.commands++;
    const out = new Collector();
    const before = new Set(this.sys.machine.live());
    const l = this.limits;
    let r: ReturnType<typeof runScript> | null = null;
    try {
      r = runScript(file, source, {
        system: this.sys,
        sink: this.sink(out, trace),
        trace: true,
        defines,
        args,
        maxSteps: l.maxSteps,
        maxVirtualMicros: l.maxVirtualMicros,
        maxBatches: l.maxBatches,
        maxContentBytes: l.maxContentBytes,
        maxOutputBytes: l.maxOutputBytes,
        overWork: this.workBound(),
        overTime: this.timeBound(),
      });
    } finally {
      const made = this.sys.machine.live().filter((p) => !before.has(p));
      for (const p of made) this.procs.set(p.pid, p.name);
      if (r === null || r.error !== undefined) this.reap(made);
      this.rebase();
    }
    const done = r as ReturnType<typeof runScript>;
    if (done.error !== undefined) out.stderr(`${done.error}\n`);
    return { output: out.chunks, status: done.status };
  }

  /** Kills the processes of a failed run (SIGKILL, logged in the trace as strace shows it). */
  private reap(procs: Process[]): void {
    for (const p of procs) {
      if (p.exited) continue;
      this.sys.exit(p);
      this.trace.push(`[pid ${p.pid}] +++ killed by SIGKILL +++`, false);
    }
  }

  /** A judge of ksmd's work for one request from now: a message once it has scanned more pages than the limit, else null. */
  private workBound(): () => string | null {
    const scanned = () => this.adapter.merger.stats.pagesScanned;
    const start = scanned();
    const max = this.limits.maxScannedPages;
    return () => (scanned() - start > max ? `ksmd has scanned more than ${max.toLocaleString('en-US')} pages for this request (the limit of a request)` : null);
  }

  /** A judge of the host's time for one request from now (limits.maxRequestMs). */
  private timeBound(): () => string | null {
    const end = performance.now() + this.limits.maxRequestMs;
    return () => (performance.now() > end ? `this request has taken more than ${this.limits.maxRequestMs / 1000} s of the host's time (the limit of a request)` : null);
  }

  /** Lets `micros` of virtual time pass, batch by batch: at most the request's ksmd batches and pages (then a refusal, the time so far passed). */
  sleep(micros: number): void {
    this.sync();
    const t = this.sys.machine.clock.now + Math.max(0, micros);
    const start = this.batchesRun();
    const over = this.workBound();
    const late = this.timeBound();
    try {
      for (;;) {
        const next = this.sys.nextBatchAt();
        if (next === null || next > t) break;
        this.sys.advanceTo(next);
        const why = this.batchesRun() - start > this.limits.maxBatches ? `more than ${this.limits.maxBatches.toLocaleString('en-US')} ksmd batches in one request (the limit)` : (over() ?? late());
        if (why !== null) throw new HostRefusal(`sleep: ${why}; ${this.sys.machine.clock.now - (t - micros)} µs passed`);
      }
      this.sys.advanceTo(t);
    } finally {
      this.rebase();
    }
  }

  private batchesRun(): number {
    let n = 0;
    for (const k of this.sys.ksmds()) n += k.batches;
    return n;
  }

  /** The live view of the kernel (created on first use). */
  private get view(): KernelView {
    if (this.liveView === null) {
      // The view adopts the host's own adapter into the era's session.
      this.liveView = new KernelView(this.adapter);
    }
    return this.liveView;
  }

  /** What a live view shows: the era's counters, knobs and ksmd, the processes, one process's page states, the trace asked for. */
  viewState(req: ViewRequest = {}): HostView {
    this.sync();
    return this.snapshot(req);
  }

  private snapshot(req: ViewRequest): HostView {
    const v = this.view;
    const s = v.session;
    const view: HostView = {
      era: s.info,
      support: s.support,
      counterNames: [...s.counterNames],
      stateLabels: [...s.stateLabels],
      clock: this.clockMode,
      now: this.sys.machine.clock.now,
      counters: s.counters(),
      knobs: s.knobs(),
      ksmd: s.ksmdState(),
      work: s.work(),
      pagesSaved: v.pagesSaved(),
      files: v.files(),
      nodes: v.nodes(),
      processes: v.processes(),
      trace: this.trace.read(req.since, req.limit),
    };
    if (req.pid !== undefined) {
      const p = this.sys.machine.processes.get(req.pid);
      if (p !== undefined && !p.exited) view.states = { pid: req.pid, data: Buffer.from(v.pageStates(req.pid)).toString('base64') };
    }
    return view;
  }

  /**
   * A control of an attached view: the era's own call, logged in the trace;
   * or, on the manual clock only, ksmd's next batch (`step`) or `value` µs
   * of virtual time (`advance`, at most maxBatches batches). The calls made,
   * the batches run, and the view after it.
   */
  control(action: ViewAction, value: number | undefined, maxBatches: number | undefined, req: ViewRequest = {}): { calls: CallRecord[]; batches: number; view: HostView } {
    if ((action === 'step' || action === 'advance') && this.clockMode !== 'manual') {
      throw new HostRefusal(`virtual time follows the wall clock on this host (${this.clockMode} clock): it steps only with --clock manual`);
    }
    const v = this.view;
    if (action === 'unmerge' && !v.session.support.unmerge) throw new HostRefusal(`${v.session.info.label} has no unmerge control`);
    this.sync();
    this.commands++;
    // An advance runs at most as many batches as fit the request's pages at the current pages_to_scan.
    let bound = maxBatches;
    if (action === 'advance') {
      const per = Math.max(1, Number(v.session.knobs().pagesToScan) || 1);
      bound = Math.max(1, Math.min(maxBatches ?? this.limits.maxBatches, Math.floor(this.limits.maxScannedPages / per)));
    }
    const r = v.act(action, value, action === 'advance' ? bound : maxBatches);
    for (const c of r.calls) this.trace.push(c.text, c.ok);
    this.rebase();
    return { ...r, view: this.snapshot(req) };
  }

  state(): Omit<HostState, keyof HostInfo> {
    this.sync();
    const processes: HostProcess[] = [...this.sys.machine.processes.values()].map((p) => ({ pid: p.pid, name: p.name, alive: !p.exited }));
    const counters: Record<string, number> = {};
    const sysfs = this.sys.sysfs;
    if (sysfs !== null) {
      for (const name of sysfs.names()) {
        const v = sysfs.read(name, { uid: 0 });
        if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) counters[name] = Number(v.trim());
      }
    }
    return {
      now: this.sys.machine.clock.now,
      fullScans: this.adapter.passes(),
      ksmd: [{ wakeAt: this.adapter.ksmd.wakeAt, batches: this.adapter.ksmd.batches }],
      counters,
      processes,
      commands: this.commands,
    };
  }
}

/** A request the host turns down (answered as an error, not an internal one). */
export class HostRefusal extends Error {}
