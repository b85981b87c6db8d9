/**
 * The ksmd CPU model: ksmd's CPU time is the sum over the kinds of work of
 * cost x count, plus an overhead per pass and per wake-up:
 *
 *   ns = Σ_i costsNs[i] · work[i] + costsNs.pass · passes + costsNs.wakeup · wakeups
 *
 * The work counts are a merger's work record (engine/merge/stats.ts); the
 * costs a profile (profile.ts) fitted on the real 6.18 kernel of one
 * machine. For the older eras the same costs are applied to their own
 * counts: a deliberate approximation (docs/cpu-model.md).
 */
import type { MergeWork } from '../engine/merge/stats.js';
import { type CpuProfile, PRICED_WORK } from './profile.js';

/** What the model is given: work done over an interval, the passes completed and ksmd's wake-ups (batches) in it. */
export interface WorkInterval {
  work: MergeWork;
  passes: number;
  wakeups: number;
}

/** ksmd's CPU time for the interval, ns. */
export function predictNs(profile: CpuProfile, x: WorkInterval): number {
  const c = profile.costsNs;
  let ns = c.pass * x.passes + c.wakeup * x.wakeups;
  for (const k of PRICED_WORK) ns += c[k] * x.work[k];
  return ns;
}

/** ksmd's CPU over virtual time: seconds, and the share of one core (CPU seconds per second of virtual time). */
export interface KsmdCpu {
  /** ksmd CPU seconds. */
  seconds: number;
  /** seconds / the virtual time elapsed (0.25 = a quarter of a core); null when no virtual time passed. */
  share: number | null;
  /** The profile priced with. */
  profile: string;
}

export function ksmdCpu(profile: CpuProfile, x: WorkInterval, virtualSeconds: number): KsmdCpu {
  const seconds = predictNs(profile, x) / 1e9;
  return { seconds, share: virtualSeconds > 0 ? seconds / virtualSeconds : null, profile: profile.name };
}

/** "0.153 s (2.1 % of a core)" */
export function formatKsmdCpu(c: KsmdCpu): string {
  const s = c.seconds >= 1 ? `${c.seconds.toFixed(2)} s` : `${(c.seconds * 1000).toFixed(1)} ms`;
  return c.share === null ? s : `${s} (${(c.share * 100).toFixed(c.share < 0.1 ? 2 : 1)} % of a core)`;
}
