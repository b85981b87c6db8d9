/**
 * The virtual clock and the ksmd thread that runs on it.
 *
 * Nothing in the engine reads real time: ksmd is a step function driven by
 * whoever advances the clock (the CLI, the TUI, a script's `sleep`, a test).
 * Time is kept in microseconds, the finest unit any era's knobs use.
 */

export class VirtualClock {
  /** Microseconds since boot. */
  now = 0;
}

/**
 * The clock's range: whole microseconds a double holds exactly (2^53 - 1 µs,
 * about 285 years). Callers bound what they are given (a script's sleep, a
 * host request); a time outside the range reaching the clock is a bug.
 */
export const MAX_VIRTUAL_TIME = Number.MAX_SAFE_INTEGER;

/** Throws a RangeError unless t is a time the clock can be moved to. */
export function checkVirtualTime(t: number): void {
  if (!(t >= 0 && t <= MAX_VIRTUAL_TIME)) throw new RangeError(`virtual time ${t} µs is outside the clock's range (0 to ${MAX_VIRTUAL_TIME} µs)`);
}

/**
 * ksmd's modelled CPU time per page it scans, in ns: 2 µs, the real 6.18
 * kernel's steady passes on the project machine (docs/v3-kernels.md). The
 * 3.9 and 6.18 models let the clock run by it during every batch; the
 * other eras charge it only where it is all the time a batch takes, a
 * sleep of 0 (Ksmd below).
 */
export const KSMD_SCAN_COST_NS = 2000;

/** What ksmd needs from an era's KSM code (its ksm_scan_thread loop body). */
export interface ScanThread {
  /** ksmd_should_run(): the run bit is set and there is memory to scan. */
  shouldRun(): boolean;
  /** One locked iteration: if it should run, scan one batch. */
  batch(): void;
  /** How long to sleep after a batch, in microseconds. */
  sleepMicros(): number;
  /**
   * Pages (scanner positions) visited so far, for an era whose batches take
   * no virtual time of their own: after a batch with a sleep of 0, ksmd's
   * next batch comes when this one's pages are scanned, KSMD_SCAN_COST_NS
   * each. Absent where the batch itself lets the clock run (3.9, 6.18).
   */
  pagesScanned?(): number;
}

/**
 * ksmd: sleeps between batches while it should run, waits on its wait queue
 * otherwise. With a sleep of 0 the kernel goes straight on to its next
 * batch (schedule_timeout of 0 jiffies only yields), so the time between
 * two batches is the time the first one took: its pages at
 * KSMD_SCAN_COST_NS each, where the era counts them (pagesScanned), and
 * never less than 1 µs, so the clock always moves forward. A nonzero sleep
 * is the whole time between batches, as the models always had it (the
 * golden trajectories and traces are theirs).
 */
export class Ksmd {
  /** When the next batch runs, or null while waiting on the wait queue. */
  private nextWake: number | null = null;
  /** Batches that scanned (ksmd_should_run was true), so far. */
  batches = 0;

  constructor(private readonly clock: VirtualClock, private readonly thread: ScanThread) {}

  /** When the next batch is due (µs), or null while waiting on the wait queue. */
  get wakeAt(): number | null {
    return this.nextWake;
  }

  /** 'sleeping' between batches, 'waiting' for work (run = 0 or nothing registered). */
  get state(): 'sleeping' | 'waiting' {
    return this.nextWake === null ? 'waiting' : 'sleeping';
  }

  /** wake_up_interruptible(&ksm_thread_wait): a waiting ksmd re-checks its condition now. */
  wake(): void {
    if (this.nextWake === null && this.thread.shouldRun()) this.nextWake = this.clock.now;
  }

  /**
   * Ends a sleep between batches early: the next batch is due now (6.x's
   * sleep_millisecs store wakes ksm_iter_wait). A waiting ksmd is not woken.
   */
  kick(): void {
    if (this.nextWake !== null && this.nextWake > this.clock.now) this.nextWake = this.clock.now;
  }

  /**
   * Runs every batch due up to time `t` (µs) and leaves the clock at t; with
   * maxBatches, stops after that many batches, leaving the clock at the last one.
   */
  advanceTo(t: number, maxBatches = Number.POSITIVE_INFINITY): number {
    checkVirtualTime(t);
    let ran = 0;
    for (;;) {
      if (this.nextWake === null) {
        if (!this.thread.shouldRun()) break;
        this.nextWake = this.clock.now;
      }
      if (this.nextWake > t) break;
      if (ran >= maxBatches) return ran;
      this.clock.now = Math.max(this.clock.now, this.nextWake);
      // The loop body runs on every wake-up; it scans only if ksmd should run.
      if (this.thread.shouldRun()) this.batches++;
      const before = this.thread.pagesScanned?.() ?? 0;
      this.thread.batch();
      ran++;
      this.nextWake = this.thread.shouldRun() ? this.clock.now + this.pauseAfter(before) : null;
    }
    this.clock.now = Math.max(this.clock.now, t);
    return ran;
  }

  /** Runs the next batch now, whatever the timer says (a "step" control). */
  stepBatch(): void {
    if (this.thread.shouldRun()) this.batches++;
    const before = this.thread.pagesScanned?.() ?? 0;
    this.thread.batch();
    this.nextWake = this.thread.shouldRun() ? this.clock.now + this.pauseAfter(before) : null;
  }

  /** µs from a batch to the next: the sleep, or with a sleep of 0 the batch's own scanning time. */
  private pauseAfter(pagesBefore: number): number {
    const sleep = this.thread.sleepMicros();
    if (sleep > 0 || this.thread.pagesScanned === undefined) return Math.max(1, sleep);
    return Math.max(1, ((this.thread.pagesScanned() - pagesBefore) * KSMD_SCAN_COST_NS) / 1000);
  }
}
