/**
 * `ksmctl status --real [--json] [--watch SECONDS] [--count N] [--sort KEY]`:
 * the machine's own KSM without the TUI, for scripts and monitoring.
 * Read-only, and unprivileged works (other users' processes need root).
 * `--watch` samples every SECONDS and prints the rates per second between
 * samples; Ctrl-C (or --count) ends it with status 0. --json prints one JSON
 * object per sample, one per line.
 */
import { release } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { SYSTEM_PATHS, type RealPaths } from '../../real/paths.js';
import type { KsmdSample, ProcessSort } from '../../real/proc.js';
import { formatStatus, ksmSysfsOf, NoKsmError, readKsmd, type StatusSample, statusJson, takeSample } from '../../real/status.js';
import { CliError } from '../errors.js';

export interface StatusOptions {
  real?: boolean;
  json?: boolean;
  /** Seconds between samples; absent: one sample. */
  watch?: number;
  /** Samples to print before ending (with --watch). */
  count?: number;
  sort?: ProcessSort;
}

/** What a status reads and how it waits: the machine's own, or a test's. */
export interface StatusEnv {
  paths: RealPaths;
  kernel: string;
  /** Monotonic seconds. */
  clock(): number;
  /** Resolves after ms, or early when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Seconds between ksmd's two reads of a one-shot status (its CPU share). */
  cpuWindow: number;
  /** Wires Ctrl-C (and SIGTERM) to abort; returns the unwiring. */
  onInterrupt(abort: () => void): () => void;
}

export const systemStatusEnv = (): StatusEnv => ({
  paths: SYSTEM_PATHS,
  kernel: release(),
  clock: () => performance.now() / 1000,
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    }),
  cpuWindow: 0.5,
  onInterrupt: (abort) => {
    process.on('SIGINT', abort);
    process.on('SIGTERM', abort);
    return () => {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    };
  },
});

/** Commander's parser of --watch: seconds, at least 0.1. */
export function parseSeconds(v: string): number {
  const n = Number(v);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || n < 0.1 || n > 86400) throw new InvalidArgumentError('expected seconds from 0.1 to 86400');
  return n;
}

export async function runStatus(opts: StatusOptions, out: (text: string) => void, env: StatusEnv = systemStatusEnv()): Promise<void> {
  if (opts.real !== true) throw new CliError('status reads the machine\'s own KSM: say --real (a simulated host: ksmctl host status)', 2);
  const print = (s: StatusSample, first: boolean) => out(opts.json === true ? JSON.stringify(statusJson(s)) : `${first ? '' : '\n'}${formatStatus(s)}`);
  const controller = new AbortController();
  const unwire = env.onInterrupt(() => controller.abort());
  try {
    const sample = (previous?: { sample: StatusSample; ksmd: KsmdSample | null }, ksmdBefore?: KsmdSample | null) =>
      takeSample({ paths: env.paths, kernel: env.kernel, now: env.clock(), date: new Date(), previous, ksmdBefore, sort: opts.sort });
    if (opts.watch === undefined) {
      // ksmd's share of a core needs two reads of its CPU time.
      guard(() => ksmSysfsOf(env.paths));
      const before = readKsmd(env.paths, env.clock());
      await env.sleep(env.cpuWindow * 1000, controller.signal);
      print(guard(() => sample(undefined, before)).sample, true);
      return;
    }
    let prev = guard(() => sample());
    print(prev.sample, true);
    for (let n = 1; opts.count === undefined || n < opts.count; n++) {
      await env.sleep(opts.watch * 1000, controller.signal);
      if (controller.signal.aborted) break;
      prev = guard(() => sample(prev));
      print(prev.sample, false);
    }
  } finally {
    unwire();
  }
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof NoKsmError) throw new CliError(e.message, 2);
    throw e;
  }
}
