/**
 * The ksmctl host process: a HostMachine served on a unix socket, JSON
 * lines each way (protocol.ts). Requests from every connection go through
 * one queue and run one at a time, each synchronously to its end, so two
 * clients never see or make a half-done command. A client that goes away
 * mid-command changes nothing: its command still runs whole, and only the
 * answer is dropped; a request cut off mid-line is ignored.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { VIEW_ACTIONS } from '../session/kernel-view.js';
import { type HostMachine, HostRefusal } from './machine.js';
import type { HostInfo, HostRequest, HostResponse, ViewRequest } from './protocol.js';

export interface HostServerOptions {
  socket: string;
  machine: HostMachine;
  info: Omit<HostInfo, 'pid' | 'socket'>;
  /** Called once the host has stopped (the process exits then). */
  onStop?: () => void;
}

/** Longest request line accepted (a script's source travels in one line). */
const MAX_LINE = 16 << 20;

export class HostServer {
  private readonly server: Server;
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: HostServerOptions) {
    this.server = createServer((s) => this.accept(s));
  }

  get info(): HostInfo {
    return { ...this.opts.info, pid: process.pid, socket: this.opts.socket };
  }

  /** Listens; a stale socket file (nobody listening) is replaced. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.socket, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private accept(s: Socket): void {
    this.sockets.add(s);
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      if (buf.length > MAX_LINE) {
        s.destroy();
        return;
      }
      for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim() !== '') this.enqueue(s, line);
      }
    });
    s.on('error', () => {});
    s.on('close', () => this.sockets.delete(s));
  }

  private enqueue(s: Socket, line: string): void {
    this.queue = this.queue.then(() => {
      let req: HostRequest;
      try {
        req = JSON.parse(line) as HostRequest;
      } catch {
        this.reply(s, { id: -1, ok: false, error: 'not a JSON request' });
        return;
      }
      this.reply(s, this.handle(req));
    });
  }

  private reply(s: Socket, r: HostResponse): void {
    if (!s.destroyed && s.writable) s.write(`${JSON.stringify(r)}\n`);
  }

  /** One request, run to its end. */
  handle(req: HostRequest): HostResponse {
    const m = this.opts.machine;
    const id = typeof req.id === 'number' ? req.id : -1;
    if (this.stopping) return { id, ok: false, error: 'the host is stopping' };
    try {
      switch (req.op) {
        case 'ping':
          return { id, ok: true, info: this.info };
        case 'state':
          return { id, ok: true, state: { ...this.info, ...m.state() } };
        case 'ksmctl': {
          if (!Array.isArray(req.args) || !req.args.every((a) => typeof a === 'string')) return { id, ok: false, error: 'ksmctl: args must be strings' };
          const r = m.ksmctl(req.args);
          return { id, ok: true, output: r.output, status: r.status };
        }
        case 'run': {
          if (typeof req.source !== 'string' || typeof req.file !== 'string') return { id, ok: false, error: 'run: file and source are required' };
          const r = m.run(req.file, req.source, req.trace === true, req.defines);
          return { id, ok: true, output: r.output, status: r.status };
        }
        case 'sleep':
          if (typeof req.micros !== 'number' || !(req.micros >= 0)) return { id, ok: false, error: 'sleep: micros must be a number >= 0' };
          m.sleep(req.micros);
          return { id, ok: true };
        case 'view': {
          const bad = badViewRequest(req);
          if (bad) return { id, ok: false, error: `view: ${bad}` };
          return { id, ok: true, view: m.viewState(req) };
        }
        case 'control': {
          if (!VIEW_ACTIONS.includes(req.action)) return { id, ok: false, error: `control: unknown action ${JSON.stringify(req.action)} (${VIEW_ACTIONS.join(', ')})` };
          const needsValue = req.action === 'pagesToScan' || req.action === 'sleep' || req.action === 'advance';
          if (needsValue && !isCount(req.value)) return { id, ok: false, error: `control ${req.action}: value must be an integer >= 0` };
          if (req.maxBatches !== undefined && !(isCount(req.maxBatches) && req.maxBatches > 0)) return { id, ok: false, error: 'control: maxBatches must be an integer > 0' };
          const bad = badViewRequest(req);
          if (bad) return { id, ok: false, error: `control: ${bad}` };
          const r = m.control(req.action, req.value, req.maxBatches, req);
          return { id, ok: true, calls: r.calls, batches: r.batches, view: r.view };
        }
        case 'shutdown':
          this.stopping = true;
          setImmediate(() => this.stop());
          return { id, ok: true, info: this.info };
        default:
          return { id, ok: false, error: `unknown op ${JSON.stringify((req as { op?: unknown }).op)}` };
      }
    } catch (e) {
      if (e instanceof HostRefusal) return { id, ok: false, error: e.message };
      // A bug in the simulation must not take the host down with a half-told story.
      return { id, ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  /** Stops listening, closes the connections, removes the socket file. */
  stop(): void {
    this.stopping = true;
    this.server.close();
    for (const s of this.sockets) s.end();
    try {
      if (existsSync(this.opts.socket)) unlinkSync(this.opts.socket);
    } catch {
      // already gone
    }
    this.opts.onStop?.();
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** What is wrong with a view request's fields, or null. */
function badViewRequest(r: ViewRequest): string | null {
  if (r.pid !== undefined && !isCount(r.pid)) return 'pid must be an integer >= 0';
  if (r.since !== undefined && !isCount(r.since)) return 'since must be an integer >= 0';
  if (r.limit !== undefined && !isCount(r.limit)) return 'limit must be an integer >= 0';
  return null;
}
