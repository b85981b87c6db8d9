/**
 * What an era's scanner reaches on a snapshot: the snapshot's workload
 * (src/snapshot/workload.ts) booted under the era, its ranges registered,
 * then ksmd's batches of pages_to_scan pages, one per sleep_millisecs of
 * virtual time (the time ksmd sleeps; the time a batch takes is left out),
 * until the counters stop changing for QUIET_PASSES full scans in a row, or
 * maxPasses.
 *
 * The era runs with the knobs its kernel booted with (6.18: smart_scan 1,
 * unlike the workload runner's kernel-oracle settings), then the --sysfs
 * writes in order. Per full scan it records the five counters, the pages
 * saved as measured from memory, the era's tracking metadata at its
 * struct sizes (compare's probe) and, where the era has one, its net
 * profit file (6.x general_profit); after every batch the pages saved by
 * the counters (pages_sharing, plus ksm_zero_pages where the era has it),
 * for the time to 50, 90 and 100 % of the final saving.
 */
import { type KsmdCpu, ksmdCpu } from '../cpu/model.js';
import { loadProfile } from '../cpu/profile.js';
import type { Range } from '../engine/memory/memory.js';
import { FRAME_ANON } from '../engine/memory/frames.js';
import { PAGE_SIZE } from '../engine/constants.js';
import { errnoName } from '../engine/errno.js';
import type { EraEntry } from '../eras/registry.js';
import { probeMerger } from '../compare/probe.js';
import { WorkloadDriver } from '../workload/driver.js';
import { applyPreload } from '../workload/library.js';
import type { SnapshotWorkload } from '../snapshot/workload.js';
import type { ChangeSet } from './changes.js';

export const QUIET_PASSES = 2;
export const DEFAULT_MAX_PASSES = 50;
/** Where an era's ksmd has no sleep of its own (the 2008/2009 threads start at 0): the 2.6.32 default. */
const FALLBACK_SLEEP_MS = 20;
const FALLBACK_PAGES_TO_SCAN = 100;
const CURVE_POINTS = 400;

export interface PassPoint {
  pass: number;
  batches: number;
  virtualMs: number;
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  pagesVolatile: number;
  ksmZeroPages: number;
  /** Registered present pages minus distinct frames (as workload run measures it). */
  pagesSaved: number;
  metadataItems: number;
  metadataBytes: number;
  /** The era's own general_profit file (6.x), or null. */
  generalProfit: number | null;
}

export interface SimAttribution {
  proc: string;
  region: number;
  registered: number;
  saved: number;
  within: number;
  across: number;
}

export interface Replay {
  era: string;
  title: string;
  pagesToScan: number;
  sleepMs: number;
  /** The era's knob files as the run began (after --sysfs). */
  knobs: Record<string, string>;
  passes: PassPoint[];
  /** [virtual ms, pages saved by the counters], at most CURVE_POINTS of them. */
  curve: Array<[number, number]>;
  /** The last pass that changed anything, confirmed by QUIET_PASSES quiet ones; null if maxPasses came first. */
  converged: number | null;
  /** Virtual ms to reach 50, 90 and 100 % of the final saving (null: nothing saved). */
  timeTo: { p50: number; p90: number; p100: number } | null;
  /** Pages saved at the end, by the counters. */
  finalSaved: number;
  /** Net profit in bytes: general_profit where the era has it, else saved pages x 4096 - metadata bytes. */
  profit: number;
  profitSource: 'general_profit' | 'saved - metadata';
  regions: SimAttribution[];
  errors: string[];
  /** ksmd's CPU over the replay by the CPU model (src/cpu, the default profile): seconds and share of one core over its virtual time. */
  ksmdCpu: KsmdCpu;
}

export interface ReplayOptions {
  sysfs?: ReadonlyArray<readonly [string, string]>;
  maxPasses?: number;
  /** Called after every pass. */
  onPass?: (p: PassPoint) => void;
  /** Writes to make between batches, at their virtual time (later captures: changes.ts). */
  changes?: readonly ChangeSet[];
}

function num(v: string | number): number | null {
  if (typeof v === 'number') return null;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : null;
}

/** The era's knob files as it boots, for those its workload runs change (6.18: smart_scan, use_zero_pages). */
export function bootDefaults(era: EraEntry): Array<[string, string]> {
  if (era.workloadKnobs.length === 0) return [];
  const a = era.boot();
  return era.workloadKnobs.map(([name]) => {
    const v = a.readSysfs(name);
    return [name, typeof v === 'string' ? v.trim() : '0'];
  });
}

export function replay(sw: SnapshotWorkload, era: EraEntry, opts: ReplayOptions = {}): Replay {
  const user = opts.sysfs ?? [];
  const pagesToScanKnob = [...user].reverse().find(([n]) => n === 'pages_to_scan');
  const pagesToScan = pagesToScanKnob ? Number(pagesToScanKnob[1]) : FALLBACK_PAGES_TO_SCAN;
  const w = { ...sw.workload, pagesToScan, steps: [] };
  const driver = new WorkloadDriver(era, { sysfs: [...bootDefaults(era), ...user] });
  driver.setup(w);
  applyPreload(driver, sw.preload);
  const a = driver.adapter;
  const errors: string[] = [];
  const ranges: Range[] = [];
  for (const r of sw.regions) {
    const err = driver.register(r.proc, r.region);
    if (err < 0) errors.push(`${r.proc} region ${r.region}: the era refused the registration with ${errnoName(-err)}`);
    else ranges.push(driver.regionRange(r.proc, r.region));
  }
  const probe = probeMerger(a.merger);
  const sleepMs = a.knobs().sleepMicros / 1000 || FALLBACK_SLEEP_MS;
  const knobs: Record<string, string> = { pages_to_scan: String(pagesToScan), sleep_millisecs: String(sleepMs) };
  for (const f of a.files()) if (f.writable && f.value !== null) knobs[f.name] = f.value;
  const hasZero = typeof a.readSysfs('ksm_zero_pages') === 'string';
  const hasProfit = typeof a.readSysfs('general_profit') === 'string';
  const zeroPages = () => (hasZero ? (num(a.readSysfs('ksm_zero_pages')) ?? 0) : 0);

  const maxPasses = opts.maxPasses ?? DEFAULT_MAX_PASSES;
  const passes: PassPoint[] = [];
  const samples: Array<[number, number]> = [[0, 0]];
  let batches = 0;
  let converged: number | null = null;
  let lastChange = 0;
  let idle = 0;
  const changes = [...(opts.changes ?? [])];
  /** Passes from the last change on: convergence counts only after every change is made. */
  let changedAt = 0;
  while (ranges.length > 0 && passes.length < maxPasses) {
    while (changes.length && changes[0].atMs <= batches * sleepMs) {
      for (const wr of changes.shift()!.writes) {
        const r = driver.regionRange(wr.proc, wr.region);
        const err = a.memory.writePage(r.mm, r.start + wr.page * PAGE_SIZE, a.memory.contents.intern(wr.bytes, 0));
        if (err < 0) errors.push(`${wr.proc} region ${wr.region} page ${wr.page}: the write of a later capture failed with ${errnoName(-err)}`);
      }
      changedAt = passes.length;
    }
    const before = a.passes();
    const scanned = a.pagesScanned();
    a.scan(pagesToScan);
    batches++;
    const c = a.counters();
    const saved = c.pages_sharing + zeroPages();
    if (saved !== samples[samples.length - 1][1]) samples.push([batches * sleepMs, saved]);
    const done = a.passes() - before;
    if (done === 0) {
      if (a.pagesScanned() === scanned && ++idle > 3) {
        errors.push('the scanner completes no pass: nothing it can scan is registered');
        break;
      }
      continue;
    }
    idle = 0;
    const m = probe.metadata();
    const state = {
      batches,
      virtualMs: batches * sleepMs,
      pagesShared: c.pages_shared,
      pagesSharing: c.pages_sharing,
      pagesUnshared: c.pages_unshared,
      pagesVolatile: c.pages_volatile,
      ksmZeroPages: zeroPages(),
      pagesSaved: a.memory.pagesSaved(ranges).saved,
      metadataItems: m.items,
      metadataBytes: m.bytes,
      generalProfit: hasProfit ? num(a.readSysfs('general_profit')) : null,
    };
    // A batch that runs past a pass's end (the 2008/2009 scanners) completes several: one record each, as the workload runner takes them.
    for (let k = 0; k < done && converged === null && passes.length < maxPasses; k++) {
      const p: PassPoint = { pass: passes.length + 1, ...state };
      const prev = passes[passes.length - 1];
      if (prev === undefined ? p.pagesSaved || p.pagesShared || p.pagesSharing || p.ksmZeroPages : p.pagesSaved !== prev.pagesSaved || p.pagesShared !== prev.pagesShared || p.pagesSharing !== prev.pagesSharing || p.ksmZeroPages !== prev.ksmZeroPages || p.pagesUnshared !== prev.pagesUnshared) lastChange = p.pass;
      passes.push(p);
      opts.onPass?.(p);
      if (p.pass - Math.max(lastChange, changedAt) >= QUIET_PASSES && changes.length === 0) converged = lastChange;
    }
    if (converged !== null) break;
  }
  const finalSaved = samples[samples.length - 1][1];
  const at = (fraction: number) => samples.find(([, s]) => s >= fraction * finalSaved)![0];
  const end = passes[passes.length - 1];
  const profit = end?.generalProfit ?? finalSaved * PAGE_SIZE - (end?.metadataBytes ?? 0);
  return {
    era: era.id,
    title: driver.title,
    pagesToScan,
    sleepMs,
    knobs,
    passes,
    curve: downsample(samples, CURVE_POINTS),
    converged,
    timeTo: finalSaved > 0 ? { p50: at(0.5), p90: at(0.9), p100: at(1) } : null,
    finalSaved,
    profit,
    profitSource: end?.generalProfit !== null && end?.generalProfit !== undefined ? 'general_profit' : 'saved - metadata',
    regions: attribute(driver, sw),
    errors,
    ksmdCpu: ksmdCpu(loadProfile(), { work: a.merger.work(), passes: a.merger.passes(), wakeups: batches }, (batches * sleepMs) / 1000),
  };
}

/**
 * Pages saved per region in the end state, in scan order: a frame mapped by
 * several registered pages is kept by the first and saved by the others
 * ("within" when the first is in the same process). A frame that is no
 * anonymous page (the kernel's zero page, which 6.x's use_zero_pages maps)
 * is saved by every page that maps it.
 */
function attribute(driver: WorkloadDriver, sw: SnapshotWorkload): SimAttribution[] {
  const memory = driver.memory;
  const keeper = new Int32Array(memory.frames.limit);
  const procIndex = new Map<string, number>();
  const out: SimAttribution[] = [];
  for (const r of sw.regions) {
    if (!procIndex.has(r.proc)) procIndex.set(r.proc, procIndex.size + 1);
    const pi = procIndex.get(r.proc)!;
    const range = driver.regionRange(r.proc, r.region);
    const s: SimAttribution = { proc: r.proc, region: r.region, registered: 0, saved: 0, within: 0, across: 0 };
    for (const v of range.mm.vmas) {
      if (v.end <= range.start || v.start >= range.end) continue;
      for (let i = v.index(Math.max(v.start, range.start)), to = v.index(Math.min(v.end, range.end)); i < to; i++) {
        const f = v.frames[i];
        if (f === 0) continue;
        s.registered++;
        if (!(memory.frames.flags[f] & FRAME_ANON)) {
          s.saved++;
          s.within++;
        } else if (keeper[f] === 0) keeper[f] = pi;
        else {
          s.saved++;
          if (keeper[f] === pi) s.within++;
          else s.across++;
        }
      }
    }
    out.push(s);
  }
  return out;
}

function downsample(samples: Array<[number, number]>, max: number): Array<[number, number]> {
  if (samples.length <= max) return samples;
  const out: Array<[number, number]> = [];
  const step = (samples.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(samples[Math.round(i * step)]);
  return out;
}
