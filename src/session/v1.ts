/**
 * The sessions of the /dev/ksm era (v1), one per ABI: November 2008 (seed
 * 001, the hash-table merger) and March 2009 (seed 002, the tree merger),
 * each on a kernel whose driver speaks that ABI only.
 *
 * Every process is a C program of the time, run with its standard streams
 * open (so its first open() is fd 3), and its calls are logged in strace
 * form as the program's libc issued them (src/v1-ioctl/libc.ts):
 *
 * - a guest registers with open("/dev/ksm") = 3,
 *   ioctl(3, KSM_CREATE_SHARED_MEMORY_AREA) = 4, then one
 *   ioctl(4, KSM_REGISTER_MEMORY_REGION, {...}) per region;
 * - kksmd is steered by a control program, `ksmctl` (kvm-userspace shipped
 *   one of that name), through ioctl(3, KSM_START_STOP_KTHREAD, {...}) on its
 *   own /dev/ksm fd: every change rewrites the whole struct (sleep in µs).
 *   In 2008 the struct also carries max_pages_to_merge, which must not be 0
 *   while running; ksmctl passes the batch size there [a choice: a batch
 *   cannot merge more pages than it scans].
 *
 * Neither ABI exposed a counter: all of them are derived as the workload
 * schema defines them. There was no unmerge control; a process's regions go
 * when its SMA fd closes (its exit).
 */
import type { Ksmd } from '../engine/clock.js';
import { PAGE_SIZE } from '../engine/constants.js';
import type { Process } from '../engine/machine.js';
import type { Mm } from '../engine/memory/mm.js';
import type { MergeStats } from '../engine/merge/stats.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../v1-ioctl/constants.js';
import type { KsmAbi } from '../v1-ioctl/device.js';
import { KFile } from '../v1-ioctl/files.js';
import { V1Kernel } from '../v1-ioctl/kernel.js';
import { Libc } from '../v1-ioctl/libc.js';
import * as h2008 from '../v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../v1-ioctl/linux-ksm-2009.js';
import type { Workload } from '../workload/schema.js';
import { BaseSession, REGION_FLAGS, REGION_PROT, type SessionRegion, type StateRange } from './base.js';
import {
  type CallRecord,
  type CounterValue,
  type Knobs,
  PAGE_ABSENT,
  PAGE_MERGED,
  PAGE_STATE_LABELS,
  PAGE_UNSTABLE,
  type SessionEraInfo,
  type StateLabel,
} from './session.js';
import type { Range } from '../engine/memory/memory.js';
import { slotRanges } from '../eras/registered.js';
import { markTree2009 } from '../eras/mark-tree-2009.js';

export const V1_COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'] as const;

export const V1_2008_INFO: SessionEraInfo = {
  id: 'v1-2008',
  era: 'v1',
  abi: '2008',
  label: 'v1 2008',
  title: '/dev/ksm ioctls (Nov 2008 ABI), hash-table merger (seed 001)',
};

export const V1_2009_INFO: SessionEraInfo = {
  id: 'v1-2009',
  era: 'v1',
  abi: '2009',
  label: 'v1 2009',
  title: '/dev/ksm ioctls (Mar 2009 ABI), tree merger (seed 002)',
};

/** The sleep ksmctl starts kksmd with, in microseconds. */
const STARTUP_SLEEP_MICROS = 20_000;

/** The 2008 merger files every page it meets in page_hash; there is no unstable tree and no checksum gate. */
const LABELS_2008: readonly StateLabel[] = PAGE_STATE_LABELS.map((l, s) => (s === PAGE_UNSTABLE ? { long: 'filed in page_hash', short: 'hashed' } : l));

interface V1Proc {
  c: Libc;
  /** The /dev/ksm fd and the SMA fd, once the program registered something. */
  dev: number;
  sma: number;
}

export class V1Session extends BaseSession {
  readonly info: SessionEraInfo;
  readonly support = { unmerge: false };
  readonly counterNames = V1_COUNTERS;
  override readonly stateLabels: readonly StateLabel[];
  private k: V1Kernel | null = null;
  private ctl: Libc | null = null;
  private ctlFd = -1;
  private readonly programs = new Map<number, V1Proc>();

  constructor(readonly abi: KsmAbi) {
    super();
    this.info = abi === '2008' ? V1_2008_INFO : V1_2009_INFO;
    this.stateLabels = abi === '2008' ? LABELS_2008 : PAGE_STATE_LABELS;
  }

  /** The simulated kernel, loaded by `load` (the workload sizes the 2008 module's hash tables). */
  get kernel(): V1Kernel {
    if (this.k === null) throw new Error('v1: no workload loaded yet');
    return this.k;
  }

  protected get machine() {
    return this.kernel.machine;
  }

  protected get ksmd(): Ksmd {
    return (this.abi === '2008' ? this.kernel.kksmd2008 : this.kernel.kksmd2009)!;
  }

  protected mergeStats(): MergeStats {
    return this.abi === '2008' ? this.kernel.ksm2008!.stats : this.kernel.ksm2009!.tree.stats;
  }

  /** Module load, then ksmctl opens /dev/ksm and starts kksmd. */
  protected override startup(w: Workload): CallRecord[] {
    const ht = w.hashTables;
    this.k = new V1Kernel({ abi: this.abi, pageHashSize: ht.pageHash, rmapHashSize: ht.rmapHash, sha1HashSize: ht.sha1Cache });
    const calls = this.openControl();
    calls.push(this.startStop({ sleep: STARTUP_SLEEP_MICROS, pagesToScan: w.pagesToScan, run: true }));
    return calls;
  }

  /**
   * Takes over a kernel that already runs (the ksmctl host's) instead of
   * loading a workload: the counters, knobs, page states and controls then
   * work on it. Nothing is called until a control is used (openControl).
   */
  adopt(kernel: V1Kernel): void {
    if (this.k !== null) throw new Error('v1: the session already has a kernel');
    if ((this.abi === '2008' ? kernel.ksm2008 : kernel.ksm2009) === null) throw new Error(`v1: the kernel has no ${this.abi} driver loaded`);
    this.k = kernel;
  }

  /** ksmctl starts and opens /dev/ksm (fd 3), once: the fd every KSM_START_STOP_KTHREAD goes to. The calls made. */
  openControl(): CallRecord[] {
    if (this.ctl !== null) return [];
    const ctl = new Libc(this.kernel, this.program('ksmctl'));
    this.ctl = ctl;
    const calls: CallRecord[] = [];
    this.ctlFd = this.traced(ctl, calls, false, () => ctl.open(KSM_DEVICE_PATH, O_RDWR));
    return calls;
  }

  /** The pid of the ksmctl program holding /dev/ksm, or 0 before openControl. */
  get controlPid(): number {
    return this.ctl?.pid ?? 0;
  }

  /** What the kernel holds as registered in mm, whoever registered it: its slots on the driver's list. */
  registeredRanges(mm: Mm): Range[] {
    return slotRanges(mm, this.abi === '2008' ? this.kernel.ksm2008!.slots : this.kernel.ksm2009!.tree.slots);
  }

  /** A process started from a shell: stdin, stdout and stderr open on its terminal. */
  private program(name: string): Process {
    const p = this.kernel.spawn(name);
    const fds = this.kernel.fdTable(p);
    for (let fd = 0; fd < 3; fd++) fds.install(fd, new KFile('/dev/pts/0', {}, null, O_RDWR));
    return p;
  }

  /** Runs libc calls with their strace lines collected into `calls` (with the pid when `pid`); returns what `f` returns. */
  private traced<T>(c: Libc, calls: CallRecord[], pid: boolean, f: () => T): T {
    c.trace = (line) => calls.push({ text: pid ? `[pid ${c.pid}] ${line}` : line, ok: !/ = -1 /.test(line) });
    try {
      return f();
    } finally {
      c.trace = null;
    }
  }

  /** KSM_START_STOP_KTHREAD with the whole struct, as ksmctl sends it. */
  private startStop(v: { sleep: number; pagesToScan: number; run: boolean }): CallRecord {
    const ctl = this.ctl!;
    const flags = v.run ? h2008.ksm_control_flags_run : 0;
    const calls: CallRecord[] = [];
    const r = this.traced(ctl, calls, false, () =>
      this.abi === '2008'
        ? ctl.ioctl(this.ctlFd, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: v.sleep, pages_to_scan: v.pagesToScan, max_pages_to_merge: v.pagesToScan, flags }))
        : ctl.ioctl(this.ctlFd, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: v.sleep, pages_to_scan: v.pagesToScan, flags })),
    );
    // The seeds return EPERM positive (= 1) for a run flag with a zero count: a failure all the same.
    return { text: calls[0]?.text ?? 'ioctl(KSM_START_STOP_KTHREAD) = ?', ok: r === 0 };
  }

  protected spawnProcess(name: string): Process {
    const p = this.program(name);
    this.programs.set(p.pid, { c: new Libc(this.kernel, p), dev: -1, sma: -1 });
    return p;
  }

  protected mmap(p: Process, bytes: number): number {
    return this.kernel.mmap(p, 0, bytes, REGION_PROT, REGION_FLAGS);
  }

  protected register(p: Process, addr: number, bytes: number) {
    const prog = this.programs.get(p.pid)!;
    const c = prog.c;
    const calls: CallRecord[] = [];
    const result = this.traced(c, calls, true, () => {
      if (prog.dev < 0) {
        prog.dev = c.open(KSM_DEVICE_PATH, O_RDWR);
        if (prog.dev < 0) return -c.errno;
      }
      if (prog.sma < 0) {
        prog.sma = c.ioctl(prog.dev, this.abi === '2008' ? h2008.KSM_CREATE_SHARED_MEMORY_AREA : h2009.KSM_CREATE_SHARED_MEMORY_AREA);
        if (prog.sma < 0) return -c.errno;
      }
      const npages = bytes / PAGE_SIZE;
      const r =
        this.abi === '2008'
          ? c.ioctl(prog.sma, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages, addr }))
          : c.ioctl(prog.sma, h2009.KSM_REGISTER_MEMORY_REGION, new h2009.ksm_memory_region({ npages, addr }));
      return r < 0 ? -c.errno : r;
    });
    return { result, calls };
  }

  /** KSM_REMOVE_MEMORY_REGION on the SMA fd: every region of the SMA goes at once. */
  protected unregister(p: Process, _regions: SessionRegion[]) {
    const prog = this.programs.get(p.pid)!;
    const calls: CallRecord[] = [];
    if (prog.sma < 0) return { ok: false, calls: [{ text: `[pid ${p.pid}] (no SMA fd: nothing registered)`, ok: false }] };
    const r = this.traced(prog.c, calls, true, () =>
      prog.c.ioctl(prog.sma, this.abi === '2008' ? h2008.KSM_REMOVE_MEMORY_REGION : h2009.KSM_REMOVE_MEMORY_REGION),
    );
    return { ok: r >= 0, calls };
  }

  protected exitProcess(p: Process): void {
    this.programs.get(p.pid)!.c.exit(0);
  }

  protected markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void {
    if (this.abi === '2009') {
      markTree2009(this.kernel.ksm2009!.tree, mm, ranges, out);
      return;
    }
    const ksm = this.kernel.ksm2008!;
    for (const r of ranges) {
      for (let addr = r.start, k = r.offset; addr < r.end; addr += PAGE_SIZE, k++) {
        const s = out[k];
        if (s === PAGE_MERGED || s === PAGE_ABSENT) continue;
        if (ksm.entryOf(mm, addr) !== null) out[k] = PAGE_UNSTABLE;
      }
    }
  }

  counters(): CounterValue[] {
    let v: Record<(typeof V1_COUNTERS)[number], number>;
    if (this.abi === '2008') {
      const ksm = this.kernel.ksm2008!;
      const d = ksm.derivedCounters();
      v = { pages_shared: d.pagesShared, pages_sharing: d.pagesSharing, pages_unshared: 0, pages_volatile: 0, full_scans: ksm.kthreadKsmScan.wraps };
    } else {
      const c = this.kernel.ksm2009!.tree.counters();
      v = { pages_shared: c.pagesShared, pages_sharing: c.pagesSharing, pages_unshared: c.pagesUnshared, pages_volatile: c.pagesVolatile, full_scans: c.fullScans };
    }
    return V1_COUNTERS.map((name) => ({ name, value: v[name], exposed: false }));
  }

  /** KSM_GET_INFO_KTHREAD's values (read without logging: the TUI asks every frame). */
  knobs(): Knobs {
    const info = this.abi === '2008' ? this.kernel.ksm2008!.ksmDevIoctlGetInfoKthread() : this.kernel.ksm2009!.ksmDevIoctlGetInfoKthread();
    return { run: (info.flags & h2008.ksm_control_flags_run) !== 0, pagesToScan: info.pages_to_scan, sleepMicros: info.sleep };
  }

  start(): CallRecord {
    const k = this.knobs();
    return this.startStop({ sleep: k.sleepMicros, pagesToScan: k.pagesToScan, run: true });
  }

  stop(): CallRecord {
    const k = this.knobs();
    return this.startStop({ sleep: k.sleepMicros, pagesToScan: k.pagesToScan, run: false });
  }

  unmerge(): CallRecord {
    return { text: `${this.info.label} had no unmerge control`, ok: false };
  }

  setPagesToScan(n: number): CallRecord {
    const k = this.knobs();
    return this.startStop({ sleep: k.sleepMicros, pagesToScan: n, run: k.run });
  }

  setSleep(micros: number): CallRecord {
    const k = this.knobs();
    return this.startStop({ sleep: Math.round(micros), pagesToScan: k.pagesToScan, run: k.run });
  }
}
