/**
 * ksmd's CPU for `ksmctl workload run --ksmd-cpu`: in a simulated era, the
 * run's work priced by the CPU model, pass by pass; on the real kernel
 * (--era real), ksmd's own CPU time read from /proc/PID/schedstat around
 * each pass. Its JSON is the `ksmd_cpu` member of the run's document.
 */
import type { MergeWork } from '../engine/merge/stats.js';
import { workDelta, zeroWork } from '../engine/merge/stats.js';
import { WorkloadDriver } from '../workload/driver.js';
import { predictNs } from './model.js';
import { type CpuProfile } from './profile.js';

export interface RunKsmdCpu {
  /** model: priced by a profile; measured: read from /proc on the real kernel. */
  source: 'model' | 'measured';
  /** The profile priced with (model), or null. */
  profile: string | null;
  /** ksmd CPU seconds over the run. */
  seconds: number;
  /** seconds over the time ksmd had (simulated: batches x sleep_millisecs of virtual time; real: the passes' wall-clock time); null when none passed. */
  share: number | null;
  /** ksmd CPU of each pass, ms. */
  per_pass_ms: number[];
}

/** A WorkloadDriver that counts ksmd's batches (its wake-ups) and keeps the work at the end of each pass. */
export class CpuCountingDriver extends WorkloadDriver {
  batches = 0;
  readonly passWork: Array<{ work: MergeWork; batches: number }> = [];

  override scan(pages: number): void {
    this.batches++;
    super.scan(pages);
  }

  /** Call at each pass snapshot. */
  passEnded(): void {
    this.passWork.push({ work: this.adapter.merger.work(), batches: this.batches });
  }

  ksmdCpu(profile: CpuProfile): RunKsmdCpu {
    const merger = this.adapter.merger;
    const perPass: number[] = [];
    let prev = { work: zeroWork(), batches: 0 };
    for (const p of this.passWork) {
      perPass.push(predictNs(profile, { work: workDelta(prev.work, p.work), passes: 1, wakeups: p.batches - prev.batches }) / 1e6);
      prev = p;
    }
    const seconds = predictNs(profile, { work: merger.work(), passes: merger.passes(), wakeups: this.batches }) / 1e9;
    const virtual = (this.batches * this.adapter.knobs().sleepMicros) / 1e6;
    return { source: 'model', profile: profile.name, seconds, share: virtual > 0 ? seconds / virtual : null, per_pass_ms: perPass.map(round3) };
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The real kernel's figures: ksmd's CPU in each pass, over the passes' wall-clock time. */
export function measuredKsmdCpu(passCpuNs: readonly number[], passMs: readonly number[]): RunKsmdCpu | null {
  if (passCpuNs.length === 0) return null;
  const seconds = passCpuNs.reduce((a, b) => a + b, 0) / 1e9;
  const wall = passMs.reduce((a, b) => a + b, 0) / 1000;
  return { source: 'measured', profile: null, seconds, share: wall > 0 ? seconds / wall : null, per_pass_ms: passCpuNs.map((n) => round3(n / 1e6)) };
}

export function formatRunKsmdCpu(c: RunKsmdCpu): string {
  const s = c.seconds >= 1 ? `${c.seconds.toFixed(2)} s` : `${(c.seconds * 1000).toFixed(1)} ms`;
  const share = c.share === null ? '' : `, ${(c.share * 100).toFixed(2)} % of a core`;
  if (c.source === 'measured') return `ksmd CPU (measured, /proc/PID/schedstat): ${s}${share === '' ? '' : `${share} over the passes' wall-clock time`}`;
  // No virtual time: the era's scan thread sleeps 0 between batches (the /dev/ksm eras unless told).
  return `ksmd CPU (model, profile ${c.profile}): ${s}${share === '' ? ' (no share of a core: no time passed between batches)' : `${share} over batches x sleep_millisecs of virtual time`}`;
}
