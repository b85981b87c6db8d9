/**
 * `ksmctl compare WORKLOAD [--eras v1:2008,v1:2009,v2,v3:2.6.32] [--checksum
 * lookup2,lookup3,xxhash] [--passes N | --until-converged] [--json]
 * [--report FILE.html]`: one workload under every era (each configuration in
 * a worker thread), side by side. The functions here return data; the
 * program prints it.
 */
import { atomicWrite, FileError } from '../../io/files.js';
import { type Comparison, compare } from '../../compare/compare.js';
import { CompareInputError, configurations, DEFAULT_COMPARE_ERAS, parseChecksums, parseEras } from '../../compare/configs.js';
import { formatComparison } from '../../compare/format.js';
import type { ProgressBars } from '../../compare/progress.js';
import { renderReport } from '../../compare/report.js';
import { DEFAULT_MAX_PASSES, type Plan, QUIET_PASSES } from '../../compare/run.js';
import { builtinPreload } from '../../workload/library.js';
import { type Workload, WorkloadError } from '../../workload/schema.js';
import { CliError } from '../errors.js';
import { checkWorkloadMemory } from '../memory-guard.js';
import { resolveWorkload } from './workload-run.js';

export const DEFAULT_ERAS = DEFAULT_COMPARE_ERAS.join(',');

export interface CompareCliOptions {
  eras?: string;
  checksum?: string;
  passes?: number;
  untilConverged?: boolean;
  maxPasses?: number;
  jobs?: number;
  /** snapshot:FILE: the ranges registered (--register). */
  register?: string;
  /** Past the memory guard (src/cli/memory-guard.ts). */
  forceMemory?: boolean;
}

/** The plan the options ask for: --passes N, or until converged (the default). */
export function comparePlan(opts: CompareCliOptions): Plan {
  if (opts.passes !== undefined && opts.untilConverged) throw new CliError('--passes and --until-converged exclude each other');
  if (opts.passes !== undefined) return { mode: 'passes', passes: opts.passes };
  return { mode: 'until-converged', passes: opts.maxPasses ?? DEFAULT_MAX_PASSES };
}

/** Full passes the workload's own steps ask for. */
export function stepPasses(w: Workload): number {
  return w.steps.reduce((n, s) => n + (s.kind === 'fullScans' ? s.count : 0), 0);
}

/** Runs the comparison; `bars` (a terminal's progress bars) is made once the configurations are known. */
export async function runCompare(spec: string, opts: CompareCliOptions, exists: (p: string) => boolean, bars?: (labels: string[], expectedPasses: number, open: boolean) => ProgressBars): Promise<Comparison> {
  const plan = comparePlan(opts);
  let configs;
  try {
    configs = configurations(parseEras(opts.eras ?? DEFAULT_ERAS), opts.checksum === undefined ? null : parseChecksums(opts.checksum));
  } catch (e) {
    if (e instanceof CompareInputError) throw new CliError(e.message);
    throw e;
  }
  const w = resolveWorkload(spec, exists, opts);
  // Each worker holds its own engine: as many copies as configurations run at once.
  checkWorkloadMemory(spec, w, configs.map((c) => c.era), { force: opts.forceMemory, concurrent: opts.jobs ?? configs.length });
  const preload = builtinPreload(w);
  const expected = stepPasses(w) + (plan.mode === 'passes' ? plan.passes : QUIET_PASSES + 1);
  const progress = bars?.(
    configs.map((c) => c.label),
    expected,
    plan.mode === 'until-converged',
  );
  try {
    return await compare(preload ? { workload: w, preload } : { workload: w }, configs, plan, {
      jobs: opts.jobs,
      onProgress: progress ? (i, p) => progress.update(i, p) : undefined,
      onDone: progress ? (i, r) => progress.done(i, r) : undefined,
    });
  } catch (e) {
    if (e instanceof WorkloadError) throw new CliError(e.message, 2);
    throw e;
  } finally {
    progress?.stop();
  }
}

/**
 * The columns compare's text may take: everything with `--wide`, else the
 * terminal's width when stdout is one, else 80.
 */
export function outputWidth(wide: boolean, stdout: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (wide) return Infinity;
  return stdout.isTTY && stdout.columns !== undefined && stdout.columns > 0 ? stdout.columns : 80;
}

export function formatCompare(c: Comparison, opts: { json: boolean; color: boolean; width?: number }): string {
  return opts.json ? JSON.stringify(c, null, 2) : formatComparison(c, { color: opts.color, width: opts.width });
}

/**
 * Writes the HTML report whole (a temporary file renamed into place: the old
 * report stays until the new one is complete); an existing file is replaced
 * only with `force` (else exit 2), and a path that cannot be written is a
 * one-line error.
 */
export function writeReport(c: Comparison, path: string, command: string, force = false): void {
  try {
    atomicWrite(path, renderReport(c, command), { force });
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    if (e.reason === 'exists' || e.reason === 'is a directory') throw new CliError(e.message, 2);
    throw new CliError(`cannot write the report ${path}: ${e.reason}`, 1);
  }
}
