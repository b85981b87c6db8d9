/**
 * The driver's side of one workload process on the real kernel: a Node child
 * running child.ts, spoken to synchronously over two pipes (the workload
 * runner is synchronous: each step completes before the next). The pipes
 * are made with pipe2(O_CLOEXEC), so no other child inherits them and a
 * child's death is seen at once as the end of its reply pipe.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Region } from '../workload/schema.js';
import { libc, O_CLOEXEC } from './libc.js';
import { type Command, contentToWire, type WireRegion } from './protocol.js';

/** The node arguments that run child.ts: the built child.js, or the source behind tsx's loader (tests). */
function childArgs(parentPid: number): string[] {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./child.ts', here)), `${parentPid}`];
  return [fileURLToPath(new URL('./child.js', here)), `${parentPid}`];
}

export class ProcessError extends Error {
  override readonly name = 'ProcessError';
}

export function toWire(regions: readonly Region[], nodes: ReadonlyArray<number | undefined>): WireRegion[] {
  return regions.map((r, i) => ({ pages: r.pages, runs: r.runs.map((run) => ({ pages: run.pages, content: contentToWire(run.content) })), ...(nodes[i] !== undefined ? { node: nodes[i] } : {}) }));
}

export class RealProcess {
  readonly pid: number;
  /** Where each region was mapped. */
  addrs: number[] = [];
  alive = true;
  /** Region indexes currently MADV_MERGEABLE. */
  readonly registered = new Set<number>();
  private readonly cmd: number;
  private readonly reply: number;
  private pending = '';
  private readonly buf = Buffer.alloc(4096);

  /** Starts the process; it maps and fills its regions before answering (`ready`). */
  constructor(
    readonly name: string,
    readonly regions: readonly Region[],
    nodes: ReadonlyArray<number | undefined>,
    private readonly timeoutMs: number,
  ) {
    const c = libc();
    const down = new Int32Array(2);
    const up = new Int32Array(2);
    if (c.pipe2(down, O_CLOEXEC) !== 0 || c.pipe2(up, O_CLOEXEC) !== 0) throw new ProcessError(`pipe2 failed: errno ${c.errno()}`);
    const child = spawn(process.execPath, childArgs(process.pid), { stdio: [down[0], up[1], 'inherit'] });
    c.close(down[0]);
    c.close(up[1]);
    this.cmd = down[1];
    this.reply = up[0];
    if (child.pid === undefined) {
      this.close();
      throw new ProcessError(`could not start process ${name}`);
    }
    // The exit status is of no interest: the handle must not keep the event loop alive.
    child.on('error', () => {});
    child.unref();
    this.pid = child.pid;
    this.send({ regions: toWire(regions, nodes) });
    const ready = this.receive('start') as { ready?: number[]; error?: string };
    if (ready.ready === undefined) throw new ProcessError(`process ${name} (pid ${this.pid}) failed to start: ${ready.error ?? JSON.stringify(ready)}`);
    this.addrs = ready.ready;
  }

  private send(v: unknown): void {
    writeSync(this.cmd, `${JSON.stringify(v)}\n`);
  }

  private receive(what: string): Record<string, unknown> {
    const c = libc();
    for (;;) {
      const nl = this.pending.indexOf('\n');
      if (nl >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        return JSON.parse(line) as Record<string, unknown>;
      }
      const ready = c.pollIn(this.reply, this.timeoutMs);
      if (ready === 0) throw new ProcessError(`process ${this.name} (pid ${this.pid}) did not answer ${what} within ${this.timeoutMs / 1000} s`);
      const n = readSync(this.reply, this.buf, 0, this.buf.length, null);
      if (n === 0) throw new ProcessError(`process ${this.name} (pid ${this.pid}) died during ${what}`);
      this.pending += this.buf.toString('utf8', 0, n);
    }
  }

  /** A command with an answer: 0 or -errno. */
  ask(cmd: Exclude<Command, { op: 'exit' }>): number {
    this.send(cmd);
    const r = this.receive(cmd.op);
    if (typeof r.ok !== 'number') throw new ProcessError(`process ${this.name} (pid ${this.pid}): ${cmd.op}: ${String(r.error ?? JSON.stringify(r))}`);
    return r.ok;
  }

  /** Tells the process to exit and waits until its memory is gone (its mm is released before it becomes a zombie). */
  exit(sleep: (ms: number) => void): void {
    this.send({ op: 'exit' });
    const deadline = Date.now() + this.timeoutMs;
    while (!gone(this.pid)) {
      if (Date.now() > deadline) throw new ProcessError(`process ${this.name} (pid ${this.pid}) did not exit`);
      sleep(1);
    }
    this.alive = false;
    this.registered.clear();
    this.close();
  }

  /** SIGKILL, for the end of a run (nothing is asked of it any more). */
  kill(): void {
    if (this.alive) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      this.alive = false;
    }
    this.close();
  }

  private closed = false;
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of [this.cmd, this.reply]) libc().close(fd);
  }
}

/**
 * The process has exited and its address space is released. A Node process
 * has several threads; its leader turns zombie as soon as it has exited
 * itself, while the others may still be on their way out holding the mm.
 * The last thread to drop the mm tears it down (ksm_exit included) before
 * it leaves the thread list, so: the leader a zombie (or the process
 * reaped) and no other thread left.
 */
export function gone(pid: number, proc = '/proc'): boolean {
  const dir = `${proc}/${pid}`;
  try {
    const text = readFileSync(`${dir}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
    if (state !== 'Z' && state !== 'X') return false;
    return readdirSync(`${dir}/task`).length <= 1;
  } catch {
    return true;
  }
}

/** Waits (blocking) until every pid is gone as gone() says, at most timeoutMs; the pids still there. */
export function waitGone(pids: Iterable<number>, timeoutMs: number, sleep: (ms: number) => void): number[] {
  const deadline = Date.now() + timeoutMs;
  let left = [...pids].filter((p) => !gone(p));
  while (left.length > 0 && Date.now() < deadline) {
    sleep(2);
    left = left.filter((p) => !gone(p));
  }
  return left;
}
