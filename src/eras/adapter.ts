/**
 * The era adapter: everything a tool does with an era, written once per era
 * (v1.ts, v2.ts, v3.ts) and used by every tool (the workload runner,
 * compare, the TUI's sessions, the script host, the fuzzers). A tool never
 * asks which era runs; it asks the adapter:
 *
 * - processes: spawn one as exec leaves it, fork, exit, map anonymous
 *   memory, place it on a NUMA node, fill it with a workload's contents,
 *   write a page;
 * - registration and unregistration, through the era's own calls (an SMA
 *   on /dev/ksm, or madvise), with those calls handed back for logs;
 * - ksmd, through the era's own controls (sysfs writes, or
 *   KSM_START_STOP_KTHREAD from a control program), and its knobs;
 * - counting: the five counters (the era's own files where it had them,
 *   derived as the workload schema defines them elsewhere), passes, pages
 *   scanned, and one call of the scan routine the schema calls "one batch";
 * - page states for a memory map;
 * - the system calls a program makes on the era's kernel (`system()`:
 *   what scripts, the ksmctl programs and the host run on).
 *
 * The adapter stands on the era's kernel (V1Kernel, V2Kernel, V3Kernel) and
 * on the engine's Merger interface; nothing above it reaches into a
 * kernel's or merger's fields.
 */
import type { Ksmd } from '../engine/clock.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { ChecksumName } from '../engine/hash/page-checksum.js';
import type { Machine, Process } from '../engine/machine.js';
import { FRAME_KSM } from '../engine/memory/frames.js';
import type { Memory, Range } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import type { AnyMerger } from '../engine/merge/merger.js';
import type { SinglePage } from '../engine/pages.js';
import { ROOT } from '../kernel/cred.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import { fillRegion, internPage } from '../workload/fill.js';
import type { Region as WorkloadRegion } from '../workload/schema.js';
import type { CallRecord, Knobs } from './calls.js';
import { PAGE_ABSENT, PAGE_MERGED, PAGE_STATE_LABELS, PAGE_UNSCANNED, type StateLabel, type StateRange } from './page-states.js';
import type { EraEntry } from './registry.js';
import type { EraSystem } from './system.js';

/** The five counters every era reports (docs/workload-format.md defines them where an era had none). */
export const COUNTER_NAMES = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'] as const;
/** One of COUNTER_NAMES. */
export type CounterName = (typeof COUNTER_NAMES)[number];
/** The five counters at one moment. */
export type Counters = Record<CounterName, number>;

/** What an era is booted with. */
export interface BootOptions {
  /** The merger's page checksum instead of its era's own (an experiment: ksmctl compare --checksum). */
  checksum?: ChecksumName;
  /** The machine's RAM in pages (MemTotal, mmap's overcommit limit; default 256 GiB, v1 1 GiB): ksmctl exec --ram-pages. */
  ramPages?: number;
  /** NUMA nodes of the machine (v3; default 1). */
  numaNodes?: number;
  /** Module parameters of the Nov 2008 driver (the workload's hashTables; the seed's defaults when absent). */
  hashTables?: { pageHash?: number; rmapHash?: number; sha1Cache?: number };
  /** v1: the owner and mode of /dev/ksm (default root:root 0660; a site that let its users register memory made it 0666). */
  ksmDevice?: { uid: number; gid: number; mode: number };
  /**
   * v1: every program's C library maps the stack page its ioctl structs are
   * passed on when the program starts, not at its first struct argument: it
   * then lies apart from every region the program maps, so no munmap of a
   * region can take it (the soak unmaps pieces of regions).
   */
  stackAtStart?: boolean;
}

/** A mapped region: where it starts and how many pages it has. */
export interface MappedRegion {
  addr: number;
  pages: number;
}

/** Private anonymous read-write memory, as every tool maps its regions. */
export const REGION_PROT = PROT_READ | PROT_WRITE;
export const REGION_FLAGS = MAP_PRIVATE | MAP_ANONYMOUS;

/** A knob or counter file of the era beyond the five counters (6.18's general_profit, 3.9's merge_across_nodes). */
export interface EraFile {
  name: string;
  /** Its text as the era shows it, trimmed, or null when it cannot be read. */
  value: string | null;
  /** Writable by root. */
  writable: boolean;
}

/** One era booted: its machine, merger and ksmd, driven through the era's own calls (registration, knobs, scan batches). Every tool (the TUI, the workload runner, compare, estimate) reaches an era through this one interface; an era's `boot()` in the registry makes it. */
export abstract class EraAdapter {
  abstract readonly era: EraEntry;
  abstract readonly machine: Machine;
  abstract readonly merger: AnyMerger;
  /** The scan thread that runs on the virtual clock (ksmd, kksmd). */
  abstract readonly ksmd: Ksmd;
  /** Whether a registration outlives its process (the April 2009 patch pins the mm: get_task_mm). */
  readonly exitKeepsRegistration: boolean = false;
  /** The counters the era itself exposed to user space; the others are derived. */
  abstract readonly exposed: ReadonlySet<CounterName>;
  /** What each page state means in this era's merger (the memory map's legend). */
  readonly stateLabels: readonly StateLabel[] = PAGE_STATE_LABELS;
  /** An unmerge-everything control exists (2.6.32 and later: echo 2 > run). */
  readonly canUnmerge: boolean = false;

  get memory(): Memory {
    return this.machine.memory;
  }

  /** Virtual time since boot, µs. */
  now(): number {
    return this.machine.clock.now;
  }

  // ------------------------------------------------------------ processes

  /** A new process as exec leaves it, of user `uid`. */
  abstract spawn(name: string, uid?: number): Process;
  /** fork(2): the child, or -errno. */
  abstract fork(p: Process): Process | number;
  /** The process exits (its descriptors close, its address space goes unless a registration pins it). */
  abstract exit(p: Process): void;

  /**
   * mmap(NULL, pages * PAGE_SIZE, prot, flags, -1, 0) of anonymous memory,
   * PROT_READ|PROT_WRITE and MAP_PRIVATE|MAP_ANONYMOUS unless told: the
   * address or -errno.
   */
  mmap(p: Process, pages: number, prot: number = REGION_PROT, flags: number = REGION_FLAGS): number {
    return this.machine.mmap(p, 0, pages * PAGE_SIZE, prot, flags);
  }

  /** munmap(addr, pages * PAGE_SIZE): 0 or -errno (any page-aligned piece of a mapping, or none). */
  munmap(p: Process, addr: number, pages: number): number {
    return this.machine.munmap(p, addr, pages * PAGE_SIZE);
  }

  /**
   * madvise(2) with any advice, as the era's kernel answers it: 0 or
   * -errno. The /dev/ksm era's kernels model no madvise: ENOSYS.
   */
  madvise(_p: Process, _addr: number, _length: number, _advice: number): number {
    return -ERRNO.ENOSYS;
  }

  /** NUMA nodes of the machine (nr_node_ids; 1 where the era's machine has no NUMA). */
  get numaNodes(): number {
    return 1;
  }

  /** Places [addr, addr + pages) on NUMA node `node` before it is filled (mbind): 0 or -errno; node 0 always succeeds. */
  bind(_p: Process, _addr: number, _pages: number, node: number): number {
    return node === 0 ? 0 : -ERRNO.EINVAL;
  }

  /** Writes a workload region's initial contents into the mapping at addr (each page faults in with its content). */
  fill(p: Process, addr: number, region: WorkloadRegion): void {
    fillRegion(this.memory, p.mm, addr, region);
  }

  /** Sizes the frame and tracking tables for `pages` pages in `procs` processes at once. */
  reserve(pages: number, _procs: number): void {
    this.memory.frames.reserve(pages + 1);
  }

  /** The process writes a whole page: 0 or -errno. */
  writePage(p: Process, addr: number, page: SinglePage): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.memory.writePage(p.mm, addr, internPage(this.memory, page));
  }

  // ------------------------------------------------------------ registration

  /** The era's registration of [addr, addr + pages * PAGE_SIZE) of p: 0 or -errno; its calls are appended to `calls`. */
  abstract register(p: Process, addr: number, pages: number, calls?: CallRecord[]): number;
  /** The era's unregistration of p's registered regions: 0 or -errno; its calls are appended to `calls`. */
  abstract unregister(p: Process, regions: readonly MappedRegion[], calls?: CallRecord[]): number;
  /**
   * close(2) of the descriptor p's registrations hang on (v1: its SMA fd;
   * the release on the last reference unregisters them): 0 or -errno, 0 when
   * p has none; null in an era whose registrations hang on no descriptor.
   */
  closeRegistrationFd(_p: Process): number | null {
    return null;
  }
  /**
   * dup(2) of that descriptor, the old number then closed (the
   * registrations live on under the new one): the new fd or -errno; null
   * when p (or the era) has none.
   */
  dupRegistrationFd(_p: Process): number | null {
    return null;
  }
  /** What the kernel holds as registered in mm, whoever registered it, in address order. */
  abstract registeredRanges(mm: Mm): Range[];

  // ------------------------------------------------------------ ksmd

  abstract knobs(): Knobs;
  /* Controls: each issues the era's own call and returns it. */
  abstract start(): CallRecord;
  abstract stop(): CallRecord;
  /** Unmerges every KSM page where the era could (`canUnmerge`); a failed record elsewhere. */
  abstract unmerge(): CallRecord;
  abstract setPagesToScan(n: number): CallRecord;
  abstract setSleep(micros: number): CallRecord;
  /**
   * ksmd's run flag, batch and sleep at once, set by process `as` (default:
   * root, through the era's control program or shell): v1, one
   * KSM_START_STOP_KTHREAD from `as`'s own /dev/ksm fd (opened first if it
   * has none: any user who can open the node steers kksmd); v2 and v3, the
   * sleep, batch and run files written in that order. 0, or the first
   * -errno (v1: the seeds' positive +EPERM too).
   */
  abstract setKnobs(k: Knobs, as?: Process): number;
  /**
   * ksmd's run flag, batch and sleep at once as the era's control program
   * or shell issues them, for logs (a tuning daemon's one decision): v2 and
   * v3, the sleep, pages_to_scan and run writes; v1 overrides it with one
   * KSM_START_STOP_KTHREAD carrying the whole struct (`ksmctl start N SLEEP`).
   */
  controlKnobs(k: Knobs): CallRecord[] {
    return [this.setSleep(k.sleepMicros), this.setPagesToScan(k.pagesToScan), k.run ? this.start() : this.stop()];
  }
  /**
   * The calls the era's control program makes once, before its first
   * control (v1: ksmctl opens /dev/ksm), so that a log shows them as lines
   * of their own; none where a control is a shell's write to sysfs. A
   * control issued before them makes them itself.
   */
  openControl(): CallRecord[] {
    return [];
  }
  /** The pid of the program that issues the controls, for traces that carry pids (v1's ksmctl); 0 where a shell writes sysfs. */
  get controlPid(): number {
    return 0;
  }
  /** Writes one of the era's knob files as a shell user does (`echo VALUE > FILE`), for logs: the call. */
  writeFile(name: string, value: string): CallRecord {
    return { text: `${this.era.label} has no file ${name}`, ok: false };
  }
  /** The era's knob and counter files beyond the five counters and the three ksmd knobs, in the era's order. */
  files(): EraFile[] {
    return [];
  }
  /** The era's /sys/kernel/mm/ksm (v2, v3), or null (v1 had none). */
  get sysfs(): SysfsDir | null {
    return null;
  }
  /** A file of it (a bare name or a path) as process `as` reads it (default root): its text, or -errno (ENOENT without one). */
  readSysfs(name: string, as?: Process): string | number {
    return this.sysfs?.read(name, as ?? ROOT) ?? -ERRNO.ENOENT;
  }
  /** `text` written to a file of it by process `as` (default root), unlike writeFile with no shell around it: the byte count or -errno. */
  writeSysfs(name: string, text: string, as?: Process): number {
    return this.sysfs?.write(name, text, as ?? ROOT) ?? -ERRNO.ENOENT;
  }
  /**
   * What a user of the era did before registering anything, to have ksmd
   * scan in batches of `pagesToScan`: the calls. An era whose ksmd starts
   * stopped or unconfigured starts it here.
   */
  abstract startup(pagesToScan: number): CallRecord[];

  // ------------------------------------------------------------ counting

  /** The five counters: the era's own files where it had them, derived elsewhere. */
  abstract counters(): Counters;
  /** Completed passes of the scanner the schema's steps drive. */
  abstract passes(): number;
  /** Pages (or positions) the scanner has visited so far (to tell a stuck scanner from a busy one). */
  abstract pagesScanned(): number;
  /** One call of the era's scan routine with a budget of `pages` (the schema's "one batch"). */
  abstract scan(pages: number): void;
  /** The address space under the cursor that `passes()` counts (ksmd's, or a 2008 SCAN fd's once scan() drives one), or null. */
  abstract cursorMm(): Mm | null;
  /** Lets `ms` of virtual time pass: the scan thread runs every batch its knobs make due meanwhile. */
  sleep(ms: number): void {
    this.ksmd.advanceTo(this.now() + ms * 1000);
  }
  /** Per-process figures the era shows (6.18's /proc/PID/ksm_stat), or null. */
  procStat(_p: Process): Record<string, string> | null {
    return null;
  }

  // ------------------------------------------------------------ system calls

  /** The system calls of the era's kernel, as a program makes them (system.ts), over this adapter's processes and ksmd. */
  abstract system(): EraSystem;

  // ------------------------------------------------------------ page states

  /**
   * The state of every page of `ranges` (ranges of mm, in address order, not
   * overlapping), written into `out` when it is large enough.
   */
  pageStates(mm: Mm, ranges: readonly Range[], out?: Uint8Array): Uint8Array {
    const stateRanges: StateRange[] = [];
    let total = 0;
    for (const r of ranges) {
      stateRanges.push({ start: r.start, end: r.end, offset: total });
      total += (r.end - r.start) / PAGE_SIZE;
    }
    const states = out !== undefined && out.length >= total ? out.subarray(0, total) : new Uint8Array(total);
    states.fill(PAGE_ABSENT);
    const flags = this.memory.frames.flags;
    for (const sr of stateRanges) {
      for (const v of mm.vmas) {
        if (v.end <= sr.start || v.start >= sr.end) continue;
        const from = Math.max(v.start, sr.start);
        const base = sr.offset + (from - sr.start) / PAGE_SIZE;
        const frames = v.frames;
        for (let i = v.index(from), to = v.index(Math.min(v.end, sr.end)), k = base; i < to; i++, k++) {
          const f = frames[i];
          if (f !== 0) states[k] = flags[f] & FRAME_KSM ? PAGE_MERGED : PAGE_UNSCANNED;
        }
      }
    }
    this.markTracked(mm, stateRanges, states);
    return states;
  }

  /**
   * Marks the pages the merger tracks: for each page of `ranges` that is
   * neither absent nor merged in `out`, PAGE_VOLATILE or PAGE_UNSTABLE from
   * the merger's items. Pages it leaves alone stay PAGE_UNSCANNED.
   */
  protected abstract markTracked(mm: Mm, ranges: StateRange[], out: Uint8Array): void;

  /** Pages of a range mapped to a KSM page. */
  countMerged(r: Range): number {
    const flags = this.memory.frames.flags;
    let n = 0;
    for (const v of r.mm.vmas) {
      if (v.end <= r.start || v.start >= r.end) continue;
      const frames = v.frames;
      for (let i = v.index(Math.max(v.start, r.start)), to = v.index(Math.min(v.end, r.end)); i < to; i++) {
        const f = frames[i];
        if (f !== 0 && flags[f] & FRAME_KSM) n++;
      }
    }
    return n;
  }
}

/** The number a sysfs file shows (its text trimmed), or the -errno of the read. */
export function sysfsNumber(v: string | number): number {
  return typeof v === 'number' ? v : Number(v.trim());
}
