/**
 * One `ksmctl exec` run: the program started with the interposition
 * library preloaded and the simulator's socket in its environment, the
 * era's kernel serving its KSM calls (session.ts) until the program exits.
 * The exit status is the program's (128 + N when signal N ended it, as a
 * shell reports it).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
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
  /** Run on the ksmctl host listening on this socket (exec --host) instead of a private machine of the era. */
  hostSocket?: string;
  /** With hostSocket: the era asked for (--era), which the host refuses unless it is its own. */
  hostEra?: string;
  /** With hostSocket: why a stream could not be opened (once per run). */
  onHostError?: (line: string) => void;
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
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-exec-'));
  const sock = join(dir, 'sim.sock');
  let sim: Simulator | null = null;
  try {
    sim = opts.hostSocket !== undefined ? await hostSimulator(opts.hostSocket, sock, opts) : await localSimulator(era, sock, opts);
    const preload = env.LD_PRELOAD ? `${lib}:${env.LD_PRELOAD}` : lib;
    const child = spawn(path, args, { stdio: 'inherit', argv0: program, env: { ...env, LD_PRELOAD: preload, KSMCTL_EXEC_SOCKET: sock } });
    // A signal to ksmctl is passed on to the program, and ksmctl stays to report its status (Ctrl-C reaches both: the program gets it twice).
    const s = sim;
    const forward = (sig: NodeJS.Signals) => () => {
      s.abort();
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
    return { status, stats: await sim.end() };
  } finally {
    sim?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where the program's calls are answered: a private session, or the host through a relay. */
interface Simulator {
  /** Stops a settle under way (a signal). */
  abort(): void;
  /** The program has exited: its processes' exits accounted for, the stats. */
  end(): Promise<ExecStats>;
  close(): void;
}

async function localSimulator(era: EraEntry, sock: string, opts: ExecRunOptions): Promise<Simulator> {
  const adapter = era.boot({ ramPages: opts.ramPages });
  if (opts.startPages !== undefined) adapter.startup(opts.startPages);
  const session = new ExecSession(adapter, { endOnPause: opts.endOnPause, settleSeconds: opts.settleSeconds, trace: opts.trace });
  await session.listen(sock);
  return {
    abort: () => session.abort(),
    end: async () => {
      session.abort();
      await session.drained(1000);
      return session.stats();
    },
    close: () => session.close(),
  };
}

/**
 * exec --host: the program's connections relayed, byte for byte, each to a
 * call stream of its own on the host (src/host/exec.ts), where the session
 * runs on the host's machine. The run's token ties its streams together;
 * at the end `detach` has the host exit whatever the program left running
 * and answers the run's stats.
 */
async function hostSimulator(hostSocket: string, sock: string, opts: ExecRunOptions): Promise<Simulator> {
  const { hostRequest, openCallStream } = await import('../host/client.js');
  const run = randomBytes(12).toString('hex');
  const pairs = new Set<Socket>();
  let told = false;
  const server: Server = createServer((local) => {
    local.pause();
    local.on('error', () => {});
    pairs.add(local);
    local.once('close', () => pairs.delete(local));
    openCallStream(hostSocket, { op: 'attach', run, era: opts.hostEra, endOnPause: opts.endOnPause, settleSeconds: opts.settleSeconds }).then(
      (remote) => {
        remote.on('error', () => {});
        local.pipe(remote);
        remote.pipe(local);
        local.once('close', () => remote.destroy());
        remote.once('close', () => local.destroy());
        local.resume();
        remote.resume();
      },
      (e: Error) => {
        // The process's KSM calls then fail with EPERM (the library never passes them on); the user is told why once.
        if (!told) opts.onHostError?.(`ksmctl exec: ${e.message}`);
        told = true;
        local.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, () => resolve());
  });
  return {
    abort: () => {},
    end: async () => {
      for (let waited = 0; pairs.size > 0 && waited < 1000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      const none: ExecStats = { era: opts.hostEra ?? '?', virtualSeconds: 0, counters: {}, realKsmPages: 0, processes: 0, settled: null };
      let r: Awaited<ReturnType<typeof hostRequest>>;
      try {
        r = await hostRequest(hostSocket, { op: 'detach', run });
      } catch (e) {
        // The host went away meanwhile (its processes went with it): the program's status still counts.
        opts.onHostError?.(`ksmctl exec: the host on ${hostSocket} is gone (${(e as Error).message}): no stats`);
        return none;
      }
      if (!r.ok) opts.onHostError?.(`ksmctl exec: host: ${r.error}`);
      return (r.ok ? r.exec : null) ?? none;
    },
    close: () => {
      server.close();
      for (const p of pairs) p.destroy();
    },
  };
}

/** The stats as one line of text. */
export function formatStats(s: ExecStats): string {
  const c = Object.entries(s.counters)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const settled = s.settled === null ? '' : `; settled in pause() at ${s.settled.virtualSeconds.toFixed(3)} s: ${Object.entries(s.settled.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  return `ksmctl exec: ${s.era} at exit, ${s.virtualSeconds.toFixed(3)} s of virtual time, ${s.processes} process${s.processes === 1 ? '' : 'es'}: ${c}${settled}; real KSM pages of the program: ${s.realKsmPages}`;
}
