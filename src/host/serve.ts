/**
 * `ksmctl host serve` (what `host start` runs in the background): checks
 * that connections can be checked (SO_PEERCRED through koffi, else the host
 * does not start), prepares the socket's directory (paths.ts), boots the
 * machine in its worker (engine.ts), listens, and stops on SIGTERM, SIGINT
 * or SIGHUP at once, even in the middle of a request.
 */
import { CliError } from '../cli/errors.js';
import { describeHost, pingHost } from './client.js';
import { WorkerEngine } from './engine.js';
import { DEFAULT_LIMITS, type RequestLimits } from './limits.js';
import { clearStaleSocket, prepareSocketDir } from './paths.js';
import { loadPeerCred, PeerCredUnavailable, type PeerCredOf } from './peercred.js';
import { HostServer } from './server.js';

export interface ServeOptions {
  workload?: string;
  era: string;
  abi?: string;
  clock: string;
  socket: string;
  /** Uids served besides the host's own and root's. */
  allowUids?: number[];
  limits?: Partial<RequestLimits>;
}

/** Starts serving; resolves once the host listens. Errors are one line (CliError). */
export async function serveHost(o: ServeOptions, out: (line: string) => void, deps: { loadPeerCred: () => PeerCredOf } = { loadPeerCred }): Promise<HostServer> {
  let peerCred: PeerCredOf;
  try {
    peerCred = deps.loadPeerCred();
  } catch (e) {
    const why = e instanceof PeerCredUnavailable ? e.message : new PeerCredUnavailable((e as Error).message).message;
    throw new CliError(`${why}: the host does not start without it`, 1);
  }
  prepareSocketDir(o.socket);
  const running = await pingHost(o.socket);
  if (running !== null) throw new CliError(`a host is already running: ${describeHost(running)}`, 1);
  await clearStaleSocket(o.socket, async (p) => (await pingHost(p)) !== null);
  let engine: WorkerEngine;
  try {
    engine = await WorkerEngine.start({ era: o.era, abi: o.abi, clock: o.clock, workload: o.workload, limits: o.limits, pid: process.pid, socket: o.socket });
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  const { pid: _pid, socket: _socket, ...info } = engine.info;
  const server = new HostServer({
    socket: o.socket,
    engine,
    info,
    allowUids: o.allowUids,
    peerCred,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    onStop: () => setImmediate(() => process.exit(0)),
  });
  try {
    await server.listen();
  } catch (e) {
    await engine.close();
    throw new CliError(`cannot listen on ${o.socket}: ${(e as Error).message}`, 1);
  }
  const stop = () => server.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('SIGHUP', stop);
  out(`ksmctl host listening: ${describeHost(server.info)}`);
  return server;
}
