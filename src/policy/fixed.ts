/**
 * Fixed knobs: no daemon at all. The knobs written at boot (the workload's
 * pagesToScan, a 20 ms sleep, the workload's "sysfs", a sweep's knobs) stay
 * as they are; the administrator starts ksmd once (`echo 1 > run`; on v1,
 * `ksmctl start N SLEEP`) at time 0 and never touches it again. The
 * baseline every daemon is compared with, and what a sweep of knob values
 * runs when no policy is named.
 */
import type { Policy, PolicyContext, PolicyEntry } from './policy.js';

export class Fixed implements Policy {
  start(ctx: PolicyContext): void {
    ctx.controls.write('run', 1);
    ctx.controls.flush();
  }
  nextWake(): null {
    return null;
  }
  wake(): void {}
}

export const FIXED: PolicyEntry = {
  name: 'fixed',
  title: 'fixed knobs: ksmd started once at time 0 with the boot knobs (and a sweep\'s), never retuned',
  source: 'the kernel\'s own knobs, set by hand',
  refuse: () => null,
  create: () => new Fixed(),
};
