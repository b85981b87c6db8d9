/**
 * `ksmctl verify`: the same workload on the real kernel and on a simulated
 * era, snapshot by snapshot. The era is the simulated kernel closest to the
 * running one (uname -r) unless named; it runs with the knobs the real run
 * found and used as they were (max_page_sharing, merge_across_nodes,
 * stable_node_chains_prune_millisecs), so both see the same settings.
 */
import { COUNTER_NAMES } from '../eras/adapter.js';
import { type SimulatedEraEntry, simulatedEras } from '../eras/registry.js';
import { WorkloadDriver } from '../workload/driver.js';
import { runWorkload, type Snapshot, type StepError } from '../workload/runner.js';
import type { Workload } from '../workload/schema.js';
import type { RealRunResult } from './run.js';

/** Knobs a real run leaves as it finds them: the simulator is given the same values. */
export const KNOBS_AS_FOUND = ['max_page_sharing', 'merge_across_nodes', 'stable_node_chains_prune_millisecs'] as const;

/** `6.18.44-fc-v1300` -> [6, 18]; null when it does not start with two numbers. */
export function kernelVersionOf(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m === null ? null : [Number(m[1]), Number(m[2])];
}

/** The simulated v3 kernel closest to a release (by version number); 6.18 when the release says nothing. */
export function closestEra(release: string): SimulatedEraEntry {
  const v3 = simulatedEras().filter((e) => e.family === 'v3' && e.kernel !== undefined);
  const want = kernelVersionOf(release);
  const score = (e: SimulatedEraEntry) => {
    const [a, b] = kernelVersionOf(e.kernel!) ?? [0, 0];
    // 2.6.32 is 2.6 here: the minor numbers of 2.6 and 3.x+ are not on one scale, the major is what counts.
    return want === null ? 0 : Math.abs(a * 1000 + b - (want[0] * 1000 + want[1]));
  };
  if (want === null) return v3[v3.length - 1];
  return v3.reduce((best, e) => (score(e) < score(best) ? e : best));
}

export interface Difference {
  /** 1-based snapshot number. */
  snapshot: number;
  label: string;
  step: number;
  /** The counter that differs first (in the schema's order, pages_saved last), or `snapshots` when one run has more. */
  counter: string;
  real: number | string | null;
  simulated: number | string | null;
}

export interface Verification {
  workload: string;
  kernel: string;
  era: string;
  agree: boolean;
  snapshots: number;
  difference: Difference | null;
  real: { snapshots: Snapshot[]; errors: StepError[]; ms: number; passMs: number[] };
  simulated: { snapshots: Snapshot[]; errors: StepError[]; ms: number };
  /** Knobs given to the simulator so that it runs as the real kernel did. */
  knobs: Array<[string, string]>;
}

const COMPARED = [...COUNTER_NAMES, 'pages_saved'] as const;

/** The first snapshot and counter where two runs differ, or null. */
export function firstDifference(real: Snapshot[], sim: Snapshot[]): Difference | null {
  const n = Math.min(real.length, sim.length);
  for (let i = 0; i < n; i++) {
    const a = real[i];
    const b = sim[i];
    for (const key of ['label', 'step', ...COMPARED] as const) {
      if (a[key] !== b[key]) return { snapshot: i + 1, label: a.label, step: a.step, counter: key, real: a[key], simulated: b[key] };
    }
  }
  if (real.length !== sim.length) {
    const longer = real.length > sim.length ? real[n] : sim[n];
    return { snapshot: n + 1, label: longer.label, step: longer.step, counter: 'snapshots', real: real.length, simulated: sim.length };
  }
  return null;
}

/** The simulated run with the real run's settings, and the comparison. */
export function compareWithSimulation(w: Workload, real: RealRunResult, realMs: number, era: SimulatedEraEntry, sysfs: ReadonlyArray<readonly [string, string]>): Verification {
  // The simulator's own defaults stand unless the real kernel had something else.
  const files = new Map(era.boot().files().map((f) => [f.name, f.value]));
  const asFound: Array<[string, string]> = [];
  for (const name of KNOBS_AS_FOUND) {
    const found = real.knobsFound[name];
    if (found !== undefined && files.has(name) && files.get(name) !== found) asFound.push([name, found]);
  }
  const knobs = [...asFound, ...sysfs.map(([n, v]) => [n, v] as [string, string])];
  const t0 = performance.now();
  const sim = runWorkload(w, new WorkloadDriver(era, { sysfs: knobs }));
  const simMs = performance.now() - t0;
  let difference = firstDifference(real.snapshots, sim.snapshots);
  if (difference === null && JSON.stringify(real.errors) !== JSON.stringify(sim.errors)) {
    const e = real.errors[0] ?? sim.errors[0];
    difference = { snapshot: 0, label: `step ${e.step}`, step: e.step, counter: 'errors', real: real.errors.map((x) => `${x.step}:${x.errno}`).join(' ') || null, simulated: sim.errors.map((x) => `${x.step}:${x.errno}`).join(' ') || null };
  }
  return {
    workload: w.name,
    kernel: real.kernel,
    era: era.id,
    agree: difference === null,
    snapshots: real.snapshots.length,
    difference,
    real: { snapshots: real.snapshots, errors: real.errors, ms: round(realMs), passMs: real.passMs },
    simulated: { snapshots: sim.snapshots, errors: sim.errors, ms: round(simMs) },
    knobs,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

export function formatVerification(v: Verification): string {
  const head = `${v.workload}: Linux ${v.kernel} against ${v.era}${v.knobs.length ? ` (${v.knobs.map(([n, x]) => `${n}=${x}`).join(', ')})` : ''}`;
  const times = `real kernel ${seconds(v.real.ms)}, simulator ${seconds(v.simulated.ms)}`;
  if (v.difference === null) return `${head}\nall ${v.snapshots} snapshots agree (${times})`;
  const d = v.difference;
  const where = d.counter === 'errors' ? 'the refused steps differ' : d.counter === 'snapshots' ? `the number of snapshots differs from snapshot ${d.snapshot} (${d.label}) on` : `snapshot ${d.snapshot} (${d.label}, step ${d.step}) differs first in ${d.counter}`;
  return `${head}\n${where}: ${d.counter === 'snapshots' ? `${d.real} snapshots` : String(d.real)} on the real kernel, ${d.counter === 'snapshots' ? `${d.simulated} snapshots` : String(d.simulated)} in ${v.era} (${times})`;
}
