/**
 * The workload runner's driver for the machine's own KSM (`--era real`): the
 * workload's processes are real processes (child.ts) that map, fill,
 * register with madvise and write; ksmd is driven one whole pass at a time
 * through /sys/kernel/mm/ksm; pages_saved is measured from the processes'
 * page tables (/proc/PID/pagemap). The procedure is the one the recorded
 * real-6.18 runs of test/fixtures/oracle-618 were made with:
 *
 * - start clean: run=2 (unmerge everything, drop the rmap_items and stable
 *   nodes; full_scans back to 0), run=0; the advisor off, then the era's
 *   workload knobs (smart_scan 0, use_zero_pages 0, where the kernel has
 *   them), pages_to_scan above twice the workload's pages (so one ksmd batch
 *   is exactly one pass: ksm_do_scan returns at the end of a pass) and a long
 *   sleep_millisecs; then the workload's "sysfs" and --sysfs;
 * - one pass: write sleep_millisecs (a changed value wakes a ksmd sleeping
 *   after its previous batch), run=1, wait until full_scans moves, run=0;
 *   then check that it moved by exactly one and that pages_scanned grew by
 *   exactly the registered pages (anything else: another process using KSM,
 *   or a batch that did not start at a pass boundary). Observed on 6.18: a
 *   run=1 can land just as ksmd goes from its run=0 check into the timed
 *   sleep; it then waits the whole sleep, so while pages_scanned has not
 *   moved the pass is poked again every 100 ms with sleep_millisecs
 *   alternating between two values;
 * - pages_saved: the registered present pages of live processes minus their
 *   distinct PFNs (root sees PFNs in pagemap).
 *
 * The driver changes global kernel state, so it refuses to start unless a
 * guard (guard.ts) has saved every knob in the recovery file for this very
 * process; putting them back is the guard's job, not the driver's.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { release } from 'node:os';
import { PAGE_SIZE } from '../engine/constants.js';
import type { Memory, Range } from '../engine/memory/memory.js';
import type { SinglePage } from '../engine/pages.js';
import { COUNTER_NAMES, type CounterName, type Counters } from '../eras/adapter.js';
import type { EraInfo } from '../eras/registry.js';
import type { DriverOptions, EraDriver } from '../workload/driver.js';
import { totalPages, type Workload, WorkloadError } from '../workload/schema.js';
import { readRecovery } from './guard.js';
import { findKsmd, readRunNs, readState } from './proc.js';
import { type RealPaths, SYSTEM_PATHS } from './paths.js';
import { RealProcess } from './process.js';
import { contentToWire } from './protocol.js';
import { KsmSysfs } from './sysfs.js';

export interface RealDriverOptions extends DriverOptions {
  paths?: RealPaths;
  /** The recovery file the guard wrote (it must name this process). */
  recoveryFile: string;
  /** Called with each workload process's pid as it starts (the guard kills them on an interrupt). */
  onProcess?: (pid: number) => void;
  /** Longest wait for one pass, ms (default 10 s). */
  passTimeoutMs?: number;
  /** Longest wait for a process's answer, ms (default 20 s). */
  processTimeoutMs?: number;
  /** sleep_millisecs between passes (default 2000): long, so ksmd never starts a batch of its own. */
  sleepMs?: number;
  /** Another user of KSM was accepted (--force): a pass that scanned more pages than ours is not an error. */
  force?: boolean;
}

/** The least pages_to_scan: a batch must be a whole pass. */
const MIN_PAGES_TO_SCAN = 10000;
/** bit 63 of a pagemap entry: the page is present; bits 0-54: its PFN. */
const PAGEMAP_ENTRY = 8;

const sab = new Int32Array(new SharedArrayBuffer(4));
/** A blocking sleep: the runner is synchronous, and so is everything it calls. */
export function sleepMs(ms: number): void {
  Atomics.wait(sab, 0, 0, ms);
}

export class RealKernelError extends Error {
  override readonly name = 'RealKernelError';
}

export class RealDriver implements EraDriver {
  private readonly ksm: KsmSysfs;
  private readonly paths: RealPaths;
  private readonly procs = new Map<string, RealProcess>();
  private baselineScanned = 0;
  private sleepToggle = 0;
  private hasPagesScanned = false;
  /** Extra pokes of ksmd (a run=1 that landed as it went to sleep). */
  pokes = 0;
  /** Wall-clock ms of each pass. */
  readonly passMs: number[] = [];
  /** ksmd's time on a CPU during each pass, ns (/proc/PID/schedstat; empty when ksmd cannot be read). */
  readonly passCpuNs: number[] = [];
  private ksmdPid: number | null | undefined;

  constructor(
    readonly era: EraInfo,
    private readonly opts: RealDriverOptions,
  ) {
    this.paths = opts.paths ?? SYSTEM_PATHS;
    this.ksm = new KsmSysfs(this.paths.sysfs);
  }

  get title(): string {
    return `${this.era.id}: ${this.era.title} (Linux ${release()})`;
  }

  get exposed(): ReadonlySet<CounterName> {
    return new Set(this.era.exposed);
  }

  get exitKeepsRegistration(): boolean {
    return false;
  }

  /** The processes are real: there is no simulated memory (pages_saved: measurePagesSaved). */
  get memory(): Memory {
    throw new RealKernelError('the real kernel has no simulated memory: pages_saved comes from /proc/PID/pagemap');
  }

  private knob(name: string, value: string, where: string): void {
    try {
      this.ksm.write(name, value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      throw new WorkloadError({ kind: 'schema', place: where, detail: `echo ${value} > ${this.paths.sysfs}/${name} failed with ${code} under Linux ${release()}` });
    }
  }

  setup(w: Workload): void {
    const saved = readRecovery(this.opts.recoveryFile);
    if (saved === null || saved.pid !== process.pid || saved.sysfs !== this.paths.sysfs) {
      throw new RealKernelError(`${this.paths.sysfs} is driven only after its knobs are saved (${this.opts.recoveryFile} names no run of this process)`);
    }
    const k = this.ksm;
    if (k.read('run') === '2') k.write('run', '0');
    k.write('run', '2');
    k.write('run', '0');
    if (k.has('advisor_mode') && k.knobValue('advisor_mode') !== 'none') this.knob('advisor_mode', 'none', 'setup');
    for (const [name, value] of this.era.workloadKnobs) if (k.has(name)) this.knob(name, value, 'setup');
    this.knob('pages_to_scan', `${Math.max(MIN_PAGES_TO_SCAN, 2 * totalPages(w) + 64)}`, 'setup');
    this.knob('sleep_millisecs', `${this.opts.sleepMs ?? 2000}`, 'setup');
    for (const [name, value] of w.sysfs ?? []) this.knob(name, value, `sysfs.${name}`);
    for (const [name, value] of this.opts.sysfs ?? []) this.knob(name, value, `--sysfs ${name}=${value}`);
    const left = this.counters();
    if (Object.values(left).some((v) => v !== 0)) throw new RealKernelError(`KSM is not clean after run=2, run=0: ${JSON.stringify(left)}`);
    this.hasPagesScanned = k.has('pages_scanned');
    this.baselineScanned = this.hasPagesScanned ? k.readInt('pages_scanned') : 0;
    for (const { name, regions } of w.processes) {
      const nodes = regions.map((r, i) => this.opts.nodes?.get(`${name}:${i}`) ?? this.opts.nodes?.get(name) ?? r.node);
      const p = new RealProcess(name, regions, nodes, this.opts.processTimeoutMs ?? 20_000);
      this.procs.set(name, p);
      this.opts.onProcess?.(p.pid);
    }
  }

  private proc(name: string): RealProcess {
    const p = this.procs.get(name);
    if (p === undefined) throw new Error(`no process ${name}`);
    return p;
  }

  register(proc: string, region: number): number {
    const p = this.proc(proc);
    const r = p.ask({ op: 'register', region });
    if (r === 0) p.registered.add(region);
    return r;
  }

  unregister(proc: string): number {
    const p = this.proc(proc);
    for (let r = 0; r < p.regions.length; r++) {
      const err = p.ask({ op: 'unregister', region: r });
      if (err < 0) return err;
    }
    p.registered.clear();
    return 0;
  }

  /** Registered present pages of live processes: what one pass must scan. */
  private registeredPages(): number {
    let n = 0;
    for (const p of this.procs.values()) if (p.alive) for (const r of p.registered) n += p.regions[r].pages;
    return n;
  }

  /** One whole pass of ksmd, whatever the budget: a batch of the real ksmd cannot be started one at a time. */
  scan(_pages: number): void {
    const k = this.ksm;
    const before = k.readInt('full_scans');
    const scannedBefore = this.hasPagesScanned ? k.readInt('pages_scanned') : 0;
    // Pages a pass visits without counting them in pages_scanned: those mapped to the zero page
    // (use_zero_pages) are not scanned at all, those smart scan skips count in pages_skipped.
    const zeroBefore = k.has('ksm_zero_pages') ? k.readInt('ksm_zero_pages') : 0;
    const skippedBefore = k.has('pages_skipped') ? k.readInt('pages_skipped') : 0;
    const poke = () => {
      this.sleepToggle ^= 1;
      k.write('sleep_millisecs', `${(this.opts.sleepMs ?? 2000) + this.sleepToggle}`);
    };
    if (this.ksmdPid === undefined) this.ksmdPid = findKsmd(this.paths.proc);
    const cpu0 = this.ksmdPid === null ? null : readRunNs(this.paths.proc, this.ksmdPid);
    // Wake a ksmd still in its sleep after the previous batch, so that run=1 starts the batch at once.
    poke();
    const t0 = performance.now();
    k.write('run', '1');
    const deadline = t0 + (this.opts.passTimeoutMs ?? 10_000);
    let nextPoke = t0 + 100;
    while (k.readInt('full_scans') === before) {
      const now = performance.now();
      if (now > deadline) {
        k.write('run', '0');
        throw new RealKernelError(`ksmd completed no full scan within ${(this.opts.passTimeoutMs ?? 10_000) / 1000} s`);
      }
      if (now > nextPoke && (!this.hasPagesScanned || k.readInt('pages_scanned') === scannedBefore)) {
        poke();
        this.pokes++;
        nextPoke = now + 100;
      }
      sleepMs(0.5);
    }
    k.write('run', '0');
    this.passMs.push(Math.round((performance.now() - t0) * 10) / 10);
    if (cpu0 !== null) this.passCpuNs.push(this.ksmdSettledNs() - cpu0);
    const after = k.readInt('full_scans');
    if (after !== before + 1) throw new RealKernelError(`full_scans went from ${before} to ${after}: ksmd ran more than one pass before run=0 took effect`);
    if (this.hasPagesScanned) {
      const scanned = k.readInt('pages_scanned') - scannedBefore;
      const skipped = k.has('pages_skipped') ? k.readInt('pages_skipped') - skippedBefore : 0;
      const expected = this.registeredPages() - zeroBefore - skipped;
      if (scanned !== expected && !this.opts.force) {
        throw new RealKernelError(`ksmd scanned ${scanned} pages in a pass where ${expected} were expected (registered pages less those on the zero page and those skipped): another process using KSM, or a batch that did not start at a pass boundary`);
      }
    }
  }

  /**
   * ksmd's CPU time once it has gone back to sleep after a pass (full_scans
   * moves a little before ksm_do_scan returns): read until it is not
   * running and two reads a millisecond apart agree, at most 200 ms.
   */
  private ksmdSettledNs(): number {
    const pid = this.ksmdPid!;
    const until = performance.now() + 200;
    let last = readRunNs(this.paths.proc, pid) ?? 0;
    while (performance.now() < until) {
      sleepMs(1);
      const now = readRunNs(this.paths.proc, pid) ?? last;
      if (now === last && readState(this.paths.proc, pid) !== 'R') return now;
      last = now;
    }
    return last;
  }

  passes(): number {
    return this.ksm.readInt('full_scans');
  }

  pagesScanned(): number {
    return this.hasPagesScanned ? this.ksm.readInt('pages_scanned') - this.baselineScanned : 0;
  }

  write(proc: string, region: number, page: number, content: SinglePage): number {
    return this.proc(proc).ask({ op: 'write', region, page, content: contentToWire(content) });
  }

  exit(proc: string): void {
    this.proc(proc).exit(sleepMs);
  }

  counters(): Counters {
    const out = {} as Counters;
    for (const n of COUNTER_NAMES) out[n] = this.ksm.readInt(n);
    return out;
  }

  /** The runner names regions by process and index; the real driver measures them itself. */
  regionRange(_proc: string, _region: number): Range {
    throw new RealKernelError('the real kernel has no simulated address spaces: pages_saved comes from /proc/PID/pagemap');
  }

  /** pages_saved over the registered regions of live processes: present pages minus distinct PFNs (pagemap). */
  measurePagesSaved(regions: ReadonlyArray<readonly [proc: string, region: number]>): number {
    let present = 0;
    const pfns = new Set<number>();
    const byProc = new Map<string, number[]>();
    for (const [proc, r] of regions) byProc.set(proc, [...(byProc.get(proc) ?? []), r]);
    for (const [name, list] of byProc) {
      const p = this.proc(name);
      if (!p.alive) continue;
      const fd = openSync(`${this.paths.proc}/${p.pid}/pagemap`, 'r');
      try {
        for (const r of list) {
          const n = p.regions[r].pages;
          const buf = Buffer.alloc(n * PAGEMAP_ENTRY);
          const got = readSync(fd, buf, 0, buf.length, (p.addrs[r] / PAGE_SIZE) * PAGEMAP_ENTRY);
          for (let i = 0; i + PAGEMAP_ENTRY <= got; i += PAGEMAP_ENTRY) {
            const hi = buf.readUInt32LE(i + 4);
            if (hi >>> 31 === 0) continue;
            present++;
            pfns.add(buf.readUInt32LE(i) + (hi & 0x7fffff) * 2 ** 32);
          }
        }
      } finally {
        closeSync(fd);
      }
    }
    if (present > 0 && pfns.size === 1 && pfns.has(0)) throw new RealKernelError('pagemap shows no PFNs (root, CAP_SYS_ADMIN, is needed to read them)');
    return present - pfns.size;
  }

  /** Ends every process still running (SIGKILL): the end of a run. */
  killAll(): void {
    for (const p of this.procs.values()) p.kill();
  }

  /** The pids of the workload's processes (for the guard). */
  pids(): number[] {
    return [...this.procs.values()].map((p) => p.pid);
  }
}
