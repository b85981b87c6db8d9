/**
 * A client of the ksmctl host: connect to its socket, send one request,
 * read its response. Used by the legacy verbs, `ksmctl run --host`,
 * `ksmctl host ...`, and any live view that attaches to a host.
 */
import { connect, type Socket } from 'node:net';
import type { HostRequest, HostResponse } from './protocol.js';

/** Not reachable: no socket, or nobody listening on it. */
export class HostUnreachable extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`no ksmctl host on ${path} (${code})`);
  }
}

type RequestBody = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class HostClient {
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<number, (r: HostResponse) => void>();
  private closedError: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      for (let i = this.buffer.indexOf('\n'); i !== -1; i = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        if (line.trim() === '') continue;
        const r = JSON.parse(line) as HostResponse;
        const w = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        w?.(r);
      }
    });
    const fail = (e: Error) => {
      this.closedError = e;
      for (const w of this.waiting.values()) w({ id: -1, ok: false, error: e.message });
      this.waiting.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the host closed the connection')));
  }

  /** Connects; rejects with HostUnreachable when nobody listens there. */
  static connect(path: string, timeoutMs = 2000): Promise<HostClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new HostUnreachable(path, 'ETIMEDOUT'));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(new HostClient(s, path));
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new HostUnreachable(path, e.code ?? 'ERROR'));
      });
    });
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

/** One request on a fresh connection. */
export async function hostRequest(path: string, body: RequestBody): Promise<HostResponse> {
  const c = await HostClient.connect(path);
  try {
    return await c.request(body);
  } finally {
    c.close();
  }
}
