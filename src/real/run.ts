/**
 * One workload run on the machine's own KSM, safely: the checks a real
 * kernel imposes, the guard (lock, busy check, knobs saved in the recovery
 * file), the run itself in a worker thread (worker.ts), and whatever ends it
 * (the last step, an error, Ctrl-C, SIGTERM, SIGHUP) the workload's
 * processes killed and every knob written back before this resolves.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { Worker } from 'node:worker_threads';
import { preflight, type RunResult } from '../workload/runner.js';
import { type Workload, WorkloadError } from '../workload/schema.js';
import { Guard, GuardError, stateDir } from './guard.js';
import { type RealPaths, SYSTEM_PATHS } from './paths.js';
import type { RealWorkerData, RealWorkerMessage } from './worker.js';
import { waitGone } from './process.js';
import { sleepMs } from './driver.js';

export interface RealRunOptions {
  paths?: RealPaths;
  /** The lock and recovery directory (default stateDir()). */
  dir?: string;
  /** --sysfs NAME=VALUE, after the workload's own. */
  sysfs?: ReadonlyArray<readonly [string, string]>;
  /** --node PROC[:REGION]=N. */
  nodes?: ReadonlyMap<string, number>;
  /** Run although KSM holds pages or others are registered. */
  force?: boolean;
  /** Wait up to this long for the lock and for KSM to be free, ms. */
  waitMs?: number;
  passTimeoutMs?: number;
  processTimeoutMs?: number;
  /** Lines for stderr (waiting, a stale recovery file restored). */
  note?: (line: string) => void;
}

export interface RealRunResult extends RunResult {
  /** Wall-clock ms of each pass on the real kernel. */
  passMs: number[];
  /** ksmd's CPU time in each pass, ns (/proc/PID/schedstat; empty where it cannot be read). */
  passCpuNs: number[];
  /** Extra wake-ups of ksmd. */
  pokes: number;
  /** The knobs as found before the run (and as they are again after it). */
  knobsFound: Record<string, string>;
  /** The kernel release (uname -r). */
  kernel: string;
}

/** The run was ended by a signal; the knobs are back (exit 128 + signal). */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/** The run failed on the kernel's side (a pass that never came, a process that died); the knobs are back. */
export class RealRunError extends Error {
  override readonly name = 'RealRunError';
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
export const exitStatusOf = (s: NodeJS.Signals) => 128 + (SIGNAL_NUMBERS[s] ?? 0);

/**
 * What a real kernel cannot do, refused before anything is touched: `scan`
 * steps (ksmd's batches cannot be started one at a time from user space),
 * a fullScans step with nothing registered (no pass ever completes), a NUMA
 * node this machine lacks.
 */
export function realPreflight(w: Workload, nodes?: ReadonlyMap<string, number>): void {
  const scan = w.steps.find((s) => s.kind === 'scan');
  if (scan !== undefined) {
    throw new WorkloadError({
      file: w.source,
      place: `steps[${scan.index}] (scan)`,
      detail: 'a scan step cannot run on the real kernel: ksmd\'s batches cannot be started one at a time from user space; use {"fullScans": k}',
      kind: 'schema',
    });
  }
  preflight(w);
  const wanted = new Set<number>();
  for (const { name, regions } of w.processes) regions.forEach((r, i) => {
    const n = nodes?.get(`${name}:${i}`) ?? nodes?.get(name) ?? r.node;
    if (n !== undefined && n !== 0) wanted.add(n);
  });
  for (const n of wanted) {
    if (!existsSync(`/sys/devices/system/node/node${n}`)) throw new GuardError(`the workload places memory on NUMA node ${n}, which this machine does not have`);
  }
}

function startWorker(data: RealWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
  // Tests run the sources through tsx, whose loader a worker thread does not inherit.
  const url = new URL('./worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** Runs w on the real kernel; the knobs are as before when this settles, whichever way. */
export async function runReal(w: Workload, opts: RealRunOptions = {}): Promise<RealRunResult> {
  const paths = opts.paths ?? SYSTEM_PATHS;
  realPreflight(w, opts.nodes);
  const needs = [...(w.sysfs ?? []), ...(opts.sysfs ?? [])].map(([n]) => n);
  const guard = Guard.acquire({ paths, dir: opts.dir ?? stateDir(), force: opts.force, waitMs: opts.waitMs, needs, note: opts.note });
  const pids = new Set<number>();
  let worker: Worker | null = null;
  const handlers = new Map<NodeJS.Signals, () => void>();
  try {
    return await new Promise<RealRunResult>((resolve, reject) => {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        const h = () => reject(new InterruptedError(sig));
        handlers.set(sig, h);
        process.on(sig, h);
      }
      const data: RealWorkerData = {
        workload: w,
        opts: {
          paths,
          recoveryFile: guard.recoveryFile,
          sysfs: opts.sysfs,
          nodes: opts.nodes ? [...opts.nodes] : undefined,
          force: opts.force,
          passTimeoutMs: opts.passTimeoutMs,
          processTimeoutMs: opts.processTimeoutMs,
        },
      };
      worker = startWorker(data);
      worker.on('message', (m: RealWorkerMessage) => {
        if (m.type === 'process') pids.add(m.pid);
        else if (m.type === 'result') resolve({ ...m.result, passMs: m.passMs, passCpuNs: m.passCpuNs, pokes: m.pokes, knobsFound: guard.knobs, kernel: release() });
        else reject(m.workload ? new WorkloadError({ kind: 'schema', detail: m.message }) : new RealRunError(m.message));
      });
      worker.on('error', (e) => reject(new RealRunError(`the run failed: ${e.message}`)));
      worker.on('exit', () => reject(new RealRunError('the run ended without a result')));
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    // The processes first: a worker blocked on one of them returns once it is gone.
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (worker !== null) await (worker as Worker).terminate();
    // Their memory must be gone before the knobs go back: max_page_sharing and
    // merge_across_nodes refuse to change (EBUSY) while an exiting process still maps KSM pages.
    const left = waitGone(pids, 10_000, sleepMs);
    const problems = [...left.map((p) => `process ${p} did not go away`), ...guard.release()];
    if (problems.length) throw new RealRunError(`could not restore ${paths.sysfs} exactly: ${problems.join('; ')} (the saved knobs stay in ${guard.recoveryFile}: ksmctl verify --recover)`);
  }
}
