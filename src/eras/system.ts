/**
 * The system calls a program makes, as one era's kernel answers them: what
 * a script (src/script), the original ksmctl programs and the ksmctl host
 * run on. Each era's adapter builds its system (`adapter.system()`:
 * system-v1.ts for /dev/ksm, system-madvise.ts for v2 and v3), so one
 * registry entry gives kernel, adapter and system, and nothing above asks
 * which era runs. Each call returns what the system call returns (a value
 * >= 0, or -errno), as the front ends do.
 *
 * A kernel without a call answers as that kernel would: the madvise eras
 * have no /dev/ksm (open: ENOENT; ioctl and close of a number never opened:
 * EBADF), the /dev/ksm era has no /sys/kernel/mm/ksm (ENOENT) and a 2.6.28
 * madvise that knows no KSM advice (EINVAL); prctl of an option a kernel
 * does not know is EINVAL (PR_SET_MEMORY_MERGE before 6.4); a /proc/PID
 * file a kernel does not have is ENOENT (ksm_stat before 6.1).
 *
 * Processes, ksmd's time and the pass count come from the adapter, the one
 * fitting of the era (spawn as exec leaves a process, its ksmd thread, its
 * passes).
 */
import { meminfoText } from '../kernel/meminfo.js';
import type { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import type { Machine, Process } from '../engine/machine.js';
import type { Memory } from '../engine/memory/memory.js';
import { genericPermission, MAY_READ } from '../kernel/cred.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import type { V1Kernel } from '../v1-ioctl/kernel.js';
import type { V2Kernel } from '../v2-madvise/kernel.js';
import type { KernelVersion, V3Kernel } from '../v3-sysfs/kernel.js';
import type { EraEntry } from './registry.js';

/** The front end a system's calls go to. */
export type FrontEnd = V1Kernel | V2Kernel | V3Kernel<KernelVersion>;

/** What one era's kernel offers a program. */
export interface EraSystem {
  readonly era: EraEntry;
  readonly machine: Machine;
  readonly memory: Memory;
  /** The front end itself, for live views that adopt it (the host's view for an attached TUI). */
  readonly kernel: FrontEnd;
  /** The advice names of this kernel's madvise, by value (for traces). */
  readonly adviceNames: ReadonlyMap<number, string>;
  /** The sysfs directory of the KSM knobs, if the era has one. */
  readonly sysfs: SysfsDir | null;
  spawn(name: string, uid?: number): Process;
  fork(p: Process): Process | number;
  exit(p: Process): void;
  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number;
  munmap(p: Process, addr: number, length: number): number;
  madvise(p: Process, addr: number, length: number, advice: number): number;
  /** prctl(option, arg2, arg3, arg4, arg5): the value or -errno. */
  prctl(p: Process, option: number, arg2: number, arg3: number, arg4: number, arg5: number): number;
  open(p: Process, path: string, flags: number): number;
  close(p: Process, fd: number): number;
  ioctl(p: Process, fd: number, request: number, arg: bigint): number;
  /** open + read of a sysfs or /proc file: its text, or -errno. */
  readFile(p: Process, path: string): string | number;
  /** open + write of a sysfs file: the count written, or -errno. */
  writeFile(p: Process, path: string, text: string): number;
  /** chmod of /dev/ksm (v1) or of a sysfs file (v2, v3): 0 or -errno. */
  chmod(p: Process, path: string, mode: number): number;
  /** Runs every ksmd batch due up to time t (µs) and leaves the clock there. */
  advanceTo(t: number): void;
  /** When ksmd's next batch is due (µs), or null while it waits for work. */
  nextBatchAt(): number | null;
  /** Completed passes of the scanner: the adapter's one pass count. */
  fullScans(): number;
  /** The ksmd threads loaded (for state reports). */
  ksmds(): Ksmd[];
}

/** What a system needs of its era's adapter (EraAdapter has all of it). */
export interface SystemAdapter {
  readonly era: EraEntry;
  readonly machine: Machine;
  readonly ksmd: Ksmd;
  spawn(name: string, uid?: number): Process;
  fork(p: Process): Process | number;
  exit(p: Process): void;
  passes(): number;
}

/** /proc/PID/NAME or /proc/self/NAME. */
const PROC_FILE = /^\/proc\/(self|[0-9]+)\/([^/]+)$/;

/** fs/proc/base.c: the KSM files are ONE(..., S_IRUSR, ...), owned by the task's uid. */
const PROC_KSM_MODE = 0o400;

/** The advice names of a constants module (`MADV_*`), the first name of each value. */
export function adviceNames(mod: Record<string, unknown>, skip: (name: string) => boolean = () => false): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(mod)) if (k.startsWith('MADV_') && typeof v === 'number' && !skip(k) && !m.has(v)) m.set(v, k);
  return m;
}

/** The calls every era answers the same way, and the answers of a kernel that lacks one. */
export abstract class KernelSystem implements EraSystem {
  abstract readonly kernel: FrontEnd;
  abstract readonly adviceNames: ReadonlyMap<number, string>;
  abstract readonly sysfs: SysfsDir | null;

  constructor(protected readonly adapter: SystemAdapter) {}

  get era(): EraEntry {
    return this.adapter.era;
  }
  get machine(): Machine {
    return this.adapter.machine;
  }
  get memory(): Memory {
    return this.adapter.machine.memory;
  }

  spawn(name: string, uid = 0): Process {
    return this.adapter.spawn(name, uid);
  }
  fork(p: Process): Process | number {
    return this.adapter.fork(p);
  }
  exit(p: Process): void {
    this.adapter.exit(p);
  }

  abstract mmap(p: Process, addr: number, length: number, prot: number, flags: number): number;
  abstract munmap(p: Process, addr: number, length: number): number;
  abstract madvise(p: Process, addr: number, length: number, advice: number): number;
  abstract chmod(p: Process, path: string, mode: number): number;

  /** No KSM option (before 6.4): kernel/sys.c's default case, EINVAL. */
  prctl(p: Process, _option: number, _arg2: number, _arg3: number, _arg4: number, _arg5: number): number {
    return p.exited ? -ERRNO.ESRCH : -ERRNO.EINVAL;
  }
  /** No /dev/ksm: the node does not exist. */
  open(p: Process, _path: string, _flags: number): number {
    return p.exited ? -ERRNO.ESRCH : -ERRNO.ENOENT;
  }
  close(_p: Process, _fd: number): number {
    return -ERRNO.EBADF;
  }
  ioctl(_p: Process, _fd: number, _request: number, _arg: bigint): number {
    return -ERRNO.EBADF;
  }

  /** /proc/meminfo, a /proc/PID file (self: the caller), else a sysfs file. */
  readFile(p: Process, path: string): string | number {
    if (path === '/proc/meminfo') {
      // The simulated machine's RAM (a kernel's own size when it has one) and its frames in use.
      const ram = (this.kernel as { ramPages?: number }).ramPages;
      return meminfoText(this.memory, typeof ram === 'number' ? ram : undefined);
    }
    const m = PROC_FILE.exec(path);
    if (m === null) return this.readSysfs(p, path);
    const target = m[1] === 'self' ? p : this.machine.processes.get(Number(m[1]));
    if (target === undefined || target.exited) return -ERRNO.ENOENT;
    const text = this.readProc(target, m[2]);
    if (typeof text === 'number') return text;
    const denied = genericPermission({ uid: target.uid, gid: target.gid, mode: PROC_KSM_MODE }, p, MAY_READ);
    return denied || text;
  }
  /** The era's /proc/PID/NAME: none before 6.1's ksm_stat. */
  protected readProc(_target: Process, _name: string): string | number {
    return -ERRNO.ENOENT;
  }
  /** No /sys/kernel/mm/ksm. */
  protected readSysfs(_p: Process, _path: string): string | number {
    return -ERRNO.ENOENT;
  }
  writeFile(_p: Process, _path: string, _text: string): number {
    return -ERRNO.ENOENT;
  }

  advanceTo(t: number): void {
    this.adapter.ksmd.advanceTo(t);
  }
  nextBatchAt(): number | null {
    const k = this.adapter.ksmd;
    k.advanceTo(this.machine.clock.now);
    return k.wakeAt;
  }
  fullScans(): number {
    return this.adapter.passes();
  }
  ksmds(): Ksmd[] {
    return [this.adapter.ksmd];
  }
}
