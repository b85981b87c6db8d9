/**
 * Calls as an era's program issued them, for logs: the TUI's call log, the
 * host's trace. Every control and registration of an era adapter can hand
 * back its calls in these forms:
 *
 *   v3, v2   `echo 200 > /sys/kernel/mm/ksm/pages_to_scan`
 *   v1       `ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20000, pages_to_scan=200, flags=1}) = 0`
 *   any      `[pid 101] madvise(0x7f0000000000, 4096, MADV_MERGEABLE) = 0`
 */
import { errnoName, strerror } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';

/** One line of a call log: a call as the era's program issued it, and whether it succeeded. */
export interface CallRecord {
  /** The call, in the era's own form, with its result where the form has one (`= 0`, `= -1 EINVAL (...)`). */
  text: string;
  /** False when the call failed (a -errno result, a write error). */
  ok: boolean;
}

/** The ksmd knobs as the era holds them. */
export interface Knobs {
  /** ksmd is set to run (run = 1, flags = 1). */
  run: boolean;
  pagesToScan: number;
  /** Sleep between batches, in microseconds (the eras' units differ: ms in sysfs, µs in v1). */
  sleepMicros: number;
}

/** The text of a sysfs write as a shell user types it, with bash's complaint when the write fails. */
export function echoCall(value: string | number, path: string, result: number): CallRecord {
  const text = `echo ${value} > ${path}`;
  return result < 0 ? { text: `${text}  (write error: ${strerror(-result)})`, ok: false } : { text, ok: true };
}

/** A syscall's result in strace form: `= 0`, `= -1 EINVAL (Invalid argument)`. */
export function straceResult(result: number): string {
  return result < 0 ? `= -1 ${errnoName(-result)} (${strerror(-result)})` : `= ${result}`;
}

/** An madvise call in strace form, as process p issued it. */
export function madviseCall(p: Process, addr: number, bytes: number, advice: string, result: number): CallRecord {
  return { text: `[pid ${p.pid}] madvise(0x${addr.toString(16)}, ${bytes}, ${advice}) ${straceResult(result)}`, ok: result >= 0 };
}
