/**
 * `ksmctl status --real`: one look at the machine's own KSM, read-only. A
 * sample is every file of /sys/kernel/mm/ksm this kernel has (absent files
 * are simply not there), general_profit, ksmd's CPU time, and the processes
 * with KSM activity; two samples give rates per second and ksmd's share of
 * a core between them.
 */
import { KsmSysfs, knobValueOf, numberOf } from './sysfs.js';
import type { RealPaths } from './paths.js';
import { cpuShare, findKsmd, type KsmdSample, type KsmProcess, ksmProcesses, type ProcessSort, sampleKsmd, sortProcesses } from './proc.js';
import { formatTable } from '../format/table.js';

export interface StatusSample {
  /** The kernel release (uname -r), for the header. */
  kernel: string;
  /** The sysfs directory read. */
  sysfs: string;
  /** Wall-clock time of the sample (ISO 8601). */
  time: string;
  /** Monotonic seconds, for rates. */
  at: number;
  /** Read-only files (counters) as numbers where they are numbers. */
  counters: Record<string, number | string>;
  /** Writable files (knobs), in their written form (`advisor_mode`: the bracketed choice). */
  knobs: Record<string, number | string>;
  /** general_profit in bytes (6.6+), null where the kernel lacks it. */
  general_profit: number | null;
  /** ksmd: pid, its CPU time so far, its share of one core since the previous sample (null on the first). */
  ksmd: { pid: number; cpu_seconds: number; cpu_share: number | null } | null;
  processes: KsmProcess[];
  /** Per second since the previous sample, for every numeric counter (absent on the first sample). */
  rates?: Record<string, number>;
}

/** A missing KSM directory, said in one line (exit 2). */
export class NoKsmError extends Error {
  override readonly name = 'NoKsmError';
}

export interface SampleOptions {
  paths: RealPaths;
  kernel: string;
  /** Monotonic seconds now. */
  now: number;
  /** Wall clock now. */
  date: Date;
  /** The previous sample of a series, for rates and ksmd's share. */
  previous?: { sample: StatusSample; ksmd: KsmdSample | null };
  /** A ksmd reading taken earlier (a one-shot status reads ksmd twice, a moment apart). */
  ksmdBefore?: KsmdSample | null;
  sort?: ProcessSort;
  /** Processes to leave out (our own, in tests). */
  exclude?: ReadonlySet<number>;
}

export function ksmSysfsOf(paths: RealPaths): KsmSysfs {
  const k = new KsmSysfs(paths.sysfs);
  if (!k.present()) throw new NoKsmError(`no ${paths.sysfs}: this kernel was built without KSM (CONFIG_KSM)`);
  return k;
}

/** ksmd's CPU time now, for the first of two reads. */
export function readKsmd(paths: RealPaths, now: number): KsmdSample | null {
  const pid = findKsmd(paths.proc);
  return pid === null ? null : sampleKsmd(paths.proc, pid, now);
}

export function takeSample(opts: SampleOptions): { sample: StatusSample; ksmd: KsmdSample | null } {
  const k = ksmSysfsOf(opts.paths);
  const counters: Record<string, number | string> = {};
  const knobs: Record<string, number | string> = {};
  for (const f of k.files()) {
    if (f.knob) {
      const v = knobValueOf(f.text);
      knobs[f.name] = numberOf(v) ?? v;
    } else counters[f.name] = numberOf(f.text) ?? f.text;
  }
  const before = opts.previous?.ksmd ?? opts.ksmdBefore ?? null;
  const pid = before?.pid ?? findKsmd(opts.paths.proc);
  const ksmdNow = pid === null ? null : sampleKsmd(opts.paths.proc, pid, opts.now);
  const profit = counters.general_profit;
  const sample: StatusSample = {
    kernel: opts.kernel,
    sysfs: opts.paths.sysfs,
    time: opts.date.toISOString(),
    at: opts.now,
    counters,
    knobs,
    general_profit: typeof profit === 'number' ? profit : null,
    ksmd: ksmdNow === null ? null : { pid: ksmdNow.pid, cpu_seconds: ksmdNow.cpuSeconds, cpu_share: before === null ? null : roundShare(cpuShare(before, ksmdNow)) },
    processes: sortProcesses(ksmProcesses(opts.paths.proc, opts.exclude), opts.sort ?? 'merging'),
  };
  const prev = opts.previous?.sample;
  if (prev !== undefined && opts.now > prev.at) {
    const rates: Record<string, number> = {};
    for (const [name, v] of Object.entries(counters)) {
      const was = prev.counters[name];
      if (typeof v === 'number' && typeof was === 'number') rates[name] = round((v - was) / (opts.now - prev.at), 3);
    }
    sample.rates = rates;
  }
  return { sample, ksmd: ksmdNow };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** 1536 -> "1.5 KiB"; negative profits keep their sign. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n < 0 ? '-' : ''}${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const dash = (v: unknown) => (v === null || v === undefined ? '-' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

/** The sample as text: header, counters (with rates once there are two samples), knobs, ksmd, processes. */
export function formatStatus(s: StatusSample): string {
  const lines = [`KSM of Linux ${s.kernel} (${s.sysfs}) at ${s.time}`];
  const profit = s.general_profit === null ? 'not exposed by this kernel' : `${s.general_profit} bytes (${bytes(s.general_profit)})`;
  lines.push(`general_profit: ${profit}`);
  if (s.ksmd === null) lines.push('ksmd: not found in /proc');
  else {
    const share = s.ksmd.cpu_share === null ? '' : `, ${(s.ksmd.cpu_share * 100).toFixed(1)}% of one core`;
    lines.push(`ksmd: pid ${s.ksmd.pid}, ${s.ksmd.cpu_seconds.toFixed(2)} s of CPU so far${share}`);
  }
  lines.push('');
  const rates = s.rates;
  const counterRows = Object.entries(s.counters).map(([n, v]) => (rates ? [n, v, rates[n] === undefined ? '-' : rates[n].toFixed(1)] : [n, v]));
  lines.push(formatTable(rates ? ['counter', 'value', 'per second'] : ['counter', 'value'], counterRows, [false, true, true]));
  lines.push('');
  lines.push(formatTable(['knob', 'value'], Object.entries(s.knobs), [false, true]));
  lines.push('');
  if (s.processes.length === 0) lines.push('no process with KSM activity (that this user can read)');
  else {
    lines.push(`${s.processes.length} process${s.processes.length === 1 ? '' : 'es'} with KSM activity:`);
    const rows = s.processes.map((p) => [p.pid, p.name, p.merging_pages, p.profit === null ? '-' : bytes(p.profit), dash(p.merge_any), dash(p.mergeable), dash(p.rmap_items), dash(p.zero_pages)]);
    lines.push(formatTable(['pid', 'name', 'merging pages', 'profit', 'merge-any', 'mergeable', 'rmap_items', 'zero pages'], rows, [true, false, true, true, false, false, true, true]));
  }
  return lines.join('\n');
}

/** The sample as the JSON of --json (the monotonic time stays out: it means nothing to a reader). */
export function statusJson(s: StatusSample): unknown {
  const { at: _at, ...rest } = s;
  return rest;
}

const roundShare = (x: number | null) => (x === null ? null : round(x, 4));
