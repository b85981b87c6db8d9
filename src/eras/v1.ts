/**
 * The adapter of the /dev/ksm era (v1), one per ABI: November 2008 (seed
 * 001, the hash-table merger) and March 2009 (seed 002, the tree merger),
 * each on a kernel whose driver speaks that ABI only, as the kernels of the
 * time did.
 *
 * Every process is a C program of the time, run with its standard streams
 * open (so its first open() is fd 3), and its calls are logged in strace
 * form as the program's libc issued them (src/v1-ioctl/libc.ts):
 *
 * - register: open("/dev/ksm") = 3, ioctl(3, KSM_CREATE_SHARED_MEMORY_AREA)
 *   = 4 (once per process; both fds stay open), then one
 *   ioctl(4, KSM_REGISTER_MEMORY_REGION, {...}) per region;
 * - unregister: KSM_REMOVE_MEMORY_REGION on the SMA fd (EBADF when the
 *   process never created one: the program has no fd to pass);
 * - exit: the fds close, and the release of the SMA file unregisters its
 *   regions (the seeds' only cleanup);
 * - kksmd is steered by a control program, `ksmctl` (kvm-userspace shipped
 *   one of that name), through ioctl(3, KSM_START_STOP_KTHREAD, {...}) on
 *   its own /dev/ksm fd: every change rewrites the whole struct (sleep in
 *   µs). In 2008 the struct also carries max_pages_to_merge, which must not
 *   be 0 while running; ksmctl passes the batch size there [a choice: a
 *   batch cannot merge more pages than it scans];
 * - one batch (the schema's scan step): 2008, KSM_SCAN {pages_to_scan N,
 *   max_pages_to_merge INT_MAX, run} through one SCAN fd a separate scanner
 *   program (`ksmscan`) opens at its first scan; 2009, one kksmd batch of N
 *   (ksm_scan_start on the kthread's cursor).
 *
 * Neither ABI exposed a counter: every counter is derived (SCHEMA.md).
 * There was no unmerge control.
 */
import type { Ksmd } from '../engine/clock.js';
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import type { Hash2008, KsmScan } from '../engine/merge/hash-2008.js';
import type { AnyMerger } from '../engine/merge/merger.js';
import type { Tree2009 } from '../engine/merge/tree-2009.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../v1-ioctl/constants.js';
import { type KsmAbi, KsmDevice } from '../v1-ioctl/device.js';
import { KFile } from '../v1-ioctl/files.js';
import { V1Kernel } from '../v1-ioctl/kernel.js';
import { Libc } from '../v1-ioctl/libc.js';
import * as h2008 from '../v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../v1-ioctl/linux-ksm-2009.js';
import { type BootOptions, type Counters, type CounterName, EraAdapter, type MappedRegion } from './adapter.js';
import type { CallRecord, Knobs } from './calls.js';
import { markTree2009 } from './mark-tree-2009.js';
import { PAGE_ABSENT, PAGE_MERGED, PAGE_STATE_LABELS, PAGE_UNSTABLE, type StateLabel, type StateRange } from './page-states.js';
import { slotRanges } from './registered.js';
import type { EraEntry } from './registry.js';
import type { EraSystem } from './system.js';
import { V1System } from './system-v1.js';

/** INT_MAX: "no merge limit" for KSM_SCAN (0xffffffff would be -1 as the seed's int, and scan nothing). */
const NO_MERGE_LIMIT = 0x7fffffff;

/** The sleep ksmctl starts kksmd with, in microseconds. */
const STARTUP_SLEEP_MICROS = 20_000;

/** The 2008 merger files every page it meets in page_hash; there is no unstable tree and no checksum gate. */
const LABELS_2008: readonly StateLabel[] = PAGE_STATE_LABELS.map((l, s) => (s === PAGE_UNSTABLE ? { long: 'filed in page_hash', short: 'hashed' } : l));

/** A program's C library and its /dev/ksm and SMA fds (-1 until it registers something). */
interface Program {
  c: Libc;
  dev: number;
  sma: number;
}

export class V1Adapter extends EraAdapter {
  readonly kernel: V1Kernel;
  readonly abi: KsmAbi;
  readonly exposed: ReadonlySet<CounterName> = new Set<CounterName>();
  override readonly stateLabels: readonly StateLabel[];
  private readonly programs = new Map<number, Program>();
  /** The control program (ksmctl) and its /dev/ksm fd, once a control was used. */
  private ctl: Libc | null = null;
  private ctlFd = -1;
  /** 2008: the scanner program and its SCAN fd, once the schema's scan step ran. */
  private scanner: Libc | null = null;
  private scanFd = -1;
  /** Programs map their C library's stack page when they start (BootOptions.stackAtStart). */
  private readonly stackAtStart: boolean;

  /** A fresh kernel with the entry's driver loaded, or one that already runs (the ksmctl host's), which the adapter then drives. */
  constructor(readonly era: EraEntry, kernelOrOpts: V1Kernel | BootOptions = {}) {
    super();
    this.abi = era.abi!;
    this.stackAtStart = !(kernelOrOpts instanceof V1Kernel) && kernelOrOpts.stackAtStart === true;
    if (kernelOrOpts instanceof V1Kernel) {
      if ((this.abi === '2008' ? kernelOrOpts.ksm2008 : kernelOrOpts.ksm2009) === null) throw new Error(`v1: the kernel has no ${this.abi} driver loaded`);
      this.kernel = kernelOrOpts;
    } else {
      // Module load with the workload's parameters (SCHEMA.md hashTables: only the Nov 2008 merger has these tables).
      const ht = kernelOrOpts.hashTables;
      this.kernel = new V1Kernel({ abi: this.abi, pageHashSize: ht?.pageHash, rmapHashSize: ht?.rmapHash, sha1HashSize: ht?.sha1Cache, deviceNode: kernelOrOpts.ksmDevice, ramPages: kernelOrOpts.ramPages });
      if (kernelOrOpts.ramPages !== undefined) this.memory.ramPages = kernelOrOpts.ramPages;
      if (kernelOrOpts.checksum !== undefined) this.merger.useChecksum(kernelOrOpts.checksum);
    }
    this.stateLabels = this.abi === '2008' ? LABELS_2008 : PAGE_STATE_LABELS;
  }

  private get hash(): Hash2008 {
    return this.kernel.ksm2008!;
  }

  private get tree(): Tree2009 {
    return this.kernel.ksm2009!.tree;
  }

  get machine() {
    return this.kernel.machine;
  }

  get merger(): AnyMerger {
    return this.abi === '2008' ? this.hash : this.tree;
  }

  get ksmd(): Ksmd {
    return (this.abi === '2008' ? this.kernel.kksmd2008 : this.kernel.kksmd2009)!;
  }

  // ------------------------------------------------------------ processes

  /** A program started from a shell: stdin, stdout and stderr open on its terminal. */
  spawn(name: string, uid = 0): Process {
    const p = this.kernel.spawn(name, uid);
    const fds = this.kernel.fdTable(p);
    for (let fd = 0; fd < 3; fd++) fds.install(fd, new KFile('/dev/pts/0', {}, null, O_RDWR));
    const c = new Libc(this.kernel, p);
    if (this.stackAtStart) {
      // The C library maps its stack page at the first struct argument: one
      // now, to no descriptor (EBADF, errno cleared), before any region.
      c.ioctl(-1, h2009.KSM_GET_INFO_KTHREAD, new h2009.ksm_kthread_info());
      c.errno = 0;
    }
    this.programs.set(p.pid, { c, dev: -1, sma: -1 });
    return p;
  }

  private program(p: Process): Program {
    let prog = this.programs.get(p.pid);
    if (prog === undefined) {
      // A process the adapter did not start (a script's): its own C library, no fds known.
      prog = { c: new Libc(this.kernel, p), dev: -1, sma: -1 };
      this.programs.set(p.pid, prog);
    }
    return prog;
  }

  /** fork(): the child inherits every descriptor (the SMA fd too, and so the registration). */
  fork(p: Process): Process | number {
    const parent = this.program(p);
    const child = parent.c.fork();
    if (child === null) return -parent.c.errno;
    this.programs.set(child.proc.pid, { c: child, dev: parent.dev, sma: parent.sma });
    return child.proc;
  }

  exit(p: Process): void {
    this.program(p).c.exit(0);
  }

  // ------------------------------------------------------------ registration

  /** Runs libc calls with their strace lines collected into `calls` (with the pid when `pid`); returns what `f` returns. */
  private traced<T>(c: Libc, calls: CallRecord[] | undefined, pid: boolean, f: () => T): T {
    if (calls === undefined) return f();
    c.trace = (line) => calls.push({ text: pid ? `[pid ${c.pid}] ${line}` : line, ok: !/ = -1 /.test(line) });
    try {
      return f();
    } finally {
      c.trace = null;
    }
  }

  register(p: Process, addr: number, pages: number, calls?: CallRecord[]): number {
    const prog = this.program(p);
    const c = prog.c;
    return this.traced(c, calls, true, () => {
      if (prog.dev < 0) {
        const dev = c.open(KSM_DEVICE_PATH, O_RDWR);
        if (dev < 0) return -c.errno;
        prog.dev = dev;
      }
      if (prog.sma < 0) {
        const sma = c.ioctl(prog.dev, this.abi === '2008' ? h2008.KSM_CREATE_SHARED_MEMORY_AREA : h2009.KSM_CREATE_SHARED_MEMORY_AREA);
        if (sma < 0) return -c.errno;
        prog.sma = sma;
      }
      const r =
        this.abi === '2008'
          ? c.ioctl(prog.sma, h2008.KSM_REGISTER_MEMORY_REGION, new h2008.ksm_memory_region({ npages: pages, addr }))
          : c.ioctl(prog.sma, h2009.KSM_REGISTER_MEMORY_REGION, new h2009.ksm_memory_region({ npages: pages, addr }));
      return r < 0 ? -c.errno : r;
    });
  }

  /** KSM_REMOVE_MEMORY_REGION on the SMA fd: every region of the SMA goes at once. */
  unregister(p: Process, _regions: readonly MappedRegion[], calls?: CallRecord[]): number {
    const prog = this.program(p);
    if (prog.sma < 0) {
      calls?.push({ text: `[pid ${p.pid}] (no SMA fd: nothing registered)`, ok: false });
      return -ERRNO.EBADF;
    }
    const r = this.traced(prog.c, calls, true, () =>
      prog.c.ioctl(prog.sma, this.abi === '2008' ? h2008.KSM_REMOVE_MEMORY_REGION : h2009.KSM_REMOVE_MEMORY_REGION),
    );
    return r < 0 ? -prog.c.errno : r;
  }

  /** close() of p's SMA fd: the release on the last reference (in any process) removes its regions. */
  override closeRegistrationFd(p: Process): number | null {
    const prog = this.program(p);
    if (prog.sma < 0) return 0;
    const r = prog.c.close(prog.sma);
    prog.sma = -1;
    return r < 0 ? -prog.c.errno : r;
  }

  /** dup() of p's SMA fd, the old number closed: the SMA lives on under the new one. */
  override dupRegistrationFd(p: Process): number | null {
    const prog = this.program(p);
    if (prog.sma < 0) return null;
    const fd = prog.c.dup(prog.sma);
    if (fd < 0) return -prog.c.errno;
    prog.c.close(prog.sma);
    prog.sma = fd;
    return fd;
  }

  /** Its slots on the driver's list. */
  registeredRanges(mm: Mm): Range[] {
    return slotRanges(mm, this.abi === '2008' ? this.hash.slots : this.tree.slots);
  }

  // ------------------------------------------------------------ ksmd

  /** ksmctl starts and opens /dev/ksm (fd 3), once: the fd every KSM_START_STOP_KTHREAD goes to. The calls made. */
  override openControl(): CallRecord[] {
    if (this.ctl !== null) return [];
    const p = this.spawn('ksmctl');
    const ctl = this.programs.get(p.pid)!.c;
    this.ctl = ctl;
    const calls: CallRecord[] = [];
    this.ctlFd = this.traced(ctl, calls, false, () => ctl.open(KSM_DEVICE_PATH, O_RDWR));
    return calls;
  }

  /** The pid of the ksmctl program holding /dev/ksm, or 0 before openControl. */
  override get controlPid(): number {
    return this.ctl?.pid ?? 0;
  }

  /** KSM_START_STOP_KTHREAD with the whole struct from program c's fd: what its libc returns (-1 with errno). */
  private kthreadIoctl(c: Libc, fd: number, v: { sleep: number; pagesToScan: number; run: boolean }): number {
    const flags = v.run ? h2008.ksm_control_flags_run : 0;
    return this.abi === '2008'
      ? c.ioctl(fd, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: v.sleep, pages_to_scan: v.pagesToScan, max_pages_to_merge: v.pagesToScan, flags }))
      : c.ioctl(fd, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: v.sleep, pages_to_scan: v.pagesToScan, flags }));
  }

  /** KSM_START_STOP_KTHREAD with the whole struct, as ksmctl sends it (opening /dev/ksm first if it has not yet). */
  private startStop(v: { sleep: number; pagesToScan: number; run: boolean }): CallRecord {
    const opened = this.openControl();
    const ctl = this.ctl!;
    const calls: CallRecord[] = [];
    const r = this.traced(ctl, calls, false, () => this.kthreadIoctl(ctl, this.ctlFd, v));
    // The seeds return EPERM positive (= 1) for a run flag with a zero count: a failure all the same.
    const text = [...opened.map((o) => o.text), calls[0]?.text ?? 'ioctl(KSM_START_STOP_KTHREAD) = ?'].join('\n');
    return { text, ok: r === 0 };
  }

  /** KSM_GET_INFO_KTHREAD's values (read without logging: the TUI asks every frame). */
  knobs(): Knobs {
    const info = this.abi === '2008' ? this.hash.ksmDevIoctlGetInfoKthread() : this.kernel.ksm2009!.ksmDevIoctlGetInfoKthread();
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

  /** One KSM_START_STOP_KTHREAD, from ksmctl, or from `as` on its own /dev/ksm fd (the seeds check no permission beyond the node's mode). */
  setKnobs(k: Knobs, as?: Process): number {
    const v = { sleep: Math.round(k.sleepMicros), pagesToScan: k.pagesToScan, run: k.run };
    let c: Libc;
    let fd: number;
    if (as === undefined) {
      this.openControl();
      c = this.ctl!;
      fd = this.ctlFd;
    } else {
      const prog = this.program(as);
      if (prog.dev < 0) {
        const dev = prog.c.open(KSM_DEVICE_PATH, O_RDWR);
        if (dev < 0) return -prog.c.errno;
        prog.dev = dev;
      }
      c = prog.c;
      fd = prog.dev;
    }
    const r = this.kthreadIoctl(c, fd, v);
    return r < 0 ? -c.errno : r;
  }

  unmerge(): CallRecord {
    return { text: `${this.era.label} had no unmerge control`, ok: false };
  }

  /** One KSM_START_STOP_KTHREAD with the whole struct, as `ksmctl start N SLEEP` (or `ksmctl stop`) sent it. */
  override controlKnobs(k: Knobs): CallRecord[] {
    return [this.startStop({ sleep: Math.round(k.sleepMicros), pagesToScan: k.pagesToScan, run: k.run })];
  }

  setPagesToScan(n: number): CallRecord {
    const k = this.knobs();
    return this.startStop({ sleep: k.sleepMicros, pagesToScan: n, run: k.run });
  }

  setSleep(micros: number): CallRecord {
    const k = this.knobs();
    return this.startStop({ sleep: Math.round(micros), pagesToScan: k.pagesToScan, run: k.run });
  }

  /** Module load is done; ksmctl opens /dev/ksm and starts kksmd. */
  startup(pagesToScan: number): CallRecord[] {
    const calls = this.openControl();
    calls.push(this.startStop({ sleep: STARTUP_SLEEP_MICROS, pagesToScan, run: true }));
    return calls;
  }

  // ------------------------------------------------------------ counting

  /** The SCAN fd's cursor (2008), once the scanner program opened it. */
  private scanCursor(): KsmScan | null {
    if (this.scanner === null) return null;
    const f = this.kernel.fdTable(this.scanner.proc).get(this.scanFd);
    return f === null ? null : KsmDevice.scanCursor(f);
  }

  counters(): Counters {
    const c = this.merger.passCounters();
    return { pages_shared: c.pagesShared, pages_sharing: c.pagesSharing, pages_unshared: c.pagesUnshared, pages_volatile: c.pagesVolatile, full_scans: this.passes() };
  }

  /** 2008: the passes of the SCAN fd's cursor once scan steps drive it, else kksmd's; 2009: kksmd's cursor. */
  passes(): number {
    if (this.abi === '2008' && this.scanner !== null) return this.scanCursor()?.wraps ?? 0;
    return this.merger.passes();
  }

  cursorMm(): Mm | null {
    if (this.abi === '2009') return this.tree.scan.slotIndex?.mm ?? null;
    return (this.scanner !== null ? this.scanCursor() : this.hash.kthreadKsmScan)?.slotIndex?.mm ?? null;
  }

  /** Both kthreads' batches in time order, were both ABIs loaded (the host's kernel can have both). */
  override sleep(ms: number): void {
    this.kernel.sleep(ms);
  }

  pagesScanned(): number {
    if (this.abi === '2008') return (this.scanner !== null ? this.scanCursor() : this.hash.kthreadKsmScan)?.positions ?? 0;
    return this.tree.positions;
  }

  scan(pages: number): void {
    if (this.abi === '2009') {
      // One kksmd batch of `pages` (ksm_scan_start(&kthread_ksm_scan, pages)).
      this.tree.ksmScanStart(pages >>> 0);
      return;
    }
    if (this.scanner === null) {
      // A scanner program: KSM_SCAN runs in its context, on its own cursor.
      const s = this.programs.get(this.spawn('ksmscan').pid)!.c;
      const dev = s.open(KSM_DEVICE_PATH, O_RDWR);
      if (dev < 0) throw new Error(`ksmscan: ${s.perror('open /dev/ksm')}`);
      const fd = s.ioctl(dev, h2008.KSM_CREATE_SCAN);
      if (fd < 0) throw new Error(`ksmscan: ${s.perror('KSM_CREATE_SCAN')}`);
      this.scanner = s;
      this.scanFd = fd;
    }
    this.scanner.ioctl(this.scanFd, h2008.KSM_SCAN, new h2008.ksm_user_scan({ pages_to_scan: pages, max_pages_to_merge: NO_MERGE_LIMIT, flags: h2008.ksm_control_flags_run }));
  }

  // ------------------------------------------------------------ system calls

  /** /dev/ksm and its fds on this kernel. */
  system(): EraSystem {
    return new V1System(this, this.kernel);
  }

  // ------------------------------------------------------------ page states

  protected markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void {
    if (this.abi === '2009') {
      markTree2009(this.tree, mm, ranges, out);
      return;
    }
    const ksm = this.hash;
    for (const r of ranges) {
      for (let addr = r.start, k = r.offset; addr < r.end; addr += PAGE_SIZE, k++) {
        const s = out[k];
        if (s === PAGE_MERGED || s === PAGE_ABSENT) continue;
        if (ksm.entryOf(mm, addr) !== null) out[k] = PAGE_UNSTABLE;
      }
    }
  }
}
