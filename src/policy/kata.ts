/**
 * Kata Containers' ksm-throttler (github.com/kata-containers/ksm-throttler,
 * ksm.go and throttler.go, Intel 2017; the Clear Containers proxy did the
 * same): KSM aggressive when a new VM starts, then slower and slower.
 *
 * Settings (ksmSettings: pages per scan = AnonPages / factor, the sleep in
 * ms):
 *   aggressive   AnonPages / 10,  sleep_millisecs 1
 *   standard     AnonPages / 100, sleep_millisecs 10
 *   slow         AnonPages / 500, sleep_millisecs 100
 * Timers (ksmThrottleIntervals, mode auto, the default): a kick (a new VM;
 * the virtcontainers trigger) tunes aggressive and arms 30 s; then standard
 * for 120 s, then slow for 120 s, then the initial settings (read from sysfs
 * when the throttler started) are written back and it waits for the next
 * kick. At start it only arms the aggressive entry's timer (120 s) without
 * tuning anything, as throttle() does.
 *
 * tune(): run 0, pages_to_scan, sleep_millisecs, run 1, in that order;
 * restoreSysFS(): pages_to_scan, sleep_millisecs, run. AnonPages is the
 * machine's anonymous memory, a merged page once (here: frames in use).
 * The throttler writes sysfs files only: on v1 (no sysfs) it is refused.
 */
import { lacks, type Policy, type PolicyContext, type PolicyEntry } from './policy.js';

type Mode = 'aggressive' | 'standard' | 'slow' | 'initial';

export const KATA_SETTINGS: Readonly<Record<Exclude<Mode, 'initial'>, { factor: number; sleepMs: number }>> = Object.freeze({
  aggressive: { factor: 10, sleepMs: 1 },
  standard: { factor: 100, sleepMs: 10 },
  slow: { factor: 500, sleepMs: 100 },
});

/** ksmAggressiveInterval, ksmStandardInterval, ksmSlowInterval. */
export const KATA_INTERVALS_MS = Object.freeze({ aggressive: 30_000, standard: 120_000, slow: 120_000 });

/** After each mode, the next one and how long the timer then runs (0: no timer). */
const NEXT: Record<Mode, { next: Mode; interval: number }> = {
  aggressive: { next: 'standard', interval: KATA_INTERVALS_MS.standard },
  standard: { next: 'slow', interval: KATA_INTERVALS_MS.slow },
  slow: { next: 'initial', interval: 0 },
  initial: { next: 'initial', interval: 0 },
};

export class KataThrottler implements Policy {
  mode: Mode = 'aggressive';
  private timer: number | null = null;
  private initial: { pages: string; sleep: string; run: string } = { pages: '', sleep: '', run: '' };

  start(ctx: PolicyContext): void {
    const read = (f: string) => {
      const v = ctx.controls.adapter.readSysfs(f);
      return typeof v === 'string' ? v.trim() : '';
    };
    this.initial = { pages: read('pages_to_scan'), sleep: read('sleep_millisecs'), run: read('run') };
    // throttle(): currentKnob = aggressive, timer = ksmThrottleIntervals[aggressive].interval.
    this.mode = 'aggressive';
    this.timer = ctx.now() + NEXT.aggressive.interval;
  }

  nextWake(): number | null {
    return this.timer;
  }

  private tune(ctx: PolicyContext, mode: Exclude<Mode, 'initial'>): void {
    const s = KATA_SETTINGS[mode];
    const k = ctx.controls;
    k.write('run', 0);
    k.write('pages_to_scan', Math.trunc(ctx.host.inUsePages() / s.factor));
    k.write('sleep_millisecs', s.sleepMs);
    k.write('run', 1);
    k.flush();
  }

  wake(ctx: PolicyContext): void {
    // The throttle timer fired.
    if (this.mode === 'slow') {
      // From slow: restoreSysFS, and no timer until the next kick.
      const k = ctx.controls;
      k.write('pages_to_scan', this.initial.pages);
      k.write('sleep_millisecs', this.initial.sleep);
      k.write('run', this.initial.run);
      k.flush();
      this.mode = 'initial';
      this.timer = null;
      return;
    }
    const { next, interval } = NEXT[this.mode];
    this.tune(ctx, next as Exclude<Mode, 'initial'>);
    this.mode = next;
    this.timer = ctx.now() + interval;
  }

  guestStarted(ctx: PolicyContext): void {
    // kick(): aggressive now, back down after 30 s.
    this.tune(ctx, 'aggressive');
    this.mode = 'aggressive';
    this.timer = ctx.now() + KATA_INTERVALS_MS.aggressive;
  }
}

export const KATA: PolicyEntry = {
  name: 'kata',
  title: 'Kata ksm-throttler: aggressive (AnonPages/10 every 1 ms) at each new VM, standard after 30 s, slow after 2 min, initial after 2 more',
  source: 'kata-containers/ksm-throttler ksm.go (ksmSettings), throttler.go (ksmThrottleIntervals)',
  refuse: (a) => lacks(a, ['run', 'pages_to_scan', 'sleep_millisecs'], 'kata', 'the throttler writes these sysfs files'),
  create: () => new KataThrottler(),
};
