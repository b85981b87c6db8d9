/**
 * A worker thread of `ksmctl compare`: runs one configuration and posts its
 * progress (at most every PROGRESS_MS, and at every pass) and its result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Configuration } from './configs.js';
import { type CompareInput, type Plan, type Progress, runConfiguration } from './run.js';
import { runSweepRun, type SweepWorkerData } from './sweep-run.js';

export interface WorkerData {
  input: CompareInput;
  config: Configuration;
  plan: Plan;
}

/** What a worker is given: a configuration of a comparison, or one run of a sweep (sweep-run.ts). */
export type AnyWorkerData = WorkerData | SweepWorkerData;

export type WorkerMessage =
  | { type: 'progress'; progress: Progress }
  | { type: 'result'; result: ReturnType<typeof runConfiguration> }
  | { type: 'error'; message: string };

const PROGRESS_MS = 100;

const port = parentPort;
if (port !== null && 'sweepRun' in (workerData as AnyWorkerData)) {
  runSweepRun(workerData as SweepWorkerData, port);
} else if (port !== null) {
  const { input, config, plan } = workerData as WorkerData;
  let last = 0;
  let lastPasses = -1;
  try {
    const result = runConfiguration(input, config, plan, (progress) => {
      const now = performance.now();
      const newPass = Math.floor(progress.passes) !== lastPasses;
      if (!newPass && now - last < PROGRESS_MS) return;
      last = now;
      lastPasses = Math.floor(progress.passes);
      port.postMessage({ type: 'progress', progress } satisfies WorkerMessage);
    });
    port.postMessage({ type: 'result', result } satisfies WorkerMessage);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerMessage);
  }
}
