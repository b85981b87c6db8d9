/**
 * The virtual clock of an exec session: how the era's kernel's time moves
 * while a real program runs against it, and how far the clocks the program
 * reads run ahead of the real ones.
 *
 * - `LocalClock` (`ksmctl exec`): the session's own machine. Virtual time =
 *   real time since the start, less the simulator's own work, plus every
 *   sleep skipped.
 * - the host's (`ksmctl exec --host`, src/host/exec.ts): the host machine's
 *   clock, shared with every other client, moving as the host defines it
 *   (the wall clock or manual) plus the sleeps its programs skip.
 */
import type { EraSystem } from '../eras/system.js';

export interface ExecClock {
  /** The kernel's clock brought to now, after `sleepUs` more µs skipped by a sleep (ksmd runs every batch due meanwhile). */
  advance(sleepUs: number): void;
  /** Virtual µs now. */
  virtualNow(): number;
  /** How far the program's clocks run ahead of the real ones (ns): what the library adds to every clock it reads. */
  leadNs(): bigint;
  /** Marks the start and end of the simulator's own work (nested). */
  busy(on: boolean): void;
}

/** A private machine's clock (the session's alone). */
export class LocalClock implements ExecClock {
  private readonly startNs = process.hrtime.bigint();
  private readonly clockBase: number;
  /** Virtual µs skipped by sleeps and settling: the lead of the virtual clock over the real one. */
  private skippedUs = 0;
  /**
   * Real time the simulator spent working (ns), which is no time of the
   * program's: virtual time stands still meanwhile, or ksmd's batches
   * (each costing the simulator more real time than the virtual time it
   * covers) would have it chase its own tail.
   */
  private busyNs = 0n;
  private busySince: bigint | null = null;
  private busyDepth = 0;

  constructor(private readonly sys: EraSystem) {
    this.clockBase = sys.machine.clock.now;
  }

  busy(on: boolean): void {
    const now = process.hrtime.bigint();
    if (on) {
      if (this.busyDepth++ === 0) this.busySince = now;
    } else if (--this.busyDepth === 0 && this.busySince !== null) {
      this.busyNs += now - this.busySince;
      this.busySince = null;
    }
  }

  /** Real ns the program's processes have had: real time since the start less the simulator's work. */
  private programNs(): bigint {
    const now = process.hrtime.bigint();
    return now - this.startNs - this.busyNs - (this.busySince === null ? 0n : now - this.busySince);
  }

  /** Virtual µs now: the programs' real time plus every sleep skipped. */
  virtualNow(): number {
    return this.clockBase + Number(this.programNs() / 1000n) + this.skippedUs;
  }

  leadNs(): bigint {
    const now = process.hrtime.bigint();
    return BigInt(Math.round(this.skippedUs)) * 1000n - (now - this.startNs - this.programNs());
  }

  advance(sleepUs: number): void {
    this.skippedUs += sleepUs;
    const t = this.virtualNow();
    if (t > this.sys.machine.clock.now) this.sys.advanceTo(t);
  }
}
