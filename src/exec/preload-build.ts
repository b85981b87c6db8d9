/**
 * The interposition library, built on first use: native/ksm-preload.c
 * (shipped in the package) compiled with the machine's C compiler into a
 * per-user cache directory, under a name carrying the source's hash, so a
 * new version of the source builds anew and every later run finds it built.
 *
 *   $XDG_CACHE_HOME/ksmctl/ksm-preload-HASH.so  (default ~/.cache/ksmctl)
 *
 * The compiler is $CC when set, else the first of cc and gcc on PATH.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../cli/errors.js';

/** The package's root: the directory above this file's that holds native/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'native', 'ksm-preload.c'))) return dir;
    dir = dirname(dir);
  }
  throw new CliError('exec: native/ksm-preload.c is missing from the package (a broken install?)');
}

export function preloadSource(): string {
  return join(packageRoot(), 'native', 'ksm-preload.c');
}

/** Where built libraries are kept. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'ksmctl');
}

/** An executable named `name` on PATH, or null. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const d of (env.PATH ?? '').split(delimiter)) {
    if (d === '') continue;
    const p = join(d, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The C compiler: $CC, else cc, else gcc on PATH; null when there is none. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CC !== undefined && env.CC.trim() !== '') return onPath(env.CC.trim(), env);
  return onPath('cc', env) ?? onPath('gcc', env);
}

/** The built library's path, building it first when the cache has none for this source. */
export function preloadLibrary(env: NodeJS.ProcessEnv = process.env): string {
  const src = preloadSource();
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 16);
  const dir = cacheDir(env);
  const lib = join(dir, `ksm-preload-${hash}.so`);
  if (existsSync(lib)) return lib;
  const cc = findCompiler(env);
  if (cc === null) throw new CliError(`exec needs a C compiler (cc/gcc) to build its interposition library: none on PATH (install gcc, or set CC)`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliError(`exec: cannot create the cache directory ${dir}: ${(e as Error).message}`);
  }
  // Built beside its final name and renamed: a run that stops half-way leaves no broken library behind.
  const tmp = `${lib}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-o', tmp, src, '-ldl', '-lpthread'], { encoding: 'utf8', env });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error !== undefined ? r.error.message : (r.stderr.split('\n').find((l) => l.includes('error')) ?? r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`);
    throw new CliError(`exec: building the interposition library with ${cc} failed: ${why}`);
  }
  renameSync(tmp, lib);
  return lib;
}
