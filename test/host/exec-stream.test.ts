/**
 * The host's call streams (`attach`, `ksmctl exec --host`) from the wire,
 * as a hostile or broken client would use them: the attach request checked
 * field by field, the era checked by the host too, a process that is not
 * the client's refused at its hello (its memory is never read), a call
 * declaring more data than any call needs ends the stream, and `detach`
 * ends the processes a run left behind. In-process server (the machine in
 * the test's thread), with the client's uid given by the test.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERRNO } from '../../src/engine/errno.js';
import { OP, REP_HEADER, REQ_HEADER } from '../../src/exec/protocol.js';
import { MAX_CALL_DATA } from '../../src/host/exec.js';
import { HostMachine } from '../../src/host/machine.js';
import { HostServer } from '../../src/host/server.js';

const ME = typeof process.geteuid === 'function' ? process.geteuid() : 0;
/** A uid that is neither the test's nor root's (the client's where it must not be the process's). */
const STRANGER = ME === 65534 ? 65533 : 65534;

async function serve(t: import('ava').ExecutionContext, clientUid: number): Promise<{ socket: string; machine: HostMachine; server: HostServer }> {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-stream-'));
  const socket = join(dir, 'h.sock');
  const machine = new HostMachine({ era: 'v3:2.6.32', clock: 'manual' });
  const server = new HostServer({ socket, machine, info: machine.info(), allowUids: [STRANGER], peerCred: () => ({ pid: 1, uid: clientUid, gid: clientUid }) });
  await server.listen();
  t.teardown(() => {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { socket, machine, server };
}

/** A connection that reads bytes: lines first, then binary replies. */
class Conn {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  closed = false;

  private constructor(readonly s: Socket) {
    s.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    s.on('error', () => {});
    s.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static open(path: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  private async want(n: (b: Buffer) => number | null): Promise<Buffer | null> {
    for (;;) {
      const k = n(this.buf);
      if (k !== null) {
        const out = this.buf.subarray(0, k);
        this.buf = this.buf.subarray(k);
        return out;
      }
      if (this.closed) return null;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }

  async line(body: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    this.s.write(`${JSON.stringify(body)}\n`);
    const l = await this.want((b) => (b.indexOf(10) < 0 ? null : b.indexOf(10) + 1));
    return l === null ? null : (JSON.parse(l.toString('utf8')) as Record<string, unknown>);
  }

  /** One call on the stream: its ret, or null once the host closed the connection. */
  async call(op: number, pid: number, a: bigint[], data = Buffer.alloc(0), declared = data.length): Promise<number | null> {
    const b = Buffer.alloc(REQ_HEADER + data.length);
    b.writeUInt32LE(declared, 0);
    b.writeUInt32LE(op, 4);
    b.writeInt32LE(pid, 8);
    a.forEach((v, i) => b.writeBigInt64LE(v, 16 + 8 * i));
    data.copy(b, REQ_HEADER);
    this.s.write(b);
    const h = await this.want((x) => (x.length >= REP_HEADER && x.length >= REP_HEADER + x.readUInt32LE(0) ? REP_HEADER + x.readUInt32LE(0) : null));
    return h === null ? null : Number(h.readBigInt64LE(8));
  }

  hello(pid: number): Promise<number | null> {
    return this.call(OP.HELLO, pid, [BigInt(process.ppid), 2n, 0n], Buffer.from('probe'));
  }

  close(): void {
    this.s.destroy();
  }
}

const live = (m: HostMachine) => m.state().processes.filter((p) => p.alive).map((p) => p.name);

test('attach is checked field by field, and the era by the host as well', async (t) => {
  const { socket } = await serve(t, ME);
  const c = await Conn.open(socket);
  t.like(await c.line({ id: 1, op: 'attach' }), { id: 1, ok: false, error: 'attach: run must be a token of 1 to 64 letters, digits, _ or -' });
  t.like(await c.line({ id: 2, op: 'attach', run: '../x' }), { ok: false });
  t.like(await c.line({ id: 3, op: 'attach', run: 'r1', settleSeconds: 0 }), { ok: false, error: 'attach: settleSeconds must be an integer from 1 to 86400' });
  t.like(await c.line({ id: 4, op: 'attach', run: 'r1', endOnPause: 'yes' }), { ok: false, error: 'attach: endOnPause must be true or false' });
  t.like(await c.line({ id: 5, op: 'attach', run: 'r1', era: 'v1:2009' }), { ok: false, error: 'exec --era v1:2009: the host runs v3:2.6.32 (ksmctl host start --era v1:2009, or exec without --host)' });
  // Refusals leave the connection a request connection: a good attach still works on it.
  t.deepEqual(await c.line({ id: 6, op: 'attach', run: 'r1', era: 'v3:2.6.32' }), { id: 6, ok: true });
  t.is(await c.hello(process.pid), 0, 'our own process, from our own uid');
  c.close();
});

test("a process that is not the client's is refused at its hello, and never becomes the host's", async (t) => {
  const { socket, machine } = await serve(t, STRANGER);
  const c = await Conn.open(socket);
  t.deepEqual(await c.line({ id: 1, op: 'attach', run: 'r2' }), { id: 1, ok: true });
  // The test's own process (uid ME) and init (uid 0), claimed by a client of another uid.
  t.is(await c.hello(process.pid), -ERRNO.EPERM);
  t.is(await c.hello(1), -ERRNO.EPERM);
  // Calls of a process that never said hello are answered ESRCH, and nothing reads its memory.
  t.is(await c.call(OP.MADVISE, process.pid, [0x10000n, 4096n, 12n]), -ERRNO.ESRCH);
  t.deepEqual(live(machine), []);
  const trace = machine.viewState({}).trace.lines.map((l) => l.text);
  t.true(trace.includes(`ksmctl exec: real pid ${process.pid} refused: it runs as uid ${ME}, not as the client (uid ${STRANGER})`), trace.join('\n'));
  c.close();
});

test('a call declaring more data than any call needs ends its stream; the host goes on', async (t) => {
  const { socket, machine } = await serve(t, ME);
  const c = await Conn.open(socket);
  t.deepEqual(await c.line({ id: 1, op: 'attach', run: 'r3' }), { id: 1, ok: true });
  t.is(await c.hello(process.pid), 0);
  t.is(await c.call(OP.WRITE, process.pid, [3n], Buffer.alloc(16), MAX_CALL_DATA + 1), null, 'the host closed the stream');
  t.true(machine.viewState({}).trace.lines.some((l) => l.text === `ksmctl exec: a stream ended: a request of ${MAX_CALL_DATA + 1} bytes of data (at most ${MAX_CALL_DATA})`));
  const other = await Conn.open(socket);
  t.like(await other.line({ id: 1, op: 'state' }), { ok: true });
  other.close();
});

test('detach ends what a run left on the host: a process still running loses its simulated self', async (t) => {
  const { socket, machine } = await serve(t, ME);
  const c = await Conn.open(socket);
  t.deepEqual(await c.line({ id: 1, op: 'attach', run: 'r4' }), { id: 1, ok: true });
  t.is(await c.hello(process.pid), 0);
  t.deepEqual(live(machine), [`probe[${process.pid}]`]);
  // The stream closes while the real process (this test) lives on: it stays the host's until its run is detached.
  c.close();
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(live(machine), [`probe[${process.pid}]`]);
  const d = await Conn.open(socket);
  const r = (await d.line({ id: 2, op: 'detach', run: 'r4' })) as { ok: boolean; exec: { processes: number; era: string } };
  t.true(r.ok);
  t.like(r.exec, { processes: 1, era: 'v3:2.6.32' });
  t.deepEqual(live(machine), []);
  t.like(await d.line({ id: 3, op: 'detach', run: 'r4' }), { ok: true, exec: null }, 'a run the host no longer knows');
  d.close();
});
