/**
 * The simulator side of `ksmctl exec`: one era's kernel (through its
 * adapter and system, src/eras) serving the intercepted calls of a real
 * program's processes, one connection per process (protocol.ts): a socket
 * of the session's own listener, or (`exec --host`) a call stream the
 * host feeds it, where the session runs on the host's machine, system and
 * clock (src/host/exec.ts passes them in ExecOptions).
 *
 * Data structures:
 *
 *   procs      real pid -> ExecProcess: its simulated process (spawned at
 *              its first hello, forked from its parent's at the parent's
 *              FORK, replaced at exec), the memory mirror (mirror.ts), its
 *              descriptors on simulated files (fd-table.ts), whether it
 *              runs, waits in pause() or in the wait family, and its
 *              connection (an exec closes the old one: its close is then
 *              not an exit)
 *   waiting    hellos of forked children whose parent's FORK has not
 *              arrived yet (the two come on different connections)
 *   paused     pause() calls not answered yet
 *
 * Every request, before its call: (1) each process's simulated mappings
 * follow the real ones (reconcile) and its registered pages are brought up
 * to the real ones (sync); (2) the virtual clock moves to now and the era's
 * ksmd runs every batch due meanwhile; then (3) the call, as the era's
 * kernel answers it.
 *
 * Virtual time (clock.ts): on a private machine, real time since the
 * start, less the simulator's own work, plus every sleep skipped; on the
 * host, the host's clock. A sleep
 * advances the clock at once (ksmd runs through it) and nothing really
 * sleeps; the clocks the program reads run ahead by the time skipped
 * (every answer carries it). When every process waits (pause() or a wait
 * for a child) and one waits in pause(), the simulator lets ksmd run until
 * its counters stop changing (two full scans alike, within --settle
 * seconds of virtual time), then answers the pauses: the processes then
 * pause for real, or end (SIGTERM) with --end-on-pause.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { EraAdapter } from '../eras/adapter.js';
import type { EraSystem } from '../eras/system.js';
import { requestTable } from '../v1-ioctl/device.js';
import type { V1Kernel } from '../v1-ioctl/kernel.js';
import { type ExecClock, LocalClock } from './clock.js';
import { FdTable, type FileFd } from './fd-table.js';
import { processState, readMaps } from './memory-reader.js';
import { MemoryMirror } from './mirror.js';
import { Sleepers } from './sleepers.js';
import { isPlaceholder, StdioTaps } from './stdio-taps.js';
import { encodeReply, OP, OP_NAMES, type Reply, type Request, RequestReader } from './protocol.js';

/** madvise advice that is KSM's in one era or another: v2's MADV_SHAREABLE, v3's MADV_MERGEABLE / MADV_UNMERGEABLE. */
const KSM_ADVICE = new Set([12, 13]);
const PR_SET_MEMORY_MERGE = 67;
const O_ACCMODE = 3;
const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
/** The ioctls that hand out a new descriptor of the driver. */
const NEW_FD_REQUESTS = new Set(['KSM_CREATE_SHARED_MEMORY_AREA', 'KSM_CREATE_SCAN']);
const REGISTER_REQUEST = 'KSM_REGISTER_MEMORY_REGION';
const REQUESTS = requestTable();
/** How long a forked child's hello waits for its parent's FORK before it is taken as a new process. */
const FORK_WAIT_MS = 2000;
/** How long (real ms) every process must have stayed waiting before the clock jumps to the next wake-up, when one waits for a child. */
const JUMP_GRACE_MS = 15;
/** How often a closed connection's process is looked at while it may be exec'ing. */
const EXEC_POLL_MS = 20;

export interface ExecOptions {
  /** End every process with SIGTERM once ksmd has settled while all wait in pause(). */
  endOnPause?: boolean;
  /** The most virtual seconds ksmd runs to settle. */
  settleSeconds?: number;
  /** Each request and its answer, for --trace. */
  trace?: (line: string) => void;
  /** The era's system calls to serve with (default: the adapter's own, a private machine); the host passes its machine's. */
  sys?: EraSystem;
  /** The virtual clock (default: a LocalClock of the session's own). */
  clock?: ExecClock;
  /** What brings the mirrored processes up to their real memory (default: this session's; the host syncs every session's). */
  sync?: () => void;
  /** The simulated process's name for a real process (default: its comm). */
  processName?: (comm: string, pid: number) => string;
  /** Whether a real process may be served (the host checks it is its client's): a refused hello fails with EPERM. */
  admit?: (pid: number, conn: CallConn) => boolean;
  /** Each call answered, with its process (the host's trace). */
  onCall?: (p: { pid: number; sim: Process }, req: Request, r: Reply) => void;
  /** A simulated process made or ended (the host's trace). */
  onProcess?: (p: { pid: number; comm: string; sim: Process }, event: 'start' | 'exit') => void;
}

/**
 * One connection of a process of the program: a socket of the session's
 * own listener, or a call stream the host relays (src/host/exec.ts).
 */
export interface CallConn {
  write(b: Buffer): unknown;
  readonly destroyed: boolean;
}

/** What a connection's owner calls: its bytes as they come, and its end. */
export interface CallConnHandlers {
  data(chunk: Buffer): void;
  close(): void;
}

type RunState = 'running' | 'paused' | 'blocked' | 'sleeping';

interface ExecProcess {
  pid: number;
  /** The parent's pid (0 when it is not one of the program's processes): a child's exit ends the parent's wait. */
  ppid: number;
  sim: Process;
  mirror: MemoryMirror;
  fds: FdTable;
  state: RunState;
  /**
   * Its memory was read since it last stopped running (it waits in pause(),
   * a wait or a sleep): it cannot have changed since, so syncAll skips it.
   * A process with no shared mapping: its memory is written only by itself.
   */
  quietSynced: boolean;
  /** While blocked: the child it waits for (a pid, or -1: any child, or a signal). */
  waitFor: number;
  /** prctl(PR_SET_MEMORY_MERGE, 1) holds: every anonymous mapping is mirrored. */
  mergeAny: boolean;
  conn: CallConn | null;
  exited: boolean;
}

/** What the run leaves to report. */
export interface ExecStats {
  era: string;
  virtualSeconds: number;
  counters: Record<string, number>;
  /** The most pages the real kernel showed merged in any of the program's processes (/proc/PID/ksm_merging_pages): 0 unless something leaked. */
  realKsmPages: number;
  processes: number;
  /** The counters when ksmd last settled with every process waiting in pause() (null: it never did). */
  settled: { virtualSeconds: number; counters: Record<string, number> } | null;
}

export class ExecSession {
  readonly sys: EraSystem;
  private readonly procs = new Map<number, ExecProcess>();
  private readonly waiting = new Map<number, { conn: CallConn; comm: string; ppid: number; zeroPfn: bigint; timer: NodeJS.Timeout }>();
  private readonly paused = new Map<number, CallConn>();
  private readonly sleepers = new Sleepers();
  /** The placeholders' memfds, for what stdio wrote into them (stdio-taps.ts), by the opener's pid. */
  private readonly taps = new StdioTaps<number>();
  /** Wakes the earliest sleeper when real time gets the clock there (some process runs meanwhile). */
  private sleepTimer: NodeJS.Timeout | null = null;
  private readonly clockBase: number;
  private readonly clock: ExecClock;
  /** Each real process's comm as it said hello (a forked child: its parent's), for the names the host gives. */
  private readonly comms = new Map<number, string>();
  private server: Server | null = null;
  private realKsmPages = 0;
  private spawned = 0;
  private settled: ExecStats['settled'] = null;
  private settling = false;
  private aborted = false;

  constructor(
    readonly adapter: EraAdapter,
    private readonly opts: ExecOptions = {},
  ) {
    this.sys = opts.sys ?? adapter.system();
    this.clockBase = this.sys.machine.clock.now;
    this.clock = opts.clock ?? new LocalClock(this.sys);
  }

  /** Listens on `path` (a fresh socket path). */
  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((conn) => this.accept(conn));
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        this.server = server;
        resolve();
      });
    });
  }

  /** Resolves once every process's connection has closed and been accounted for, or after `ms`. */
  async drained(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && [...this.procs.values()].some((p) => !p.exited)) await new Promise((r) => setTimeout(r, 10));
  }

  close(): void {
    this.server?.close();
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
    this.sleepers.clear();
    this.taps.closeAll();
  }

  stats(): ExecStats {
    return {
      era: this.adapter.era.id,
      virtualSeconds: (this.sys.machine.clock.now - this.clockBase) / 1e6,
      counters: { ...this.adapter.counters() },
      realKsmPages: this.realKsmPages,
      processes: this.spawned,
      settled: this.settled,
    };
  }

  // ------------------------------------------------------------ connections

  private accept(conn: Socket): void {
    const h = this.connect(conn);
    conn.on('data', (chunk) => h.data(chunk));
    conn.on('error', () => {});
    conn.on('close', () => h.close());
  }

  /**
   * A new connection of one of the program's processes: feed it its bytes,
   * and tell it when it closes. With `maxData` (the host's streams), a
   * request declaring more data makes data() throw RequestTooLarge.
   */
  connect(conn: CallConn, maxData?: number): CallConnHandlers {
    const reader = new RequestReader(maxData);
    let owner: number | null = null;
    return {
      data: (chunk) => {
        for (const req of reader.push(chunk)) {
          if (req.op === OP.HELLO) owner = req.pid;
          this.dispatch(conn, req);
        }
      },
      close: () => {
        if (owner !== null) this.connectionClosed(owner, conn);
      },
    };
  }

  private reply(conn: CallConn, r: Reply): void {
    if (!conn.destroyed) conn.write(encodeReply(r, this.leadNs()));
  }

  private dispatch(conn: CallConn, req: Request): void {
    let r: Reply | null;
    this.busy(true);
    try {
      r = this.handle(conn, req);
    } catch (e) {
      // A simulator fault must not hang the program: the call fails, the run goes on.
      this.opts.trace?.(`pid ${req.pid}: ${OP_NAMES[req.op] ?? req.op}: simulator error: ${(e as Error).message}`);
      r = { ret: -ERRNO.EIO };
    } finally {
      this.busy(false);
    }
    // handle() has read the processes' memory for every call but a hello, a BLOCK and one of an unknown process.
    this.wakeSleepers({ synced: req.op !== OP.HELLO && req.op !== OP.BLOCK && this.procs.has(req.pid) });
    if (r === null) return;
    if (this.opts.onCall !== undefined) {
      const p = this.procs.get(req.pid);
      if (p !== undefined) this.opts.onCall(p, req, r);
    }
    this.opts.trace?.(`pid ${req.pid}: ${OP_NAMES[req.op] ?? req.op}(${req.a.slice(0, 3).join(', ')}${req.data.length && req.op === OP.OPEN ? `, ${req.data.toString()}` : ''}) = ${r.ret}`);
    this.reply(conn, r);
  }

  // ------------------------------------------------------------ processes

  private newProcess(pid: number, ppid: number, sim: Process, zeroPfn: bigint, conn: CallConn | null, fds = new FdTable()): ExecProcess {
    const p: ExecProcess = { pid, ppid, sim, mirror: new MemoryMirror(this.sys, pid, sim, zeroPfn), fds, state: 'running', quietSynced: false, waitFor: -1, mergeAny: false, conn, exited: false };
    this.procs.set(pid, p);
    this.spawned++;
    // Where names carry the real pid (the host's): the era spawned it with its comm, or its fork copied the parent's name.
    const comm = this.comms.get(pid) ?? sim.name;
    const named = this.opts.processName?.(comm, pid);
    if (named !== undefined) (sim as { name: string }).name = named;
    this.opts.onProcess?.({ pid, comm, sim }, 'start');
    return p;
  }

  private hello(conn: CallConn, req: Request): Reply | null {
    const pid = req.pid;
    const ppid = Number(req.a[0]);
    const kind = Number(req.a[1]);
    const zeroPfn = req.a[2];
    const comm = req.data.toString('utf8') || `pid${pid}`;
    const known = this.procs.get(pid);
    if (this.opts.admit !== undefined && !this.opts.admit(pid, conn)) return { ret: -ERRNO.EPERM };
    this.comms.set(pid, comm);
    if (kind === 1) {
      if (known !== undefined && !known.exited) {
        known.conn = conn;
        known.mirror.zeroPfn = zeroPfn;
        return { ret: 0 };
      }
      // The parent's FORK comes on its own connection: wait for it a little.
      const timer = setTimeout(() => {
        this.waiting.delete(pid);
        this.newProcess(pid, ppid, this.adapter.spawn(comm), zeroPfn, conn);
        this.reply(conn, { ret: 0 });
      }, FORK_WAIT_MS);
      this.waiting.set(pid, { conn, comm, ppid, zeroPfn, timer });
      return null;
    }
    if (known !== undefined && !known.exited && kind === 0) {
      // The same image again on a new connection (its old one broke): the process goes on.
      known.conn = conn;
      return { ret: 0 };
    }
    // exec: the old image's address space goes; its open sysfs and /proc files stay open unless close-on-exec
    // closed their placeholders (device descriptors go with the simulated process).
    const kept = new FdTable();
    if (known !== undefined && !known.exited) {
      for (const n of known.fds.numbers()) {
        const f = known.fds.get(n);
        if (f?.kind === 'file' && isPlaceholder(pid, n)) kept.set(n, f);
      }
      this.drainTaps();
      this.adapter.exit(known.sim);
      known.exited = true;
      this.procs.delete(pid);
      this.opts.onProcess?.({ pid, comm: this.comms.get(pid) ?? known.sim.name, sim: known.sim }, 'exit');
    }
    this.newProcess(pid, known?.ppid ?? ppid, this.adapter.spawn(comm), zeroPfn, conn, kept);
    this.taps.release((f) => this.held(f));
    // The library marks the descriptors it still has as simulated (protocol: i32 placeholders still held).
    return { ret: 0, data: new Uint8Array(Int32Array.from(kept.numbers()).buffer) };
  }

  private fork(parent: ExecProcess, childPid: number): Reply {
    this.syncAll();
    const child = this.adapter.fork(parent.sim);
    const waiting = this.waiting.get(childPid);
    const sim = typeof child === 'number' ? this.adapter.spawn(parent.sim.name) : child;
    this.comms.set(childPid, this.comms.get(parent.pid) ?? parent.sim.name);
    const p = this.newProcess(childPid, parent.pid, sim, parent.mirror.zeroPfn, waiting?.conn ?? null, parent.fds.clone());
    p.mergeAny = parent.mergeAny;
    if (waiting !== undefined) {
      clearTimeout(waiting.timer);
      this.waiting.delete(childPid);
      p.mirror.zeroPfn = waiting.zeroPfn;
      this.reply(waiting.conn, { ret: 0 });
    }
    return { ret: 0 };
  }

  private connectionClosed(pid: number, conn: CallConn): void {
    const p = this.procs.get(pid);
    if (p === undefined || p.conn !== conn || p.exited) return;
    this.paused.delete(pid);
    // Killed while it slept: the sleep ends with it (an exec'ing process says hello again and runs).
    if (p.state === 'sleeping') {
      this.sleepers.remove(pid);
      this.setState(p, 'running');
    }
    const check = () => {
      if (p.exited || p.conn !== conn) return;
      const st = processState(pid);
      if (st === null || st === 'Z' || st === 'X') {
        this.exit(p, st === 'Z');
        return;
      }
      // Alive without its connection: exec'ing (its new image says hello), or it closed the socket itself.
      // Not what keeps a host (or a test) running: the run's end or detach settles it.
      setTimeout(check, EXEC_POLL_MS).unref();
    };
    check();
  }

  /** The era's exit; `unreaped`: a zombie its parent has not waited for yet (its wait will return for it). */
  private exit(p: ExecProcess, unreaped = false): void {
    // What its stdio wrote last (at exit, or before a close the library never saw) is stored first.
    this.drainTaps();
    p.exited = true;
    this.sleepers.remove(p.pid);
    this.adapter.exit(p.sim);
    this.procs.delete(p.pid);
    this.taps.release((f) => this.held(f));
    // A parent waiting for this child (or any) runs again: its UNBLOCK is on the way, and must not find the clock
    // moved. Not when the child was reaped already (a shell's SIGCHLD handler): the parent waits on for another.
    const parent = this.procs.get(p.ppid);
    if (unreaped && parent !== undefined && parent.state === 'blocked' && (parent.waitFor <= 0 || parent.waitFor === p.pid)) this.setState(parent, 'running');
    this.wakeSleepers();
    this.opts.onProcess?.({ pid: p.pid, comm: this.comms.get(p.pid) ?? p.sim.name, sim: p.sim }, 'exit');
    this.maybeSettle();
  }

  /**
   * Answers the sleeps that are over (sleepers.ts): those whose wake-up the
   * clock has reached and, when no process runs, the earliest ones, the
   * clock jumping there. Otherwise a timer comes back when real time has
   * brought the clock to the earliest wake-up.
   */
  private wakeSleepers(o: { graceOver?: boolean; synced?: boolean } = {}): void {
    if (this.sleepTimer !== null) {
      clearTimeout(this.sleepTimer);
      this.sleepTimer = null;
    }
    const first = this.sleepers.earliest();
    if (first === null) return;
    const live = [...this.procs.values()].filter((p) => !p.exited);
    let jump = this.waiting.size === 0 && !live.some((p) => p.state === 'running');
    // A process waiting for a child whose exit the simulator has already seen is about to run again (its
    // UNBLOCK is on the way): a jump waits JUMP_GRACE_MS of real time for it first.
    if (jump && o.graceOver !== true && live.some((p) => p.state === 'blocked')) {
      this.sleepTimer = setTimeout(() => this.wakeSleepers({ graceOver: true }), JUMP_GRACE_MS);
      return;
    }
    this.busy(true);
    try {
      const now = this.virtualNow();
      jump &&= first > now;
      if (o.synced !== true) this.syncAll();
      this.advance(jump ? first - now : 0);
      for (const s of this.sleepers.due(this.virtualNow())) {
        const p = this.procs.get(s.pid);
        if (p !== undefined) this.setState(p, 'running');
        this.opts.trace?.(`pid ${s.pid}: SLEEP = 0 (at ${((this.sys.machine.clock.now - this.clockBase) / 1e6).toFixed(6)} s)`);
        this.reply(s.conn, { ret: 0 });
      }
    } finally {
      this.busy(false);
    }
    const next = this.sleepers.earliest();
    if (next !== null) this.sleepTimer = setTimeout(() => this.wakeSleepers(), Math.max(1, Math.ceil((next - this.virtualNow()) / 1000)));
  }

  /** Whether a live process still has `f` open (a placeholder's memfd is then still written to). */
  private held(f: FileFd): boolean {
    for (const p of this.procs.values()) if (!p.exited && p.fds.holds(f)) return true;
    return false;
  }

  /** The bytes stdio wrote into placeholders since the last look, each run one store (stdio-taps.ts). */
  private drainTaps(): void {
    this.taps.drain((pid, file, bytes) => {
      const owner = this.procs.get(pid) ?? [...this.procs.values()].find((q) => !q.exited && q.fds.holds(file));
      if (owner === undefined || (file.flags & O_ACCMODE) === O_RDONLY) return;
      const r = this.sys.writeFile(owner.sim, file.path, bytes.toString('latin1'));
      this.opts.trace?.(`pid ${owner.pid}: stdio write(${file.path}, ${JSON.stringify(bytes.toString('latin1'))}) = ${r}`);
    });
  }


  /** Processes served and not exited. */
  live(): number {
    return this.procs.size;
  }

  /**
   * The end of the run (the program has exited): every process still
   * served exits on the era's kernel, as the processes the program left
   * running have lost their simulator; nothing stays registered.
   */
  exitAll(): void {
    this.aborted = true;
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    this.paused.clear();
    this.sleepers.clear();
    for (const p of [...this.procs.values()]) if (!p.exited) this.exit(p);
    if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
    this.sleepTimer = null;
  }

  // ------------------------------------------------------------ memory and time

  private setState(p: ExecProcess, state: RunState): void {
    p.state = state;
    p.quietSynced = false;
  }

  /** Every mirrored process brought up to its real memory: this session's, or on a host every session's (opts.sync). */
  private syncAll(): void {
    if (this.opts.sync !== undefined) this.opts.sync();
    else this.syncProcesses();
  }

  /** Every process's simulated mappings and registered pages brought up to its real ones. */
  syncProcesses(): void {
    for (const p of this.procs.values()) {
      if (p.exited || (p.state !== 'running' && p.quietSynced)) continue;
      const maps = readMaps(p.pid);
      if (maps === null) continue;
      // A shared mapping (a v1 region may be one) can change under another process: read it again each time.
      p.quietSynced = p.state !== 'running' && !maps.some((m) => m.shared);
      p.mirror.reconcile(maps);
      if (p.mergeAny) p.mirror.mirror(maps, 0, Number.MAX_SAFE_INTEGER, true);
      p.mirror.sync(this.adapter.registeredRanges(p.sim.mm));
    }
  }

  /** Marks the start and end of the simulator's own work. */
  private busy(on: boolean): void {
    this.clock.busy(on);
  }

  /** Virtual µs now (clock.ts). */
  private virtualNow(): number {
    return this.clock.virtualNow();
  }

  /** How far the virtual clock is from the real one (ns), for the clocks the program reads. */
  private leadNs(): bigint {
    return this.clock.leadNs();
  }

  private advance(extraUs = 0): void {
    this.clock.advance(extraUs);
  }

  /**
   * ksmd runs until two full scans change no counter, or the settle limit.
   * It yields to the event loop between steps, so that a signal or the
   * program's exit can stop it (abort()).
   */
  private async settle(): Promise<void> {
    const limitUs = (this.opts.settleSeconds ?? 300) * 1e6;
    const stepUs = 50_000;
    // What merging has reached; pages_volatile and pages_unshared move with the cursor within a pass.
    const key = () => {
      const c = this.adapter.counters();
      return `${c.pages_shared} ${c.pages_sharing}`;
    };
    let last = key();
    let passes = this.adapter.passes();
    let alike = 0;
    for (let spent = 0; spent < limitUs && !this.aborted && this.quiet(); spent += stepUs) {
      this.busy(true);
      try {
        this.advance(stepUs);
      } finally {
        this.busy(false);
      }
      if (this.sys.nextBatchAt() === null) break;
      const now = this.adapter.passes();
      if (now !== passes) {
        const k = key();
        if (k === last) alike += now - passes;
        else {
          alike = 0;
          last = k;
        }
        passes = now;
        if (alike >= 2) break;
      }
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Stops a settle under way (a signal, the program's end). */
  abort(): void {
    this.aborted = true;
  }

  /**
   * Whether the program has nothing more to do by itself: one process
   * waits in pause(), none runs, none is being born, none sleeps (a
   * sleeper wakes up later: wakeSleepers).
   */
  private quiet(): boolean {
    if (this.paused.size === 0 || this.waiting.size > 0 || this.sleepers.size > 0) return false;
    for (const p of this.procs.values()) if (!p.exited && p.state === 'running') return false;
    return true;
  }

  /** When every process waits and one waits in pause(): settle, then answer the pauses. */
  private maybeSettle(): void {
    if (this.settling || !this.quiet()) return;
    this.settling = true;
    this.busy(true);
    try {
      this.syncAll();
      this.advance();
    } finally {
      this.busy(false);
    }
    void this.settle().then(() => {
      this.settling = false;
      // A process ran again meanwhile (a signal, a child's exit): the program is not done; settle again when it is.
      if (!this.quiet()) return;
      this.settled = { virtualSeconds: (this.sys.machine.clock.now - this.clockBase) / 1e6, counters: { ...this.adapter.counters() } };
      const end = this.opts.endOnPause === true;
      for (const [pid, conn] of [...this.paused]) {
        this.paused.delete(pid);
        this.opts.trace?.(`pid ${pid}: PAUSE = 0${end ? ' (end)' : ''}`);
        this.reply(conn, { ret: 0, b0: end ? 1 : 0 });
      }
    });
  }

  private noteRealKsm(pid: number): void {
    try {
      const n = Number(readFileSync(`/proc/${pid}/ksm_merging_pages`, 'utf8').trim());
      if (n > this.realKsmPages) this.realKsmPages = n;
    } catch {
      // a kernel without the file (before 6.1), or the process is gone
    }
  }

  // ------------------------------------------------------------ calls

  private handle(conn: CallConn, req: Request): Reply | null {
    if (req.op === OP.HELLO) return this.hello(conn, req);
    const p = this.procs.get(req.pid);
    if (p === undefined || p.exited) return { ret: -ERRNO.ESRCH };
    this.setState(p, req.op === OP.PAUSE ? 'paused' : req.op === OP.BLOCK ? 'blocked' : 'running');
    this.drainTaps();
    this.noteRealKsm(p.pid);
    if (req.op === OP.BLOCK) {
      p.waitFor = Number(req.a[0]);
      this.maybeSettle();
      return { ret: 0 };
    }
    this.syncAll();
    this.advance();
    const a = req.a.map(Number);
    const sys = this.sys;
    switch (req.op) {
      case OP.FORK:
        return this.fork(p, a[0]);
      case OP.UNBLOCK:
        return { ret: 0 };
      case OP.PAUSE:
        this.paused.set(p.pid, conn);
        this.maybeSettle();
        return null;
      case OP.SLEEP:
        // On a host the clock is everyone's: a sleep moves it at once, as a script's sleep there does.
        if (this.opts.clock !== undefined) {
          this.advance(Math.max(0, a[0]) / 1000);
          return { ret: 0 };
        }
        // Answered by wakeSleepers (after this call) when the clock gets there.
        this.sleepers.add({ pid: p.pid, conn, untilUs: this.virtualNow() + Math.max(0, a[0]) / 1000 });
        this.setState(p, 'sleeping');
        return null;
      case OP.OPEN:
        return this.open(p, req.data.toString('utf8'), a[0], a[1]);
      case OP.BIND:
        p.fds.set(a[0], { kind: 'device', simFd: a[1] });
        return { ret: 0 };
      case OP.CLOSE: {
        const f = p.fds.get(a[0]);
        p.fds.delete(a[0]);
        if (f?.kind === 'device') return { ret: sys.close(p.sim, f.simFd) };
        this.taps.release((g) => this.held(g));
        return { ret: f === undefined ? -ERRNO.EBADF : 0 };
      }
      case OP.DUP: {
        const f = p.fds.get(a[0]);
        if (f === undefined) return { ret: -ERRNO.EBADF };
        if (f.kind === 'device') {
          const r = (sys.kernel as V1Kernel).dup(p.sim, f.simFd);
          if (r < 0) return { ret: r };
          p.fds.set(a[1], { kind: 'device', simFd: r });
        } else p.fds.set(a[1], f);
        return { ret: a[1] };
      }
      case OP.READ:
        return this.read(p, a[0], a[1], a[3] === 1 ? a[2] : null);
      case OP.WRITE: {
        const f = p.fds.get(a[0]);
        if (f === undefined) return { ret: -ERRNO.EBADF };
        if (f.kind === 'device') return { ret: -ERRNO.EINVAL };
        if ((f.flags & O_ACCMODE) === O_RDONLY) return { ret: -ERRNO.EBADF };
        return { ret: sys.writeFile(p.sim, f.path, req.data.toString('latin1')) };
      }
      case OP.LSEEK:
        return this.lseek(p, a[0], a[1], a[2]);
      case OP.IOCTL:
        return this.ioctl(p, a[0], a[1] >>> 0, a[2], req.data);
      case OP.MADVISE:
        return this.madvise(p, a[0], a[1], a[2]);
      case OP.PRCTL: {
        if (a[0] === PR_SET_MEMORY_MERGE && a[1] !== 0) {
          const maps = readMaps(p.pid);
          if (maps !== null) p.mirror.mirror(maps, 0, Number.MAX_SAFE_INTEGER, true);
        }
        const r = sys.prctl(p.sim, a[0], a[1], a[2], a[3], a[4]);
        if (r >= 0 && a[0] === PR_SET_MEMORY_MERGE) p.mergeAny = a[1] !== 0;
        return { ret: r };
      }
      case OP.STAT:
        return { ret: this.stat(p, req.data.length > 0 ? req.data.toString('utf8') : null, a[0]) };
      case OP.LIST: {
        // Only /sys/kernel/mm/ksm is a directory of the simulator: its era's files, in the seed's order.
        if (req.data.toString('utf8') !== '/sys/kernel/mm/ksm') return { ret: -ERRNO.ENOTDIR };
        if (sys.sysfs === null) return { ret: -ERRNO.ENOENT };
        const names = sys.sysfs.names();
        return { ret: names.length, data: Buffer.from(names.map((n) => `${n}\0`).join(''), 'utf8') };
      }
      case OP.MUNMAP:
        // syncAll has already dropped the simulated copy of what the real munmap took.
        return { ret: 0 };
      default:
        return { ret: -ERRNO.ENOSYS };
    }
  }

  /** The path the era's system reads: /proc/REALPID becomes the simulated pid. */
  private simPath(path: string): string | number {
    const m = /^\/proc\/(self|thread-self|[0-9]+)\/(.*)$/.exec(path);
    if (m === null) return path;
    if (m[1] === 'self' || m[1] === 'thread-self') return `/proc/self/${m[2]}`;
    const target = this.procs.get(Number(m[1]));
    // A real process the simulator does not run has no simulated files.
    return target === undefined ? -ERRNO.ENOENT : `/proc/${target.sim.pid}/${m[2]}`;
  }

  private open(p: ExecProcess, path: string, flags: number, fd: number): Reply {
    if (path === '/dev/ksm') {
      const r = this.sys.open(p.sim, path, flags);
      if (r >= 0) p.fds.set(fd, { kind: 'device', simFd: r });
      return { ret: r < 0 ? r : 0 };
    }
    if (path === '/sys/kernel/mm/ksm') {
      if (this.sys.sysfs === null) return { ret: -ERRNO.ENOENT };
      // Listing the directory is not simulated (docs/exec.md); the real one is never read.
      return { ret: flags & O_DIRECTORY ? -ERRNO.EOPNOTSUPP : -ERRNO.EISDIR };
    }
    const sp = this.simPath(path);
    if (typeof sp === 'number') return { ret: sp };
    // The file must exist in the era (and be readable when opened for reading); writes are checked per write.
    const text = this.sys.readFile(p.sim, sp);
    if (typeof text === 'number' && (text === -ERRNO.ENOENT || (flags & O_ACCMODE) === O_RDONLY)) return { ret: text };
    const f: FileFd = { kind: 'file', path: sp, flags, pos: 0, text: null };
    p.fds.set(fd, f);
    // Opened for reading only: the placeholder holds the text as of now, for what stdio reads from it behind read()
    // (a program whose stdin a shell redirected from the file: `prog < /sys/kernel/mm/ksm/run`).
    this.taps.open(p.pid, fd, f, p.pid, (flags & O_ACCMODE) === O_RDONLY && typeof text === 'string' ? Buffer.from(text, 'latin1') : undefined);
    return { ret: 0 };
  }

  /** st_mode of a simulated file (by path, or by the descriptor when path is null), or -errno. */
  private stat(p: ExecProcess, path: string | null, fd: number): number {
    if (path === null) {
      const f = p.fds.get(fd);
      if (f === undefined) return -ERRNO.EBADF;
      path = f.kind === 'device' ? '/dev/ksm' : f.path;
    }
    const sysfs = this.sys.sysfs;
    if (path === '/dev/ksm') return this.adapter.era.family === 'v1' ? S_IFCHR | (this.sys.kernel as V1Kernel).deviceNode.mode : -ERRNO.ENOENT;
    if (path === '/sys/kernel/mm/ksm') return sysfs === null ? -ERRNO.ENOENT : S_IFDIR | 0o755;
    if (path.startsWith('/sys/kernel/mm/ksm/')) {
      if (sysfs === null) return -ERRNO.ENOENT;
      const attr = sysfs.lookup(path);
      return typeof attr === 'number' ? attr : S_IFREG | attr.mode;
    }
    // fs/proc/meminfo.c: proc_create_single("meminfo", 0, ...), that is 0444.
    if (path === '/proc/meminfo') return S_IFREG | 0o444;
    const sp = this.simPath(path);
    if (typeof sp === 'number') return sp;
    // fs/proc/base.c: the KSM files are S_IRUSR; one another user may not read still exists.
    const text = this.sys.readFile(p.sim, sp);
    return text === -ERRNO.ENOENT ? text : S_IFREG | 0o400;
  }

  /** read(2), or pread(2) at `at`: a read at offset 0 asks the file for its text again, as sysfs's show() runs per read. */
  private read(p: ExecProcess, fd: number, count: number, at: number | null): Reply {
    const f = p.fds.get(fd);
    if (f === undefined) return { ret: -ERRNO.EBADF };
    if (f.kind === 'device') return { ret: -ERRNO.EINVAL };
    if ((f.flags & O_ACCMODE) === 1) return { ret: -ERRNO.EBADF };
    const pos = at ?? f.pos;
    if (pos === 0 || f.text === null) {
      const t = this.sys.readFile(p.sim, f.path);
      if (typeof t === 'number') return { ret: t };
      f.text = Buffer.from(t, 'latin1');
    }
    const data = f.text.subarray(pos, pos + count);
    if (at === null) f.pos += data.length;
    return { ret: data.length, data };
  }

  private lseek(p: ExecProcess, fd: number, off: number, whence: number): Reply {
    const f = p.fds.get(fd);
    if (f === undefined) return { ret: -ERRNO.EBADF };
    if (f.kind === 'device') return { ret: -ERRNO.ESPIPE };
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? f.pos : whence === SEEK_END ? (f.text?.length ?? 0) : -1;
    if (base < 0 || base + off < 0) return { ret: -ERRNO.EINVAL };
    f.pos = base + off;
    return { ret: f.pos };
  }

  private ioctl(p: ExecProcess, fd: number, request: number, addr: number, data: Buffer): Reply {
    const f = p.fds.get(fd);
    if (f === undefined) return { ret: -ERRNO.EBADF };
    if (f.kind !== 'device') return { ret: -ERRNO.ENOTTY };
    const info = REQUESTS.get(request);
    const memory = this.sys.memory;
    const mm = p.sim.mm;
    if (data.length > 0) {
      // The struct the pointer points at: the simulated process gets the real mapping there and the bytes.
      const maps = readMaps(p.pid) ?? [];
      p.mirror.mirror(maps, addr, addr + data.length);
      if (info?.name === REGISTER_REQUEST && data.length >= 16) {
        // struct ksm_memory_region (both ABIs): npages at 0, addr at 8.
        const start = Number(data.readBigUInt64LE(8));
        const pages = data.readUInt32LE(0);
        p.mirror.mirror(maps, start, start + pages * PAGE_SIZE);
      }
      memory.writeBytes(mm, addr, data);
    }
    const r = this.sys.ioctl(p.sim, f.simFd, request, BigInt(addr));
    let back: Uint8Array | undefined;
    if (data.length > 0 && !p.sim.exited) {
      const b = memory.readBytes(mm, addr, data.length);
      if (typeof b !== 'number') back = b;
    }
    // Registered pages hold the real contents before ksmd can look at them.
    if (info?.name === REGISTER_REQUEST && r === 0) this.syncAll();
    return { ret: r, b0: r >= 0 && info !== undefined && NEW_FD_REQUESTS.has(info.name) ? 1 : 0, data: back };
  }

  private madvise(p: ExecProcess, addr: number, length: number, advice: number): Reply {
    const maps = readMaps(p.pid) ?? [];
    if (KSM_ADVICE.has(advice)) {
      p.mirror.mirror(maps, addr, addr + length);
      const r = this.sys.madvise(p.sim, addr, length, advice);
      if (r === 0) this.syncAll();
      return { ret: r };
    }
    // The real madvise has run; the simulated copy follows where it has one (MADV_DONTNEED drops its pages, MADV_DONTFORK marks it).
    if (p.sim.mm.vmas.some((v) => v.start < addr + length && v.end > addr)) this.sys.madvise(p.sim, addr, length, advice);
    return { ret: 0 };
  }
}

