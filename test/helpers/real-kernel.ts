/**
 * Tests that drive this machine's own KSM: they need root and a kernel with
 * KSM, and otherwise are registered as skipped with the reason in their
 * title. They wait for the lock (another run, a benchmark) rather than
 * force, and read the whole sysfs directory before and after.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/**
 * Every file of the directory with its text, less pages_scanned and
 * pages_skipped: counters that only grow (no write resets them), where every
 * other file must read as before a run.
 */
export function readKsmDir(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(KSM_DIR).sort()) {
    if (name === 'pages_scanned' || name === 'pages_skipped') continue;
    out[name] = readFileSync(join(KSM_DIR, name), 'utf8').trim();
  }
  return out;
}
