/**
 * The ksmctl host process: a machine served on a unix socket, JSON lines
 * each way (protocol.ts). Requests from every connection go through one
 * queue and run one at a time, each to its end, so two clients never see or
 * make a half-done command. A client that goes away mid-command changes
 * nothing: its command still runs whole, and only the answer is dropped; a
 * request cut off mid-line is ignored.
 *
 * Who may connect: every connection's peer credentials are read from the
 * kernel (SO_PEERCRED, peercred.ts); only the host's own uid, root, and the
 * uids it was started with (--allow-uid) are served, anyone else gets one
 * error line and is disconnected. The socket is made 0600 (and created under
 * a umask that keeps it so from the start).
 *
 * Nothing a client sends can take the host down or grow it without bound:
 * - a request line is scanned once (linear in its length) and at most
 *   MAX_REQUEST_LINE long; a longer one is answered and the client
 *   disconnected; a line that is not a JSON object, or a request out of its
 *   ranges, is answered with an error (requests.ts);
 * - each connection has at most one request in the queue: its socket is not
 *   read meanwhile, so a client that pipelines requests waits for them;
 * - replies to a client that does not read them are bounded: past
 *   REPLY_HIGH_WATER bytes unsent its requests wait for the socket to drain,
 *   and a client that has not drained within DRAIN_TIMEOUT_MS is
 *   disconnected;
 * - a connection made a call stream (`attach`: a real program's process,
 *   `ksmctl exec --host`, src/host/exec.ts) is relayed to the machine call
 *   by call; a call declaring more data than any call needs ends it;
 * - the work of a request runs in the engine (engine.ts: a worker thread in
 *   `ksmctl host`), within the request limits; `shutdown` and SIGTERM are
 *   handled here, at once, even while a request runs.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { type HostEngine, InlineEngine } from './engine.js';
import { DEFAULT_LIMITS, type RequestLimits } from './limits.js';
import type { HostMachine } from './machine.js';
import { loadPeerCred, type PeerCredOf, socketFd } from './peercred.js';
import type { HostInfo, HostRequest, HostResponse } from './protocol.js';
import { type Checked, checkRequest, MAX_REQUEST_LINE } from './requests.js';

export interface HostServerOptions {
  socket: string;
  /** The machine, run in this thread (tests); or give `engine`. */
  machine?: HostMachine;
  engine?: HostEngine;
  info: Omit<HostInfo, 'pid' | 'socket'>;
  /** Uids served besides the host's own and root's (--allow-uid). */
  allowUids?: readonly number[];
  /** How peer credentials are read (default: SO_PEERCRED through koffi; the host does not start without it). */
  peerCred?: PeerCredOf;
  /** The limits requests are checked against (default: the machine's, else DEFAULT_LIMITS). */
  limits?: Readonly<RequestLimits>;
  /** Called once the host has stopped (the process exits then). */
  onStop?: () => void;
}

/** Unsent reply bytes past which a connection's next request waits for the client to read. */
export const REPLY_HIGH_WATER = 1 << 20;
/** How long a client that does not read its replies is waited for before it is disconnected. */
export const DRAIN_TIMEOUT_MS = 30_000;
/** Connections held at once (idle ones included). */
export const MAX_CONNECTIONS = 4096;

/** One client's connection: its partial line, the lines read and not yet queued, and whether one of its requests is in the queue. */
interface Conn {
  s: Socket;
  /** Bytes of the line being read (chunks without a newline yet). */
  partial: Buffer[];
  partialBytes: number;
  lines: string[];
  busy: boolean;
  draining: boolean;
  /** The client's uid (SO_PEERCRED). */
  uid: number;
  /** Set once the connection is a call stream (attach): its stream id. */
  stream: number | null;
}

export class HostServer {
  private readonly server: Server;
  private readonly engine: HostEngine;
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopped = false;
  private readonly conns = new Set<Conn>();
  private readonly peerCred: PeerCredOf;
  private readonly allowed: Set<number>;
  private readonly limits: Readonly<RequestLimits>;
  /** The socket file this server made (its inode), so stop() removes that one and nothing else. */
  private socketIno: number | null = null;
  private nextStream = 1;

  constructor(private readonly opts: HostServerOptions) {
    // Without peer credentials the host would serve anyone who can reach the socket: it does not start.
    this.peerCred = opts.peerCred ?? loadPeerCred();
    const me = typeof process.geteuid === 'function' ? process.geteuid() : 0;
    this.allowed = new Set([me, 0, ...(opts.allowUids ?? [])]);
    this.limits = opts.limits ?? opts.machine?.limits ?? DEFAULT_LIMITS;
    if (opts.engine !== undefined) this.engine = opts.engine;
    else if (opts.machine !== undefined) this.engine = new InlineEngine(opts.machine, () => this.info);
    else throw new Error('HostServer: a machine or an engine is needed');
    this.engine.onLost = (why) => {
      process.stderr.write(`ksmctl host: ${why}\n`);
      this.stop();
    };
    this.server = createServer((s) => this.accept(s));
    // Connections held at once: past this, new ones are closed at once (each costs an fd and a little memory).
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  /** A shutdown was asked for (or SIGTERM came): no request is taken any more. */
  get isStopping(): boolean {
    return this.stopping;
  }

  get info(): HostInfo {
    return { ...this.opts.info, pid: process.pid, socket: this.opts.socket };
  }

  /** Listens (the caller cleared the path: paths.ts clearStaleSocket); the socket is 0600 from the start. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        process.umask(old);
        reject(e);
      };
      this.server.once('error', fail);
      // bind(2) happens within listen(): a umask of 0177 makes the socket 0600 before anyone can connect.
      const old = process.umask(0o177);
      this.server.listen(this.opts.socket, () => {
        this.server.off('error', fail);
        try {
          chmodSync(this.opts.socket, 0o600);
          this.socketIno = lstatSync(this.opts.socket).ino;
        } catch (e) {
          this.server.close();
          reject(e as Error);
          return;
        }
        resolve();
      });
      process.umask(old);
    });
  }

  private accept(s: Socket): void {
    if (this.stopping) {
      s.destroy();
      return;
    }
    const deny = (why: string) => {
      s.on('error', () => {});
      s.end(`${JSON.stringify({ id: -1, ok: false, error: why })}\n`);
      setTimeout(() => s.destroy(), 1000).unref();
    };
    const fd = socketFd(s);
    let uid: number;
    try {
      if (fd === null) throw new Error('no fd');
      uid = this.peerCred(fd).uid;
    } catch {
      deny('permission denied: the host cannot tell who is connecting (SO_PEERCRED)');
      return;
    }
    if (!this.allowed.has(uid)) {
      deny(`permission denied: uid ${uid} may not use this host (it serves uid ${[...this.allowed].join(', ')}; ksmctl host start --allow-uid UID adds one)`);
      return;
    }
    const c: Conn = { s, partial: [], partialBytes: 0, lines: [], busy: false, draining: false, uid, stream: null };
    this.conns.add(c);
    s.on('data', (d: Buffer) => {
      if (c.stream !== null) this.engine.streamData(c.stream, d);
      else this.read(c, d);
    });
    s.on('error', () => {});
    s.on('close', () => {
      this.conns.delete(c);
      c.lines = [];
      if (c.stream !== null) this.engine.closeStream(c.stream);
    });
  }

  /** New bytes of a connection: complete lines are taken (each newline found once: linear), then the connection is served. */
  private read(c: Conn, d: Buffer): void {
    let from = 0;
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, from)) {
      const piece = d.subarray(from, i);
      const line = c.partialBytes === 0 ? piece.toString('utf8') : Buffer.concat([...c.partial, piece]).toString('utf8');
      c.partial = [];
      c.partialBytes = 0;
      from = i + 1;
      if (line.trim() !== '') c.lines.push(line);
    }
    if (from < d.length) {
      c.partial.push(d.subarray(from));
      c.partialBytes += d.length - from;
      if (c.partialBytes > MAX_REQUEST_LINE) {
        c.partial = [];
        c.lines = [];
        c.s.pause();
        c.s.end(`${JSON.stringify({ id: -1, ok: false, error: `a request line is at most ${MAX_REQUEST_LINE >> 20} MiB: disconnected` })}\n`);
        setTimeout(() => c.s.destroy(), 1000).unref();
        return;
      }
    }
    this.pump(c);
  }

  /** Queues the connection's next line unless one is queued or its replies wait to be read; reads on when it has none left. */
  private pump(c: Conn): void {
    if (c.busy || c.draining || c.s.destroyed) return;
    const line = c.lines.shift();
    if (line === undefined) {
      c.s.resume();
      return;
    }
    // One request of this connection at a time: the rest wait in the socket, not in the host.
    c.s.pause();
    c.busy = true;
    const checked = this.check(line);
    if (!checked.ok || checked.req.op === 'ping' || checked.req.op === 'shutdown' || this.stopping) {
      // Refusals, ping and shutdown are answered at once, ahead of the queue (even while a request runs).
      const r = checked.ok ? this.handle(checked.req) : Promise.resolve(checked.reply);
      void r.then((x) => this.reply(c, x));
      return;
    }
    const req = checked.req;
    if (req.op === 'attach') {
      this.attach(c, req);
      return;
    }
    this.queue = this.queue.then(async () => {
      const r = await this.handle(req);
      this.reply(c, r);
    });
  }

  private reply(c: Conn, r: HostResponse): void {
    c.busy = false;
    if (c.s.destroyed || !c.s.writable) return;
    c.s.write(`${JSON.stringify(r)}\n`);
    if (c.s.writableLength > REPLY_HIGH_WATER) {
      // Backpressure: this client's next request waits until it reads; a client that never does is let go.
      c.draining = true;
      const timer = setTimeout(() => c.s.destroy(), DRAIN_TIMEOUT_MS);
      timer.unref();
      c.s.once('drain', () => {
        clearTimeout(timer);
        c.draining = false;
        this.pump(c);
      });
      return;
    }
    this.pump(c);
  }

  /**
   * `attach`: the connection becomes a call stream of a real program's
   * process (src/host/exec.ts), its bytes relayed to the machine and back
   * from then on; whatever the client sent before the answer is dropped.
   * Not queued: each call is one message to the machine, which runs them
   * one at a time between the other requests.
   */
  private attach(c: Conn, req: Extract<HostRequest, { op: 'attach' }>): void {
    const id = this.nextStream++;
    const { run, era, endOnPause, settleSeconds } = req;
    void this.engine
      .openStream(
        id,
        { run, era, endOnPause, settleSeconds },
        c.uid,
        (b) => {
          if (!c.s.destroyed) c.s.write(b);
        },
        () => c.s.destroy(),
      )
      .then((error) => {
        c.busy = false;
        if (error !== null) {
          this.reply(c, { id: req.id, ok: false, error });
          return;
        }
        if (c.s.destroyed) {
          this.engine.closeStream(id);
          return;
        }
        c.lines = [];
        c.partial = [];
        c.partialBytes = 0;
        c.stream = id;
        c.s.write(`${JSON.stringify({ id: req.id, ok: true })}\n`);
        c.s.resume();
      });
  }

  /** A request line parsed and checked: the request, or the reply that refuses it. */
  private check(line: string): Checked {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return { ok: false, reply: { id: -1, ok: false, error: 'not a JSON request' } };
    }
    return checkRequest(raw, this.limits);
  }

  /** A checked request. */
  async handle(req: HostRequest): Promise<HostResponse> {
    const id = req.id;
    if (this.stopping) return { id, ok: false, error: 'the host is stopping' };
    switch (req.op) {
      case 'ping':
        return { id, ok: true, info: this.info };
      case 'shutdown':
        this.stopping = true;
        setImmediate(() => this.stop());
        return { id, ok: true, info: this.info };
      default:
        return this.engine.request(req);
    }
  }

  /**
   * Stops at once, even in the middle of a request (its client gets no
   * answer): `shutdown` arrives on its own connection and is answered here
   * ahead of the queue, as SIGTERM is. Closes the connections, ends the
   * engine and removes the socket file (the one it made, nothing else).
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping = true;
    this.server.close();
    for (const c of this.conns) {
      c.s.end();
      setTimeout(() => c.s.destroy(), 200).unref();
    }
    try {
      if (this.socketIno !== null && lstatSync(this.opts.socket).ino === this.socketIno) unlinkSync(this.opts.socket);
    } catch {
      // already gone
    }
    void this.engine.close().finally(() => this.opts.onStop?.());
  }

}
