/**
 * KubeVirt's port of the MOM rules: virt-handler's heartbeat
 * (pkg/virt-handler/heartbeat/ksm.go, calculateNewRunSleepAndPages and
 * writeKsmValuesToFiles), run on every node heartbeat (heartbeat.go: one
 * minute, with a jitter of up to 1.2 minutes more that is left out here so
 * runs stay deterministic). Defaults of ksm.go (node annotations override
 * them): pagesBoost 300, pagesDecay -50, nPagesMin 64, nPagesMax 1250,
 * nPagesInit 100, sleepMsBaseline 100 ("10ms in oVirt seemed really low"),
 * freePercent 0.2.
 *
 *   total, available = MemTotal, MemAvailable (kB)
 *   sleep = 100 * 16 GiB(kB) / (total - available), at least 100 / 10
 *   if available > total * 0.2:          no pressure
 *       if running: pages += -50; below 64: pages = 64, running = false
 *       else: run 0 (and nothing else)
 *   else:                                pressure
 *       if running: pages = min(pages + 300, 1250)
 *       else: running, pages = 100
 *   write: if running, sleep_millisecs then pages_to_scan; then run (1 or 0)
 *
 * So KSM is on only below 20 % of free memory, and after the pressure goes
 * it decays for a while before it stops. `running` is read from the run
 * file, pages from pages_to_scan (loadKSM, getKsmPages). Go divides by
 * total - available, which is never 0 on a real node; here a host with
 * nothing in use takes 1 kB.
 */
import { KB_PER_PAGE, type Policy, type PolicyContext, type PolicyEntry } from './policy.js';

export const KUBEVIRT_DEFAULTS = Object.freeze({
  pagesBoost: 300,
  pagesDecay: -50,
  nPagesMin: 64,
  nPagesMax: 1250,
  nPagesInit: 100,
  sleepMsBaseline: 100,
  freePercent: 0.2,
  heartbeatS: 60,
});


export class KubeVirt implements Policy {
  private next = 0;

  start(ctx: PolicyContext): void {
    // heartBeat(): h.do() once at start, then every interval.
    this.next = ctx.now();
  }

  nextWake(): number {
    return this.next;
  }

  wake(ctx: PolicyContext): void {
    this.handleKsm(ctx);
    this.next = ctx.now() + KUBEVIRT_DEFAULTS.heartbeatS * 1000;
  }

  private handleKsm(ctx: PolicyContext): void {
    const c = KUBEVIRT_DEFAULTS;
    const k = ctx.controls.knobs();
    const total = ctx.host.ramPages * KB_PER_PAGE;
    const available = ctx.host.freePages() * KB_PER_PAGE;
    let running = k.run;
    let pages = k.pagesToScan;
    let sleep = Math.trunc((c.sleepMsBaseline * 16 * 1024 * 1024) / Math.max(1, total - available));
    if (sleep < Math.trunc(c.sleepMsBaseline / 10)) sleep = Math.trunc(c.sleepMsBaseline / 10);
    if (Math.fround(available) > Math.fround(Math.fround(total) * Math.fround(c.freePercent))) {
      if (running) {
        pages += c.pagesDecay;
        if (pages < c.nPagesMin) {
          pages = c.nPagesMin;
          running = false;
        }
      } else {
        running = false;
        sleep = 0;
        pages = 0;
      }
    } else if (running) {
      pages = Math.min(pages + c.pagesBoost, c.nPagesMax);
    } else {
      running = true;
      pages = c.nPagesInit;
    }
    if (running) {
      ctx.controls.write('sleep_millisecs', sleep);
      ctx.controls.write('pages_to_scan', pages);
    }
    ctx.controls.write('run', running ? 1 : 0);
    ctx.controls.flush();
  }
}

export const KUBEVIRT: PolicyEntry = {
  name: 'kubevirt',
  title: 'KubeVirt virt-handler: every 60 s heartbeat, KSM on only below 20 % free memory (MemAvailable); pages 100, +300/-50 (64..1250)',
  source: 'kubevirt pkg/virt-handler/heartbeat/ksm.go (calculateNewRunSleepAndPages), heartbeat.go (1 min)',
  refuse: () => null,
  create: () => new KubeVirt(),
};
