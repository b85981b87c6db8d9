/**
 * Fitting a profile's costs: each measured pass is one equation
 *
 *   measuredNs = Σ_i cost_i · work_i + cost_pass
 *
 * solved for costs >= 0 by non-negative least squares (nnls.ts). Each row is
 * divided by its measurement, so the fit minimises relative errors (a pass
 * of 5 ms counts as much as one of 500 ms), and each column by its largest
 * value, so bytes and counts are on one scale.
 *
 * The wake-up cost is not fitted: the calibration runs one batch per pass
 * (the real driver's way of driving ksmd a pass at a time), so a wake-up
 * and a pass always come together and the data cannot tell them apart; the
 * per-pass cost holds both, and `wakeup` is 0 (said in the profile's notes).
 */
import type { MergeWork } from '../engine/merge/stats.js';
import { nnls } from './nnls.js';
import { type CostName, COST_NAMES, type CpuProfile, PRICED_WORK, type Residual } from './profile.js';
import { predictNs } from './model.js';

export interface PassSample {
  workload: string;
  /** 1-based pass number within the workload. */
  pass: number;
  work: MergeWork;
  measuredNs: number;
}

export interface Fit {
  costsNs: Record<CostName, number>;
  residuals: Residual[];
  rmsRelativeError: number;
  notes: string[];
}

const FITTED = [...PRICED_WORK, 'pass'] as const;

function features(s: PassSample): number[] {
  return FITTED.map((k) => (k === 'pass' ? 1 : s.work[k]));
}

/** The costs that best explain the samples (relative least squares, costs >= 0). */
export function fitCosts(samples: readonly PassSample[]): Fit {
  const usable = samples.filter((s) => s.measuredNs > 0);
  if (usable.length === 0) throw new Error('no pass with a measured CPU time to fit');
  const rows = usable.map((s) => features(s).map((v) => v / s.measuredNs));
  const colMax = FITTED.map((_, j) => Math.max(0, ...rows.map((r) => Math.abs(r[j]))));
  const A = rows.map((r) => r.map((v, j) => (colMax[j] > 0 ? v / colMax[j] : 0)));
  const b = usable.map(() => 1);
  const y = nnls(A, b, FITTED.length);
  const costsNs = Object.fromEntries(COST_NAMES.map((k) => [k, 0])) as Record<CostName, number>;
  FITTED.forEach((k, j) => (costsNs[k] = colMax[j] > 0 ? y[j] / colMax[j] : 0));
  const notes = ['wakeup: not separable from pass (the calibration runs one ksmd batch per pass); pass holds both, wakeup is 0'];
  const unseen = FITTED.filter((_, j) => colMax[j] === 0);
  if (unseen.length) notes.push(`no fitting pass did any ${unseen.join(', ')}: their costs are 0`);
  const profileLike = { costsNs } as CpuProfile;
  const residuals = usable.map((s) => ({ workload: s.workload, pass: s.pass, measuredNs: Math.round(s.measuredNs), predictedNs: Math.round(predictNs(profileLike, { work: s.work, passes: 1, wakeups: 1 })) }));
  const rms = Math.sqrt(residuals.reduce((a, r) => a + ((r.predictedNs - r.measuredNs) / r.measuredNs) ** 2, 0) / residuals.length);
  return { costsNs, residuals, rmsRelativeError: rms, notes };
}
