/**
 * Tests that drive this machine's own KSM: they need root and a kernel with
 * KSM, and otherwise are registered as skipped with the reason in their
 * title. They wait for the lock (another run, a benchmark) rather than
 * force, and read the whole sysfs directory before and after.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const KSM_DIR = '/sys/kernel/mm/ksm';

/** Why real-kernel tests cannot run here, or null when they can. */
export function realKernelMissing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root';
  if (!existsSync(KSM_DIR)) return 'this kernel has no KSM (/sys/kernel/mm/ksm)';
  return null;
}

/** Seconds a real-kernel test waits for KSM to be free (the lock, other users). */
export const WAIT_SECONDS = '90';

/** Every knob of the directory (its writable files) with its text: what a run must leave as it found it. */
export function readKsmDir(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(KSM_DIR).sort()) {
    // The knobs (writable files): the counters move with any KSM work, and a
    // run that unmerges sets full_scans back to 0 (unmerge_and_remove_all_rmap_items).
    if ((statSync(join(KSM_DIR, name)).mode & 0o200) === 0) continue;
    out[name] = readFileSync(join(KSM_DIR, name), 'utf8').trim();
  }
  return out;
}
