/**
 * One configuration of a comparison: the workload's steps through the
 * workload runner, then more full passes (a fixed number, or until the
 * state stops changing), with a record at the end of every pass.
 *
 * Everything here is deterministic (no wall clock in any result): the same
 * workload and configuration give the same records on every run.
 *
 * Virtual time is the schedule, not measured: every call of the era's scan
 * routine is one batch of the workload's pagesToScan pages, and batches come
 * one per sleep period (20 ms, the 2.6.32 default of sleep_millisecs), the
 * same for every era (the 2008/2009 scanner threads had no default: their
 * knobs start at 0 and the user set them). A batch itself takes no time.
 */
import { type KsmdCpu, ksmdCpu, predictNs } from '../cpu/model.js';
import { loadProfile } from '../cpu/profile.js';
import type { Range } from '../engine/memory/memory.js';
import type { Counters, EraDriver, WorkloadDriver } from '../workload/driver.js';
import { applyPreload, type Preload } from '../workload/library.js';
import { runWorkload, type Snapshot, type StepError } from '../workload/runner.js';
import { totalPages, type Workload } from '../workload/schema.js';
import { eraById } from '../eras/registry.js';
import { type Configuration, createDriver } from './configs.js';
import { type BucketShape, type MergerProbe, probeMerger, type TreeShape } from './probe.js';

/** The 2.6.32 default of sleep_millisecs: one batch per 20 ms of virtual time. */
export const SLEEP_MS = 20;
/** Passes in a row that change nothing before a run counts as converged. */
export const QUIET_PASSES = 2;
/** Passes at most until convergence (`--max-passes`). */
export const DEFAULT_MAX_PASSES = 50;

/** How many passes a comparison runs after the workload's steps. */
export interface Plan {
  /**
   * 'passes': exactly `passes` more full passes after the workload's steps;
   * 'until-converged': after the steps, passes until QUIET_PASSES in a row
   * change nothing, at most `passes` of them.
   */
  mode: 'passes' | 'until-converged';
  passes: number;
}

/** The workload a comparison runs (and the bytes a built-in loads into it). */
export interface CompareInput {
  workload: Workload;
  preload?: Preload;
}

/** The state at the end of a pass; counts are totals since the start of the run. */
export interface PassRecord {
  /** 1, 2, ... over the whole run ('end' records repeat the last pass number). */
  pass: number;
  /** The runner's snapshot label (`4.pass2`), or `end`. */
  label: string;
  /** Scan batches so far, and the virtual time they take (batches x SLEEP_MS). */
  batches: number;
  virtualMs: number;
  pagesSaved: number;
  pagesShared: number;
  pagesSharing: number;
  pagesScanned: number;
  checksums: number;
  bytesHashed: number;
  comparisons: number;
  bytesCompared: number;
  mergeAttempts: number;
  /** The merger's own count, for telling quiet passes apart; not comparable across mergers (2.6.32 and 2008 count merge operations, 2009 counts addresses mapped). */
  merges: number;
  /** Hash merger: bucket-mates tried whose contents differ. */
  falseHashMatches: number;
  /** Copy-on-write faults that copied a page mapped more than once (KSM pages and forked pages). */
  cowBreaks: number;
  /** Tree mergers: the trees at the end of the pass (before the 2009 merger flushes its unstable tree). */
  stable: TreeShape | null;
  unstable: TreeShape | null;
  /** The hash merger's page_hash. */
  buckets: BucketShape | null;
  trackingItems: number;
  metadataBytes: number;
  /** ksmd's CPU so far, ms, as the CPU model prices this run's work (src/cpu, the default profile). */
  ksmdCpuMs: number;
}

/** One configuration's run: its passes and the totals. */
export interface ConfigResult {
  label: string;
  era: string;
  merger: string;
  title: string;
  /** The checksum the merger used. */
  checksum: string;
  passes: PassRecord[];
  /** The state when the run ended (after any steps that follow the last pass). */
  end: PassRecord;
  /** The last pass that changed anything, confirmed by QUIET_PASSES quiet ones after it (pass 0: nothing ever changed); null if not reached. */
  converged: { pass: number; virtualMs: number } | null;
  /** Steps the era refused. */
  errors: StepError[];
  /** ksmd's CPU over the run by the CPU model: seconds, share of one core over the virtual time, the profile. */
  ksmdCpu: KsmdCpu;
}

/** A configuration's progress, for a progress bar. */
export interface Progress {
  /** Completed passes plus the part of the current one scanned. */
  passes: number;
  pagesSaved: number;
}

/** What makes a pass count as a change (work counters aside, which always move). */
function changed(prev: PassRecord | null, r: PassRecord): boolean {
  if (prev === null) return r.pagesSaved !== 0 || r.pagesShared !== 0 || r.pagesSharing !== 0 || r.merges !== 0 || r.cowBreaks !== 0;
  return (
    r.pagesSaved !== prev.pagesSaved ||
    r.pagesShared !== prev.pagesShared ||
    r.pagesSharing !== prev.pagesSharing ||
    r.merges !== prev.merges ||
    r.cowBreaks !== prev.cowBreaks
  );
}

/** Where the records converged (see ConfigResult.converged). */
export function convergence(records: readonly PassRecord[], quiet = QUIET_PASSES): { pass: number; virtualMs: number } | null {
  let last = 0;
  for (let i = 0; i < records.length; i++) if (changed(i ? records[i - 1] : null, records[i])) last = i + 1;
  if (records.length - last < quiet) return null;
  return { pass: last, virtualMs: last ? records[last - 1].virtualMs : 0 };
}

/** The label of the snapshot that ends a planned run. */
export const END_LABEL = 'end';

/** Whether some live process still has registered memory after the last step (so more passes can run). */
export function scannableAtEnd(w: Workload): boolean {
  const registered = new Set<string>();
  const alive = new Set(w.processes.map((p) => p.name));
  for (const s of w.steps) {
    if (s.kind === 'register') registered.add(s.proc);
    else if (s.kind === 'unregister') registered.delete(s.proc);
    else if (s.kind === 'exit') {
      registered.delete(s.proc);
      alive.delete(s.proc);
    }
  }
  return [...registered].some((p) => alive.has(p));
}

/**
 * The workload with the plan's passes added as a fullScans step (when
 * anything is left to scan), and a last snapshot.
 */
export function plannedWorkload(w: Workload, plan: Plan): Workload {
  const steps: Workload['steps'] = [...w.steps];
  if (plan.passes > 0 && scannableAtEnd(w)) steps.push({ index: steps.length, kind: 'fullScans', count: plan.passes });
  steps.push({ index: steps.length, kind: 'snapshot', label: END_LABEL });
  return { ...w, steps };
}

/** Counts the era's scan calls (batches) on the way through. */
class CountingDriver implements EraDriver {
  batches = 0;
  constructor(
    readonly inner: WorkloadDriver,
    private readonly onBatch: () => void,
  ) {}
  get exitKeepsRegistration() {
    return this.inner.exitKeepsRegistration;
  }
  get era() {
    return this.inner.era;
  }
  get title() {
    return this.inner.title;
  }
  get exposed() {
    return this.inner.exposed;
  }
  get memory() {
    return this.inner.memory;
  }
  setup(w: Workload): void {
    this.inner.setup(w);
  }
  register(proc: string, region: number): number {
    return this.inner.register(proc, region);
  }
  unregister(proc: string): number {
    return this.inner.unregister(proc);
  }
  scan(pages: number): void {
    this.inner.scan(pages);
    this.batches++;
    this.onBatch();
  }
  passes(): number {
    return this.inner.passes();
  }
  pagesScanned(): number {
    return this.inner.pagesScanned();
  }
  write(proc: string, region: number, page: number, content: Parameters<EraDriver['write']>[3]): number {
    return this.inner.write(proc, region, page, content);
  }
  exit(proc: string): void {
    this.inner.exit(proc);
  }
  counters(): Counters {
    return this.inner.counters();
  }
  regionRange(proc: string, region: number): Range {
    return this.inner.regionRange(proc, region);
  }
}

/** Runs one configuration; onProgress hears of every batch (the caller throttles). */
export function runConfiguration(input: CompareInput, config: Configuration, plan: Plan, onProgress?: (p: Progress) => void): ConfigResult {
  const era = eraById(config.era);
  const w = plannedWorkload(input.workload, plan);
  const lastStep = w.steps.length - 2;
  const total = Math.max(1, totalPages(w));
  const records: PassRecord[] = [];
  let probe: MergerProbe | null = null;
  /** Tree shapes taken at the merger's own end of pass, waiting for the runner's snapshot. */
  const pending: Array<{ stable: TreeShape; unstable: TreeShape } | null> = [];
  let scannedAtPass = 0;

  const driver: CountingDriver = new CountingDriver(createDriver(config), () => {
    if (onProgress === undefined) return;
    const part = Math.min(0.99, (driver.pagesScanned() - scannedAtPass) / total);
    onProgress({ passes: records.length + part, pagesSaved: records.length ? records[records.length - 1].pagesSaved : 0 });
  });

  const profile = loadProfile();
  const ksmdCpuNs = () => {
    const merger = driver.inner.adapter.merger;
    return predictNs(profile, { work: merger.work(), passes: merger.passes(), wakeups: driver.batches });
  };
  const record = (pass: number, label: string, pagesSaved: number, c: Counters, trees: { stable: TreeShape; unstable: TreeShape } | null): PassRecord => {
    const p = probe!;
    const s = p.stats();
    const m = p.metadata();
    return {
      pass,
      label,
      batches: driver.batches,
      virtualMs: driver.batches * SLEEP_MS,
      pagesSaved,
      pagesShared: c.pages_shared,
      pagesSharing: c.pages_sharing,
      pagesScanned: s.pagesScanned,
      checksums: s.checksums,
      bytesHashed: s.bytesHashed,
      comparisons: s.comparisons,
      bytesCompared: s.bytesCompared,
      mergeAttempts: s.mergeAttempts,
      merges: s.merges,
      falseHashMatches: s.falseHashMatches,
      cowBreaks: driver.memory.cowBreaks,
      stable: trees?.stable ?? null,
      unstable: trees?.unstable ?? null,
      buckets: p.buckets(),
      trackingItems: m.items,
      metadataBytes: m.bytes,
      ksmdCpuMs: ksmdCpuNs() / 1e6,
    };
  };

  let endOfPassHook = false;
  const onSnapshot = (snap: Snapshot) => {
    if (!/\.pass\d+$/.test(snap.label)) return;
    const trees = endOfPassHook && pending.length ? pending.shift()! : probe!.trees();
    records.push(record(records.length + 1, snap.label, snap.pages_saved, driver.counters(), trees));
    scannedAtPass = driver.pagesScanned();
    onProgress?.({ passes: records.length, pagesSaved: snap.pages_saved });
  };
  const stop = (snap: Snapshot) => plan.mode === 'until-converged' && snap.step === lastStep && convergence(records) !== null;

  const result = runWorkload(w, driver, {
    afterSetup: (d) => {
      if (input.preload !== undefined) applyPreload(d, input.preload);
      probe = probeMerger(driver.inner.adapter.merger);
      if (era.algorithm === 'tree-2009') {
        endOfPassHook = true;
        probe.onPassEnd(() => pending.push(probe!.trees()));
      }
      onProgress?.({ passes: 0, pagesSaved: 0 });
    },
    onSnapshot,
    stop,
  });

  // The end state: the runner's last snapshot, the END_LABEL one unless the run stopped at a pass.
  const last = result.snapshots[result.snapshots.length - 1];
  const endSaved = last?.pages_saved ?? 0;
  // Tree shapes as at the end of the last pass (the 2009 merger has flushed its unstable tree since).
  const lastPass = records[records.length - 1];
  const endTrees = era.algorithm === 'tree-2009' && lastPass?.stable ? { stable: lastPass.stable, unstable: lastPass.unstable! } : probe!.trees();
  const end = record(records.length, END_LABEL, endSaved, driver.counters(), endTrees);
  return {
    label: config.label,
    era: config.era,
    merger: era.merger,
    title: driver.title,
    checksum: config.checksum ?? era.checksum,
    passes: records,
    end,
    converged: convergence(records),
    errors: result.errors,
    ksmdCpu: ksmdCpu(profile, { work: driver.inner.adapter.merger.work(), passes: driver.inner.adapter.merger.passes(), wakeups: driver.batches }, end.virtualMs / 1000),
  };
}
