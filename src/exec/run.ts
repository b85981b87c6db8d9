/**
 * One `ksmctl exec` run: the program started with the interposition
 * library preloaded and the simulator's socket in its environment, the
 * era's kernel serving its KSM calls (session.ts) until the program exits.
 * The exit status is the program's (128 + N when signal N ended it, as a
 * shell reports it).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { CliError } from '../cli/errors.js';
import type { EraEntry } from '../eras/registry.js';
import { programKind } from './elf.js';
import { onPath, preloadLibrary } from './preload-build.js';
import { type ExecStats, ExecSession } from './session.js';

export interface ExecRunOptions {
  endOnPause?: boolean;
  settleSeconds?: number;
  /** ksmd started before the program with this batch size, through the era's own controls (adapter.startup). */
  startPages?: number;
  /** The simulated machine's RAM in pages (its /proc/meminfo, sysinfo, sysconf). */
  ramPages?: number;
  trace?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface ExecResult {
  status: number;
  stats: ExecStats;
}

/** The program's path: as given when it has a slash, else found on PATH; refused when it cannot be interposed. */
export function resolveProgram(program: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = program.includes('/') ? program : onPath(program, env);
  if (path === null) throw new CliError(`exec: ${program}: not found on PATH`);
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CliError(`exec: ${program}: no such file`);
  }
  if (!st.isFile()) throw new CliError(`exec: ${program}: not a regular file`);
  let kind;
  try {
    kind = programKind(path);
  } catch (e) {
    throw new CliError(`exec: ${program}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (kind === 'static') throw new CliError(`exec: ${program} is statically linked: its calls cannot be interposed (no PT_INTERP); link it dynamically`);
  return path;
}

export async function runExec(era: EraEntry, program: string, args: readonly string[], opts: ExecRunOptions = {}): Promise<ExecResult> {
  const env = opts.env ?? process.env;
  const path = resolveProgram(program, env);
  const lib = preloadLibrary(env);
  const adapter = era.boot({ ramPages: opts.ramPages });
  if (opts.startPages !== undefined) adapter.startup(opts.startPages);
  const session = new ExecSession(adapter, { endOnPause: opts.endOnPause, settleSeconds: opts.settleSeconds, trace: opts.trace });
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-exec-'));
  const sock = join(dir, 'sim.sock');
  try {
    await session.listen(sock);
    const preload = env.LD_PRELOAD ? `${lib}:${env.LD_PRELOAD}` : lib;
    const child = spawn(path, args, { stdio: 'inherit', argv0: program, env: { ...env, LD_PRELOAD: preload, KSMCTL_EXEC_SOCKET: sock } });
    // A signal to ksmctl is passed on to the program, and ksmctl stays to report its status (Ctrl-C reaches both: the program gets it twice).
    const forward = (sig: NodeJS.Signals) => () => {
      session.abort();
      child.kill(sig);
    };
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const status = await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(new CliError(`exec: ${program}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal !== null ? (osConstants.signals[signal] ?? 0) : 0)));
    }).finally(() => {
      for (const [sig, h] of handlers) process.off(sig, h);
    });
    // The processes' connections close as they exit: their exits reach the era before the stats are read.
    session.abort();
    await session.drained(1000);
    return { status, stats: session.stats() };
  } finally {
    session.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The stats as one line of text. */
export function formatStats(s: ExecStats): string {
  const c = Object.entries(s.counters)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const settled = s.settled === null ? '' : `; settled in pause() at ${s.settled.virtualSeconds.toFixed(3)} s: ${Object.entries(s.settled.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  return `ksmctl exec: ${s.era} at exit, ${s.virtualSeconds.toFixed(3)} s of virtual time, ${s.processes} process${s.processes === 1 ? '' : 'es'}: ${c}${settled}; real KSM pages of the program: ${s.realKsmPages}`;
}
