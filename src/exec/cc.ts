/**
 * `ksmctl cc --era ID -- CC_ARGS...`: the machine's C compiler with the
 * era's own headers first on the include path (native/include/DIR, shipped
 * in the package): linux/ksm.h of November 2008 and March 2009 (and "ksm.h",
 * the copy programs kept beside their source), <sys/mman.h> with the era's
 * KSM advice and without the later one, and 6.18's PR_SET_MEMORY_MERGE.
 * Eras whose compilers defaulted to gnu89 (every one before 6.18: gcc
 * switched to gnu11 in 2015) build with -std=gnu89 unless CC_ARGS name a
 * standard, so a 2009 program's implicit declarations stay the warnings
 * they were.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CliError } from '../cli/errors.js';
import type { EraEntry } from '../eras/registry.js';
import { findCompiler, packageRoot } from './preload-build.js';

/** The era's include directory (its id with ':' as '-'). */
export function eraIncludeDir(era: EraEntry): string {
  return join(packageRoot(), 'native', 'include', era.id.replace(':', '-'));
}

/** The compiler's arguments for `args` under `era`. */
export function ccArgs(era: EraEntry, args: readonly string[]): string[] {
  const std = era.id === 'v3:6.18' || args.some((a) => a.startsWith('-std=')) ? [] : ['-std=gnu89'];
  return ['-I', eraIncludeDir(era), ...std, ...args];
}

/** Runs the compiler as `ksmctl cc` does: its exit status (its messages go straight to the terminal). */
export function runCc(era: EraEntry, args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  if (args.length === 0) throw new CliError('cc: nothing to compile: ksmctl cc --era ID -- FILE.c -o PROGRAM');
  const cc = findCompiler(env);
  if (cc === null) throw new CliError('cc needs a C compiler (cc/gcc): none on PATH (install gcc, or set CC)');
  const r = spawnSync(cc, ccArgs(era, args), { stdio: 'inherit', env });
  if (r.error !== undefined) throw new CliError(`cc: ${cc}: ${r.error.message}`);
  return r.status ?? 128 + 9;
}
