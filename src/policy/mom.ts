/**
 * oVirt MOM's KSM rules: the Memory Overcommitment Manager (Adam Litke,
 * IBM 2010) running vdsm's policy file static/etc/vdsm/mom.d/03-ksm.policy
 * (the older doc/ksm.rules and mom-balloon.policy say the same), with the
 * KSM controller of mom/Controllers/KSM.py, which writes a file only when
 * the rule's value differs from what the host reported.
 *
 * Constants of the policy: ksm_pages_boost 300, ksm_pages_decay -50,
 * ksm_npages_min 64, ksm_npages_max 1250, ksm_sleep_ms_baseline 10,
 * ksm_free_percent 0.20. MOM's defaults: the host is sampled every 5 s
 * (host-monitor-interval), StatAvg is the mean of the last 10 samples
 * (sample-history-length), the policy runs every 10 s
 * (policy-engine-interval; it sleeps first).
 *
 * The rule, every 10 s:
 *
 *   threshold = mem_available * 0.20          (mem_available: MemTotal)
 *   committed = ksm_shareable                 (the guests' memory sizes)
 *   if threshold + committed < mem_available and StatAvg(mem_free) > threshold:
 *       ksm_run = 0
 *   else:
 *       ksm_run = 1
 *       ksm_sleep_millisecs = max(10, 10 * 16777216 / mem_available)   (kB)
 *       ksm_pages_to_scan = clamp(pages_to_scan + (StatAvg(mem_free) < threshold ? 300 : -50), 64, 1250)
 *
 * The controller writes, for each of run, pages_to_scan, sleep_millisecs in
 * that order, only the values that changed. What is left out: the NUMA part
 * (merge_across_nodes follows the engine's ksmMergeAcrossNodes, true by
 * default: no write while it already is 1) and the oVirt engine's
 * ksmEnabled switch (on). Unlike ksmtuned, MOM reads pages_to_scan back
 * from the kernel (Host.ksm_pages_to_scan) before adding to it.
 */
import { KB_PER_PAGE, type Policy, type PolicyContext, type PolicyEntry } from './policy.js';

export const MOM_DEFAULTS = Object.freeze({
  pagesBoost: 300,
  pagesDecay: -50,
  npagesMin: 64,
  npagesMax: 1250,
  sleepMsBaseline: 10,
  freePercent: 0.2,
  monitorIntervalS: 5,
  sampleHistory: 10,
  policyIntervalS: 10,
});


export class Mom implements Policy {
  private freeSamples: number[] = [];
  private nextSample = 0;
  private nextPolicy = 0;

  start(ctx: PolicyContext): void {
    this.nextSample = ctx.now();
    this.nextPolicy = ctx.now() + MOM_DEFAULTS.policyIntervalS * 1000;
  }

  nextWake(): number {
    return Math.min(this.nextSample, this.nextPolicy);
  }

  wake(ctx: PolicyContext): void {
    const t = ctx.now();
    if (t >= this.nextSample) {
      // HostMonitor: mem_free (kB) into the sample history.
      this.freeSamples.push(ctx.host.freePages() * KB_PER_PAGE);
      if (this.freeSamples.length > MOM_DEFAULTS.sampleHistory) this.freeSamples.shift();
      this.nextSample = t + MOM_DEFAULTS.monitorIntervalS * 1000;
    }
    if (t >= this.nextPolicy) {
      this.rule(ctx);
      this.nextPolicy = t + MOM_DEFAULTS.policyIntervalS * 1000;
    }
  }

  private rule(ctx: PolicyContext): void {
    const c = MOM_DEFAULTS;
    const memAvailable = ctx.host.ramPages * KB_PER_PAGE;
    const threshold = memAvailable * c.freePercent;
    const committed = ctx.host.guestPages() * KB_PER_PAGE;
    const avgFree = this.freeSamples.reduce((s, x) => s + x, 0) / Math.max(1, this.freeSamples.length);
    const k = ctx.controls.knobs();
    // What the host reports now (Host.ksm_*), for the controller's comparison.
    const before = { run: k.run ? 1 : 0, pages_to_scan: k.pagesToScan, sleep_millisecs: Math.round(k.sleepMicros / 1000) };
    const rule: Partial<typeof before> = {};
    if (threshold + committed < memAvailable && avgFree > threshold) {
      rule.run = 0;
    } else {
      rule.run = 1;
      rule.sleep_millisecs = Math.max(10, Math.trunc((c.sleepMsBaseline * 16777216) / memAvailable));
      let n = k.pagesToScan + (avgFree < threshold ? c.pagesBoost : c.pagesDecay);
      if (n > c.npagesMax) n = c.npagesMax;
      if (n < c.npagesMin) n = c.npagesMin;
      rule.pages_to_scan = n;
    }
    for (const key of ['run', 'pages_to_scan', 'sleep_millisecs'] as const) {
      const v = rule[key];
      if (v !== undefined && v !== before[key]) ctx.controls.write(key, v);
    }
    ctx.controls.flush();
  }
}

export const MOM: PolicyEntry = {
  name: 'mom',
  title: 'oVirt MOM ksm policy: every 10 s, KSM on when committed + 20 % > RAM or mean free < 20 %; pages_to_scan +300/-50 (64..1250)',
  source: 'vdsm static/etc/vdsm/mom.d/03-ksm.policy, mom/Controllers/KSM.py, MOM defaults (5 s samples, 10 in the mean, 10 s policy)',
  refuse: () => null,
  create: () => new Mom(),
};
