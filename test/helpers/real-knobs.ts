/**
 * What exec tests check of this machine's own KSM: its writable
 * /sys/kernel/mm/ksm files, read before and after a run with the real
 * KSM's lock held (as root, where KSM exists), so that no other run of the
 * real era changes them in between: any difference would be the program's.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Guard, stateDir } from '../../src/real/guard.js';
import { SYSTEM_PATHS } from '../../src/real/paths.js';

export const KSM_DIR = '/sys/kernel/mm/ksm';

/** Every file of the real /sys/kernel/mm/ksm that a program could set (the writable ones), or null without KSM. */
export function realKnobs(): Record<string, string> | null {
  if (!existsSync(KSM_DIR)) return null;
  const out: Record<string, string> = {};
  for (const name of readdirSync(KSM_DIR).sort()) {
    if ((statSync(join(KSM_DIR, name)).mode & 0o200) === 0) continue;
    out[name] = readFileSync(join(KSM_DIR, name), 'utf8').trim();
  }
  return out;
}

/** The real KSM's lock, held until release() (null where there is no real KSM to guard, or not as root). */
export function lockRealKsm(): { release(): void } | null {
  const real = existsSync(KSM_DIR) && process.getuid?.() === 0;
  return real ? Guard.lockOnly({ paths: SYSTEM_PATHS, dir: stateDir(), waitMs: 90_000 }) : null;
}
