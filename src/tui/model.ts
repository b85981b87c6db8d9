/**
 * The TUI's state and actions, apart from React: the session it steers,
 * the speed of virtual time, the call log, and the counters' history. The
 * app calls `tick` from a real-time timer and `run` on key presses; panels
 * only read from it. Virtual time passes here, never inside the engine.
 */
import type { Churn } from '../workload/builtin.js';
import type { Workload } from '../workload/schema.js';
import { ERAS, type EraEntry } from '../eras/registry.js';
import { AdapterSession } from '../session/adapter-session.js';
import { AttachedSession, defaultPid } from '../session/attached.js';
import type { CallRecord, EraSession } from '../session/session.js';
import { type Command, KEY_TABLE } from './keys.js';

export interface LogLine extends CallRecord {
  /** Virtual time of the call, µs. */
  at: number;
  /** A note of the TUI itself (not a call of the era). */
  note?: boolean;
}

export interface Sample {
  /** Virtual time, µs. */
  t: number;
  counters: number[];
  pagesSaved: number;
  pagesScanned: number;
  /** ksmd's CPU so far by the CPU model, ns (undefined: no model). */
  ksmdCpuNs?: number;
  merges: number;
  /** The era's numeric files (general_profit, ksm_zero_pages, ...) by name. */
  files: Record<string, number>;
}

export const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 50, 100] as const;
export const PAGES_TO_SCAN_STEPS = [1, 10, 25, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000] as const;
export const SLEEP_MS_STEPS = [0, 1, 5, 10, 20, 50, 100, 200, 500, 1000, 5000] as const;
/** Pages the `churn` key writes. */
export const CHURN_PAGES = 32;
/** Samples kept for sparklines and the chart. */
const HISTORY = 1024;
const LOG_LINES = 500;
/** The most pages ksmd may scan per tick, so a frame never takes long: virtual time lags instead. */
const PAGES_PER_TICK = 200_000;

export interface ModelOptions {
  /** The workload the session was loaded with: the era switch restarts it. */
  workload?: Workload;
  /** Pages that keep changing while time runs. */
  churn?: Churn[];
  /** The era switch's choices (default: every era of the registry). */
  eras?: readonly EraEntry[];
  /** The calls the session made while loading, for the log. */
  loadCalls?: CallRecord[];
  speed?: number;
  paused?: boolean;
}

export class TuiModel {
  session: EraSession;
  readonly eras: readonly EraEntry[];
  readonly workload: Workload | undefined;
  private readonly churnSpecs: Churn[];
  speed: number;
  paused: boolean;
  autoChurn = true;
  selectedPid = 0;
  /** Virtual time could not keep up with the asked speed on the last tick. */
  lagging = false;
  readonly log: LogLine[] = [];
  samples: Sample[] = [];
  /** Bumped on every change, so the app knows to render. */
  version = 0;
  private churnDebt = new Map<number, number>();
  /** Pids of guests started from the TUI: they churn like the workload's first process. */
  private spawned = new Set<number>();
  /** The host's session when the TUI is attached to a ksmctl host, else null. */
  readonly remote: AttachedSession | null;
  private readonly listeners = new Set<() => void>();
  private hostError: string | null = null;

  constructor(session: EraSession, opts: ModelOptions = {}) {
    this.session = session;
    this.eras = opts.eras ?? ERAS;
    this.workload = opts.workload;
    this.churnSpecs = opts.churn ?? [];
    this.speed = opts.speed ?? 1;
    this.remote = session instanceof AttachedSession ? session : null;
    // Attached to a host whose clock is manual, time moves when the user says so.
    this.paused = opts.paused ?? this.remote?.clock === 'manual';
    this.addLog(opts.loadCalls ?? []);
    if (this.remote !== null) {
      this.remote.onUpdate(() => this.absorbRemote());
      this.absorbRemote();
      return;
    }
    this.selectFirst();
    this.sample();
  }

  /** Hears of changes that come from outside tick and run (an attached host's answers); returns the unsubscribe. */
  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Virtual time can be steered from here: a private session, or a host with a manual clock. */
  get timeSteerable(): boolean {
    return this.remote === null || this.remote.clock === 'manual';
  }

  // ------------------------------------------------------------ time

  /** A real-time tick of `realMs` milliseconds: virtual time runs `speed` times as fast, unless paused. */
  tick(realMs: number): void {
    if (this.remote !== null) {
      this.tickRemote(realMs);
      return;
    }
    if (this.paused) return;
    const s = this.session;
    const before = s.now();
    const want = Math.max(1, Math.round(realMs * 1000 * this.speed));
    const maxBatches = Math.max(1, Math.ceil(PAGES_PER_TICK / Math.max(1, s.knobs().pagesToScan)));
    s.advance(want, maxBatches);
    this.lagging = s.now() - before < want;
    this.applyChurn(s.now() - before);
    this.sample();
  }

  /** The workload's churn over `micros` of virtual time. */
  private applyChurn(micros: number): void {
    if (!this.autoChurn || micros <= 0) return;
    const template = this.workload?.processes[0]?.name;
    for (const p of this.session.processes()) {
      const name = this.spawned.has(p.pid) ? template : p.name;
      const spec = this.churnSpecs.find((c) => c.proc === name);
      if (spec === undefined) continue;
      const due = (this.churnDebt.get(p.pid) ?? 0) + (spec.pagesPerSecond * micros) / 1e6;
      const n = Math.floor(due);
      this.churnDebt.set(p.pid, due - n);
      if (n > 0) this.session.churn(p.pid, n, { region: spec.region, revert: spec.revert });
    }
  }

  private sample(): void {
    const s = this.session;
    const w = s.work();
    const files: Record<string, number> = {};
    for (const f of s.files()) {
      const n = f.value === null || f.value === '' ? Number.NaN : Number(f.value);
      if (Number.isFinite(n)) files[f.name] = n;
    }
    this.samples.push({
      t: s.now(),
      counters: s.counters().map((c) => c.value),
      pagesSaved: s.pagesSaved(),
      pagesScanned: w.pagesScanned,
      merges: w.merges,
      ksmdCpuNs: w.ksmdCpuNs,
      files,
    });
    if (this.samples.length > HISTORY) this.samples.splice(0, this.samples.length - HISTORY);
    this.version++;
  }

  /**
   * Pages scanned and merges per second of virtual time, over the last second
   * or so; and ksmd's share of one core by the CPU model over it (null where
   * the session has no model: the real kernel).
   */
  rates(): { scan: number; merge: number; cpu: number | null } {
    const n = this.samples.length;
    if (n < 2) return { scan: 0, merge: 0, cpu: null };
    const last = this.samples[n - 1];
    let i = n - 2;
    while (i > 0 && last.t - this.samples[i].t < 1e6) i--;
    const first = this.samples[i];
    const dt = (last.t - first.t) / 1e6;
    if (dt <= 0) return { scan: 0, merge: 0, cpu: null };
    const cpu = last.ksmdCpuNs === undefined || first.ksmdCpuNs === undefined ? null : (last.ksmdCpuNs - first.ksmdCpuNs) / 1e9 / dt;
    return { scan: (last.pagesScanned - first.pagesScanned) / dt, merge: (last.merges - first.merges) / dt, cpu };
  }

  // ------------------------------------------------------------ commands

  /** Carries out a command of the key table (help, quit and era are the app's). */
  run(command: Command): void {
    if (this.remote !== null) {
      this.runRemote(this.remote, command);
      this.version++;
      return;
    }
    const s = this.session;
    const file = KEY_TABLE.find((b) => b.command === command)?.file;
    if (file !== undefined) {
      // A file of the era: the next value from the one it shows, through the era's own write.
      const f = s.files().find((x) => x.name === file.name && x.writable);
      if (f === undefined) this.note(`${s.info.label} has no ${file.name}`);
      else this.addLog([s.writeFile(file.name, file.next(f.value ?? ''))]);
      this.sample();
      return;
    }
    switch (command) {
      case 'startStop':
        this.addLog([s.knobs().run ? s.stop() : s.start()]);
        break;
      case 'unmerge':
        if (s.support.unmerge) this.addLog([s.unmerge()]);
        else this.note(`${s.info.label} has no unmerge control`);
        break;
      case 'pagesUp':
      case 'pagesDown': {
        const n = ladder(PAGES_TO_SCAN_STEPS, s.knobs().pagesToScan, command === 'pagesUp' ? 1 : -1);
        if (n !== undefined) this.addLog([s.setPagesToScan(n)]);
        break;
      }
      case 'sleepUp':
      case 'sleepDown': {
        const ms = ladder(SLEEP_MS_STEPS, s.knobs().sleepMicros / 1000, command === 'sleepUp' ? 1 : -1);
        if (ms !== undefined) this.addLog([s.setSleep(ms * 1000)]);
        break;
      }
      case 'faster':
      case 'slower':
        this.speed = ladder(SPEEDS, this.speed, command === 'faster' ? 1 : -1) ?? this.speed;
        break;
      case 'pause':
        this.paused = !this.paused;
        break;
      case 'step':
        if (s.step() === 0) this.note(`ksmd is ${s.ksmdState()}: no batch to run`);
        break;
      case 'selectUp':
      case 'selectDown':
        this.moveSelection(command === 'selectUp' ? -1 : 1);
        break;
      case 'churn':
        if (this.selected()) this.addLog([s.churn(this.selectedPid, CHURN_PAGES)]);
        break;
      case 'autoChurn':
        this.autoChurn = !this.autoChurn;
        this.note(`workload churn ${this.autoChurn ? 'on' : 'off'}`);
        break;
      case 'exitProcess':
        if (this.selected()) {
          const list = s.processes();
          const i = list.findIndex((p) => p.pid === this.selectedPid);
          this.addLog([s.exit(this.selectedPid)]);
          const rest = s.processes();
          this.selectedPid = rest.length ? rest[Math.min(i, rest.length - 1)].pid : 0;
        }
        break;
      case 'spawnGuest': {
        const { pid, calls } = s.spawnGuest();
        this.addLog(calls);
        this.spawned.add(pid);
        this.selectedPid = pid;
        break;
      }
      default:
        return;
    }
    this.sample();
  }

  /** Restarts the workload under another era: a new machine, the same workload, the same speed. */
  switchEra(id: string): void {
    const era = this.eras.find((e) => e.id === id);
    if (era === undefined || this.workload === undefined) return;
    const session = new AdapterSession(era);
    const calls = session.load(this.workload);
    this.session = session;
    this.samples = [];
    this.churnDebt.clear();
    this.spawned.clear();
    this.note(`── ${this.workload.name} restarted under ${era.label} ──`);
    this.addLog(calls);
    this.selectFirst();
    this.sample();
  }

  // ------------------------------------------------------------ attached to a host

  /** Attached: a manual clock advances by this tick's share (when not paused); otherwise the host is asked how it is. */
  private tickRemote(realMs: number): void {
    const r = this.remote!;
    if (r.clock === 'manual' && !this.paused) {
      const want = Math.max(1, Math.round(realMs * 1000 * this.speed));
      const maxBatches = Math.max(1, Math.ceil(PAGES_PER_TICK / Math.max(1, r.knobs().pagesToScan)));
      // The last advance is still running: the host cannot keep up.
      if (!r.requestAdvance(want, maxBatches)) this.lagging = true;
    } else {
      r.poll();
    }
  }

  /** An answer of the host: its new trace lines into the log, a sample of its counters. */
  private absorbRemote(): void {
    const r = this.remote!;
    const { lines, dropped } = r.takeCalls();
    if (dropped > 0) this.note(`… ${dropped} earlier call${dropped === 1 ? '' : 's'} of the host not shown`);
    for (const l of lines) this.log.push({ text: l.text, ok: l.ok, at: l.at });
    if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
    if (r.error !== null && r.error !== this.hostError) {
      this.hostError = r.error;
      this.note(`host: ${r.error}`);
    }
    this.lagging = r.clock === 'manual' && !this.paused && r.lagging;
    if (!this.selected()) {
      this.selectedPid = defaultPid(r.processes());
    }
    // Samples follow the host's clock; an answer at the same virtual time replaces the last one.
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && last.t === r.now()) this.samples.pop();
    this.sample();
    for (const f of this.listeners) f();
  }

  private sendRemote(action: Parameters<AttachedSession['control']>[0], value?: number, then?: (batches: number) => void): void {
    void this.remote!.control(action, value).then((res) => {
      if (!res.ok) this.note(`host: ${res.error}`);
      else then?.(res.batches);
      for (const f of this.listeners) f();
    });
  }

  /** Commands when attached: the era's controls go to the host; time only on a manual clock; the processes are the host's programs'. */
  private runRemote(r: AttachedSession, command: Command): void {
    const realClock = 'virtual time follows the host\'s real clock: speed, pause and step need a host started with --clock manual';
    const notHere = 'is not available attached to a host: its processes belong to their programs';
    const file = KEY_TABLE.find((b) => b.command === command)?.file;
    if (file !== undefined) {
      this.note(`${file.name} is not written from here attached to a host: a script on the host writes it (echo ... > /sys/kernel/mm/ksm/${file.name})`);
      return;
    }
    switch (command) {
      case 'startStop':
        this.sendRemote(r.knobs().run ? 'stop' : 'start');
        break;
      case 'unmerge':
        if (r.support.unmerge) this.sendRemote('unmerge');
        else this.note(`${r.info.label} has no unmerge control`);
        break;
      case 'pagesUp':
      case 'pagesDown': {
        const n = ladder(PAGES_TO_SCAN_STEPS, r.knobs().pagesToScan, command === 'pagesUp' ? 1 : -1);
        if (n !== undefined) this.sendRemote('pagesToScan', n);
        break;
      }
      case 'sleepUp':
      case 'sleepDown': {
        const ms = ladder(SLEEP_MS_STEPS, r.knobs().sleepMicros / 1000, command === 'sleepUp' ? 1 : -1);
        if (ms !== undefined) this.sendRemote('sleep', ms * 1000);
        break;
      }
      case 'faster':
      case 'slower':
        if (r.clock === 'manual') this.speed = ladder(SPEEDS, this.speed, command === 'faster' ? 1 : -1) ?? this.speed;
        else this.note(realClock);
        break;
      case 'pause':
        if (r.clock === 'manual') this.paused = !this.paused;
        else this.note(realClock);
        break;
      case 'step':
        if (r.clock === 'manual') this.sendRemote('step', undefined, (batches) => batches === 0 && this.note(`ksmd is ${r.ksmdState()}: no batch to run`));
        else this.note(realClock);
        break;
      case 'selectUp':
      case 'selectDown':
        this.moveSelection(command === 'selectUp' ? -1 : 1);
        break;
      case 'churn':
        this.note(`churn ${notHere}`);
        break;
      case 'autoChurn':
        this.note(`the workload's churn ${notHere}`);
        break;
      case 'exitProcess':
        this.note(`exit ${notHere}`);
        break;
      case 'spawnGuest':
        this.note(`a new guest ${notHere}`);
        break;
      case 'era':
        this.note(`the era is the host's (${r.info.label}): ksmctl tui --no-host runs a private session of another`);
        break;
      default:
        return;
    }
  }

  // ------------------------------------------------------------ selection and log

  private selected(): boolean {
    return this.session.processes().some((p) => p.pid === this.selectedPid);
  }

  private selectFirst(): void {
    this.selectedPid = this.session.processes()[0]?.pid ?? 0;
  }

  private moveSelection(d: number): void {
    const list = this.session.processes();
    if (list.length === 0) return;
    const i = list.findIndex((p) => p.pid === this.selectedPid);
    const j = i < 0 ? 0 : Math.max(0, Math.min(list.length - 1, i + d));
    this.selectedPid = list[j].pid;
  }

  private addLog(calls: CallRecord[]): void {
    const at = this.session.now();
    for (const c of calls) this.log.push({ ...c, at });
    if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
    this.version++;
  }

  note(text: string): void {
    this.log.push({ text, ok: true, at: this.session.now(), note: true });
    this.version++;
  }
}

/** The next value of a ladder above (dir 1) or below (dir -1) `v`, or undefined at the end. */
export function ladder(steps: readonly number[], v: number, dir: 1 | -1): number | undefined {
  if (dir > 0) return steps.find((s) => s > v);
  for (let i = steps.length - 1; i >= 0; i--) if (steps[i] < v) return steps[i];
  return undefined;
}
