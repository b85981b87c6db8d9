/**
 * wait_while_offlining() for the sysfs writers of 3.9 and later: while the
 * memory hot-remove notifier has KSM_RUN_OFFLINE set, a writer of run,
 * merge_across_nodes or max_page_sharing sleeps until offlining ends.
 *
 * Deliberate deviation (run_store and friends): this model has no blocked
 * writers, so the store is queued, the write returns the byte count at once,
 * and the queued store runs when MEM_OFFLINE or MEM_CANCEL_OFFLINE clears
 * the bit; until then reads show the old value, as they would.
 */
export class OfflineGate {
  private pending: Array<() => void> = [];

  constructor(private readonly offlining: () => boolean) {}

  /** Runs the store's locked part now (its result), or queues it (count). */
  store(count: number, body: () => number): number {
    if (!this.offlining()) return body();
    this.pending.push(() => void body());
    return count;
  }

  /** The writers waiting, woken in order (wake_up_bit). */
  wake(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }

  get waiting(): number {
    return this.pending.length;
  }
}
