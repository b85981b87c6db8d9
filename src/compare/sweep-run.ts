/**
 * Runs the runs of a sweep (sweep.ts): each in a worker thread of compare's
 * pool (worker.ts), at most `jobs` at once (default: one per core), and
 * gathers their results in index order. With jobs 0, in this thread, one
 * after the other (tests, and a machine with one core to spare).
 */
import { availableParallelism } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { policyByName } from '../policy/registry.js';
import { runTimeline } from '../timeline/run.js';
import type { CompareInput } from './run.js';
import { startWorker, workerOutcome } from './compare.js';
import { type RunResult, summarize, type SweepRun } from './sweep.js';

export interface SweepWorkerData {
  sweepRun: SweepRun;
  input: CompareInput;
  untilMs: number | null;
}

export type SweepWorkerMessage = { type: 'progress'; fraction: number; saved: number } | { type: 'result'; result: RunResult } | { type: 'error'; message: string };

/** One run, here. */
export function runOne(input: CompareInput, run: SweepRun, untilMs: number | null, onProgress?: (fraction: number, saved: number) => void): RunResult {
  const r = runTimeline(input.workload, { era: run.era, policy: policyByName(run.policy), knobs: run.knobs }, { preload: input.preload, untilMs: untilMs ?? undefined, onProgress });
  return summarize(run, r);
}

const PROGRESS_MS = 200;

/** The worker's side (worker.ts hands over). */
export function runSweepRun(data: SweepWorkerData, port: MessagePort): void {
  let last = 0;
  try {
    const result = runOne(data.input, data.sweepRun, data.untilMs, (fraction, saved) => {
      const now = performance.now();
      if (now - last < PROGRESS_MS) return;
      last = now;
      port.postMessage({ type: 'progress', fraction, saved } satisfies SweepWorkerMessage);
    });
    port.postMessage({ type: 'result', result } satisfies SweepWorkerMessage);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies SweepWorkerMessage);
  }
}

export interface SweepRunOptions {
  /** Runs at once (default: the machine's cores); 0: in this thread. */
  jobs?: number;
  onStart?: (run: SweepRun) => void;
  onProgress?: (run: SweepRun, fraction: number, saved: number) => void;
  onDone?: (run: SweepRun, r: RunResult) => void;
}

function inWorker(data: SweepWorkerData, onProgress: (f: number, saved: number) => void, running: Set<Worker>): Promise<RunResult> {
  return workerOutcome<RunResult, Extract<SweepWorkerMessage, { type: 'progress' }>>(startWorker(data), data.sweepRun.label, running, (m) => onProgress(m.fraction, m.saved));
}

export async function runSweepRuns(input: CompareInput, runs: readonly SweepRun[], untilMs: number | null, opts: SweepRunOptions = {}): Promise<RunResult[]> {
  const jobs = opts.jobs ?? availableParallelism();
  const results: RunResult[] = new Array(runs.length);
  if (jobs <= 0) {
    runs.forEach((run, i) => {
      opts.onStart?.(run);
      results[i] = runOne(input, run, untilMs, (f, s) => opts.onProgress?.(run, f, s));
      opts.onDone?.(run, results[i]);
    });
    return results;
  }
  let next = 0;
  let failed = false;
  const running = new Set<Worker>();
  const lane = async () => {
    while (next < runs.length && !failed) {
      const i = next++;
      const run = runs[i];
      opts.onStart?.(run);
      results[i] = await inWorker({ sweepRun: run, input, untilMs }, (f, s) => opts.onProgress?.(run, f, s), running);
      opts.onDone?.(run, results[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, runs.length) }, lane));
  } catch (e) {
    failed = true;
    await Promise.all([...running].map((w) => w.terminate()));
    throw e;
  }
  return results;
}
