/**
 * `ksmctl compare`: one workload under several configurations (eras, and
 * optionally swapped checksums), each in its own worker thread, side by side.
 */
import { Worker } from 'node:worker_threads';
import { preflight } from '../workload/runner.js';
import { totalPages } from '../workload/schema.js';
import type { Configuration } from './configs.js';
import { type CompareInput, type ConfigResult, plannedWorkload, type Plan, type Progress, QUIET_PASSES, runConfiguration, scannableAtEnd, SLEEP_MS } from './run.js';
import type { AnyWorkerData, WorkerData, WorkerMessage } from './worker.js';

/** A comparison: the workload, the plan, and each configuration's result pass by pass (what `ksmctl compare --json` prints). */
export interface Comparison {
  workload: {
    name: string;
    description: string;
    /** The file or built-in spec it came from. */
    source: string | null;
    processes: number;
    pages: number;
    pagesToScan: number;
    /** from-files: the files loaded. */
    files?: string[];
  };
  /** appended: whether the plan's passes ran (none when every process exited or unregistered in the steps). */
  plan: Plan & { sleepMs: number; quietPasses: number; appended: boolean };
  configurations: ConfigResult[];
}

/** Options of compare: worker threads, progress callbacks. */
export interface CompareOptions {
  /** Worker threads at once (default: one per configuration); 0 runs everything in this thread, one after the other. */
  jobs?: number;
  /** Progress of configuration i (by index). */
  onProgress?: (i: number, p: Progress) => void;
  /** Configuration i finished. */
  onDone?: (i: number, r: ConfigResult) => void;
}

/**
 * A worker running worker.js next to this file once built; run from source
 * (tests, through tsx), worker.ts behind tsx's loader, which a worker thread
 * does not inherit.
 */
export function startWorker(data: AnyWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
  const url = new URL('./worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/**
 * A worker's one result: its `result` message resolves the promise; an
 * `error` message, an error thrown in it or an exit without a result
 * rejects it, named by the run's label. `progress` messages go to
 * `onProgress`. The worker is in `running` until it exits.
 */
export function workerOutcome<R, P extends { type: 'progress' }>(
  worker: Worker,
  label: string,
  running: Set<Worker>,
  onProgress: (m: P) => void,
): Promise<R> {
  return new Promise((resolve, reject) => {
    running.add(worker);
    let settled = false;
    worker.on('message', (m: P | { type: 'result'; result: R } | { type: 'error'; message: string }) => {
      if (m.type === 'progress') onProgress(m as P);
      else if (m.type === 'result') {
        settled = true;
        resolve((m as { result: R }).result);
      } else {
        settled = true;
        reject(new Error(`${label}: ${(m as { message: string }).message}`));
      }
    });
    worker.on('error', (e) => {
      settled = true;
      reject(new Error(`${label}: ${e.message}`));
    });
    worker.on('exit', (code) => {
      running.delete(worker);
      if (!settled) reject(new Error(`${label}: the worker stopped (exit code ${code})`));
    });
  });
}

function runInWorker(data: WorkerData, onProgress: (p: Progress) => void, running: Set<Worker>): Promise<ConfigResult> {
  return workerOutcome<ConfigResult, Extract<WorkerMessage, { type: 'progress' }>>(startWorker(data), data.config.label, running, (m) => onProgress(m.progress));
}

/**
 * Runs every configuration on the workload and gathers the results in the
 * order of `configs`. Workload errors (a fullScans with nothing registered)
 * are thrown as WorkloadError before anything runs.
 */
export async function compare(input: CompareInput, configs: readonly Configuration[], plan: Plan, opts: CompareOptions = {}): Promise<Comparison> {
  const w = input.workload;
  preflight(plannedWorkload(w, plan));
  const results: ConfigResult[] = new Array(configs.length);
  const jobs = opts.jobs ?? configs.length;
  if (jobs <= 0) {
    configs.forEach((c, i) => {
      results[i] = runConfiguration(input, c, plan, (p) => opts.onProgress?.(i, p));
      opts.onDone?.(i, results[i]);
    });
  } else {
    let next = 0;
    let failed = false;
    const running = new Set<Worker>();
    const lane = async () => {
      while (next < configs.length && !failed) {
        const i = next++;
        results[i] = await runInWorker({ input, config: configs[i], plan }, (p) => opts.onProgress?.(i, p), running);
        opts.onDone?.(i, results[i]);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(jobs, configs.length) }, lane));
    } catch (e) {
      // One configuration failed: the others' results would not be shown.
      failed = true;
      await Promise.all([...running].map((wk) => wk.terminate()));
      throw e;
    }
  }
  const comparison: Comparison = {
    workload: {
      name: w.name,
      description: w.description,
      source: w.source ?? null,
      processes: w.processes.length,
      pages: totalPages(w),
      pagesToScan: w.pagesToScan,
    },
    plan: { ...plan, sleepMs: SLEEP_MS, quietPasses: QUIET_PASSES, appended: plan.passes > 0 && scannableAtEnd(w) },
    configurations: results,
  };
  if (input.preload !== undefined) comparison.workload.files = input.preload.sources;
  return comparison;
}
