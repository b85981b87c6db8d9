/**
 * The 6.x scan-time advisor (Stefan Roesch, Linux 6.7; as 6.18 has it in
 * mm/ksm.c): not a daemon but a kernel feature switched on from user space.
 * The engine's v3:6.18 merger already runs it in-kernel (scan_time_advisor
 * in engine/merge/mainline-618.ts: after every full scan pages_to_scan
 * becomes pages_to_scan x scan_time / target_scan_time, smoothed by a
 * moving average, bounded by advisor_max_cpu and advisor_min/max_pages_to_scan),
 * so the policy is what an administrator writes once at time 0:
 *
 *   echo scan-time > advisor_mode         (set_advisor_defaults: pages_to_scan = advisor_min_pages_to_scan, 500)
 *   echo 200 > advisor_target_scan_time   (the kernel's default, seconds per full scan)
 *   echo 1 > run
 *
 * The CPU bounds stay at the kernel's defaults (advisor_max_cpu 70 %,
 * advisor_min_pages_to_scan 500, advisor_max_pages_to_scan 30000). Eras
 * before 6.7 have no advisor_mode: refused there.
 */
import { lacks, type Policy, type PolicyContext, type PolicyEntry } from './policy.js';

/** ksm_advisor_target_scan_time's default (seconds). */
export const ADVISOR_TARGET_SCAN_TIME_S = 200;

export class Advisor implements Policy {
  constructor(readonly targetScanTimeS = ADVISOR_TARGET_SCAN_TIME_S) {}
  start(ctx: PolicyContext): void {
    const k = ctx.controls;
    k.write('advisor_mode', 'scan-time');
    k.write('advisor_target_scan_time', this.targetScanTimeS);
    k.write('run', 1);
    k.flush();
  }
  nextWake(): null {
    return null;
  }
  wake(): void {}
}

export const ADVISOR: PolicyEntry = {
  name: 'advisor',
  title: 'the 6.x scan-time advisor: advisor_mode=scan-time, 200 s per full scan, the kernel tunes pages_to_scan itself',
  source: 'mm/ksm.c scan_time_advisor (Linux 6.7+, as in 6.18), its sysfs defaults',
  refuse: (a) => lacks(a, ['advisor_mode', 'advisor_target_scan_time'], 'advisor', 'the scan-time advisor appeared in Linux 6.7'),
  create: () => new Advisor(),
};
