/**
 * A real `ksmctl host` process for tests (the built binary, started with
 * `host start` as a user would), raw connections that send any bytes and
 * read reply lines, and a snapshot of the host's state to compare before
 * and after an attack. Tests that need another user switch to uid 65534
 * with a child process, and only as root.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { KSMCTL, ksmctl } from './cli.js';
import { ROOT } from './golden.js';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
/** The unprivileged user the socket tests act as (nobody). */
export const OTHER_UID = 65534;
/** A test that needs another uid: run as root, else skipped, its title saying why. */
export const asRoot = (title: string) => (IS_ROOT ? title : `${title} (skipped: the tests do not run as root, so they cannot act as uid ${OTHER_UID})`);
export const rootTest = IS_ROOT ? test.serial : test.skip;

export interface RealHost {
  dir: string;
  socket: string;
  /** The host's pid. */
  pid: number;
}

/**
 * Starts `ksmctl host start --socket DIR/h.sock --clock manual [...args]` in
 * a fresh private directory; stopped in teardown (or by `stop`, in hooks).
 */
export function startHost(t: ExecutionContext | null, args: string[] = [], env: NodeJS.ProcessEnv = {}): RealHost & { stop: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-real-'));
  const socket = join(dir, 'h.sock');
  const r = spawnSync(process.execPath, [KSMCTL, 'host', 'start', '--socket', socket, '--clock', 'manual', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`host start failed (${r.status}): ${r.stderr}`);
  const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
  const stop = () => {
    ksmctl(['host', 'stop', '--socket', socket]);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  t?.teardown(stop);
  return { dir, socket, pid, stop };
}

/** A raw connection: write any bytes, read reply lines. */
export class Raw {
  private buf = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(readonly s: Socket) {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i !== -1; i = this.buf.indexOf('\n')) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.waiter?.();
    });
    s.on('error', () => {});
    s.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  /**
   * A connection. A unix connect past the listen backlog fails with EAGAIN
   * (the kernel's answer while the host has not accepted yet, not the
   * host's doing): retried a few times, as a client would.
   */
  static async open(path: string): Promise<Raw> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<Raw>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(new Raw(s)));
          s.once('error', reject);
        });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  write(data: string | Buffer): void {
    this.s.write(data);
  }

  /** The next reply line parsed, or null once the host closed the connection. */
  async next(): Promise<Record<string, unknown> | null> {
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return JSON.parse(l) as Record<string, unknown>;
      if (this.closed) return null;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
  }

  async request(body: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    this.write(`${JSON.stringify(body)}\n`);
    return this.next();
  }

  close(): void {
    this.s.destroy();
  }
}

/** One request on a fresh raw connection. */
export async function ask(path: string, body: Record<string, unknown> | string): Promise<Record<string, unknown> | null> {
  const c = await Raw.open(path);
  try {
    c.write(typeof body === 'string' ? body : `${JSON.stringify(body)}\n`);
    return await c.next();
  } finally {
    c.close();
  }
}

/** What must be the same before and after an attack: the era's counters, virtual time, full scans, the live processes. */
export async function snapshot(path: string): Promise<unknown> {
  const r = (await ask(path, { id: 1, op: 'state' })) as { ok: boolean; state?: { counters: unknown; now: number; fullScans: number; processes: Array<{ pid: number; name: string; alive: boolean }> } };
  if (!r?.ok || r.state === undefined) throw new Error(`state failed: ${JSON.stringify(r)}`);
  const s = r.state;
  return { counters: s.counters, now: s.now, fullScans: s.fullScans, live: s.processes.filter((p) => p.alive).map((p) => `${p.pid} ${p.name}`) };
}

/** A guest that maps 64 pages of one content, registers them through /dev/ksm (2009 ABI) and pauses. */
export const GUEST = '#include "ksm-2009.h"\nint main(void) {\n char *p = memalign(4096, 64 * 4096)\n pages(p, 64) = {fill: 3}\n int fd = open("/dev/ksm", O_RDWR)\n int sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)\n ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: 64, addr: p})\n pause()\n}\n';

/** Gives a fresh host some state: a paused guest merged by kksmd, so the counters are not all zero. */
export async function warmUp(path: string): Promise<void> {
  const run = await ask(path, { id: 1, op: 'run', file: 'guest.ksm', source: GUEST });
  if (!(run?.ok && run.status === 0)) throw new Error(`guest: ${JSON.stringify(run)}`);
  await ask(path, { id: 2, op: 'ksmctl', args: ['start', '100', '20'] });
  await ask(path, { id: 3, op: 'sleep', micros: 1_000_000 });
}

/** Runs a node script as another user; its stdout, stderr and status. */
export function asUser(uid: number, code: string, timeoutMs = 30_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', code], { uid, gid: uid, cwd: '/', env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Node code (for asUser) that connects to `path`, sends one request, and prints the reply line or the connection's error. */
export function clientCode(path: string, body: Record<string, unknown>): string {
  return `import { connect } from 'node:net';
const s = connect(${JSON.stringify(path)});
let out = '';
s.setEncoding('utf8');
s.on('connect', () => s.write(${JSON.stringify(`${JSON.stringify(body)}\n`)}));
s.on('data', (d) => { out += d; if (out.includes('\\n')) { console.log(out.split('\\n')[0]); s.destroy(); } });
s.on('error', (e) => console.log('ERROR ' + e.code));
s.on('close', () => { if (!out) console.log('CLOSED'); });`;
}

/** The host process's resident memory (VmRSS), in bytes. */
export function rss(pid: number): number {
  const r = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
  const m = /VmRSS:\s+(\d+) kB/.exec(r.stdout);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The built ksmctl run without blocking this process (tests that serve or wait meanwhile). */
export function ksmctlAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [KSMCTL, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
