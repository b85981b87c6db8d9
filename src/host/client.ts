/**
 * A client of the ksmctl host: connect to its socket, send one request,
 * read its response. Used by the legacy verbs, `ksmctl run --host`,
 * `ksmctl host ...`, and any live view that attaches to a host.
 *
 * The client trusts only a host it has reason to: the default runtime
 * directory must be the caller's own (paths.ts), and the process serving
 * the socket must run as the caller or as root (its SO_PEERCRED, when koffi
 * loads). Whatever comes back is checked: a reply that is not a JSON
 * object with an id ends the connection with a clear error (never a stack
 * trace), and the host's messages are printed without control characters.
 */
import { connect, type Socket } from 'node:net';
import { CliError } from '../cli/errors.js';
import { checkClientPath } from './paths.js';
import { loadPeerCred, type PeerCredOf, socketFd } from './peercred.js';
import type { HostInfo, HostRequest, HostResponse } from './protocol.js';

/** Not reachable: no socket, or nobody listening on it. */
export class HostUnreachable extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`no ksmctl host on ${path} (${code})`);
  }
}

/** A socket the client will not talk to (served by a stranger): one line, exit 2. */
export class HostUntrusted extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'HostUntrusted';
  }
}

/** The longest reply line a client reads (a view with the page states of a 2^26-page process is about 90 MB). */
const MAX_REPLY_LINE = 256 << 20;

type RequestBody = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** Text from the host as a terminal may show it: control characters (escapes) replaced, newlines and tabs kept. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

function peerCredOrNull(): PeerCredOf | null {
  try {
    return loadPeerCred();
  } catch {
    // Without koffi the client cannot check; the runtime directory's checks still hold.
    return null;
  }
}

function isResponse(v: unknown): v is HostResponse {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { id?: unknown }).id === 'number' && typeof (v as { ok?: unknown }).ok === 'boolean';
}

/** A response made safe to print: error text and the host's names without control characters. */
function clean(r: HostResponse): HostResponse {
  if (!r.ok) return { ...r, error: printable(String(r.error)) };
  if (r.info !== undefined) r.info = { ...r.info, title: printable(String(r.info.title)), workload: r.info.workload === null ? null : printable(String(r.info.workload)) };
  return r;
}

export class HostClient {
  private nextId = 1;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private readonly waiting = new Map<number, (r: HostResponse) => void>();
  private closedError: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    const fail = (e: Error) => {
      if (this.closedError === null) this.closedError = e;
      for (const w of this.waiting.values()) w({ id: -1, ok: false, error: this.closedError.message });
      this.waiting.clear();
    };
    const malformed = (why: string) => {
      fail(new Error(`the host sent a malformed reply (${why})`));
      socket.destroy();
    };
    socket.on('data', (d: Buffer) => {
      let from = 0;
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, from)) {
        const piece = d.subarray(from, i);
        const line = this.partialBytes === 0 ? piece.toString('utf8') : Buffer.concat([...this.partial, piece]).toString('utf8');
        this.partial = [];
        this.partialBytes = 0;
        from = i + 1;
        if (line.trim() === '') continue;
        let r: unknown;
        try {
          r = JSON.parse(line);
        } catch {
          return malformed('not JSON');
        }
        if (!isResponse(r)) return malformed('not a response object');
        const w = this.waiting.get(r.id);
        if (w === undefined) {
          // A refusal the host sends before closing (id -1): it answers whatever is waiting.
          if (r.id === -1 && !r.ok) fail(new Error(printable(String(r.error))));
          continue;
        }
        this.waiting.delete(r.id);
        w(clean(r));
      }
      if (from < d.length) {
        this.partial.push(d.subarray(from));
        this.partialBytes += d.length - from;
        if (this.partialBytes > MAX_REPLY_LINE) malformed(`a line over ${MAX_REPLY_LINE >> 20} MiB`);
      }
    });
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the host closed the connection')));
  }

  /**
   * Connects; rejects with HostUnreachable when nobody listens there, and
   * with HostUntrusted when the socket's directory or its server is not the
   * caller's (or root's).
   */
  static async connect(path: string, timeoutMs = 2000): Promise<HostClient> {
    return new HostClient(await connectTrusted(path, timeoutMs), path);
  }

  request(body: RequestBody): Promise<HostResponse> {
    if (this.closedError) return Promise.resolve({ id: -1, ok: false, error: this.closedError.message });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  /** Drops the connection at once (tests: a client that goes away mid-command). */
  destroy(): void {
    this.socket.destroy();
  }
}

/** One attempt at a connection whose server is the caller or root. */
function connectOnce(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new HostUnreachable(path, 'ETIMEDOUT'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      const pc = peerCredOrNull();
      const fd = socketFd(s);
      if (pc !== null && fd !== null) {
        const me = typeof process.geteuid === 'function' ? process.geteuid() : 0;
        let uid: number;
        try {
          uid = pc(fd).uid;
        } catch {
          s.destroy();
          reject(new HostUntrusted(`cannot tell who serves ${path} (SO_PEERCRED): not talking to it`));
          return;
        }
        if (uid !== me && uid !== 0) {
          s.destroy();
          reject(new HostUntrusted(`${path} is served by uid ${uid}, not by you (uid ${me}) or root: not talking to it`));
          return;
        }
      }
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new HostUnreachable(path, e.code ?? 'ERROR'));
    });
  });
}

/**
 * A connection to the host on `path`; rejects with HostUnreachable when
 * nobody listens there, and with HostUntrusted when the socket's directory
 * or its server is not the caller's (or root's).
 */
async function connectTrusted(path: string, timeoutMs: number): Promise<Socket> {
  checkClientPath(path);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connectOnce(path, Math.max(1, deadline - Date.now()));
    } catch (e) {
      // EAGAIN: the host's listen backlog is full (it has not accepted yet), not "nobody listens": try again while time is left.
      if (!(e instanceof HostUnreachable && e.code === 'EAGAIN') || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * A call stream (`ksmctl exec --host`): a connection that sent `attach`
 * and was answered; from then on it carries the exec wire format
 * (src/exec/protocol.ts) both ways. Rejects with the host's refusal as a
 * one-line error (exit 2).
 */
export async function openCallStream(path: string, body: Omit<Extract<HostRequest, { op: 'attach' }>, 'id'>): Promise<Socket> {
  const s = await connectTrusted(path, 2000);
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const done = (e: Error | null) => {
      s.off('data', onData);
      s.off('close', onClose);
      if (e === null) resolve(s);
      else {
        s.destroy();
        reject(e);
      }
    };
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const nl = got.indexOf(10);
      if (nl < 0) {
        if (got.length > 1 << 16) done(new CliError('host: a malformed answer to attach', 2));
        return;
      }
      let r: unknown;
      try {
        r = JSON.parse(got.subarray(0, nl).toString('utf8'));
      } catch {
        return done(new CliError('host: a malformed answer to attach (not JSON)', 2));
      }
      if (!isResponse(r)) return done(new CliError('host: a malformed answer to attach', 2));
      if (!r.ok) return done(new CliError(`host: ${printable(String(r.error))}`, 2));
      s.pause();
      if (got.length > nl + 1) s.unshift(got.subarray(nl + 1));
      done(null);
    };
    const onClose = () => done(new CliError('host: the host closed the connection', 2));
    s.on('data', onData);
    s.on('close', onClose);
    s.write(`${JSON.stringify({ ...body, id: 1 })}\n`);
  });
}


/** One request on a fresh connection. */
export async function hostRequest(path: string, body: RequestBody): Promise<HostResponse> {
  const c = await HostClient.connect(path);
  try {
    return await c.request(body);
  } finally {
    c.close();
  }
}

/** The host's info when one answers a ping on `path`, or null when nobody listens there. */
export async function pingHost(path: string): Promise<HostInfo | null> {
  try {
    const r = await hostRequest(path, { op: 'ping' });
    return r.ok && r.info ? r.info : null;
  } catch (e) {
    if (e instanceof HostUnreachable) return null;
    throw e;
  }
}

/** A host in one line: `pid 123, v1:2008: ..., manual clock, socket /run/...`. */
export function describeHost(i: HostInfo): string {
  return `pid ${i.pid}, ${i.title}${i.workload ? `, workload ${i.workload}` : ''}, ${i.clock} clock, socket ${i.socket}`;
}
