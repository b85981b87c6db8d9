/**
 * `ksmctl calibrate [--profile NAME] [--out FILE] [--workloads DIR] [--check]
 * [--json] [--wait SECONDS] [--force]`: measures ksmd's CPU costs on this
 * machine's kernel (as root, with KSM) and stores them as a CPU profile; with
 * --check, compares a profile's predictions with the real kernel on
 * workloads it was not fitted on and prints the table (exit 1 when one is
 * off by more than 25 %). src/cpu/calibrate.ts does the work.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_TOLERANCE, checkRow, type CheckRow, measure, type Measurement, profileFrom } from '../../cpu/calibrate.js';
import { COST_NAMES, DEFAULT_PROFILE, loadProfile, ProfileError, saveProfile, userProfileDir, type CpuProfile } from '../../cpu/profile.js';
import { checkWorkloads, fitWorkloads } from '../../cpu/workloads.js';
import { formatTable } from '../../format/table.js';
import { errnoReason } from '../../io/files.js';
import type { Workload } from '../../workload/schema.js';
import { CliError } from '../errors.js';
import { realRunError } from './real-run.js';
import { SYSTEM_PATHS } from '../../real/paths.js';
import { resolveWorkload } from './workload-run.js';

export interface CalibrateOptions {
  profile?: string;
  out?: string;
  workloads?: string;
  check?: boolean;
  json?: boolean;
  /** Seconds to wait for the lock and a free KSM before the first workload. */
  wait?: number;
  force?: boolean;
}

/**
 * The fitting set runs twice: a merging pass happens once per run, and the
 * CPU time of one pass on a loaded machine varies by tens of percent, so
 * each is measured twice and the fit sees both.
 */
export const FIT_ROUNDS = 2;

/** Between workloads another run may hold the lock briefly (a test, a benchmark): wait for it this long. */
const BETWEEN_RUNS_WAIT_MS = 600_000;

function workloadsIn(dir: string): Workload[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new CliError(`--workloads ${dir}: not a directory`);
    names = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--workloads ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
  if (names.length === 0) throw new CliError(`--workloads ${dir}: no .json workload files in it`);
  return names.map((f) => resolveWorkload(join(dir, f), existsSync));
}

const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1);

export function formatCheck(rows: readonly CheckRow[], profile: CpuProfile): string {
  const table = formatTable(
    ['workload', 'passes', 'measured ms/pass', 'predicted ms/pass', 'error', ''],
    rows.map((r) => [r.workload, r.passes, ms(r.measuredMsPerPass), ms(r.predictedMsPerPass), `${r.errorPercent >= 0 ? '+' : ''}${r.errorPercent.toFixed(1)} %`, r.skipped !== null ? `skipped: ${r.skipped}` : r.within ? 'ok' : 'OFF']),
    [false, true, true, true, true, false],
  );
  const ok = rows.filter((r) => r.within).length;
  return `${table}\n${ok} of ${rows.length} workloads within ${CHECK_TOLERANCE * 100} % (ksmd CPU per pass, mean over the workload's passes; profile ${profile.name}: ${profile.machine.cpu}, Linux ${profile.kernel}, ${profile.date.slice(0, 10)})`;
}

export function formatProfile(p: CpuProfile, path: string): string {
  const rows = COST_NAMES.map((k) => [k, p.costsNs[k] < 1 ? p.costsNs[k].toFixed(4) : p.costsNs[k].toFixed(1)]);
  return [
    `CPU profile ${p.name} written to ${path}: ${p.machine.cpu}, Linux ${p.kernel}, fitted on ${p.fit.workloads.length} workloads (${p.fit.residuals.length} passes), rms relative error ${(p.fit.rmsRelativeError * 100).toFixed(1)} %`,
    formatTable(['cost', 'ns'], rows, [false, true]),
    ...p.fit.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

async function measureAll(ws: readonly Workload[], opts: CalibrateOptions, err: (s: string) => void): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const [i, w] of ws.entries()) {
    let m: Measurement;
    try {
      m = await measure(w, { waitMs: i === 0 ? (opts.wait ?? 0) * 1000 : BETWEEN_RUNS_WAIT_MS, force: opts.force, note: (l) => err(`ksmctl: ${l}`) });
    } catch (e) {
      throw realRunError(e);
    }
    const cpu = m.passes.map((p) => ms(p.measuredNs / 1e6)).join(', ');
    err(`ksmctl: ${i + 1}/${ws.length} ${w.name}: ksmd CPU per pass ${cpu} ms (${(m.wallMs / 1000).toFixed(1)} s)${m.agree ? '' : `; left out: ${m.difference}`}`);
    out.push(m);
  }
  return out;
}

/** Not root, no KSM: one line before anything (the guard says the same again, and checks the rest: the lock, a busy KSM). */
function realPreflight(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new CliError('calibrate drives the real kernel, as root only (it writes /sys/kernel/mm/ksm and reads PFNs from /proc/PID/pagemap)');
  if (!existsSync(SYSTEM_PATHS.sysfs)) throw new CliError(`no ${SYSTEM_PATHS.sysfs}: this kernel was built without KSM (CONFIG_KSM)`);
}

export async function runCalibrate(opts: CalibrateOptions, out: (s: string) => void, err: (s: string) => void): Promise<void> {
  const name = opts.profile ?? DEFAULT_PROFILE;
  if (opts.check === true) {
    if (opts.out !== undefined) throw new CliError('calibrate --check writes no profile: --out is for a calibration');
    let profile: CpuProfile;
    try {
      profile = loadProfile(name);
    } catch (e) {
      if (e instanceof ProfileError) throw new CliError(e.message);
      throw e;
    }
    realPreflight();
    const ws = opts.workloads !== undefined ? workloadsIn(opts.workloads) : checkWorkloads();
    const fitted = new Set(profile.fit.workloads);
    const reused = ws.filter((w) => fitted.has(w.name));
    if (reused.length) throw new CliError(`--check runs on workloads the profile was not fitted on: ${reused.map((w) => w.name).join(', ')} ${reused.length === 1 ? 'was' : 'were'} fitted on`);
    const rows = (await measureAll(ws, opts, err)).map((m) => checkRow(profile, m));
    out(opts.json === true ? JSON.stringify({ profile: profile.name, tolerance: CHECK_TOLERANCE, rows }, null, 2) : formatCheck(rows, profile));
    if (rows.some((r) => !r.within)) throw new CliError('', 1);
    return;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new CliError(`--profile ${name}: a profile name is letters, digits, '.', '_' and '-' (--out FILE writes a file)`);
  realPreflight();
  const path = opts.out ?? join(userProfileDir(), `${name}.json`);
  if (opts.out === undefined) {
    try {
      mkdirSync(userProfileDir(), { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new CliError(`cannot make the profile directory ${userProfileDir()}: ${errnoReason(e)}`);
    }
  }
  if (existsSync(path) && opts.force !== true) throw new CliError(`${path} exists: not replaced (--force replaces it)`);
  const once = opts.workloads !== undefined ? workloadsIn(opts.workloads) : fitWorkloads();
  const ws = Array.from({ length: FIT_ROUNDS }, () => once).flat();
  const measured = await measureAll(ws, opts, err);
  if (!measured.some((m) => m.agree)) throw new CliError('no workload ran alike on the real kernel and in the simulator: nothing to fit');
  const profile = profileFrom(name, measured);
  try {
    saveProfile(path, profile, opts.force === true);
  } catch (e) {
    if (e instanceof ProfileError) throw new CliError(e.message);
    throw e;
  }
  out(opts.json === true ? JSON.stringify(profile, null, 2) : formatProfile(profile, path));
}
