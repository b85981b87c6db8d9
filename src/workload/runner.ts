/**
 * Runs a workload file under one era and records the counters
 * (docs/workload-format.md): snapshots after every completed pass of a
 * fullScans step and at every snapshot step. Deterministic: the same file
 * gives the same snapshots on every run.
 */
import { errnoName } from '../engine/errno.js';
import { COUNTER_NAMES, type CounterName, type EraDriver } from './driver.js';
import type { Step, Workload } from './schema.js';
import { WorkloadError } from './schema.js';

/** The counters at one snapshot (a `snapshot` step, or one pass of a `fullScans` step). */
export interface Snapshot {
  label: string;
  step: number;
  pages_shared: number;
  pages_sharing: number;
  pages_unshared: number;
  pages_volatile: number;
  full_scans: number;
  pages_saved: number;
}

/** A step the era refused, with its errno name. */
export interface StepError {
  step: number;
  errno: string;
}

/** What a run gives: the snapshots and the steps the era refused. */
export interface RunResult {
  workload: string;
  era: string;
  title: string;
  exposed: CounterName[];
  snapshots: Snapshot[];
  errors: StepError[];
}

/** Options of runWorkload. */
export interface RunOptions {
  /** Called after each snapshot is taken (progress, live output). */
  onSnapshot?: (s: Snapshot) => void;
  /**
   * Called once the processes exist with their initial contents, before the
   * first step: contents no schema form describes (the from-files built-in).
   */
  afterSetup?: (driver: EraDriver) => void;
  /** Called after each snapshot: true ends the run there (the passes and steps left are skipped). */
  stop?: (s: Snapshot) => boolean;
}

/**
 * The checks a real kernel imposes before anything runs (as the kernel
 * oracle's preflight): a fullScans step needs registered memory in a live
 * process, or no pass ever completes.
 */
export function preflight(w: Workload): void {
  const registered = new Map<string, Set<number>>();
  const alive = new Set(w.processes.map((p) => p.name));
  const regionCount = new Map(w.processes.map((p) => [p.name, p.regions.length]));
  for (const s of w.steps) {
    if (s.kind === 'register') {
      const set = registered.get(s.proc) ?? new Set<number>();
      if (s.region !== undefined) set.add(s.region);
      else for (let r = 0; r < (regionCount.get(s.proc) ?? 0); r++) set.add(r);
      registered.set(s.proc, set);
    } else if (s.kind === 'unregister') registered.delete(s.proc);
    else if (s.kind === 'exit') {
      registered.delete(s.proc);
      alive.delete(s.proc);
    } else if (s.kind === 'fullScans' || s.kind === 'scan') {
      if (![...alive].some((p) => (registered.get(p)?.size ?? 0) > 0)) {
        throw new WorkloadError({
          file: w.source,
          place: `steps[${s.index}] (${s.kind})`,
          detail: `${s.kind} with no registered region in a live process: the scanner completes no pass on an empty list`,
          kind: 'schema',
        });
      }
    }
  }
}

/** Runs a workload's steps through a driver (createDriver) and returns its snapshots and the steps the era refused, as `ksmctl workload run` does. */
export function runWorkload(w: Workload, driver: EraDriver, opts: RunOptions = {}): RunResult {
  preflight(w);
  driver.setup(w);
  opts.afterSetup?.(driver);
  const snapshots: Snapshot[] = [];
  let stopped = false;
  const errors: StepError[] = [];
  // Regions registered through a call the era accepted: what pages_saved measures.
  const registered = new Map<string, Set<number>>();
  const regionCount = new Map(w.processes.map((p) => [p.name, p.regions.length]));

  const snapshot = (label: string, step: number) => {
    const c = driver.counters();
    const regions: Array<[string, number]> = [];
    for (const [proc, set] of registered) for (const r of set) regions.push([proc, r]);
    const saved = driver.measurePagesSaved ? driver.measurePagesSaved(regions) : driver.memory.pagesSaved(regions.map(([proc, r]) => driver.regionRange(proc, r))).saved;
    const s: Snapshot = { label, step, ...c, pages_saved: saved };
    snapshots.push(s);
    opts.onSnapshot?.(s);
    if (opts.stop?.(s)) stopped = true;
  };
  const refused = (step: Step, err: number) => errors.push({ step: step.index, errno: errnoName(-err) });

  for (const step of w.steps) {
    if (stopped) break;
    switch (step.kind) {
      case 'register': {
        const regions = step.region !== undefined ? [step.region] : range(regionCount.get(step.proc) ?? 0);
        for (const r of regions) {
          const err = driver.register(step.proc, r);
          if (err < 0) {
            refused(step, err);
            break;
          }
          const set = registered.get(step.proc) ?? new Set<number>();
          set.add(r);
          registered.set(step.proc, set);
        }
        break;
      }
      case 'unregister': {
        const err = driver.unregister(step.proc);
        if (err < 0) refused(step, err);
        else registered.delete(step.proc);
        break;
      }
      case 'scan':
        driver.scan(step.pages);
        break;
      case 'fullScans': {
        let done = 0;
        let idle = 0;
        while (done < step.count && !stopped) {
          const before = driver.passes();
          const scanned = driver.pagesScanned();
          driver.scan(w.pagesToScan);
          const passes = driver.passes() - before;
          if (passes === 0 && driver.pagesScanned() === scanned && ++idle > 3) {
            // Nothing is registered after all: the era refused every registration
            // (a user without access to /dev/ksm, say). The step cannot complete;
            // it is listed with the answer ksm_scan_start gives an empty slot list.
            errors.push({ step: step.index, errno: 'EAGAIN' });
            break;
          }
          for (let k = 0; k < passes; k++) snapshot(`${step.index}.pass${++done}`, step.index);
        }
        break;
      }
      case 'write': {
        const err = driver.write(step.proc, step.region, step.page, step.content);
        if (err < 0) refused(step, err);
        break;
      }
      case 'exit':
        driver.exit(step.proc);
        if (!driver.exitKeepsRegistration) registered.delete(step.proc);
        break;
      case 'snapshot':
        snapshot(step.label, step.index);
        break;
    }
  }
  return {
    workload: w.name,
    era: driver.era.id,
    title: driver.title,
    exposed: COUNTER_NAMES.filter((n) => driver.exposed.has(n)),
    snapshots,
    errors,
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The schema's --json document. */
export function resultJson(r: RunResult): { snapshots: Snapshot[]; errors?: StepError[] } {
  return r.errors.length ? { snapshots: r.snapshots, errors: r.errors } : { snapshots: r.snapshots };
}
