/**
 * The processes of an exec'd program that sleep in virtual time.
 *
 * A sleep is not answered when it is asked: the sleeper's process waits on
 * its line to the simulator until the virtual clock reaches its wake-up
 * time. The clock gets there either as the other processes run in real
 * time, or at once when none of them runs (every one sleeps, waits for a
 * child or pauses): then the simulator jumps the clock to the earliest
 * wake-up, as a kernel's idle CPU would have nothing to do until that
 * timer fires. So two processes sleeping side by side take the longer of
 * their sleeps, not the sum, and a daemon's `sleep 60` in the background
 * and its harness's `sleep 300` interleave as they would in real time.
 *
 * Data structure: pid -> { connection, wake-up in virtual µs }, a plain map
 * (a program has a handful of processes; the earliest is found by a scan).
 */
import type { CallConn } from './session.js';

export interface Sleeper {
  pid: number;
  conn: CallConn;
  /** Virtual µs at which the sleep ends. */
  untilUs: number;
}

export class Sleepers {
  private readonly byPid = new Map<number, Sleeper>();

  get size(): number {
    return this.byPid.size;
  }

  add(s: Sleeper): void {
    this.byPid.set(s.pid, s);
  }

  /** A sleeper that went away (killed while it slept, or exited). */
  remove(pid: number): void {
    this.byPid.delete(pid);
  }

  /** The earliest wake-up, in virtual µs, or null when nobody sleeps. */
  earliest(): number | null {
    let t: number | null = null;
    for (const s of this.byPid.values()) if (t === null || s.untilUs < t) t = s.untilUs;
    return t;
  }

  /** Takes out and returns, earliest first, the sleepers whose wake-up is at or before `nowUs`. */
  due(nowUs: number): Sleeper[] {
    const out = [...this.byPid.values()].filter((s) => s.untilUs <= nowUs).sort((a, b) => a.untilUs - b.untilUs);
    for (const s of out) this.byPid.delete(s.pid);
    return out;
  }

  /** Everyone still asleep (the run ends: their lines close with it). */
  clear(): void {
    this.byPid.clear();
  }
}
