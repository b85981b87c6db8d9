/**
 * Running `ksmctl cc` and `ksmctl exec` as a user does, for the tests of
 * compiled programs: one scratch directory and one interposition-library
 * cache per test file, and the check every exec test makes after a run:
 * the real /sys/kernel/mm/ksm reads as before (its lock held meanwhile,
 * as root, so no other run of the real era changes it in between) and the
 * program made no real KSM page (its /proc/PID/ksm_merging_pages, read by
 * the simulator at every call, stayed 0).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCompiler } from '../../src/exec/preload-build.js';
import { Guard, stateDir } from '../../src/real/guard.js';
import { SYSTEM_PATHS } from '../../src/real/paths.js';
import { KSMCTL } from './cli.js';

export const KSM_DIR = '/sys/kernel/mm/ksm';

/** Why exec tests cannot run here (not x86_64 Linux, no compiler), or null. */
export function execMissing(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `exec interposes x86_64 Linux programs, this is ${process.platform}/${process.arch}`;
  return findCompiler() === null ? 'no C compiler (cc/gcc) on PATH' : null;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The stats line of --stats --json (the last line of stderr). */
export interface ExecStats {
  era: string;
  counters: Record<string, number>;
  realKsmPages: number;
  settled: { counters: Record<string, number> } | null;
}

export function stats(r: Run): ExecStats {
  const line = r.stderr.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line);
}

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

type Asserts = { deepEqual: (a: unknown, b: unknown, m?: string) => void; is: (a: unknown, b: unknown, m?: string) => void };

export interface ExecHarness {
  /** The scratch directory (the runs' working directory). */
  readonly work: string;
  /** `ksmctl ARGS` with the harness's library cache. */
  ksmctl(args: string[], env?: NodeJS.ProcessEnv, timeoutMs?: number, cwd?: string): Run;
  /** `ksmctl cc --era ERA -- EXTRA... SRC -o OUT`: the program's path (OUT in the scratch directory). */
  build(era: string, src: string, out: string, extra?: string[], after?: string[]): string;
  /** `ksmctl exec ARGS`, the real knobs read before and after under the real KSM's lock. */
  exec(args: string[], timeoutMs?: number): Run;
  /** Checked after every run: the real KSM is untouched and no real KSM page was made (needs --stats --json). */
  untouched(t: Asserts, r: Run): void;
  /** Removes the scratch directory (test.after.always). */
  remove(): void;
}

export function execHarness(name: string): ExecHarness {
  const work = mkdtempSync(join(tmpdir(), `ksmctl-${name}-`));
  // One library cache for the file: built by the first exec, found by the others.
  const cache = join(work, 'cache');
  let knobsBefore: Record<string, string> | null = null;
  let knobsAfter: Record<string, string> | null = null;
  const ksmctl = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 100_000, cwd = work): Run => {
    const r = spawnSync(process.execPath, [KSMCTL, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, XDG_CACHE_HOME: cache, ...env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    work,
    ksmctl,
    build(era, src, out, extra = [], after = []) {
      const exe = join(work, out);
      const r = ksmctl(['cc', '--era', era, '--', ...extra, src, '-o', exe, ...after]);
      if (r.status !== 0) throw new Error(`ksmctl cc --era ${era} ${src}: ${r.stderr}`);
      return exe;
    },
    exec(args, timeoutMs) {
      const real = existsSync(KSM_DIR) && process.getuid?.() === 0;
      const g = real ? Guard.lockOnly({ paths: SYSTEM_PATHS, dir: stateDir(), waitMs: 90_000 }) : null;
      try {
        knobsBefore = realKnobs();
        const r = ksmctl(['exec', ...args], {}, timeoutMs);
        knobsAfter = realKnobs();
        return r;
      } finally {
        g?.release();
      }
    },
    untouched(t, r) {
      t.deepEqual(knobsAfter, knobsBefore, 'the real /sys/kernel/mm/ksm reads as before');
      if (existsSync(KSM_DIR)) t.is(stats(r).realKsmPages, 0, "the program's real /proc/PID/ksm_merging_pages stayed 0");
    },
    remove: () => rmSync(work, { recursive: true, force: true }),
  };
}
