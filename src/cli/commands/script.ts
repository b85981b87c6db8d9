/**
 * The commands of the legacy-script issue:
 *
 *   ksmctl run FILE [--era E] [--abi A] [--trace] [-D NAME=VALUE] [--host]
 *   ksmctl start N S | ksmctl start N M S | ksmctl stop | ksmctl info
 *       (and every prefix of them, matched as the original ksmctl matched)
 *   ksmctl host start [WORKLOAD] [--era E] [--abi A] [--clock real|manual]
 *   ksmctl host stop | host status | host serve
 *
 * `run` prints the script's output on stdout, its trace (--trace) and
 * errors on stderr, and exits 0, 1 (an expect failed) or 2 (a parse or
 * runtime error). The verbs run the era's original ksmctl program on the
 * host (`ksmctl host`), printing exactly what it printed and exiting with its
 * status; with no host running there is no /dev/ksm, and they say what the
 * original said then.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { HostClient, hostRequest, HostUnreachable } from '../../host/client.js';
import { clearStaleSocket, openHostLog, prepareSocketDir, socketPath } from '../../host/paths.js';
import type { HostInfo, HostResponse, OutputChunk } from '../../host/protocol.js';
import type { HostServer } from '../../host/server.js';
import { ERA_NAMES } from '../../script/system.js';
import { CliError } from '../errors.js';
import { readScriptFile } from '../files.js';
import type { Io } from '../program.js';
import { parseUid, resolveWorkload } from './workload-run.js';

/** Exit with a status and nothing more to say (the command printed its own output). */
export function exitStatus(status: number): void {
  if (status !== 0) throw new CliError('', status);
}

/** Writes text to io line by line (io adds the newline), so stdout and stderr interleave in order. */
class LineWriter {
  private pending: Record<1 | 2, string> = { 1: '', 2: '' };
  constructor(private readonly io: Io) {}
  write(fd: 1 | 2, text: string): void {
    const other = fd === 1 ? 2 : 1;
    if (this.pending[other]) this.flush(other);
    let buf = this.pending[fd] + text;
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
      this.emit(fd, buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    this.pending[fd] = buf;
  }
  flush(fd?: 1 | 2): void {
    for (const f of fd ? [fd] : ([1, 2] as const)) {
      if (this.pending[f]) this.emit(f, this.pending[f]);
      this.pending[f] = '';
    }
  }
  private emit(fd: 1 | 2, line: string): void {
    if (fd === 1) this.io.out(line);
    else this.io.err(line);
  }
}

export interface ScriptRunCliOptions {
  era?: string;
  abi?: string;
  trace?: boolean;
  define?: string[];
  host?: boolean;
  socket?: string;
  /** --user UID: the program runs as this user. */
  user?: number;
}

function parseDefineOptions(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of list) {
    const i = d.indexOf('=');
    if (i <= 0) throw new CliError(`-D ${d}: expected NAME=VALUE`);
    out[d.slice(0, i)] = d.slice(i + 1);
  }
  return out;
}

function unreachable(path: string): CliError {
  return new CliError(`no ksmctl host on ${path} (start one with: ksmctl host start)`, 2);
}

/** `ksmctl run FILE`: the exit status. */
export async function scriptRun(file: string, opts: ScriptRunCliOptions, io: Io): Promise<number> {
  const source = readScriptFile(file);
  const defines = parseDefineOptions(opts.define);
  const w = new LineWriter(io);
  if (opts.host) {
    if (opts.era !== undefined || opts.abi !== undefined) throw new CliError('--era and --abi do not apply with --host: the host has its era (ksmctl host start --era ...)');
    if (opts.user !== undefined) throw new CliError('--user does not apply with --host (a script there runs as the host\'s root; use setuid() in the script)');
    const path = socketPath(opts.socket);
    let r: HostResponse;
    try {
      r = await hostRequest(path, { op: 'run', file, source, trace: opts.trace === true, defines });
    } catch (e) {
      if (e instanceof HostUnreachable) throw unreachable(path);
      throw e;
    }
    if (!r.ok) throw new CliError(`host: ${r.error}`, 2);
    for (const c of r.output ?? []) w.write(c.fd, c.text);
    w.flush();
    return r.status ?? 0;
  }
  // The parser (chevrotain and its lodash) loads only when a script runs: every other command starts faster.
  const { DefineError, runScript } = await import('../../script/run.js');
  let result;
  try {
    result = runScript(file, source, {
      era: opts.era,
      abi: opts.abi,
      trace: opts.trace === true,
      defines,
      uid: opts.user,
      sink: { trace: (line) => w.write(2, `${line}\n`), stdout: (t) => w.write(1, t), stderr: (t) => w.write(2, t) },
    });
  } catch (e) {
    if (e instanceof DefineError) throw new CliError(e.message, 2);
    throw e;
  }
  w.flush();
  if (result.error !== undefined) io.err(result.error);
  return result.status;
}

/** A legacy verb (`start`, `st`, `info`, ...): runs the era's ksmctl on the host; its exit status. */
export async function legacyVerb(word: string, args: string[], opts: { socket?: string }, io: Io): Promise<number> {
  const path = socketPath(opts.socket);
  let r: HostResponse;
  try {
    r = await hostRequest(path, { op: 'ksmctl', args: [word, ...args] });
  } catch (e) {
    if (e instanceof HostUnreachable) {
      // No simulated machine, so no /dev/ksm: what the original printed when the open failed.
      io.err('could not open /dev/ksm');
      return 1;
    }
    throw e;
  }
  if (!r.ok) throw new CliError(`host: ${r.error}`, 2);
  const w = new LineWriter(io);
  for (const c of r.output ?? []) w.write(c.fd, c.text);
  w.flush();
  return r.status ?? 0;
}

// ------------------------------------------------------------ the host

export interface HostStartOptions {
  era: string;
  abi?: string;
  clock: string;
  socket?: string;
  /** --allow-uid UID (repeatable): users served besides the host's own and root. */
  allowUid?: number[];
}

function hostArgs(spec: string | undefined, opts: HostStartOptions, path: string): string[] {
  const a = ['host', 'serve'];
  if (spec !== undefined) a.push(spec);
  a.push('--era', opts.era, '--clock', opts.clock, '--socket', path);
  if (opts.abi !== undefined) a.push('--abi', opts.abi);
  for (const u of opts.allowUid ?? []) a.push('--allow-uid', String(u));
  return a;
}

function describeHost(i: HostInfo): string {
  return `pid ${i.pid}, ${i.title}${i.workload ? `, workload ${i.workload}` : ''}, ${i.clock} clock, socket ${i.socket}`;
}

async function ping(path: string): Promise<HostInfo | null> {
  try {
    const r = await hostRequest(path, { op: 'ping' });
    return r.ok && r.info ? r.info : null;
  } catch (e) {
    if (e instanceof HostUnreachable) return null;
    throw e;
  }
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `ksmctl host start`: the host in the background, once it answers. */
export async function hostStart(spec: string | undefined, opts: HostStartOptions, io: Io): Promise<void> {
  const path = socketPath(opts.socket);
  // The runtime directory made 0700 and verified, before anything is read or written there.
  prepareSocketDir(path);
  const running = await ping(path);
  if (running !== null) throw new CliError(`a host is already running: ${describeHost(running)}`, 1);
  // Check the workload here, so a bad one is reported by this command.
  if (spec !== undefined) resolveWorkload(spec, existsSync);
  await clearStaleSocket(path, async (p) => (await ping(p)) !== null);
  const entry = fileURLToPath(new URL('../ksmctl.js', import.meta.url));
  const node = entry.endsWith('.ts') ? [process.execPath, '--import', 'tsx', entry] : [process.execPath, entry];
  const log = `${path}.log`;
  const fd = openHostLog(log);
  const child = spawn(node[0], [...node.slice(1), ...hostArgs(spec, opts, path)], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  for (let waited = 0; waited < 20_000; waited += 20) {
    const info = await ping(path);
    if (info !== null) {
      io.out(`host started: ${describeHost(info)}`);
      return;
    }
    if (exited !== null) break;
    await sleepMs(20);
  }
  let why = '';
  try {
    why = readFileSync(log, 'utf8').trim().split('\n').pop() ?? '';
  } catch {
    // no log
  }
  if (exited === null) child.kill();
  throw new CliError(`the host did not start${why ? `: ${why}` : ''} (log: ${log})`, 1);
}

/** `ksmctl host stop`: asks the host to stop and waits until it is gone. */
export async function hostStop(opts: { socket?: string }, io: Io): Promise<number> {
  const path = socketPath(opts.socket);
  let r: HostResponse;
  try {
    r = await hostRequest(path, { op: 'shutdown' });
  } catch (e) {
    if (e instanceof HostUnreachable) {
      io.err(`ksmctl: no host running on ${path}`);
      return 1;
    }
    throw e;
  }
  if (!r.ok) throw new CliError(`host: ${r.error}`, 2);
  const pid = r.info?.pid;
  for (let waited = 0; waited < 10_000; waited += 20) {
    if (pid === undefined || !alive(pid)) break;
    await sleepMs(20);
  }
  io.out(`host stopped: pid ${pid ?? '?'}`);
  return 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `ksmctl host status`: the host's era, clock, counters and processes. */
export async function hostStatus(opts: { socket?: string; json?: boolean }, io: Io): Promise<number> {
  const path = socketPath(opts.socket);
  let r: HostResponse;
  try {
    r = await hostRequest(path, { op: 'state' });
  } catch (e) {
    if (e instanceof HostUnreachable) {
      io.err(`ksmctl: no host running on ${path}`);
      return 1;
    }
    throw e;
  }
  if (!r.ok || r.state === undefined) throw new CliError(`host: ${r.ok ? 'no state' : r.error}`, 2);
  const s = r.state;
  if (opts.json) {
    io.out(JSON.stringify(s, null, 2));
    return 0;
  }
  const lines = [
    `host ${describeHost(s)}`,
    `virtual time ${(s.now / 1e6).toFixed(6)} s, ${s.fullScans} full scans, ${s.commands} commands`,
    ...s.ksmd.map((k, i) => `ksmd${s.ksmd.length > 1 ? ` ${i}` : ''}: ${k.wakeAt === null ? 'waiting' : `next batch at ${(k.wakeAt / 1e6).toFixed(6)} s`}, ${k.batches} batches`),
  ];
  const counters = Object.entries(s.counters);
  if (counters.length) lines.push(counters.map(([k, v]) => `${k} ${v}`).join(', '));
  lines.push(`processes: ${s.processes.filter((p) => p.alive).map((p) => `${p.pid} ${p.name}`).join(', ') || 'none'}`);
  io.out(lines.join('\n'));
  return 0;
}

/** `ksmctl host serve`: the host in the foreground (what `host start` runs). Resolves once it listens. */
export async function hostServe(spec: string | undefined, opts: HostStartOptions, io: Io): Promise<HostServer> {
  const path = socketPath(opts.socket);
  if (!(ERA_NAMES as readonly string[]).includes(opts.era)) throw new CliError(`unknown era "${opts.era}"`);
  if (opts.abi !== undefined && opts.era !== 'v1') throw new CliError(`--abi applies to --era v1 only`);
  if (spec !== undefined) resolveWorkload(spec, existsSync);
  // The machine runs in a worker thread, so SIGTERM and host stop end the host even mid-request (src/host/serve.ts).
  const { serveHost } = await import('../../host/serve.js');
  return serveHost({ workload: spec, era: opts.era, abi: opts.abi, clock: opts.clock, socket: path, allowUids: opts.allowUid }, (l) => io.out(l));
}

// ------------------------------------------------------------ wiring

/** Every prefix the original matched, and the verbs each runs (`s` and `st` run start, then stop). */
const VERB_WORDS = ['start', 'stop', 'info', 's', 'st', 'sta', 'star', 'sto', 'i', 'in', 'inf'];

const VERB_HELP: Record<string, string> = {
  start: 'ksmctl of 2009: start kksmd scanning (start NPAGES_TO_SCAN SLEEP; on a Nov 2008 host: start NPAGES_TO_SCAN MAX_PAGES_TO_MERGE SLEEP)',
  stop: 'ksmctl of 2009: stop kksmd',
  info: "ksmctl of 2009: print kksmd's settings",
};

/** Adds run, the legacy verbs and host to the program. */
export function addScriptCommands(program: Command, io: Io): void {
  const socketOpt = () => new Option('--socket <path>', 'the host socket (default: $KSMCTL_HOST, or host.sock in a per-user runtime directory)');

  program
    .command('run')
    .description('run a ksmctl script (C-like programs of 2008-2009 line for line; examples/scripts/)')
    .argument('<file>', 'script file')
    .addOption(new Option('--era <era>', "the kernel's era (default: the script's #pragma era, else v1 if it includes a ksm header, else v3)").choices([...ERA_NAMES]))
    .addOption(new Option('--abi <abi>', 'the /dev/ksm driver of --era v1: 2008 or 2009 (default: the script\'s, else 2009)').choices(['2008', '2009']))
    .option('--trace', 'print every simulated system call on stderr, strace style')
    .option('-D, --define <NAME=VALUE...>', "define NAME as VALUE (an expression), over the script's #define")
    .option('--host', 'run on the ksmctl host (ksmctl host start) instead of a fresh machine')
    .addOption(new Option('--user <uid>', 'run the program as this user (default 0, root): the era\'s permission checks apply').argParser(parseUid))
    .addOption(socketOpt())
    .action(async (file: string, opts: ScriptRunCliOptions) => exitStatus(await scriptRun(file, opts, io)));

  for (const word of VERB_WORDS) {
    const help = VERB_HELP[word];
    program
      .command(word, { hidden: help === undefined })
      .description(help ?? '')
      .argument('[args...]', 'the arguments of the original ksmctl')
      .addOption(socketOpt())
      .allowUnknownOption()
      .allowExcessArguments()
      .action(async (args: string[], opts: { socket?: string }) => exitStatus(await legacyVerb(word, args, opts, io)));
  }

  const host = program.command('host').description('a simulated machine that lives between commands, for the legacy verbs, run --host and live views');
  const hostOpts = (c: Command) =>
    c
      .argument('[workload]', 'a workload to boot into it (file, or builtin:NAME)')
      .addOption(new Option('--era <era>', "the host kernel's era").choices([...ERA_NAMES]).default('v1'))
      .addOption(new Option('--abi <abi>', 'the /dev/ksm driver of --era v1 (default 2009)').choices(['2008', '2009']))
      .addOption(new Option('--clock <mode>', 'real: virtual time follows the wall clock; manual: it moves only when a script sleeps or waits').choices(['real', 'manual']).default('real'))
      .addOption(new Option('--allow-uid <uid>', 'also serve this user (repeatable; by default only your uid and root may connect)').argParser((v: string, prev: number[] = []) => [...prev, parseUid(v)]))
      .addOption(socketOpt());
  hostOpts(host.command('start').description('start the host in the background'))
    .action(async (spec: string | undefined, opts: HostStartOptions) => hostStart(spec, opts, io));
  hostOpts(host.command('serve').description('run the host in the foreground (what host start runs)'))
    .action(async (spec: string | undefined, opts: HostStartOptions) => {
      await hostServe(spec, opts, io);
    });
  host
    .command('stop')
    .description('stop the host')
    .addOption(socketOpt())
    .action(async (opts: { socket?: string }) => exitStatus(await hostStop(opts, io)));
  host
    .command('status')
    .description("the host's era, virtual time, counters and processes")
    .option('--json', 'as JSON')
    .addOption(socketOpt())
    .action(async (opts: { socket?: string; json?: boolean }) => exitStatus(await hostStatus(opts, io)));
}

export { HostClient };
export type { OutputChunk };
