/**
 * ksmtuned: the shell daemon the distributions shipped with qemu-kvm and
 * libvirt (Fedora, RHEL; /usr/sbin/ksmtuned, Dan Kenigsberg, Red Hat 2009,
 * GPL), its `adjust()` function ported line for line. Defaults of the
 * script (overridable in /etc/ksmtuned.conf; here as KsmtunedConfig):
 *
 *   KSM_MONITOR_INTERVAL=60   seconds between adjustments (it sleeps first)
 *   KSM_NPAGES_BOOST=300      pages_to_scan += 300 under pressure
 *   KSM_NPAGES_DECAY=-50      pages_to_scan -= 50 otherwise
 *   KSM_NPAGES_MIN=64, KSM_NPAGES_MAX=1250   the clamp
 *   KSM_SLEEP_MSEC=10         ms of sleep for a 16 GiB machine:
 *                             sleep = 10 * 16 GiB / MemTotal, at least 10
 *   KSM_THRES_COEF=20         threshold = 20 % of MemTotal, at least
 *   KSM_THRES_CONST=2048      kB
 *
 * adjust(), every KSM_MONITOR_INTERVAL seconds (all in kB, bash integer
 * arithmetic):
 *
 *   free = MemFree + Buffers + Cached      (here: RAM minus the pages in use)
 *   committed = sum of rsz of qemu-system processes   (here: the guests' RSS)
 *   if committed + thres < total and free > thres:  echo 0 > run; done
 *   if free < thres: npages += BOOST  else npages += DECAY   (clamped)
 *   echo npages > pages_to_scan; echo sleep > sleep_millisecs; echo 1 > run
 *
 * npages starts at 0 (the script's own variable, not the kernel's file), so
 * the first decision under pressure writes 300 and the first without writes
 * 64. On v1 the writes of one adjust() are one KSM_START_STOP_KTHREAD from
 * ksmctl, as the 2009 stand-alone ksmtuned's `ksmctl start $npages $sleep`
 * and `ksmctl stop` sent them (policy.ts). The script's SIGUSR1 (retune
 * now, sent by libvirt hooks when a guest starts) is not modelled: it wakes
 * on its interval only, as it does without the hook.
 */
import { KB_PER_PAGE, type Policy, type PolicyContext, type PolicyEntry } from './policy.js';

export interface KsmtunedConfig {
  monitorIntervalS: number;
  npagesBoost: number;
  npagesDecay: number;
  npagesMin: number;
  npagesMax: number;
  sleepMsec: number;
  thresCoef: number;
  thresConst: number;
}

export const KSMTUNED_DEFAULTS: Readonly<KsmtunedConfig> = Object.freeze({
  monitorIntervalS: 60,
  npagesBoost: 300,
  npagesDecay: -50,
  npagesMin: 64,
  npagesMax: 1250,
  sleepMsec: 10,
  thresCoef: 20,
  thresConst: 2048,
});


export class Ksmtuned implements Policy {
  private npages = 0;
  private next = 0;
  /** MemTotal, the threshold and the sleep, as the script computes them once at start (kB, ms). */
  total = 0;
  thres = 0;
  sleep = 0;

  constructor(readonly config: KsmtunedConfig = KSMTUNED_DEFAULTS) {}

  start(ctx: PolicyContext): void {
    const c = this.config;
    this.total = ctx.host.ramPages * KB_PER_PAGE;
    this.sleep = Math.trunc((c.sleepMsec * 16 * 1024 * 1024) / this.total);
    if (this.sleep <= 10) this.sleep = 10;
    this.thres = Math.trunc((this.total * c.thresCoef) / 100);
    if (c.thresConst > this.thres) this.thres = c.thresConst;
    this.npages = 0;
    // loop(): sleep $KSM_MONITOR_INTERVAL, then adjust.
    this.next = ctx.now() + c.monitorIntervalS * 1000;
  }

  nextWake(): number {
    return this.next;
  }

  wake(ctx: PolicyContext): void {
    this.adjust(ctx);
    this.next = ctx.now() + this.config.monitorIntervalS * 1000;
  }

  private increaseNpages(delta: number): number {
    let n = this.npages + delta;
    if (n < this.config.npagesMin) n = this.config.npagesMin;
    else if (n > this.config.npagesMax) n = this.config.npagesMax;
    return n;
  }

  adjust(ctx: PolicyContext): void {
    const free = ctx.host.freePages() * KB_PER_PAGE;
    const committed = ctx.host.committedPages() * KB_PER_PAGE;
    const k = ctx.controls;
    if (committed + this.thres < this.total && free > this.thres) {
      // KSMCTL stop
      k.write('run', 0);
      k.flush();
      return;
    }
    this.npages = this.increaseNpages(free < this.thres ? this.config.npagesBoost : this.config.npagesDecay);
    // KSMCTL start $npages $sleep
    k.write('pages_to_scan', this.npages);
    k.write('sleep_millisecs', this.sleep);
    k.write('run', 1);
    k.flush();
  }
}

export const KSMTUNED: PolicyEntry = {
  name: 'ksmtuned',
  title: 'ksmtuned (qemu-kvm/libvirt): every 60 s, pages_to_scan +300 below 20 % free, -50 above (64..1250), run=0 when memory is ample',
  source: '/usr/sbin/ksmtuned (Red Hat 2009), defaults of /etc/ksmtuned.conf',
  // run, pages_to_scan and a sleep exist in every era (v1: in the kthread struct).
  refuse: () => null,
  create: () => new Ksmtuned(),
};
