/**
 * The memory guard: a run whose estimated memory (src/workload/memory-need.ts)
 * exceeds what this machine has free is refused before it starts, in one
 * line with exit status 2, unless --force-memory is given; and an
 * allocation that fails anyway (V8's "Invalid typed array length", "Array
 * buffer allocation failed") becomes the same kind of line, not an internal
 * error.
 *
 * "Free" is MemAvailable of /proc/meminfo (what the kernel can hand out
 * without swapping: free memory plus reclaimable caches), or os.freemem()
 * where there is no /proc, less a headroom (HEADROOM_FRACTION of it, at
 * least HEADROOM_MIN) for Node's heap, the garbage collector and everything
 * else the machine runs.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { builtinPreload } from '../workload/library.js';
import { workloadMemoryNeed } from '../workload/memory-need.js';
import type { Workload } from '../workload/schema.js';
import { CliError } from './errors.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const HEADROOM_FRACTION = 0.25;
const HEADROOM_MIN = 1024 * MiB;

/** The option that lets a run go on past the guard (documented in its help). */
export const FORCE_MEMORY_FLAG = '--force-memory';
export const FORCE_MEMORY_HELP = 'run even when the estimated memory is more than this machine has available (it may swap, or fail on an allocation)';

/** Bytes the kernel can give this process without swapping (MemAvailable), or os.freemem(). */
export function memoryAvailable(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // no /proc: the OS's own figure
  }
  return freemem();
}

/** What a run may use of `available`: all of it but the headroom. */
export function memoryBudget(available = memoryAvailable()): number {
  return Math.max(0, available - Math.max(HEADROOM_MIN, available * HEADROOM_FRACTION));
}

export function formatBytes(n: number): string {
  return n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.ceil(n / MiB)} MiB`;
}

/**
 * Refuses (CliError, exit 2) a run of `what` that needs `need` bytes, when
 * more than the budget and not forced; `hint` ends the line (a smaller
 * --jobs, say). `available` is for tests.
 */
export function checkMemory(what: string, need: number, opts: { force?: boolean; hint?: string; available?: number } = {}): void {
  if (opts.force === true) return;
  const available = opts.available ?? memoryAvailable();
  const budget = memoryBudget(available);
  if (need <= budget) return;
  throw new CliError(`${what} needs about ${formatBytes(need)} of memory, more than this machine has available (${formatBytes(available)}, ${formatBytes(budget)} after headroom)${opts.hint ? `; ${opts.hint}` : ''}; ${FORCE_MEMORY_FLAG} runs it anyway`, 2);
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Refuses a workload that would not fit: run under each of `eras` (registry
 * ids), `concurrent` of them at once (compare's worker threads; 1 for one
 * run), each run holding its own copy of the engine. `what` names the
 * workload as the user gave it.
 */
export function checkWorkloadMemory(what: string, w: Workload, eras: readonly string[], opts: { force?: boolean; concurrent?: number; available?: number; realPages?: boolean } = {}): void {
  if (opts.force === true) return;
  const preload = builtinPreload(w);
  const needs = eras.map((e) => {
    const n = workloadMemoryNeed(w, e, preload?.data.byteLength ?? 0);
    // The real kernel's run: its processes hold every page for real, besides the simulated mirror.
    return opts.realPages ? { ...n, bytes: n.bytes + n.pages * 4096 } : n;
  });
  const at = Math.max(1, Math.min(opts.concurrent ?? 1, needs.length));
  const sorted = needs.map((n) => n.bytes).sort((a, b) => b - a);
  const need = sorted.slice(0, at).reduce((s, b) => s + b, 0);
  const first = needs[0];
  const contents = first.fullContents + first.shortContents;
  const shape = `${count(first.pages)} pages, ${count(contents)} distinct content${contents === 1 ? '' : 's'}`;
  const available = opts.available ?? memoryAvailable();
  const budget = memoryBudget(available);
  let hint: string | undefined;
  if (at > 1) {
    // As many configurations at once as fit, the largest ones counted.
    let fit = 0;
    for (let s = 0; fit < sorted.length && s + sorted[fit] <= budget; fit++) s += sorted[fit];
    hint = fit >= 1 ? `--jobs ${fit} runs ${fit === 1 ? 'one configuration' : `${fit} configurations`} at a time within it` : undefined;
  }
  checkMemory(`${what} (${shape}${at > 1 ? `, ${at} configurations at once` : ''})`, need, { hint, available });
}

/** An allocation that failed for its size (V8's messages), which the guard turns into one line. */
export function isSizeError(e: unknown): boolean {
  // A compare worker's error comes back as a plain Error carrying the message.
  return e instanceof Error && /Invalid typed array length|Array buffer allocation failed|Invalid array length|Invalid array buffer length|Invalid string length|reaching memory limit|heap out of memory/i.test(e.message);
}

/** The line for an allocation that failed for its size. */
export function sizeErrorMessage(e: Error): string {
  return `out of memory: an allocation failed (${e.message}): the workload is larger than this machine or the engine can hold; make it smaller (fewer pages or processes, a smaller --jobs)`;
}
