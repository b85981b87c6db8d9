/**
 * /sys/kernel/mm/ksm of the April 2009 patch (seed 000): four files, the
 * show/store pairs in the order of the seed's ksm_attrs array.
 *
 * Stores parse with strict_strtoul and, when it fails, return 0 (no bytes
 * consumed, no errno) with the setting unchanged; otherwise they store the
 * unsigned long into an `int` (truncated to 32 bits, no range check: "TODO
 * sanitize usecs") and return the byte count. Reads print that int with
 * "%u" (sleep) or "%lu" (pages_to_scan, run: sign-extended on 64-bit).
 */
import { strictStrtoul } from '../kernel/strtoul.js';
import { type SysfsAttr, SysfsDir } from '../kernel/sysfs.js';
import { KSM_SYSFS_DIR } from './constants.js';

/** The kthread variables the files read and write (all `int` in the seed). */
export interface KthreadKnobs {
  /** kthread_sleep: microseconds between batches. */
  kthreadSleep: number;
  /** kthread_pages_to_scan: pages per batch. */
  kthreadPagesToScan: number;
  /** ksmd_flags: bit 0 (ksm_control_flags_run) makes kksmd scan. */
  ksmdFlags: number;
  /** ksm_pages_shared (unsigned long). */
  readonly pagesShared: number;
  /** wake_up_interruptible(&kthread_wait) */
  wake(): void;
}

/** KSM_ATTR: __ATTR(_name, 0644, ...); KSM_ATTR_RO: __ATTR_RO, 0444. */
const RW = 0o644;
const RO = 0o444;

/** An unsigned long stored into an int: the low 32 bits, signed. */
export function toInt(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** "%lu" of an int on a 64-bit kernel: sign-extended to unsigned long. */
export function lu(int: number): string {
  return BigInt.asUintN(64, BigInt(int | 0)).toString();
}

/** "%u" of an int. */
export function u(int: number): string {
  return String(int >>> 0);
}

export function ksmSysfs2009(k: KthreadKnobs): SysfsDir {
  const attrs: SysfsAttr[] = [
    {
      name: 'sleep',
      mode: RW,
      show: () => `${u(k.kthreadSleep)}\n`,
      store(buf, count) {
        const usecs = strictStrtoul(buf, 10);
        if (typeof usecs === 'number') return 0;
        // TODO sanitize usecs
        k.kthreadSleep = toInt(usecs);
        return count;
      },
    },
    {
      name: 'pages_to_scan',
      mode: RW,
      show: () => `${lu(k.kthreadPagesToScan)}\n`,
      store(buf, count) {
        const nrPages = strictStrtoul(buf, 10);
        if (typeof nrPages === 'number') return 0;
        k.kthreadPagesToScan = toInt(nrPages);
        return count;
      },
    },
    {
      name: 'run',
      mode: RW,
      show: () => `${lu(k.ksmdFlags)}\n`,
      store(buf, count) {
        const run = strictStrtoul(buf, 10);
        if (typeof run === 'number') return 0;
        k.ksmdFlags = toInt(run);
        if (k.ksmdFlags) k.wake();
        return count;
      },
    },
    { name: 'pages_shared', mode: RO, show: () => `${k.pagesShared}\n` },
  ];
  return new SysfsDir(KSM_SYSFS_DIR, attrs);
}
