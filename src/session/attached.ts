/**
 * The TUI attached to a running ksmctl host: an EraSession whose reads come
 * from the host's last answer (a `view` of its kernel: counters, knobs,
 * ksmd, processes, the selected process's page states, new lines of its
 * trace) and whose controls are requests the host carries out with the
 * era's own calls (src/session/kernel-view.ts on the host side).
 *
 * The reads are synchronous, as the panels need them; everything that goes
 * to the host is asynchronous: `poll` asks for a fresh view (one request in
 * flight at a time), `control` sends a control and takes the view that comes
 * back with its answer, `requestAdvance` lets virtual time pass on a host
 * whose clock is manual. Answers arrive in order on the one connection, so
 * the last one read is always the newest state. Listeners (`onUpdate`) hear
 * of every answer; the TUI's model turns them into log lines and samples.
 *
 * The EraSession controls (start, setPagesToScan, ...) send the request and
 * return what was asked, not the call: the call itself, as the era's program
 * issued it, comes back in the host's trace.
 */
import { HostClient } from '../host/client.js';
import type { HostResponse, HostView, TraceLine } from '../host/protocol.js';
import type { ViewAction } from './kernel-view.js';
import type { CallRecord, CounterValue, EraFile, EraSession, Knobs, KsmdState, NodeInfo, ProcessInfo, SessionEraInfo, SessionSupport, StateLabel, WorkTotals } from './session.js';

/** Trace lines fetched when attaching (the recent past of the host). */
const INITIAL_TRACE = 200;
/** The most trace lines one answer brings. */
const TRACE_LIMIT = 500;

export interface ControlResult {
  ok: boolean;
  error?: string;
  /** ksmd batches run (step, advance). */
  batches: number;
}

export class AttachedSession implements EraSession {
  readonly info: SessionEraInfo;
  readonly support: SessionSupport;
  readonly counterNames: readonly string[];
  readonly stateLabels: readonly StateLabel[];
  /** The host's clock: `manual` lets the TUI steer virtual time. */
  readonly clock: 'real' | 'manual';
  /** Set once the host could not be reached (it stopped, the connection broke). */
  error: string | null = null;
  /** The last advance got less virtual time than it asked for. */
  lagging = false;
  private view: HostView;
  private states: { pid: number; data: Uint8Array } | null = null;
  private wantPid = 0;
  private cursor = 0;
  private pending: TraceLine[] = [];
  private dropped = 0;
  /** A poll or an advance is in flight. */
  private busy = false;
  /** Knob values sent and not yet confirmed by the host's answer. */
  private sent: Partial<Knobs> = {};
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly client: HostClient,
    readonly socket: string,
    first: HostView,
  ) {
    this.view = first;
    this.info = first.era;
    this.support = first.support;
    this.counterNames = first.counterNames;
    this.stateLabels = first.stateLabels;
    this.clock = first.clock;
    this.absorb(first);
  }

  /** Connects to the host on `socket` and reads its state; rejects with HostUnreachable when nobody answers there. */
  static async connect(socket: string, timeoutMs?: number): Promise<AttachedSession> {
    const client = await HostClient.connect(socket, timeoutMs);
    const r = await client.request({ op: 'view', limit: INITIAL_TRACE });
    if (!r.ok || r.view === undefined) {
      client.close();
      throw new Error(`the host on ${socket} gave no view: ${r.ok ? 'an empty answer' : r.error}`);
    }
    const s = new AttachedSession(client, socket, r.view);
    // The page states of the process the TUI selects first, so that its first frame has its memory map.
    const first = defaultPid(r.view.processes);
    if (first !== 0) {
      s.wantPid = first;
      s.answered(await client.request({ op: 'view', ...s.request() }));
    }
    return s;
  }

  close(): void {
    this.listeners.clear();
    this.client.close();
  }

  /** Calls `f` after every answer of the host; returns the unsubscribe. */
  onUpdate(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** The trace lines that arrived since the last call, and how many lines of the host's trace were skipped before them. */
  takeCalls(): { lines: TraceLine[]; dropped: number } {
    const out = { lines: this.pending, dropped: this.dropped };
    this.pending = [];
    this.dropped = 0;
    return out;
  }

  // ------------------------------------------------------------ talking to the host

  private request(): { pid?: number; since: number; limit: number } {
    return { pid: this.wantPid > 0 ? this.wantPid : undefined, since: this.cursor, limit: TRACE_LIMIT };
  }

  private absorb(view: HostView): void {
    this.view = view;
    if (view.states !== undefined) this.states = { pid: view.states.pid, data: new Uint8Array(Buffer.from(view.states.data, 'base64')) };
    else if (this.states !== null && !view.processes.some((p) => p.pid === this.states!.pid)) this.states = null;
    const fresh = view.trace.lines.filter((l) => l.seq >= this.cursor);
    const first = fresh.length ? fresh[0].seq : view.trace.next;
    if (first > this.cursor) this.dropped += first - this.cursor;
    this.pending.push(...fresh);
    this.cursor = Math.max(this.cursor, view.trace.next);
  }

  private answered(r: HostResponse): boolean {
    if (r.ok) {
      if (r.view !== undefined) this.absorb(r.view);
      return true;
    }
    // id -1: the connection, not the request, failed.
    if (r.id === -1) this.error = r.error;
    return false;
  }

  private notify(): void {
    for (const f of this.listeners) f();
  }

  /** Asks for a fresh view unless a poll or an advance is in flight; whether it asked. */
  poll(): boolean {
    if (this.busy || this.error !== null) return false;
    this.busy = true;
    void this.client.request({ op: 'view', ...this.request() }).then((r) => {
      this.busy = false;
      this.answered(r);
      this.notify();
    });
    return true;
  }

  /** Manual clock: lets `micros` of virtual time pass on the host (at most maxBatches batches), unless a request is in flight; whether it asked. */
  requestAdvance(micros: number, maxBatches?: number): boolean {
    if (this.busy || this.error !== null) return false;
    this.busy = true;
    const before = this.view.now;
    void this.client.request({ op: 'control', action: 'advance', value: Math.max(0, Math.round(micros)), maxBatches, ...this.request() }).then((r) => {
      this.busy = false;
      if (this.answered(r)) this.lagging = this.view.now - before < micros;
      this.notify();
    });
    return true;
  }

  /** A control through the host (value: pages for pagesToScan, µs for sleep). */
  async control(action: ViewAction, value?: number): Promise<ControlResult> {
    if (this.error !== null) return { ok: false, error: this.error, batches: 0 };
    if (action === 'pagesToScan') this.sent.pagesToScan = value;
    if (action === 'sleep') this.sent.sleepMicros = value;
    if (action === 'start' || action === 'stop') this.sent.run = action === 'start';
    const r = await this.client.request({ op: 'control', action, value, ...this.request() });
    this.sent = {};
    const ok = this.answered(r);
    this.notify();
    return r.ok ? { ok, batches: r.batches ?? 0 } : { ok: false, error: r.error, batches: 0 };
  }

  // ------------------------------------------------------------ EraSession: reads

  now(): number {
    return this.view.now;
  }

  counters(): CounterValue[] {
    return this.view.counters;
  }

  pagesSaved(): number {
    return this.view.pagesSaved;
  }

  knobs(): Knobs {
    return { ...this.view.knobs, ...this.sent };
  }

  ksmdState(): KsmdState {
    return this.view.ksmd;
  }

  work(): WorkTotals {
    return this.view.work;
  }

  processes(): ProcessInfo[] {
    return this.view.processes;
  }

  /** The host's era files, where its answer has them (a host of an older protocol sends none). */
  files(): EraFile[] {
    return this.view.files ?? [];
  }

  nodes(): NodeInfo[] {
    return this.view.nodes ?? [];
  }

  /** The last page states the host sent for `pid` (asked for from now on); empty until they come. */
  pageStates(pid: number, out?: Uint8Array): Uint8Array {
    this.wantPid = pid;
    if (this.states === null || this.states.pid !== pid) return new Uint8Array(0);
    const n = this.states.data.length;
    const states = out !== undefined && out.length >= n ? out.subarray(0, n) : new Uint8Array(n);
    states.set(this.states.data);
    return states;
  }

  // ------------------------------------------------------------ EraSession: actions (sent, answered in the trace)

  private sendControl(action: ViewAction, value?: number): CallRecord {
    void this.control(action, value);
    return { text: `${action}${value === undefined ? '' : ` ${value}`}: sent to the host`, ok: true };
  }

  load(): CallRecord[] {
    throw new Error('an attached session runs what the host runs: it loads no workload');
  }

  advance(micros: number, maxBatches?: number): number {
    if (this.clock === 'manual') this.requestAdvance(micros, maxBatches);
    return 0;
  }

  step(): number {
    if (this.clock === 'manual') void this.control('step');
    return 0;
  }

  start(): CallRecord {
    return this.sendControl('start');
  }

  stop(): CallRecord {
    return this.sendControl('stop');
  }

  unmerge(): CallRecord {
    return this.sendControl('unmerge');
  }

  setPagesToScan(n: number): CallRecord {
    return this.sendControl('pagesToScan', n);
  }

  setSleep(micros: number): CallRecord {
    return this.sendControl('sleep', Math.round(micros));
  }

  /** Not sent: the host's era files are written by its programs (a script's `echo 1 > /sys/kernel/mm/ksm/use_zero_pages`). */
  writeFile(name: string): CallRecord {
    return { text: `${name}: not available attached to a host: a script on the host writes its files`, ok: false };
  }

  churn(): CallRecord {
    return { text: 'not available attached to a host: its processes write what their programs write', ok: false };
  }

  exit(): CallRecord {
    return { text: 'not available attached to a host: its processes end as their programs end', ok: false };
  }

  spawnGuest(): { pid: number; calls: CallRecord[] } {
    return { pid: 0, calls: [{ text: 'not available attached to a host: its processes are started by scripts', ok: false }] };
  }
}

/** The process a view of the host selects first: the first with registered pages (a script's helpers have none), else the first. */
export function defaultPid(processes: readonly ProcessInfo[]): number {
  return (processes.find((p) => p.registeredPages > 0) ?? processes[0])?.pid ?? 0;
}
