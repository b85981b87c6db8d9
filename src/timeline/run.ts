/**
 * A workload's timeline (workload/timeline.ts) played on one era under one
 * tuning policy (src/policy), on virtual time: guests start, grow, churn and
 * exit at their times; ksmd runs every batch its knobs make due in between
 * (the era's own scan thread on the virtual clock: `adapter.sleep`); the
 * policy wakes at its own period and acts through the era's calls; and the
 * state is sampled at a fixed interval.
 *
 * Order at one instant: timeline events (in file order), churn writes, the
 * policy, then the sample. Everything is deterministic: no wall clock, churn
 * from a seeded generator (one per churn event), so the same workload and
 * configuration give the same result on every machine. That is what lets a
 * sweep be cut into shards and merged (compare/sweep.ts).
 *
 * Boot: the era boots as a real host would, with its kernel's defaults (not
 * the kernel oracle's workloadKnobs: a policy meets the kernel as shipped);
 * then the workload's pagesToScan (`pages_to_scan`), a sleep of 20 ms, the
 * workload's "sysfs" and the configuration's knobs (a sweep's) are written
 * through the era's calls, the policy's "initial settings"; then the policy
 * starts. Nothing starts ksmd but the policy.
 *
 * A workload without a timeline runs as if every process started at time 0
 * (its steps belong to the step tools), on a host exactly as large as its
 * processes, for `untilMs` (default 600 s).
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { errnoName } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { MergeWork } from '../engine/merge/stats.js';
import { SeededRandom } from '../engine/random.js';
import type { EraAdapter, MappedRegion } from '../eras/adapter.js';
import type { CallRecord } from '../eras/calls.js';
import { eraById, type EraId } from '../eras/registry.js';
import { Controls, type HostView, type PolicyContext, type PolicyEntry, type TraceEntry } from '../policy/policy.js';
import { applyPreload, type Preload } from '../workload/library.js';
import { regionPage, totalPages, type Workload } from '../workload/schema.js';
import type { Timeline, TimelineEvent } from '../workload/timeline.js';
import { rmapItems } from './rmap-items.js';

/** The sleep written at boot (the 2.6.32 default of sleep_millisecs), ms. */
export const BOOT_SLEEP_MS = 20;
/** The run of a workload without a timeline, ms. */
export const DEFAULT_UNTIL_MS = 600_000;
/** Churn writes are spread over steps of this many ms. */
const CHURN_TICK_MS = 100;
/** At most this many samples per run (the interval grows for long runs). */
const MAX_SAMPLES = 600;

export interface TimelineConfig {
  era: EraId;
  policy: PolicyEntry;
  /** Knob files written at boot, after the workload's (a sweep's), in order. */
  knobs: ReadonlyArray<readonly [string, string]>;
}

/** The state at one instant. */
export interface Sample {
  /** ms of virtual time. */
  t: number;
  /** Pages saved, measured from memory over the registered regions of live processes. */
  saved: number;
  /** Frames in use on the machine (a merged page once). */
  inUse: number;
  free: number;
  /** ksmd's knobs as the era holds them. */
  run: boolean;
  pagesToScan: number;
  sleepMs: number;
  pagesScanned: number;
  fullScans: number;
  cowBreaks: number;
}

/** The merger's counts a run's work shows on their own (the sweep's JSON), ahead of the whole record. */
const WORK_SUMMARY = ['pagesScanned', 'checksums', 'bytesHashed', 'comparisons', 'bytesCompared', 'mergeAttempts', 'merges'] as const;

/** ksmd's work, totals over the run: what a CPU model (src/cpu) turns into CPU time. */
export interface Work extends Pick<MergeWork, (typeof WORK_SUMMARY)[number]> {
  /** ksmd's batches (wake-ups that scanned). */
  batches: number;
  /** Full passes completed (the era's full_scans). */
  passes: number;
  /** The merger's whole work record (a CPU model prices it: src/cpu, with `passes` and `batches` as wake-ups). */
  stats: MergeWork;
}

function workOf(stats: MergeWork, batches: number, passes: number): Work {
  const summary = Object.fromEntries(WORK_SUMMARY.map((k) => [k, stats[k]])) as Pick<MergeWork, (typeof WORK_SUMMARY)[number]>;
  return { ...summary, batches, passes, stats };
}

export interface TimelineResult {
  /** Why the configuration could not run on its era (the policy needs a file it lacks, a knob was refused): one line; nothing ran. */
  refused?: string;
  samples: Sample[];
  /** The policy's calls (and the boot's knob writes), with their times. */
  trace: TraceEntry[];
  work: Work;
  /** The end state. */
  end: {
    saved: number;
    pagesSharing: number;
    /** 6.18's ksm_zero_pages (0 elsewhere). */
    zeroPages: number;
    /** rmap_items or the era's tracking item per page (hash entries, rmap items). */
    rmapItems: number;
    cowBreaks: number;
  };
  /** Frames in use at their highest. */
  peakInUse: number;
  untilMs: number;
  ramPages: number;
  /** Calls the era refused along the way (registrations, writes), one line each. */
  errors: string[];
}

/** Progress: the fraction of virtual time played. */
export type TimelineProgress = (fraction: number, savedNow: number) => void;

interface Proc {
  p: Process | null;
  /** Region i's mapping once mapped. */
  regions: Array<MappedRegion | null>;
  registered: boolean[];
  exited: boolean;
}

interface Churn {
  proc: string;
  region: number;
  rate: number;
  revert: number;
  since: number;
  done: number;
  rng: SeededRandom;
  serial: number;
}

/** The timeline a workload without one runs: everything starts at 0. */
export function impliedTimeline(w: Workload, untilMs = DEFAULT_UNTIL_MS): Timeline {
  return { until: untilMs, events: w.processes.map((p, i) => ({ index: i, at: 0, kind: 'start' as const, proc: p.name })) };
}

/** Seeds of churned pages: far from the built-ins' content seeds. */
const CHURN_SEED = 3_000_000_000;

export function runTimeline(w: Workload, config: TimelineConfig, opts: { preload?: Preload; untilMs?: number; onProgress?: TimelineProgress } = {}): TimelineResult {
  const entry = eraById(config.era);
  if (entry.boot === undefined) throw new Error(`era ${entry.id} is not simulated`);
  const timeline = w.timeline ?? impliedTimeline(w, opts.untilMs);
  const until = opts.untilMs ?? timeline.until;
  const ramPages = w.host?.ramPages ?? totalPages(w);
  const a: EraAdapter = entry.boot({ hashTables: w.hashTables });
  a.reserve(totalPages(w), w.processes.length);
  const trace: TraceEntry[] = [];
  const errors: string[] = [];
  // The schedule's time, ms: a batch may carry the clock a little past it (6.18 charges its scan time), the schedule does not drift.
  let cur = 0;
  const now = () => cur;
  const logAs = (by: string) => (calls: CallRecord[]) => {
    for (const c of calls) {
      trace.push({ t: now(), by, text: c.text, ok: c.ok });
      if (!c.ok) errors.push(`${now()} ms: ${by}: ${c.text.split('\n').pop()}`);
    }
  };

  // ------------------------------------------------------------ the machine
  const procs = new Map<string, Proc>(w.processes.map((p) => [p.name, { p: null, regions: p.regions.map(() => null), registered: p.regions.map(() => false), exited: false }]));
  const grownLater = new Set(timeline.events.filter((e) => e.kind === 'grow').map((e) => `${e.proc}:${(e as { region: number }).region}`));
  const regionsOf = new Map(w.processes.map((p) => [p.name, p.regions]));
  const proc = (name: string) => procs.get(name)!;

  const mapRegion = (name: string, r: number) => {
    const pr = proc(name);
    const region = regionsOf.get(name)![r];
    const addr = a.mmap(pr.p!, region.pages);
    if (addr < 0) throw new Error(`mmap of ${region.pages} pages for ${name} failed: ${errnoName(-addr)}`);
    a.fill(pr.p!, addr, region);
    pr.regions[r] = { addr, pages: region.pages };
    if (opts.preload !== undefined) {
      const fills = opts.preload.fills.filter((f) => f.proc === name && f.region === r);
      if (fills.length) applyPreload({ memory: a.memory, regionRange: (p, rr) => rangeOf(p, rr) }, { ...opts.preload, fills });
    }
    const calls: CallRecord[] = [];
    const err = a.register(pr.p!, addr, region.pages, calls);
    logAs(name)(calls);
    if (err >= 0) pr.registered[r] = true;
  };
  const rangeOf = (name: string, r: number): Range => {
    const pr = proc(name);
    const m = pr.regions[r]!;
    return { mm: pr.p!.mm, start: m.addr, end: m.addr + m.pages * PAGE_SIZE };
  };
  const startProc = (name: string) => {
    const pr = proc(name);
    pr.p = a.spawn(name);
    regionsOf.get(name)!.forEach((_, r) => {
      if (!grownLater.has(`${name}:${r}`)) mapRegion(name, r);
    });
  };
  const live = () => [...procs.entries()].filter(([, pr]) => pr.p !== null && !pr.exited);
  const measure = () => {
    const ranges: Range[] = [];
    let mapped = 0;
    for (const [name, pr] of live()) {
      pr.regions.forEach((m, r) => {
        if (m === null) return;
        mapped += m.pages;
        if (pr.registered[r]) ranges.push(rangeOf(name, r));
      });
    }
    const all: Range[] = [];
    for (const [name, pr] of live()) pr.regions.forEach((m, r) => m !== null && all.push(rangeOf(name, r)));
    return { saved: a.memory.pagesSaved(ranges).saved, rss: a.memory.pagesSaved(all).present, mapped };
  };
  const host: HostView = {
    ramPages,
    inUsePages: () => a.memory.frames.used,
    freePages: () => Math.max(0, ramPages - a.memory.frames.used),
    committedPages: () => measure().rss,
    guestPages: () => measure().mapped,
  };

  const refused = (why: string): TimelineResult => ({
    refused: why,
    samples: [],
    trace,
    work: workOf(a.merger.work(), 0, 0),
    end: { saved: 0, pagesSharing: 0, zeroPages: 0, rmapItems: 0, cowBreaks: 0 },
    peakInUse: 0,
    untilMs: until,
    ramPages,
    errors: [],
  });
  const why = config.policy.refuse(a);
  if (why !== null) return refused(why);

  // ------------------------------------------------------------ boot knobs
  const boot = new Controls(a, logAs('boot'));
  boot.write('pages_to_scan', w.pagesToScan);
  boot.write('sleep_millisecs', BOOT_SLEEP_MS);
  boot.flush();
  for (const [name, value] of [...(w.sysfs ?? []), ...config.knobs]) {
    if (a.sysfs === null && name !== 'pages_to_scan' && name !== 'sleep_millisecs') return refused(`knob ${name}=${value}: era ${entry.id} has no /sys/kernel/mm/ksm (/dev/ksm ioctls only)`);
    boot.write(name, value);
    const [c] = boot.flush();
    if (c !== undefined && !c.ok) return refused(`knob ${name}=${value}: ${c.text.split('\n').pop()} under ${entry.id}`);
  }
  errors.length = 0;

  const policy = config.policy.create();
  const controls = new Controls(a, logAs(config.policy.name));
  const ctx: PolicyContext = { host, controls, now };

  // ------------------------------------------------------------ the clock
  const sampleEvery = Math.max(1000, Math.ceil(until / MAX_SAMPLES / 1000) * 1000);
  const samples: Sample[] = [];
  let peak = a.memory.frames.used;
  const sample = () => {
    const k = a.knobs();
    const c = a.counters();
    const inUse = a.memory.frames.used;
    const s: Sample = {
      t: now(),
      saved: measure().saved,
      inUse,
      free: Math.max(0, ramPages - inUse),
      run: k.run,
      pagesToScan: k.pagesToScan,
      sleepMs: k.sleepMicros / 1000,
      pagesScanned: a.pagesScanned(),
      fullScans: c.full_scans,
      cowBreaks: a.memory.cowBreaks,
    };
    samples.push(s);
    opts.onProgress?.(until ? s.t / until : 1, s.saved);
  };

  const churns: Churn[] = [];
  const doEvent = (e: TimelineEvent) => {
    const pr = proc(e.proc);
    switch (e.kind) {
      case 'start':
        startProc(e.proc);
        policy.guestStarted?.(ctx);
        break;
      case 'grow':
        mapRegion(e.proc, e.region);
        break;
      case 'churn': {
        const i = churns.findIndex((c) => c.proc === e.proc && c.region === e.region);
        if (i >= 0) churns.splice(i, 1);
        if (e.pagesPerSecond > 0) churns.push({ proc: e.proc, region: e.region, rate: e.pagesPerSecond, revert: e.revert, since: e.at, done: 0, rng: new SeededRandom(0x5eed0000 + e.index), serial: 0 });
        break;
      }
      case 'write': {
        const m = pr.regions[e.region];
        const err = a.writePage(pr.p!, m!.addr + e.page * PAGE_SIZE, e.content);
        if (err < 0) errors.push(`${e.at} ms: ${e.proc} write refused with ${errnoName(-err)}`);
        break;
      }
      case 'exit':
        a.exit(pr.p!);
        pr.exited = true;
        for (let i = churns.length - 1; i >= 0; i--) if (churns[i].proc === e.proc) churns.splice(i, 1);
        break;
    }
  };
  const doChurn = (t: number) => {
    for (const c of churns) {
      const pr = proc(c.proc);
      const m = pr.regions[c.region];
      if (m === null || pr.exited) continue;
      const due = Math.floor((c.rate * (t - c.since)) / 1000) - c.done;
      const region = regionsOf.get(c.proc)![c.region];
      for (let k = 0; k < due; k++) {
        const page = c.rng.next32() % m.pages;
        const back = c.rng.next32() % 100 < c.revert;
        const content = back ? regionPage(region, page) : { kind: 'seed' as const, seed: (CHURN_SEED + ((c.rng.next32() >>> 8) ^ c.serial++)) >>> 0 };
        a.writePage(pr.p!, m.addr + page * PAGE_SIZE, content);
      }
      c.done += Math.max(0, due);
    }
  };

  // Processes with no start event exist from time 0.
  const starts = new Set(timeline.events.filter((e) => e.kind === 'start').map((e) => e.proc));
  policy.start(ctx);
  for (const p of w.processes) if (!starts.has(p.name)) startProc(p.name);
  let ev = 0;
  let nextSample = 0;
  let nextChurn = CHURN_TICK_MS;
  for (;;) {
    const t = now();
    while (ev < timeline.events.length && timeline.events[ev].at <= t) doEvent(timeline.events[ev++]);
    if (t >= nextChurn) {
      doChurn(t);
      nextChurn = t + CHURN_TICK_MS;
    }
    const wakeAt = policy.nextWake();
    if (wakeAt !== null && wakeAt <= t) policy.wake(ctx);
    peak = Math.max(peak, a.memory.frames.used);
    if (t >= nextSample) {
      sample();
      nextSample = t + sampleEvery;
    }
    if (t >= until) break;
    const wake = policy.nextWake();
    const candidates = [until, nextSample, churns.length ? nextChurn : Infinity, ev < timeline.events.length ? timeline.events[ev].at : Infinity, wake ?? Infinity];
    const to = Math.min(...candidates.filter((x) => x > t));
    if (a.now() < to * 1000) a.sleep(to - a.now() / 1000);
    cur = to;
  }

  const m = a.merger;
  const c = a.counters();
  // An era without the file (before 6.18) answers -errno: no zero pages.
  const zeroFile = a.readSysfs('ksm_zero_pages');
  const zero = typeof zeroFile === 'string' ? Number(zeroFile.trim()) || 0 : 0;
  return {
    samples,
    trace,
    // The whole work record (tree levels and allocations too) is what the CPU model prices.
    work: workOf(m.work(), a.ksmd.batches, c.full_scans),
    end: { saved: samples[samples.length - 1]?.saved ?? 0, pagesSharing: c.pages_sharing, zeroPages: zero, rmapItems: rmapItems(m), cowBreaks: a.memory.cowBreaks },
    peakInUse: peak,
    untilMs: until,
    ramPages,
    errors,
  };
}
