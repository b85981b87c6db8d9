/**
 * Real programs on the host (`ksmctl exec --host`): the exec session
 * (src/exec/session.ts) serving their intercepted calls on the host's own
 * machine, so their processes are processes of the host (in its status,
 * views and trace, named `COMM[REALPID]`), their calls are answered by the
 * host's era on the host's clock, and two programs (or a program and a
 * script) share its KSM.
 *
 * Data structures:
 *
 *   runs      run token -> the ExecSession of one `ksmctl exec --host`
 *             (its processes, their mirrors and descriptors; its pauses
 *             settle alone), made at the run's first stream and dropped
 *             once it is detached, or has no stream and no process left
 *   streams   stream id -> one connection of one of the run's processes,
 *             relayed by ksmctl exec from the interposition library (the
 *             same wire format, src/exec/protocol.ts), with the uid of the
 *             client that opened it (SO_PEERCRED, read by the server)
 *
 * Before every call every run's processes are brought up to their real
 * memory (not just the caller's run: ksmd scans them all), and so they are
 * before every other command of the host (a script, a view), through the
 * machine's beforeCommand hook.
 *
 * Who may be served: a process whose real and effective uids are the
 * client's (root's client: any), and whose memory the host can read
 * (/proc/PID/mem); another is refused at its hello (its KSM calls then
 * fail with EPERM, as with no simulator), with a line in the host's trace.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Process } from '../engine/machine.js';
import type { ExecClock } from '../exec/clock.js';
import { OP, type Reply, type Request, RequestTooLarge } from '../exec/protocol.js';
import { type CallConn, type CallConnHandlers, ExecSession, type ExecStats } from '../exec/session.js';
import { formatResult, openFlags, pointer, prctlCall, quote, requestName } from '../script/strace.js';
import { type HostMachine, HostRefusal } from './machine.js';

/** What a stream says about its run when it opens (the `attach` request). */
export interface ExecAttach {
  /** The run's token: every stream of one `ksmctl exec --host` carries the same. */
  run: string;
  /** The era the program asked for (`--era`): refused unless it is the host's. */
  era?: string;
  endOnPause?: boolean;
  settleSeconds?: number;
}

/** How long a run with no stream and no process is kept for its detach. */
const IDLE_RUN_MS = 10_000;
/**
 * The most data one call of a stream may carry: a path, an ioctl's
 * struct, a write to a sysfs file (which takes a page) fit many times
 * over; a stream declaring more is ended, so no client grows the host
 * without bound.
 */
export const MAX_CALL_DATA = 1 << 20;

interface Stream {
  conn: { uid: number; destroyed: boolean; write(b: Buffer): void };
  h: CallConnHandlers;
  run: string;
  /** Ends the client's connection (the host's side). */
  end: () => void;
}

/** The host's clock as an exec session sees it: the machine's, plus the sleeps skipped. */
class HostClock implements ExecClock {
  private skippedUs = 0;

  constructor(
    private readonly m: HostMachine,
    private readonly inCall: (f: () => void) => void,
  ) {}

  advance(sleepUs: number): void {
    this.inCall(() => {
      if (sleepUs <= 0) {
        this.m.sync();
        return;
      }
      this.skippedUs += sleepUs;
      try {
        // As a script's sleep on the host: bounded like a sleep request (the time so far passes).
        this.m.sleep(Math.min(sleepUs, this.m.limits.maxVirtualMicros));
      } catch (e) {
        if (!(e instanceof HostRefusal)) throw e;
        this.m.trace.push(`ksmctl exec: ${e.message}`, false);
      }
    });
  }

  /** The host's clock (brought to the wall clock by advance(0), before every call). */
  virtualNow(): number {
    return this.m.sys.machine.clock.now;
  }

  /** The program's clocks: real time plus what it (and its run's settling) skipped, as without --host. */
  leadNs(): bigint {
    return BigInt(Math.round(this.skippedUs * 1000));
  }

  busy(): void {
    // The host's clock follows the wall clock (or nothing): the simulator's work is not taken out of it.
  }
}

/** A real process's uids (real, effective, saved, fs) from /proc/PID/status, or null when it is gone. */
function uidsOf(pid: number): number[] | null {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : m.slice(1).map(Number);
  } catch {
    return null;
  }
}

export class HostExec {
  private readonly runs = new Map<string, ExecSession>();
  private readonly streams = new Map<number, Stream>();
  private calling = 0;

  constructor(private readonly m: HostMachine) {
    m.beforeCommand = () => {
      if (this.calling === 0) this.syncAll();
    };
  }

  /** Runs `f` as part of an exec call (the machine's hook does not sync again meanwhile). */
  private inCall = (f: () => void): void => {
    this.calling++;
    try {
      f();
    } finally {
      this.calling--;
    }
  };

  /** Every run's processes brought up to their real memory. */
  syncAll(): void {
    this.inCall(() => {
      for (const s of this.runs.values()) s.syncProcesses();
    });
  }

  /** Opens stream `id` of a client of uid `uid`; `out` sends bytes back, `end` ends the connection. Null, or why it is refused. */
  open(id: number, a: ExecAttach, uid: number, out: (b: Buffer) => void, end: () => void): string | null {
    const era = this.m.adapter.era.id;
    if (a.era !== undefined && a.era !== era) return `exec --era ${a.era}: the host runs ${era} (ksmctl host start --era ${a.era}, or exec without --host)`;
    let session = this.runs.get(a.run);
    if (session === undefined) {
      session = this.session(a);
      this.runs.set(a.run, session);
    }
    const conn = { uid, destroyed: false, write: (b: Buffer) => out(b) };
    this.streams.set(id, { conn, h: session.connect(conn, MAX_CALL_DATA), run: a.run, end });
    return null;
  }

  private session(a: ExecAttach): ExecSession {
    const m = this.m;
    return new ExecSession(m.adapter, {
      sys: m.sys,
      clock: new HostClock(m, this.inCall),
      sync: () => this.syncAll(),
      endOnPause: a.endOnPause,
      settleSeconds: a.settleSeconds,
      processName: (comm, pid) => `${comm}[${pid}]`,
      admit: (pid, conn) => this.admit(pid, (conn as Stream['conn']).uid),
      onCall: (p, req, r) => this.traceCall(p.sim, req, r),
      onProcess: (p, event) => m.trace.push(event === 'start' ? `[pid ${p.sim.pid}] ksmctl exec: real pid ${p.pid} (${p.comm})` : `[pid ${p.sim.pid}] +++ exited (real pid ${p.pid}) +++`),
    });
  }

  /** The client's own process, whose memory the host can read. */
  private admit(pid: number, uid: number): boolean {
    const uids = uidsOf(pid);
    let why: string | null = null;
    if (uids === null) why = 'it is gone';
    else if (uid !== 0 && !uids.every((u) => u === uid)) why = `it runs as uid ${uids[1]}, not as the client (uid ${uid})`;
    else {
      try {
        closeSync(openSync(`/proc/${pid}/mem`, 'r'));
      } catch (e) {
        why = `the host cannot read its memory (/proc/${pid}/mem: ${(e as NodeJS.ErrnoException).code ?? 'error'})`;
      }
    }
    if (why === null) return true;
    this.m.trace.push(`ksmctl exec: real pid ${pid} refused: ${why}`, false);
    return false;
  }

  /** Bytes of stream `id`. */
  data(id: number, chunk: Buffer): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    try {
      this.inCall(() => s.h.data(chunk));
    } catch (e) {
      if (!(e instanceof RequestTooLarge)) throw e;
      this.m.trace.push(`ksmctl exec: a stream ended: ${e.message}`, false);
      this.close(id);
      s.end();
    }
  }

  /** Stream `id` closed (its process exited or exec'd, or the client went away). */
  close(id: number): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    this.streams.delete(id);
    s.conn.destroyed = true;
    this.inCall(() => s.h.close());
    // A run nobody detaches (its ksmctl exec was killed) is dropped once idle: a while later, so a detach still finds its stats.
    setTimeout(() => {
      const session = this.runs.get(s.run);
      if (session !== undefined && session.live() === 0 && ![...this.streams.values()].some((x) => x.run === s.run)) this.runs.delete(s.run);
    }, IDLE_RUN_MS).unref();
  }

  /**
   * The run's program has exited: its processes' exits are waited for a
   * little (their streams close as they go), then any still served (left
   * running in the background) exit on the host too. Its stats, or null
   * for a run the host does not know.
   */
  async detach(run: string): Promise<ExecStats | null> {
    const session = this.runs.get(run);
    if (session === undefined) return null;
    session.abort();
    await session.drained(1000);
    this.inCall(() => session.exitAll());
    this.runs.delete(run);
    for (const [id, s] of this.streams) {
      if (s.run !== run) continue;
      s.conn.destroyed = true;
      this.streams.delete(id);
    }
    return session.stats();
  }

  /** The calls worth a line in the host's trace, as strace shows them (reads, seeks and sleeps are left out: a polling loop would flood it). */
  private traceCall(sim: Process, req: Request, r: Reply): void {
    const a = req.a.map(Number);
    const ret = Number(r.ret);
    let text: string;
    switch (req.op) {
      case OP.OPEN:
        text = `open(${quote(req.data.toString('utf8'))}, ${openFlags(a[0])}) = ${ret < 0 ? formatResult(ret) : a[1]}`;
        break;
      case OP.CLOSE:
        text = `close(${a[0]}) = ${formatResult(ret)}`;
        break;
      case OP.WRITE:
        text = `write(${a[0]}, ${quote(req.data.toString('latin1'))}, ${req.data.length}) = ${formatResult(ret)}`;
        break;
      case OP.IOCTL:
        text = `ioctl(${a[0]}, ${requestName(a[1])}, ${pointer(a[2])}) = ${formatResult(ret)}`;
        break;
      case OP.MADVISE:
        // KSM's advice only (the others go to the real madvise first).
        if (a[2] !== 12 && a[2] !== 13) return;
        text = `madvise(${pointer(a[0])}, ${a[1]}, ${this.m.sys.adviceNames.get(a[2]) ?? a[2]}) = ${formatResult(ret)}`;
        break;
      case OP.PRCTL:
        text = `${prctlCall(a[0], a.slice(1, 5))} = ${formatResult(ret)}`;
        break;
      case OP.FORK:
        text = `fork() = ${a[0]} (real pid)`;
        break;
      default:
        return;
    }
    this.m.trace.push(`[pid ${sim.pid}] ${text}`);
  }
}
