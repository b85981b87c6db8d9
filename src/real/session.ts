/**
 * `ksmctl tui --real`: an EraSession (src/session/session.ts) over the
 * machine's own KSM, so the TUI shows it with the panels it has. ksmd runs
 * on its own: `advance` only reads the kernel again, and `step` runs
 * nothing. The session's clock is the time the TUI lets pass (real time at
 * its default speed ×1; paused, the view holds still). The counters are every read-only file of
 * /sys/kernel/mm/ksm this kernel has (general_profit included) and ksmd's
 * share of a core (`ksmd_cpu_percent`, from /proc); the processes are those
 * with KSM activity in /proc (registered pages: the rmap_items ksmd keeps
 * for them; merged: their ksm_merging_pages).
 *
 * Read-only unless root: the controls write the real files as the era's
 * calls (`echo 1 > /sys/kernel/mm/ksm/run`), and a user who may not gets the
 * error in the log. The workload's own actions (churn, exit, new guests)
 * and the memory map do not apply to the machine's processes.
 */
import { release } from 'node:os';
import { PAGE_STATE_LABELS } from '../eras/page-states.js';
import type { CallRecord, CounterValue, EraFile, EraSession, NodeInfo, Knobs, KsmdState, ProcessInfo, SessionEraInfo, SessionSupport, StateLabel, WorkTotals } from '../session/session.js';
import type { RealPaths } from './paths.js';
import { cpuShare, findKsmd, type KsmdSample, type KsmProcess, ksmProcesses, sampleKsmd } from './proc.js';
import { KsmSysfs, numberOf } from './sysfs.js';

/** The pseudo-counter of ksmd's CPU use, in percent of one core. */
export const KSMD_CPU = 'ksmd_cpu_percent';
/** How often the process list is read again, ms (a /proc walk). */
const PROCESS_REFRESH_MS = 1000;

export class RealSession implements EraSession {
  readonly info: SessionEraInfo;
  readonly support: SessionSupport = { unmerge: true };
  readonly counterNames: readonly string[];
  readonly stateLabels: readonly StateLabel[] = PAGE_STATE_LABELS;
  private readonly ksm: KsmSysfs;
  private micros = 0;
  private values = new Map<string, string>();
  private ksmd: { pid: number; last: KsmdSample | null; share: number } | null = null;
  private procs: KsmProcess[] = [];
  private procsAt = -Infinity;
  private readonly scannedAt0: number;
  private readonly sharingAt0: number;

  constructor(
    private readonly paths: RealPaths,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.ksm = new KsmSysfs(paths.sysfs);
    this.info = { id: 'real', family: 'real', label: 'real', title: `this machine's own KSM (Linux ${release()}, ${paths.sysfs})` };
    this.read();
    this.counterNames = [...this.ksm.files().filter((f) => !f.knob).map((f) => f.name), KSMD_CPU];
    this.scannedAt0 = this.num('pages_scanned');
    this.sharingAt0 = this.num('pages_sharing');
  }

  private num(name: string): number {
    return numberOf(this.values.get(name) ?? '') ?? 0;
  }

  /** Every file again, ksmd's CPU time, and (at most once a second) the processes. */
  private read(): void {
    this.values = new Map(this.ksm.files().map((f) => [f.name, f.text]));
    const now = this.clock();
    if (this.ksmd === null) {
      const pid = findKsmd(this.paths.proc);
      if (pid !== null) this.ksmd = { pid, last: sampleKsmd(this.paths.proc, pid, now / 1000), share: 0 };
    } else {
      const s = sampleKsmd(this.paths.proc, this.ksmd.pid, now / 1000);
      // A share over less than a few hundred ms is mostly the 10 ms tick of utime: keep the last one until then.
      if (s !== null && this.ksmd.last !== null && s.at - this.ksmd.last.at >= 0.5) {
        this.ksmd.share = cpuShare(this.ksmd.last, s) ?? 0;
        this.ksmd.last = s;
      }
    }
    if (now - this.procsAt >= PROCESS_REFRESH_MS) {
      this.procs = ksmProcesses(this.paths.proc);
      this.procsAt = now;
    }
  }

  /** Nothing to load: the processes are the machine's. */
  load(): CallRecord[] {
    return [];
  }

  now(): number {
    return this.micros;
  }

  /** ksmd runs by itself: read the kernel again. */
  advance(micros: number): number {
    this.micros += micros;
    this.read();
    return 0;
  }

  /** A batch of the real ksmd cannot be run from here. */
  step(): number {
    this.read();
    return 0;
  }

  counters(): CounterValue[] {
    return this.counterNames.map((name) => ({
      name,
      value: name === KSMD_CPU ? Math.round((this.ksmd?.share ?? 0) * 1000) / 10 : this.num(name),
      exposed: true,
    }));
  }

  /** pages_sharing: the pages the kernel itself counts as saved (and ksm_zero_pages, merged with the zero page). */
  pagesSaved(): number {
    return this.num('pages_sharing') + this.num('ksm_zero_pages');
  }

  knobs(): Knobs {
    return { run: this.values.get('run') === '1', pagesToScan: this.num('pages_to_scan'), sleepMicros: this.num('sleep_millisecs') * 1000 };
  }

  ksmdState(): KsmdState {
    if (this.values.get('run') !== '1') return 'stopped';
    return this.procs.some((p) => p.mergeable !== false || p.merge_any === true) ? 'sleeping' : 'waiting';
  }

  work(): WorkTotals {
    return { pagesScanned: this.num('pages_scanned') - this.scannedAt0, merges: Math.max(0, this.num('pages_sharing') - this.sharingAt0), batches: 0 };
  }

  /** echo VALUE > FILE on the real file: the call, and its error if the kernel (or the permissions) refused it. */
  private echo(value: string, name: string): CallRecord {
    const text = `echo ${value} > ${this.paths.sysfs}/${name}`;
    try {
      this.ksm.write(name, value);
      this.read();
      return { text, ok: true };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { text: `${text}: ${err.code ?? err.message}`, ok: false };
    }
  }

  start(): CallRecord {
    return this.echo('1', 'run');
  }

  /** The knob files are among the counters here (every file the kernel has). */
  files(): EraFile[] {
    return [];
  }

  /** NUMA placement of KSM pages is not read from the real kernel. */
  nodes(): NodeInfo[] {
    return [];
  }

  writeFile(name: string, value: string): CallRecord {
    return this.echo(value, name);
  }

  stop(): CallRecord {
    return this.echo('0', 'run');
  }

  unmerge(): CallRecord {
    return this.echo('2', 'run');
  }

  setPagesToScan(n: number): CallRecord {
    return this.echo(`${n}`, 'pages_to_scan');
  }

  setSleep(micros: number): CallRecord {
    return this.echo(`${Math.round(micros / 1000)}`, 'sleep_millisecs');
  }

  processes(): ProcessInfo[] {
    return this.procs.map((p) => ({ pid: p.pid, name: p.name, registeredPages: p.rmap_items ?? p.merging_pages, mergedPages: p.merging_pages, cowBreaks: 0 }));
  }

  /** The memory map of a real process is not read: its pages show as not known (absent). */
  pageStates(pid: number, out?: Uint8Array): Uint8Array {
    const n = this.processes().find((p) => p.pid === pid)?.registeredPages ?? 0;
    const o = out !== undefined && out.length >= n ? out.subarray(0, n) : new Uint8Array(n);
    o.fill(0);
    return o;
  }

  private notHere(what: string): CallRecord {
    return { text: `${what}: not on the real kernel (its processes are the machine's own)`, ok: false };
  }

  churn(pid: number): CallRecord {
    return this.notHere(`writing pages of process ${pid}`);
  }

  exit(pid: number): CallRecord {
    return this.notHere(`ending process ${pid}`);
  }

  spawnGuest(): { pid: number; calls: CallRecord[] } {
    return { pid: 0, calls: [this.notHere('starting a guest')] };
  }
}
