/**
 * A sweep: one workload's timeline under eras x knob values x policies
 * (`ksmctl compare --policies P,... --sweep KNOB=V1,V2 [--sweep ...]`), a
 * deterministic list of independent runs. Each run is a configuration of
 * timeline/run.ts and gives the same result wherever it runs, so a sweep can
 * be cut into shards (`--shard I/N`: the runs whose index is I-1 modulo N),
 * run on any number of machines, and merged back (`--merge`) into exactly
 * the result of one run of the whole sweep.
 *
 * The order of the runs: eras outermost (in --eras order), then the knob
 * values (the first --sweep outermost, its values in order), then the
 * policies (in --policies order). A sweep's id is a hash of everything that
 * decides its results: the workload's document (its timeline included), the
 * eras, knobs, policies and the run's length; parts of different sweeps are
 * never merged.
 *
 * Shard files are JSON Lines: a header line `{"type":"sweep", "sweep": ID,
 * "spec": ..., "workload": ..., "total": N, "shard": "I/N"}`, then one line
 * `{"type":"run", ...}` per run of the shard.
 */
import { ksmdCpu } from '../cpu/model.js';
import { type CpuProfile, loadProfile } from '../cpu/profile.js';
import { createHash } from 'node:crypto';
import { PAGE_SIZE } from '../engine/constants.js';
import { type EraId } from '../eras/registry.js';
import { SIZEOF_KSM_RMAP_ITEM } from '../engine/merge/mainline-618.js';
import type { TraceEntry } from '../policy/policy.js';
import type { TimelineResult, Work } from '../timeline/run.js';
import type { Preload } from '../workload/library.js';
import { stringifyWorkloadJson, type Workload, workloadToJson } from '../workload/schema.js';

export interface SweepKnob {
  name: string;
  values: string[];
}

export interface SweepSpec {
  /** The workload as given (a file, builtin:NAME, snapshot:FILE). */
  source: string;
  eras: EraId[];
  knobs: SweepKnob[];
  policies: string[];
  /** The run's end (ms of virtual time): --until, else the timeline's own. */
  untilMs: number | null;
}

export interface SweepRun {
  index: number;
  era: EraId;
  policy: string;
  knobs: Array<[string, string]>;
  /** `v3:6.18 pages_to_scan=100 ksmtuned` */
  label: string;
}

/** A bad --sweep, --shard or --merge (one line, exit 2). */
export class SweepInputError extends Error {
  override readonly name = 'SweepInputError';
}

/** `pages_to_scan=100,200` -> the knob and its values. */
export function parseSweepKnob(text: string): SweepKnob {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  if (!/^[a-z_]+$/.test(name)) throw new SweepInputError(`--sweep ${text}: expected KNOB=V1,V2,... with KNOB a /sys/kernel/mm/ksm file name (pages_to_scan, sleep_millisecs, ...)`);
  const values = eq < 0 ? [] : text.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (values.length === 0) throw new SweepInputError(`--sweep ${text}: no values (KNOB=V1,V2,...)`);
  if (values.some((v) => !/^[A-Za-z0-9_.-]+$/.test(v))) throw new SweepInputError(`--sweep ${text}: a value must be a number or a word`);
  if (new Set(values).size !== values.length) throw new SweepInputError(`--sweep ${text}: a value is given twice`);
  return { name, values };
}

/** The runs, in order (see the file's comment). */
export function sweepRuns(spec: SweepSpec): SweepRun[] {
  let combos: Array<Array<[string, string]>> = [[]];
  for (const k of spec.knobs) combos = combos.flatMap((c) => k.values.map((v) => [...c, [k.name, v] as [string, string]]));
  const runs: SweepRun[] = [];
  for (const era of spec.eras)
    for (const knobs of combos)
      for (const policy of spec.policies) {
        const label = [era, ...knobs.map(([k, v]) => `${k}=${v}`), policy].join(' ');
        runs.push({ index: runs.length, era, policy, knobs, label });
      }
  return runs;
}

/**
 * The sweep's id: 16 hex digits of a SHA-256 over what decides its results,
 * the bytes a workload preloads (from-files, a snapshot's) included, so
 * shards run on machines whose files differ are not merged.
 */
export function sweepId(spec: SweepSpec, w: Workload, preload?: Preload): string {
  const doc = stringifyWorkloadJson({ workload: workloadToJson(w), eras: spec.eras, knobs: spec.knobs, policies: spec.policies, untilMs: spec.untilMs, format: 1 });
  const h = createHash('sha256').update(doc);
  if (preload !== undefined) {
    h.update(preload.data);
    for (const f of preload.fills) h.update(`${f.proc}:${f.region}:`).update(new Uint8Array(f.pages.buffer, f.pages.byteOffset, f.pages.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** `2/3` -> shard 2 of 3 (I from 1 to N). */
export function parseShard(text: string): { i: number; n: number } {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(text);
  if (m === null) throw new SweepInputError(`--shard ${text}: expected I/N (shard I of N, I from 1 to N)`);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) throw new SweepInputError(`--shard ${text}: I must be from 1 to N, N at least 1`);
  return { i, n };
}

/** The runs of shard I of N: those whose index is I-1 modulo N (round robin, so shards take alike shares of each era). */
export function shardRuns(runs: readonly SweepRun[], shard: { i: number; n: number }): SweepRun[] {
  return runs.filter((r) => r.index % shard.n === shard.i - 1);
}

// ------------------------------------------------------------ results

/** What one run gives: the metrics of the table, the series of the charts, the calls. */
export interface RunResult {
  index: number;
  label: string;
  era: EraId;
  policy: string;
  knobs: Array<[string, string]>;
  /** Set when the run could not run on its era (one line); the metrics are then absent. */
  refused?: string;
  /** Pages saved at the end. */
  savedEnd: number;
  /** Virtual time (ms) at which pages saved first reached 50 % / 90 % of the end's, or null (nothing saved at the end). */
  t50Ms: number | null;
  t90Ms: number | null;
  cowBreaks: number;
  /** Memory in use at its highest, bytes (frames in use: a merged page once). */
  peakBytes: number;
  /**
   * 6.18's general_profit formula for every era: (pages_sharing +
   * ksm_zero_pages) x 4096 - rmap items x sizeof(struct ksm_rmap_item)
   * (64), with each era's own counters and tracking items.
   */
  profitBytes: number;
  /**
   * ksmd's CPU, when a CPU model provides it (src/cpu: priced from
   * `work.stats`, `work.passes` and `work.batches` over the run's virtual
   * time; summarize() is the place): seconds, and the share of one core.
   * Absent otherwise, and then no column is shown.
   */
  ksmdCpu?: { seconds: number; share: number | null; profile?: string };
  /** Pages saved over virtual time: [ms, pages]. */
  saved: Array<[number, number]>;
  /** Free memory over virtual time: [ms, pages]. */
  free: Array<[number, number]>;
  /** pages_to_scan as the era held it over time, and whether ksmd ran. */
  pagesToScan: Array<[number, number]>;
  run: Array<[number, boolean]>;
  work: Work;
  /** The policy's calls (and the boot's knob writes). */
  trace: TraceEntry[];
  errors: string[];
}

/** The first sample time at which `saved` reached `fraction` of the end's, or null. */
function timeTo(samples: TimelineResult['samples'], end: number, fraction: number): number | null {
  if (end <= 0) return null;
  return samples.find((s) => s.saved >= fraction * end)?.t ?? null;
}

/** The default CPU profile, read once per process (a sweep summarizes many runs). */
let profile: CpuProfile | undefined;

export function summarize(run: SweepRun, r: TimelineResult): RunResult {
  const base = { index: run.index, label: run.label, era: run.era, policy: run.policy, knobs: run.knobs };
  const s = r.samples;
  profile ??= loadProfile();
  return {
    ...base,
    ...(r.refused !== undefined ? { refused: r.refused } : { ksmdCpu: ksmdCpu(profile, { work: r.work.stats, passes: r.work.passes, wakeups: r.work.batches }, r.untilMs / 1000) }),
    savedEnd: r.end.saved,
    t50Ms: timeTo(s, r.end.saved, 0.5),
    t90Ms: timeTo(s, r.end.saved, 0.9),
    cowBreaks: r.end.cowBreaks,
    peakBytes: r.peakInUse * PAGE_SIZE,
    profitBytes: (r.end.pagesSharing + r.end.zeroPages) * PAGE_SIZE - r.end.rmapItems * SIZEOF_KSM_RMAP_ITEM,
    saved: s.map((x) => [x.t, x.saved]),
    free: s.map((x) => [x.t, x.free]),
    pagesToScan: s.map((x) => [x.t, x.pagesToScan]),
    run: s.map((x) => [x.t, x.run]),
    work: r.work,
    trace: r.trace,
    errors: r.errors,
  };
}

export interface SweepHeader {
  type: 'sweep';
  sweep: string;
  spec: SweepSpec;
  workload: { name: string; description: string; ramPages: number; untilMs: number; timeline: boolean };
  total: number;
  shard: string;
}

export interface SweepResult {
  sweep: string;
  spec: SweepSpec;
  workload: SweepHeader['workload'];
  runs: RunResult[];
}

/** A shard's JSON Lines. */
export function shardLines(header: SweepHeader, results: readonly RunResult[]): string {
  return [JSON.stringify(header), ...results.map((r) => JSON.stringify({ type: 'run', ...r }))].join('\n') + '\n';
}

/** Reads one part: its header and runs; errors name the file and line. */
export function parsePart(file: string, text: string): { header: SweepHeader; runs: RunResult[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new SweepInputError(`${file}: empty: not a sweep part (ksmctl compare --shard I/N --out FILE.jsonl writes one)`);
  const parse = (l: string, n: number): Record<string, unknown> => {
    try {
      const v = JSON.parse(l);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      return v;
    } catch (e) {
      throw new SweepInputError(`${file}:${n}: not a line of a sweep part (${e instanceof Error ? e.message : String(e)})`);
    }
  };
  const header = parse(lines[0], 1);
  if (header.type !== 'sweep' || typeof header.sweep !== 'string' || typeof header.total !== 'number') throw new SweepInputError(`${file}:1: not a sweep part: the first line is not its header`);
  const runs = lines.slice(1).map((l, k) => {
    const r = parse(l, k + 2);
    if (r.type !== 'run' || typeof r.index !== 'number') throw new SweepInputError(`${file}:${k + 2}: not a run of a sweep`);
    const { type: _type, ...rest } = r;
    return rest as unknown as RunResult;
  });
  return { header: header as unknown as SweepHeader, runs };
}

/**
 * Joins parts into one sweep: all of one sweep (the same id), every run
 * present exactly once; else one line naming what is wrong.
 */
export function mergeParts(parts: ReadonlyArray<{ file: string; header: SweepHeader; runs: RunResult[] }>): SweepResult {
  if (parts.length === 0) throw new SweepInputError('--merge names no part');
  const first = parts[0];
  for (const p of parts) {
    if (p.header.sweep !== first.header.sweep) throw new SweepInputError(`${p.file} is of sweep ${p.header.sweep}, ${first.file} of sweep ${first.header.sweep}: parts of different sweeps cannot be merged`);
  }
  const total = first.header.total;
  const byIndex = new Map<number, { run: RunResult; file: string }>();
  for (const p of parts) {
    for (const r of p.runs) {
      if (!Number.isInteger(r.index) || r.index < 0 || r.index >= total) throw new SweepInputError(`${p.file}: run ${r.index} is not in the sweep (runs 0..${total - 1})`);
      const seen = byIndex.get(r.index);
      if (seen !== undefined) throw new SweepInputError(`run ${r.index} (${r.label}) is in both ${seen.file} and ${p.file}`);
      byIndex.set(r.index, { run: r, file: p.file });
    }
  }
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) {
    const list = missing.length > 8 ? `${missing.slice(0, 8).join(', ')} ... (${missing.length} in all)` : missing.join(', ');
    throw new SweepInputError(`sweep ${first.header.sweep} has ${total} runs; missing from the parts: ${list}`);
  }
  return { sweep: first.header.sweep, spec: first.header.spec, workload: first.header.workload, runs: Array.from({ length: total }, (_, i) => byIndex.get(i)!.run) };
}
