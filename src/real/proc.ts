/**
 * What /proc tells about KSM: ksmd's own CPU time, and each process's KSM
 * activity. Each process has /proc/PID/ksm_merging_pages since Linux 5.19
 * and /proc/PID/ksm_stat since 6.1, which grew fields over the releases
 * (ksm_rmap_items; then ksm_merging_pages, ksm_process_profit,
 * ksm_merge_any, ksm_mergeable, ksm_zero_pages): every field is read by its
 * name, and a field this kernel lacks is null. Processes of other users are
 * only readable by root (ksm_stat is 0400): unprivileged, the list holds the
 * user's own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * USER_HZ, the unit of utime and stime in /proc/PID/stat: 100 on every
 * architecture Linux builds today (it is ABI, not the kernel's HZ).
 */
export const USER_HZ = 100;

/** One process with KSM activity. */
export interface KsmProcess {
  pid: number;
  /** /proc/PID/comm. */
  name: string;
  /** Pages of the process mapped to KSM pages (ksm_merging_pages). */
  merging_pages: number;
  /** ksm_process_profit in bytes (6.6+): pages merged x 4 KiB minus its rmap_items; null where the kernel lacks it. */
  profit: number | null;
  /** prctl(PR_SET_MEMORY_MERGE) set on the process (6.4+), null where the kernel lacks the field. */
  merge_any: boolean | null;
  /** Any of its memory is registered (MADV_MERGEABLE or merge-any; 6.8+), null where the kernel lacks the field. */
  mergeable: boolean | null;
  /** rmap_items ksmd keeps for it (6.1+). */
  rmap_items: number | null;
  /** Its pages merged with the zero page under use_zero_pages (6.10+). */
  zero_pages: number | null;
}

/** ksmd's accumulated CPU time at one moment. */
export interface KsmdSample {
  pid: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
  /** The monotonic clock at the read, seconds. */
  at: number;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function pids(proc: string): number[] {
  let names: string[];
  try {
    names = readdirSync(proc);
  } catch {
    return [];
  }
  return names.filter((n) => /^[0-9]+$/.test(n)).map(Number).sort((a, b) => a - b);
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses): index 0 is field 3, state. */
export function statFields(text: string): string[] {
  const close = text.lastIndexOf(')');
  return text.slice(close + 2).trim().split(/\s+/);
}

/** The pid of the ksmd kernel thread (comm "ksmd"), or null when there is none (no CONFIG_KSM, or not visible). */
export function findKsmd(proc: string): number | null {
  for (const pid of pids(proc)) {
    if (readText(join(proc, `${pid}`, 'comm'))?.trim() === 'ksmd') return pid;
  }
  return null;
}

/** ksmd's utime + stime now (null when it cannot be read). */
export function sampleKsmd(proc: string, pid: number, now: number): KsmdSample | null {
  const text = readText(join(proc, `${pid}`, 'stat'));
  if (text === null) return null;
  const f = statFields(text);
  // utime and stime are fields 14 and 15 of proc(5).
  const ticks = Number(f[11]) + Number(f[12]);
  if (!Number.isFinite(ticks)) return null;
  return { pid, cpuSeconds: ticks / USER_HZ, at: now };
}

/**
 * A thread's time on a CPU in nanoseconds (the first field of
 * /proc/PID/schedstat, kept by the scheduler at ns resolution: far finer
 * than the clock ticks of utime + stime), or null when it cannot be read.
 */
export function readRunNs(proc: string, pid: number): number | null {
  const text = readText(join(proc, `${pid}`, 'schedstat'));
  const ns = text === null ? NaN : Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(ns) ? ns : null;
}

/** The state letter of /proc/PID/stat (R running, S sleeping, ...), or null. */
export function readState(proc: string, pid: number): string | null {
  const text = readText(join(proc, `${pid}`, 'stat'));
  return text === null ? null : (statFields(text)[0] ?? null);
}

/** ksmd's share of one core between two samples (0.25 = a quarter of a core). */
export function cpuShare(a: KsmdSample, b: KsmdSample): number | null {
  const dt = b.at - a.at;
  if (a.pid !== b.pid || dt <= 0) return null;
  return Math.max(0, (b.cpuSeconds - a.cpuSeconds) / dt);
}

/** /proc/PID/ksm_stat as name -> text (`ksm_merge_any: no` and `ksm_rmap_items 3` both). */
export function parseKsmStat(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+):?\s+(.*)$/.exec(line.trim());
    if (m !== null) out.set(m[1], m[2].trim());
  }
  return out;
}

const num = (v: string | undefined): number | null => (v !== undefined && /^-?[0-9]+$/.test(v) ? Number(v) : null);
const yes = (v: string | undefined): boolean | null => (v === undefined ? null : v === 'yes');

/** One process's KSM figures, or null when it has none to show (or cannot be read). */
export function readKsmProcess(proc: string, pid: number): KsmProcess | null {
  const dir = join(proc, `${pid}`);
  const stat = readText(join(dir, 'ksm_stat'));
  let fields: Map<string, string>;
  if (stat !== null) fields = parseKsmStat(stat);
  else {
    // 5.19 and 6.0: only the merging pages, in a file of their own.
    const merging = readText(join(dir, 'ksm_merging_pages'));
    if (merging === null) return null;
    fields = new Map([['ksm_merging_pages', merging.trim()]]);
  }
  let merging = num(fields.get('ksm_merging_pages'));
  if (merging === null) merging = num(readText(join(dir, 'ksm_merging_pages'))?.trim());
  const p: KsmProcess = {
    pid,
    name: readText(join(dir, 'comm'))?.trim() ?? '?',
    merging_pages: merging ?? 0,
    profit: num(fields.get('ksm_process_profit')),
    merge_any: yes(fields.get('ksm_merge_any')),
    mergeable: yes(fields.get('ksm_mergeable')),
    rmap_items: num(fields.get('ksm_rmap_items')),
    zero_pages: num(fields.get('ksm_zero_pages')),
  };
  const active = p.merging_pages > 0 || (p.rmap_items ?? 0) > 0 || (p.zero_pages ?? 0) > 0 || p.merge_any === true || p.mergeable === true;
  return active ? p : null;
}

/** Every readable process with KSM activity, in pid order. */
export function ksmProcesses(proc: string, exclude: ReadonlySet<number> = new Set()): KsmProcess[] {
  const out: KsmProcess[] = [];
  for (const pid of pids(proc)) {
    if (exclude.has(pid)) continue;
    const p = readKsmProcess(proc, pid);
    if (p !== null) out.push(p);
  }
  return out;
}

export const PROCESS_SORTS = ['merging', 'profit', 'pid', 'name'] as const;
export type ProcessSort = (typeof PROCESS_SORTS)[number];

/** Sorted as top sorts: the largest first (merging pages, profit), or by pid or name ascending. */
export function sortProcesses(list: KsmProcess[], by: ProcessSort): KsmProcess[] {
  const key: Record<ProcessSort, (a: KsmProcess, b: KsmProcess) => number> = {
    merging: (a, b) => b.merging_pages - a.merging_pages,
    profit: (a, b) => (b.profit ?? Number.MIN_SAFE_INTEGER) - (a.profit ?? Number.MIN_SAFE_INTEGER),
    pid: () => 0,
    name: (a, b) => a.name.localeCompare(b.name),
  };
  return [...list].sort((a, b) => key[by](a, b) || a.pid - b.pid);
}
