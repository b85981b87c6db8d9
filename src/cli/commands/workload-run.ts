/**
 * `ksmctl workload run FILE [--era E] [--abi A] [--kernel K] [--sysfs N=V]
 * [--node P[:R]=N] [--json]`: run a workload file under one era (for v1, one
 * ABI; for v3, one kernel version, knobs and NUMA nodes) and print its
 * snapshots, as a table or as the schema's JSON.
 */
import { InvalidArgumentError } from 'commander';
import { COUNTER_NAMES, type EraDriver } from '../../workload/driver.js';
import { EraInputError, type EraEntry, parseEra } from '../../eras/registry.js';
import { WorkloadDriver } from '../../workload/driver.js';
import { builtinNames, builtinWorkload } from '../../workload/builtin.js';
import { applyPreload, builtinPreload } from '../../workload/library.js';
import { type RunResult, resultJson, runWorkload, type Snapshot } from '../../workload/runner.js';
import { loadWorkload, parseWorkloadText, type Workload, WorkloadError } from '../../workload/schema.js';
import { FileError, MAX_WORKLOAD_BYTES, readStdin } from '../../io/files.js';
import { CliError } from '../errors.js';
import { checkWorkloadMemory } from '../memory-guard.js';
import { formatTable } from '../../format/table.js';
import { CpuCountingDriver, formatRunKsmdCpu, measuredKsmdCpu, type RunKsmdCpu } from '../../cpu/run-cpu.js';
import type { RealRunResult } from '../../real/run.js';
import { type CpuProfile, DEFAULT_PROFILE, loadProfile, ProfileError } from '../../cpu/profile.js';
import { REGISTER_POLICIES, type RegisterPolicy } from '../../snapshot/policy.js';
import { SnapshotError } from '../../snapshot/reader.js';
import { snapshotWorkload } from '../../snapshot/workload.js';

export interface WorkloadRunOptions {
  era: string;
  /** The ABI of an era that has several (v1: 2008 or 2009); the era's default when absent. */
  abi?: string;
  /** The kernel version of an era that has several (v3); the workload's "kernel", else the era's default, when absent. */
  kernel?: string;
  /** --sysfs NAME=VALUE, in order (v3). */
  sysfs?: string[];
  /** --node PROC[:REGION]=NODE (v3). */
  node?: string[];
  /** --user UID: the workload's processes run as this user (default 0, root). */
  user?: number;
  /** --ksmd-cpu [PROFILE]: add ksmd's CPU by the model (true: the default profile). */
  ksmdCpu?: boolean | string;
  json?: boolean;
  /** Past the memory guard (src/cli/memory-guard.ts). */
  forceMemory?: boolean;
  /** The workload as the user named it, for the memory guard's line (default: its name). */
  what?: string;
  /** Progress: snapshots taken of those the steps ask for (a bar on a terminal). */
  progress?: (done: number, total: number, status?: string) => void;
}

/** Commander's parser of --user: a uid_t other than -1. */
export function parseUid(v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) > 0xfffffffe) throw new InvalidArgumentError('expected a user id from 0 to 4294967294');
  return Number(v);
}

/** Commander's collector of a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--sysfs NAME=VALUE` strings as pairs. */
export function parseSysfsOptions(list: readonly string[]): Array<[string, string]> {
  return list.map((a) => {
    const m = /^([a-z_]+)=(.*)$/s.exec(a);
    if (m === null) throw new CliError(`--sysfs needs NAME=VALUE (a /sys/kernel/mm/ksm file), got "${a}"`, 2);
    return [m[1], m[2]];
  });
}

/**
 * `--node PROC[:REGION]=NODE` strings as a map from "PROC" or "PROC:REGION";
 * with the workload, each must name one of its processes (and regions):
 * a placement of nothing is a mistyped name, not a no-op.
 */
export function parseNodeOptions(list: readonly string[], w?: Workload): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of list) {
    const m = /^(.+?)(?::([0-9]+))?=([0-9]+)$/s.exec(a);
    if (m === null || Number(m[3]) > 1023) throw new CliError(`--node needs PROC=NODE or PROC:REGION=NODE (NODE 0..1023), got "${a}"`, 2);
    if (w !== undefined) {
      const proc = w.processes.find((p) => p.name === m[1]);
      if (proc === undefined) throw new CliError(`--node ${a}: no process "${m[1]}" in ${w.name} (its processes: ${w.processes.map((p) => p.name).join(', ')})`, 2);
      if (m[2] !== undefined && Number(m[2]) >= proc.regions.length) throw new CliError(`--node ${a}: process "${m[1]}" has ${proc.regions.length} region${proc.regions.length === 1 ? '' : 's'} (0..${proc.regions.length - 1})`, 2);
    }
    out.set(m[2] === undefined ? m[1] : `${m[1]}:${Number(m[2])}`, Number(m[3]));
  }
  return out;
}

/** How a `snapshot:FILE` workload is made (--register, --capture). */
export interface SnapshotSourceOptions {
  register?: string;
}

/**
 * A workload from a file path, a built-in one named `builtin:NAME` (or just
 * NAME when no such file exists), or a snapshot's processes
 * (`snapshot:FILE`, registered as `source.register` says).
 */
export function resolveWorkload(spec: string, exists: (p: string) => boolean, source: SnapshotSourceOptions = {}): Workload {
  if (spec.startsWith('snapshot:')) return snapshotSource(spec.slice('snapshot:'.length), source);
  const name = spec.startsWith('builtin:') ? spec.slice('builtin:'.length) : !exists(spec) ? spec : undefined;
  if (name !== undefined) {
    let w: Workload | undefined;
    try {
      w = builtinWorkload(name);
    } catch (e) {
      if (e instanceof WorkloadError) throw new CliError(e.message, 2);
      throw e;
    }
    if (w !== undefined) return w;
    if (spec.startsWith('builtin:')) throw new CliError(`no built-in workload "${name}" (built-in: ${builtinNames().join(', ')})`);
  }
  try {
    return loadWorkload(spec);
  } catch (e) {
    if (e instanceof WorkloadError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** The workload JSON on standard input (`workload run -`), read up to MAX_WORKLOAD_BYTES; errors name <stdin>, in one line (exit 2). */
export function stdinWorkload(fd = 0): Workload {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(readStdin(MAX_WORKLOAD_BYTES, 'workload file', fd));
  } catch (e) {
    if (e instanceof FileError) throw new CliError(e.message, 2);
    if (e instanceof TypeError) throw new CliError('<stdin>: cannot read: not valid UTF-8', 2);
    throw e;
  }
  try {
    return parseWorkloadText(text, '<stdin>');
  } catch (e) {
    if (e instanceof WorkloadError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** `snapshot:FILE` as a workload; a bad file or --register value is one line (exit 2). */
export function snapshotSource(path: string, source: SnapshotSourceOptions): Workload {
  const register = source.register ?? 'auto';
  if (!(REGISTER_POLICIES as readonly string[]).includes(register)) throw new CliError(`--register: expected one of ${REGISTER_POLICIES.join(', ')}, got "${register}"`, 2);
  try {
    return snapshotWorkload(path, { register: register as RegisterPolicy }).workload;
  } catch (e) {
    if (e instanceof SnapshotError || e instanceof WorkloadError) throw new CliError(e.message, 2);
    throw e;
  }
}

export function workloadRun(w: Workload, opts: WorkloadRunOptions): RunResult {
  try {
    let era: EraEntry;
    try {
      era = parseEra(opts.era, { abi: opts.abi, kernel: opts.kernel });
      // A kernel named by the workload file applies to the eras that have kernels; --kernel (or an --era that names one) wins.
      if (opts.kernel === undefined && w.kernel !== undefined && era.family === 'v3' && (opts.era === undefined || opts.era === 'v3')) era = parseEra('v3', { kernel: w.kernel });
    } catch (e) {
      if (e instanceof EraInputError) throw new CliError(e.message, 2);
      throw e;
    }
    if ((opts.sysfs?.length || opts.node?.length) && era.family !== 'v3') throw new CliError(`--sysfs and --node apply to --era v3 only`);
    const sysfs = opts.sysfs?.length ? parseSysfsOptions(opts.sysfs) : undefined;
    const nodes = opts.node?.length ? parseNodeOptions(opts.node, w) : undefined;
    checkWorkloadMemory(opts.what ?? w.name, w, [era.id], { force: opts.forceMemory });
    const preload = builtinPreload(w);
    // A snapshot after every pass of a fullScans step and at every snapshot step.
    const expected = w.steps.reduce((n, s) => n + (s.kind === 'fullScans' ? s.count : s.kind === 'snapshot' ? 1 : 0), 0);
    let taken = 0;
    const progress = opts.progress;
    progress?.(0, expected, 'setting up');
    const profile = opts.ksmdCpu === undefined || opts.ksmdCpu === false ? null : cpuProfile(opts.ksmdCpu);
    const driver = profile === null ? new WorkloadDriver(era, { sysfs, nodes, uid: opts.user }) : new CpuCountingDriver(era, { sysfs, nodes, uid: opts.user });
    const onSnapshot = (s: Snapshot) => {
      if (driver instanceof CpuCountingDriver && /\.pass\d+$/.test(s.label)) driver.passEnded();
      progress?.(++taken, Math.max(expected, taken), `${s.label}: ${s.pages_saved.toLocaleString('en-US')} pages saved`);
    };
    const r: RunWithCpu = runWorkload(w, driver, {
      ...(preload ? { afterSetup: (d: EraDriver) => applyPreload(d, preload) } : {}),
      onSnapshot,
    });
    if (profile !== null && driver instanceof CpuCountingDriver) r.ksmdCpu = driver.ksmdCpu(profile);
    return r;
  } catch (e) {
    if (e instanceof WorkloadError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** A run with ksmd's CPU (--ksmd-cpu). */
export type RunWithCpu = RunResult & { ksmdCpu?: RunKsmdCpu | null };

function cpuProfile(nameOrTrue: string | true): CpuProfile {
  try {
    return loadProfile(nameOrTrue === true ? DEFAULT_PROFILE : nameOrTrue);
  } catch (e) {
    if (e instanceof ProfileError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** --era real with --ksmd-cpu: ksmd's CPU as the real kernel spent it (no model). */
export function withMeasuredCpu(r: RealRunResult, asked: boolean | string | undefined): RunWithCpu {
  if (asked === undefined || asked === false) return r;
  return { ...r, ksmdCpu: measuredKsmdCpu(r.passCpuNs, r.passMs) };
}

export function formatRun(r: RunWithCpu, json: boolean): string {
  // ksmd_cpu joins the schema's document only when asked (--ksmd-cpu): without it the document is exactly the schema's.
  if (json) return JSON.stringify(r.ksmdCpu !== undefined ? { ...resultJson(r), ksmd_cpu: r.ksmdCpu } : resultJson(r), null, 2);
  const mark = (n: string) => (r.exposed.includes(n as never) ? n : `${n}*`);
  const header = ['snapshot', 'step', ...COUNTER_NAMES.map(mark), 'pages_saved'];
  const rows = r.snapshots.map((s) => [s.label, s.step, ...COUNTER_NAMES.map((n) => s[n]), s.pages_saved]);
  const lines = [`${r.workload} under ${r.title}`, '', formatTable(header, rows, header.map((_, i) => i > 0))];
  const derived = COUNTER_NAMES.filter((n) => !r.exposed.includes(n));
  if (derived.length) lines.push('', `* not exposed by this era: derived as docs/workload-format.md defines it`);
  lines.push('', 'pages_saved is measured from memory: registered present pages minus distinct frames.');
  for (const e of r.errors) lines.push(`step ${e.step}: refused by the era with ${e.errno}`);
  if (r.ksmdCpu !== undefined) lines.push(r.ksmdCpu === null ? "ksmd CPU: not measured (ksmd's /proc/PID/schedstat could not be read)" : formatRunKsmdCpu(r.ksmdCpu));
  return lines.join('\n');
}
