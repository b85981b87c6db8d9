/**
 * `ksmctl host`: a simulated machine of any era that lives between
 * commands, for the legacy verbs, `run --host` and live views.
 *
 *   ksmctl host start [WORKLOAD] [--era E] [--clock real|manual]
 *   ksmctl host stop | host status [--json] | host serve
 *
 * `--era` takes every spelling of the era registry (`v1:2008` ... `v3:6.18`,
 * and the old `--era v1 --abi 2009`, `--era v3 --kernel 6.18`); the default
 * is v1, with v1's one default ABI. `host start` runs `host serve` in the
 * background and returns once it answers.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { type EraEntry, EraInputError, ERA_OPTION_HELP, parseEra } from '../../eras/registry.js';
import { describeHost, hostRequest, HostUnreachable, pingHost } from '../../host/client.js';
import { clearStaleSocket, openHostLog, prepareSocketDir, socketPath } from '../../host/paths.js';
import type { HostResponse } from '../../host/protocol.js';
import type { HostServer } from '../../host/server.js';
import { KERNEL_VERSIONS } from '../../v3-sysfs/kernels.js';
import { CliError, exitStatus } from '../errors.js';
import type { Io } from '../io.js';
import { parseUid, resolveWorkload } from './workload-run.js';
import { checkWorkloadMemory, FORCE_MEMORY_HELP } from '../memory-guard.js';

/** The --socket option of every command that talks to the host. */
export function socketOption(): Option {
  return new Option('--socket <path>', 'the host socket (default: $KSMCTL_HOST, or host.sock in a per-user runtime directory)');
}

/** No host answered on `path`. */
export function unreachable(path: string): CliError {
  return new CliError(`no ksmctl host on ${path} (start one with: ksmctl host start)`, 2);
}

export interface HostStartOptions {
  era: string;
  abi?: string;
  kernel?: string;
  clock: string;
  socket?: string;
  /** --allow-uid UID (repeatable): users served besides the host's own and root. */
  allowUid?: number[];
  /** Past the memory guard (src/cli/memory-guard.ts). */
  forceMemory?: boolean;
}

/** The host's era: `--era` with the old `--abi` / `--kernel`, as the registry reads them. */
export function hostEra(opts: HostStartOptions): EraEntry {
  try {
    return parseEra(opts.era, { abi: opts.abi, kernel: opts.kernel });
  } catch (e) {
    if (e instanceof EraInputError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** `host serve`'s arguments: the era as its one registry id. */
function hostArgs(spec: string | undefined, opts: HostStartOptions, path: string): string[] {
  const a = ['host', 'serve'];
  if (spec !== undefined) a.push(spec);
  a.push('--era', hostEra(opts).id, '--clock', opts.clock, '--socket', path);
  for (const u of opts.allowUid ?? []) a.push('--allow-uid', String(u));
  if (opts.forceMemory === true) a.push('--force-memory');
  return a;
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `ksmctl host start`: the host in the background, once it answers. */
export async function hostStart(spec: string | undefined, opts: HostStartOptions, io: Io): Promise<void> {
  const path = socketPath(opts.socket);
  // Check the era and the workload here, so a bad one is reported by this command.
  const era = hostEra(opts);
  if (spec !== undefined) checkWorkloadMemory(spec, resolveWorkload(spec, existsSync), [era.id], { force: opts.forceMemory });
  // The runtime directory made 0700 and verified, before anything is read or written there.
  prepareSocketDir(path);
  const running = await pingHost(path);
  if (running !== null) throw new CliError(`a host is already running: ${describeHost(running)}`, 1);
  await clearStaleSocket(path, async (p) => (await pingHost(p)) !== null);
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
    const info = await pingHost(path);
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
  // The host is gone: its log (what it wrote to stdout and stderr) goes with it; a host still alive keeps it.
  if (pid !== undefined && !alive(pid)) removeHostLog(`${path}.log`);
  io.out(`host stopped: pid ${pid ?? '?'}`);
  return 0;
}

/** Removes the host's log if it is a regular file of ours, as host start made it; anything else stays. */
function removeHostLog(log: string): void {
  try {
    const st = lstatSync(log);
    if (st.isFile() && st.uid === (process.getuid?.() ?? st.uid)) unlinkSync(log);
  } catch {
    // Not there, or not ours to remove.
  }
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
  const era = hostEra(opts);
  if (spec !== undefined) checkWorkloadMemory(spec, resolveWorkload(spec, existsSync), [era.id], { force: opts.forceMemory });
  // The machine runs in a worker thread, so SIGTERM and host stop end the host even mid-request (src/host/serve.ts).
  const { serveHost } = await import('../../host/serve.js');
  return serveHost({ workload: spec, era: era.id, clock: opts.clock, socket: path, allowUids: opts.allowUid }, (l) => io.out(l));
}

/** Adds `host start|serve|stop|status` to the program. */
export function addHostCommands(program: Command, io: Io): void {
  const host = program.command('host').description('a simulated machine that lives between commands, for the legacy verbs, run --host and live views');
  const hostOpts = (c: Command) =>
    c
      .argument('[workload]', 'a workload to boot into it (file, or builtin:NAME)')
      .addOption(new Option('--era <era>', ERA_OPTION_HELP).default('v1'))
      .addOption(new Option('--abi <abi>', 'the old spelling of v1:2008 / v1:2009: --era v1 --abi 2009').choices(['2008', '2009']))
      .addOption(new Option('--kernel <version>', 'the old spelling of v3:VERSION: --era v3 --kernel 6.18').choices(KERNEL_VERSIONS))
      .addOption(new Option('--clock <mode>', 'real: virtual time follows the wall clock; manual: it moves only when a script sleeps or waits').choices(['real', 'manual']).default('real'))
      .addOption(new Option('--allow-uid <uid>', 'also serve this user (repeatable; by default only your uid and root may connect)').argParser((v: string, prev: number[] = []) => [...prev, parseUid(v)]))
      .addOption(socketOption())
      .option('--force-memory', FORCE_MEMORY_HELP);
  hostOpts(host.command('start').description('start the host in the background'))
    .action(async (spec: string | undefined, opts: HostStartOptions) => hostStart(spec, opts, io));
  hostOpts(host.command('serve').description('run the host in the foreground (what host start runs)'))
    .action(async (spec: string | undefined, opts: HostStartOptions) => {
      await hostServe(spec, opts, io);
    });
  host
    .command('stop')
    .description('stop the host')
    .addOption(socketOption())
    .action(async (opts: { socket?: string }) => exitStatus(await hostStop(opts, io)));
  host
    .command('status')
    .description("the host's era, virtual time, counters and processes")
    .option('--json', 'as JSON')
    .addOption(socketOption())
    .action(async (opts: { socket?: string; json?: boolean }) => exitStatus(await hostStatus(opts, io)));
}
