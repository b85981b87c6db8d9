/**
 * Calibration against the machine's own kernel: each workload runs on the
 * real KSM through the real-kernel era (src/real: the guard saves and
 * restores every knob, holds the lock, refuses a busy KSM; the driver
 * drives ksmd one whole pass at a time and reads ksmd's CPU time from
 * /proc/PID/schedstat around each pass), then on the simulated 6.18 era
 * with the same knobs, which gives the work of each pass. The fit
 * (fit.ts) turns the pairs into costs; the check compares the model's
 * prediction with the real kernel on workloads the fit never saw.
 *
 * A workload whose simulated snapshots differ from the real ones (the
 * simulator would be pricing other work than the kernel did) is reported
 * and left out.
 */
import { cpus, release, totalmem, arch } from 'node:os';
import { eraById } from '../eras/registry.js';
import { type MergeWork, workDelta, zeroWork } from '../engine/merge/stats.js';
import { BusyError } from '../real/guard.js';
import { runReal, type RealRunResult } from '../real/run.js';
import { firstDifference, KNOBS_AS_FOUND } from '../real/verify.js';
import { WorkloadDriver } from '../workload/driver.js';
import { runWorkload } from '../workload/runner.js';
import type { Workload } from '../workload/schema.js';
import { fitCosts, type PassSample } from './fit.js';
import { predictNs } from './model.js';
import { type CpuProfile, PROFILE_FORMAT } from './profile.js';

/** The simulated era the work is counted in: the kernel the profile is measured on. */
export const CALIBRATION_ERA = 'v3:6.18';

export interface Measurement {
  workload: string;
  description: string;
  /** Each pass: ksmd's CPU on the real kernel and the simulated work. */
  passes: PassSample[];
  /** The simulated snapshots equal the real ones. */
  agree: boolean;
  /** Where they differ first, when they do. */
  difference: string | null;
  /** Wall-clock ms of the real run. */
  wallMs: number;
}

export interface MeasureOptions {
  /** Wait up to this long for the lock and a free KSM, ms. */
  waitMs: number;
  force?: boolean;
  note?: (line: string) => void;
}

/** Runs on the real kernel, retrying while another run holds the lock (BusyError) until waitMs has passed. */
async function realRun(w: Workload, opts: MeasureOptions): Promise<RealRunResult> {
  return runReal(w, { waitMs: opts.waitMs, force: opts.force, note: opts.note, passTimeoutMs: 120_000, processTimeoutMs: 60_000 });
}

/** The simulated run's work at the end of each pass, with the knobs the real run had. */
export function simulatedPasses(w: Workload, knobsFound: Record<string, string>): { works: MergeWork[]; snapshots: ReturnType<typeof runWorkload>['snapshots'] } {
  const era = eraById(CALIBRATION_ERA);
  if (era.boot === undefined) throw new Error(`${CALIBRATION_ERA} is not a simulated era`);
  const files = new Map(era.boot().files().map((f) => [f.name, f.value]));
  const knobs: Array<[string, string]> = [];
  for (const name of KNOBS_AS_FOUND) {
    const found = knobsFound[name];
    if (found !== undefined && files.has(name) && files.get(name) !== found) knobs.push([name, found]);
  }
  const driver = new WorkloadDriver(era, { sysfs: knobs });
  const works: MergeWork[] = [];
  const run = runWorkload(w, driver, {
    onSnapshot: (s) => {
      if (/\.pass\d+$/.test(s.label)) works.push(driver.adapter.merger.work());
    },
  });
  return { works, snapshots: run.snapshots };
}

/** One workload on the real kernel and in the simulator, pass by pass. */
export async function measure(w: Workload, opts: MeasureOptions): Promise<Measurement> {
  const t0 = performance.now();
  const real = await realRun(w, opts);
  const wallMs = performance.now() - t0;
  const sim = simulatedPasses(w, real.knobsFound);
  const d = firstDifference(real.snapshots, sim.snapshots);
  const difference = d === null ? null : `snapshot ${d.snapshot} (${d.label}) ${d.counter}: ${d.real} on the real kernel, ${d.simulated} in ${CALIBRATION_ERA}`;
  const passes: PassSample[] = [];
  if (real.passCpuNs.length === sim.works.length) {
    let prev = zeroWork();
    sim.works.forEach((work, i) => {
      passes.push({ workload: w.name, pass: i + 1, work: workDelta(prev, work), measuredNs: real.passCpuNs[i] });
      prev = work;
    });
  }
  const agree = d === null && passes.length === sim.works.length && passes.length > 0;
  return { workload: w.name, description: w.description ?? '', passes, agree, difference: difference ?? (agree ? null : `ksmd's CPU was read for ${real.passCpuNs.length} of ${sim.works.length} passes`), wallMs };
}

export function machineDescription(): CpuProfile['machine'] {
  return { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), arch: arch() };
}

/** Fits a profile on measured workloads (the agreeing ones). */
export function profileFrom(name: string, ms: readonly Measurement[], date = new Date()): CpuProfile {
  const used = ms.filter((m) => m.agree);
  const fit = fitCosts(used.flatMap((m) => m.passes));
  const notes = [...fit.notes, ...ms.filter((m) => !m.agree).map((m) => `${m.workload} left out: ${m.difference}`)];
  return {
    format: PROFILE_FORMAT,
    name,
    costsNs: fit.costsNs,
    machine: machineDescription(),
    kernel: release(),
    era: CALIBRATION_ERA,
    date: date.toISOString(),
    fit: { workloads: [...new Set(used.map((m) => m.workload))], residuals: fit.residuals, rmsRelativeError: fit.rmsRelativeError, notes },
  };
}

/** One line of the check: a workload's mean ksmd CPU per pass, measured and predicted. */
export interface CheckRow {
  workload: string;
  passes: number;
  measuredMsPerPass: number;
  predictedMsPerPass: number;
  /** (predicted - measured) / measured, percent. */
  errorPercent: number;
  within: boolean;
  /** Why the row is not a comparison (the simulator and the kernel disagreed), or null. */
  skipped: string | null;
}

/** The check's tolerance: predicted ksmd CPU per pass within 25 % of the real kernel's. */
export const CHECK_TOLERANCE = 0.25;

export function checkRow(profile: CpuProfile, m: Measurement): CheckRow {
  const n = m.passes.length;
  const measured = m.passes.reduce((a, p) => a + p.measuredNs, 0) / Math.max(1, n) / 1e6;
  const predicted = m.passes.reduce((a, p) => a + predictNs(profile, { work: p.work, passes: 1, wakeups: 1 }), 0) / Math.max(1, n) / 1e6;
  const err = measured > 0 ? (predicted - measured) / measured : 0;
  return {
    workload: m.workload,
    passes: n,
    measuredMsPerPass: measured,
    predictedMsPerPass: predicted,
    errorPercent: err * 100,
    within: m.agree && Math.abs(err) <= CHECK_TOLERANCE,
    skipped: m.agree ? null : m.difference,
  };
}

export { BusyError };
