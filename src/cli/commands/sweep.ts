/**
 * `ksmctl compare WORKLOAD --policies P,... --sweep KNOB=V1,V2 [--sweep ...]
 * [--eras ...] [--until SECONDS] [--jobs N] [--list | --shard I/N --out
 * FILE.jsonl] [--json] [--report FILE.html]` and `ksmctl compare --merge
 * PARTS... [--json] [--report FILE.html]`: tuning policies and knob values
 * on a workload's timeline (compare/sweep.ts). The functions here return
 * data; program.ts prints it.
 */
import { existsSync } from 'node:fs';
import { parseEras } from '../../compare/configs.js';
import { formatRunList, formatSweep } from '../../compare/sweep-format.js';
import { sweepProgressBars } from '../../compare/sweep-progress.js';
import { renderSweepReport } from '../../compare/sweep-report.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import type { Io } from '../io.js';
import { CompareInputError } from '../../compare/configs.js';
import { type RunResult, mergeParts, parsePart, parseShard, parseSweepKnob, shardLines, shardRuns, type SweepHeader, SweepInputError, type SweepResult, type SweepRun, sweepId, sweepRuns, type SweepSpec } from '../../compare/sweep.js';
import { runSweepRuns } from '../../compare/sweep-run.js';
import { POLICY_NAMES, PolicyInputError, parsePolicies } from '../../policy/registry.js';
import { DEFAULT_UNTIL_MS } from '../../timeline/run.js';
import { FileError, MAX_WORKLOAD_BYTES, readRegularFile } from '../../io/files.js';
import { MAX_UNTIL_MS } from '../../workload/timeline.js';
import { builtinPreload } from '../../workload/library.js';
import { totalPages, type Workload } from '../../workload/schema.js';
import { CliError } from '../errors.js';
import { resolveWorkload } from './workload-run.js';

export interface SweepCliOptions {
  eras?: string;
  policies?: string;
  sweep?: string[];
  until?: number;
  jobs?: number;
  shard?: string;
  register?: string;
}

/** Every era by default: a sweep compares tunings, on every kernel that had them. */
export const DEFAULT_SWEEP_ERAS = 'v1:2008,v1:2009,v2,v3:2.6.32,v3:3.9,v3:6.18';

function oneLine<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SweepInputError || e instanceof PolicyInputError || e instanceof CompareInputError) throw new CliError(e.message, 2);
    throw e;
  }
}

export interface PlannedSweep {
  spec: SweepSpec;
  workload: Workload;
  id: string;
  runs: SweepRun[];
  header: (shard: string) => SweepHeader;
}

/** The sweep the options describe (nothing runs). */
export function planSweep(source: string, opts: SweepCliOptions, exists: (p: string) => boolean, erasGiven: boolean): PlannedSweep {
  const spec: SweepSpec = oneLine(() => ({
    source,
    eras: parseEras(erasGiven && opts.eras !== undefined ? opts.eras : DEFAULT_SWEEP_ERAS),
    knobs: (opts.sweep ?? []).map(parseSweepKnob),
    policies: parsePolicies(opts.policies ?? 'fixed').map((p) => p.name),
    untilMs: opts.until === undefined ? null : opts.until * 1000,
  }));
  const names = spec.knobs.map((k) => k.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new CliError(`--sweep ${twice} given twice`, 2);
  if (spec.untilMs !== null && (spec.untilMs < 1000 || spec.untilMs > MAX_UNTIL_MS)) throw new CliError(`--until must be from 1 to ${MAX_UNTIL_MS / 1000} seconds`, 2);
  const workload = resolveWorkload(source, exists, opts);
  const id = sweepId(spec, workload, builtinPreload(workload));
  const runs = sweepRuns(spec);
  const untilMs = spec.untilMs ?? workload.timeline?.until ?? DEFAULT_UNTIL_MS;
  return {
    spec,
    workload,
    id,
    runs,
    header: (shard) => ({
      type: 'sweep',
      sweep: id,
      spec,
      workload: { name: workload.name, description: workload.description, ramPages: workload.host?.ramPages ?? totalPages(workload), untilMs, timeline: workload.timeline !== undefined },
      total: runs.length,
      shard,
    }),
  };
}

export interface SweepProgress {
  start(run: SweepRun): void;
  update(run: SweepRun, fraction: number, saved: number): void;
  done(run: SweepRun, r: RunResult): void;
  stop(): void;
}

/** Runs the planned sweep (or one shard of it): the results of its runs, in index order. */
export async function runPlannedSweep(p: PlannedSweep, opts: SweepCliOptions, progress?: SweepProgress): Promise<{ shard: string; results: RunResult[] }> {
  const shard = opts.shard === undefined ? { i: 1, n: 1 } : oneLine(() => parseShard(opts.shard!));
  const runs = shardRuns(p.runs, shard);
  const preload = builtinPreload(p.workload);
  try {
    const results = await runSweepRuns(preload ? { workload: p.workload, preload } : { workload: p.workload }, runs, p.spec.untilMs ?? (p.workload.timeline ? null : DEFAULT_UNTIL_MS), {
      jobs: opts.jobs,
      onStart: progress?.start,
      onProgress: progress?.update,
      onDone: progress?.done,
    });
    return { shard: `${shard.i}/${shard.n}`, results };
  } finally {
    progress?.stop();
  }
}

/** The whole sweep's result from one run of all of it. */
export function sweepResult(p: PlannedSweep, results: RunResult[]): SweepResult {
  const h = p.header('1/1');
  return mergeParts([{ file: '(this run)', header: h, runs: results }]);
}

export function shardText(p: PlannedSweep, shard: string, results: RunResult[]): string {
  return shardLines(p.header(shard), results);
}

/** `--merge PARTS...`: the parts read and joined; any problem is one line (exit 2). */
export function mergeFiles(files: readonly string[]): SweepResult {
  const parts = files.map((file) => {
    let text: string;
    try {
      text = readRegularFile(file, 64 * MAX_WORKLOAD_BYTES, 'sweep part').toString('utf8');
    } catch (e) {
      if (e instanceof FileError) throw new CliError(e.message, 2);
      throw e;
    }
    return { file, ...oneLine(() => parsePart(file, text)) };
  });
  return oneLine(() => mergeParts(parts));
}

export const POLICIES_HELP = `comma-separated tuning policies to run on the workload's timeline: ${POLICY_NAMES.join(', ')} (default with --sweep: fixed)`;

export interface SweepCommandOptions extends SweepCliOptions {
  checksum?: string;
  passes?: number;
  untilConverged?: boolean;
  list?: boolean;
  out?: string;
  merge?: string[];
  json?: boolean;
  report?: string;
  force?: boolean;
}

/** The sweep side of `ksmctl compare`: --list, a run of the whole sweep or of a shard, --merge. */
export async function sweepCommand(source: string | undefined, opts: SweepCommandOptions, erasGiven: boolean, io: Io): Promise<void> {
  const command = ['ksmctl', ...process.argv.slice(2)].join(' ');
  const show = (s: SweepResult) => {
    if (opts.report !== undefined) {
      writeOutputFile(opts.report, renderSweepReport(s, command), opts.force);
      io.err(`HTML report: ${opts.report}`);
    }
    io.out(opts.json ? JSON.stringify(s, null, 2) : formatSweep(s));
  };
  for (const [o, given] of [['checksum', opts.checksum !== undefined], ['passes', opts.passes !== undefined], ['until-converged', opts.untilConverged === true]] as const) {
    if (given) throw new CliError(`--${o} is for comparisons of eras over passes; a sweep runs the timeline (--until SECONDS)`, 2);
  }
  if (opts.merge !== undefined) {
    if (source !== undefined) throw new CliError(`--merge joins parts already run: give no WORKLOAD (got ${source})`, 2);
    for (const o of ['policies', 'sweep', 'shard', 'out', 'list', 'until'] as const) if (opts[o] !== undefined) throw new CliError(`--merge takes the sweep from its parts: --${o} does not go with it`, 2);
    show(mergeFiles(opts.merge));
    return;
  }
  if (source === undefined) throw new CliError("missing required argument 'workload'", 2);
  const p = planSweep(source, opts, existsSync, erasGiven);
  if (opts.list) {
    io.out(formatRunList(p.runs));
    io.err(`sweep ${p.id}: ${p.runs.length} runs`);
    return;
  }
  if (opts.out !== undefined) checkOutputPath(opts.out, opts.force);
  if (opts.shard !== undefined && opts.out === undefined && (opts.json || opts.report !== undefined)) throw new CliError('--shard writes a part of the sweep: give --out FILE.jsonl (then --merge the parts for the table, --json or --report)', 2);
  // Progress goes to stderr: shown whenever stderr is a terminal, even with stdout redirected.
  const tty = process.stderr.isTTY === true;
  const { shard, results } = await runPlannedSweep(p, opts, tty ? sweepProgressBars(opts.shard === undefined ? p.runs.length : shardRuns(p.runs, parseShard(opts.shard)).length, process.stderr) : undefined);
  if (opts.out !== undefined) {
    writeOutputFile(opts.out, shardText(p, shard, results), opts.force);
    io.err(`sweep ${p.id}, shard ${shard}: ${results.length} run${results.length === 1 ? '' : 's'} written to ${opts.out}`);
    if (opts.shard !== undefined) return;
  } else if (opts.shard !== undefined) {
    io.out(shardText(p, shard, results).trimEnd());
    return;
  }
  show(sweepResult(p, results));
}
