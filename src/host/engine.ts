/**
 * Where the host's machine runs. The server (server.ts) reads the socket,
 * checks each request and hands it to an engine, one at a time:
 *
 * - `WorkerEngine` (what `ksmctl host` runs): the machine lives in a worker
 *   thread. The server's thread stays free while a request runs, so
 *   SIGTERM and `host stop` end the host even in the middle of a long
 *   request (the worker is terminated), and a worker that runs out of heap
 *   dies alone: the host answers, says why, and stops cleanly.
 * - `InlineEngine` (tests): the machine in the server's own thread; a
 *   request runs to its end before anything else.
 */
import { Worker } from 'node:worker_threads';
import type { ExecAttach } from './exec.js';
import type { RequestLimits } from './limits.js';
import type { HostMachine } from './machine.js';
import type { HostInfo, HostRequest, HostResponse } from './protocol.js';
import { runDetach, runRequest } from './requests.js';

export interface HostEngine {
  /** Runs a checked request on the machine. Never rejects: a lost machine is an error reply. */
  request(req: HostRequest): Promise<HostResponse>;
  /** Ends the machine (terminates the worker). */
  close(): Promise<void>;
  /** Opens call stream `id` of a client of `uid` (exec --host, src/host/exec.ts): null, or why it is refused. `out` sends bytes back; `end` ends the connection. */
  openStream(id: number, a: ExecAttach, uid: number, out: (b: Buffer) => void, end: () => void): Promise<string | null>;
  /** Bytes a stream's client sent. */
  streamData(id: number, chunk: Buffer): void;
  /** A stream's connection closed. */
  closeStream(id: number): void;
  /** Called once if the machine is lost (the worker died): the host should stop. */
  onLost?: (why: string) => void;
}

export class InlineEngine implements HostEngine {
  onLost?: (why: string) => void;
  constructor(
    private readonly machine: HostMachine,
    private readonly info: () => HostInfo,
  ) {}

  request(req: HostRequest): Promise<HostResponse> {
    if (req.op === 'detach') return runDetach(this.machine, req);
    return Promise.resolve(runRequest(this.machine, req, this.info(), this.machine.limits));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  openStream(id: number, a: ExecAttach, uid: number, out: (b: Buffer) => void, end: () => void): Promise<string | null> {
    return Promise.resolve(this.machine.exec.open(id, a, uid, out, end));
  }

  streamData(id: number, chunk: Buffer): void {
    this.machine.exec.data(id, chunk);
  }

  closeStream(id: number): void {
    this.machine.exec.close(id);
  }
}

/** What the worker is started with. */
export interface HostWorkerData {
  era: string;
  abi?: string;
  clock: string;
  /** The workload to boot (a file or builtin:NAME), resolved in the worker. */
  workload?: string;
  limits?: Partial<RequestLimits>;
  /** The host's pid and socket, for the info it answers. */
  pid: number;
  socket: string;
}

export type WorkerMessage =
  | { type: 'ready'; info: HostInfo }
  | { type: 'failed'; error: string }
  | { type: 'reply'; seq: number; res: HostResponse }
  | { type: 'opened'; seq: number; error: string | null }
  | { type: 'out'; id: number; data: Uint8Array }
  | { type: 'end'; id: number };

/** What the server's thread sends the worker. */
export type EngineMessage =
  | { type: 'request'; seq: number; req: HostRequest }
  | { type: 'open'; seq: number; id: number; attach: ExecAttach; uid: number }
  | { type: 'data'; id: number; data: Uint8Array }
  | { type: 'close'; id: number };

/** The heap the worker may use: a machine past it is lost, not the host process. */
const WORKER_HEAP_MB = 4096;

function startWorker(data: HostWorkerData): Worker {
  const opts = { workerData: data, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), opts);
  // Under tsx (tests): worker.ts behind tsx's loader, which a worker thread does not inherit.
  const url = new URL('./worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { ...opts, eval: true });
}

export class WorkerEngine implements HostEngine {
  onLost?: (why: string) => void;
  private seq = 0;
  private readonly waiting = new Map<number, (r: HostResponse) => void>();
  private readonly opening = new Map<number, (error: string | null) => void>();
  private readonly outs = new Map<number, { out: (b: Buffer) => void; end: () => void }>();
  private lost: string | null = null;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    readonly info: HostInfo,
  ) {
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'out') {
        this.outs.get(m.id)?.out(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        return;
      }
      if (m.type === 'end') {
        this.outs.get(m.id)?.end();
        return;
      }
      if (m.type === 'opened') {
        const o = this.opening.get(m.seq);
        this.opening.delete(m.seq);
        o?.(m.error);
        return;
      }
      if (m.type !== 'reply') return;
      const w = this.waiting.get(m.seq);
      this.waiting.delete(m.seq);
      w?.(m.res);
    });
    const lose = (why: string) => {
      if (this.lost !== null) return;
      this.lost = why;
      for (const [, w] of this.waiting) w({ id: -1, ok: false, error: why });
      this.waiting.clear();
      for (const [, o] of this.opening) o(why);
      this.opening.clear();
      if (!this.closing) this.onLost?.(why);
    };
    worker.on('error', (e: Error & { code?: string }) =>
      lose(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `the host's machine ran out of memory (its heap of ${WORKER_HEAP_MB} MiB) and is lost; the host stops` : `the host's machine failed and is lost (${e.message}); the host stops`),
    );
    worker.on('exit', (code) => lose(`the host's machine ended (exit ${code}); the host stops`));
  }

  /** Boots the machine in a worker; rejects with the worker's one-line reason (a bad workload, say). */
  static start(data: HostWorkerData): Promise<WorkerEngine> {
    return new Promise((resolve, reject) => {
      const worker = startWorker(data);
      const fail = (why: string) => {
        void worker.terminate();
        reject(new Error(why));
      };
      worker.once('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve(new WorkerEngine(worker, m.info));
        else if (m.type === 'failed') fail(m.error);
        else fail('the host machine answered before it was ready');
      });
      worker.once('error', (e) => fail(e.message));
      worker.once('exit', (code) => fail(`the host machine ended while booting (exit ${code})`));
    });
  }

  request(req: HostRequest): Promise<HostResponse> {
    if (this.lost !== null) return Promise.resolve({ id: req.id, ok: false, error: this.lost });
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, (r) => resolve(r.id === -1 && !r.ok ? { ...r, id: req.id } : r));
      this.post({ type: 'request', seq, req });
    });
  }

  private post(m: EngineMessage): void {
    this.worker.postMessage(m);
  }

  openStream(id: number, attach: ExecAttach, uid: number, out: (b: Buffer) => void, end: () => void): Promise<string | null> {
    if (this.lost !== null) return Promise.resolve(this.lost);
    const seq = ++this.seq;
    this.outs.set(id, { out, end });
    return new Promise((resolve) => {
      this.opening.set(seq, (error) => {
        if (error !== null) this.outs.delete(id);
        resolve(error);
      });
      this.post({ type: 'open', seq, id, attach, uid });
    });
  }

  streamData(id: number, chunk: Buffer): void {
    if (this.lost === null) this.post({ type: 'data', id, data: chunk });
  }

  closeStream(id: number): void {
    this.outs.delete(id);
    if (this.lost === null) this.post({ type: 'close', id });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}
