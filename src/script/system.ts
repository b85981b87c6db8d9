/**
 * The system calls a script makes, for each era, on that era's front end
 * (V1Kernel, V2Kernel, V3Kernel): one interface so the interpreter, the
 * ksmctl programs and the host need not know which kernel runs. Each call
 * returns what the system call returns (a value >= 0, or -errno), as the
 * front ends do.
 *
 * A kernel without a call answers as that kernel would: the madvise eras
 * have no /dev/ksm (open: ENOENT; ioctl and close of a number never opened:
 * EBADF), the /dev/ksm era has no /sys/kernel/mm/ksm (ENOENT) and a 2.6.28
 * madvise that knows no KSM advice (EINVAL).
 *
 * Only the pass counter (`fullScans`) looks past the front ends, for the
 * eras that expose none (v1, v2): it reads the scanner's wrap count, as the
 * workload drivers do for the same purpose.
 */
import type { Ksmd } from '../engine/clock.js';
import { PAGE_SIZE, VM_DONTCOPY } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Machine, Process } from '../engine/machine.js';
import type { Memory } from '../engine/memory/memory.js';
import { sysMadvise } from '../kernel/madvise.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import { KSM_DEVICE_PATH, O_RDWR } from '../v1-ioctl/constants.js';
import { KFile } from '../v1-ioctl/files.js';
import { V1Kernel } from '../v1-ioctl/kernel.js';
import { V2Kernel } from '../v2-madvise/kernel.js';
import * as v2c from '../v2-madvise/constants.js';
import { V3Kernel } from '../v3-sysfs/kernel.js';
import * as v3c from '../v3-sysfs/constants.js';
import type { HeaderAbi } from './constants.js';

export type EraName = 'v1' | 'v2' | 'v3';
export const ERA_NAMES: readonly EraName[] = ['v1', 'v2', 'v3'];

export interface SystemOptions {
  era: EraName;
  /** v1: which driver is loaded (the ABI of its header); default 2009. */
  abi?: HeaderAbi;
}

/** What one era's kernel offers a script. */
export interface EraSystem {
  readonly era: EraName;
  /** v1 only: the ABI of the loaded /dev/ksm driver. */
  readonly abi: HeaderAbi | undefined;
  /** For humans: `v1 (Mar 2009 /dev/ksm, seed 002)`. */
  readonly title: string;
  readonly machine: Machine;
  readonly memory: Memory;
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
  open(p: Process, path: string, flags: number): number;
  close(p: Process, fd: number): number;
  ioctl(p: Process, fd: number, request: number, arg: bigint): number;
  /** open + read of a sysfs file: its text, or -errno. */
  readFile(p: Process, path: string): string | number;
  /** open + write of a sysfs file: the count written, or -errno. */
  writeFile(p: Process, path: string, text: string): number;
  /** chmod of /dev/ksm (v1) or of a sysfs file (v2, v3): 0 or -errno. */
  chmod?(p: Process, path: string, mode: number): number;
  /** Runs every ksmd batch due up to time t (µs) and leaves the clock there. */
  advanceTo(t: number): void;
  /** When ksmd's next batch is due (µs), or null while it waits for work. */
  nextBatchAt(): number | null;
  /** Completed passes of the scanner (full_scans, or cursor wraps where the era keeps no counter). */
  fullScans(): number;
  /** The ksmd threads loaded (for state reports). */
  ksmds(): Ksmd[];
}

const now = (m: Machine) => m.clock.now;

function adviceNames(mod: Record<string, unknown>, skip: (name: string) => boolean = () => false): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(mod)) if (k.startsWith('MADV_') && typeof v === 'number' && !skip(k) && !m.has(v)) m.set(v, k);
  return m;
}

/** madvise of the 2.6.27/2.6.28 kernels the /dev/ksm patches applied to: no KSM advice. */
const BASE_ADVICE = new Set([v2c.MADV_NORMAL, v2c.MADV_RANDOM, v2c.MADV_SEQUENTIAL, v2c.MADV_WILLNEED, v2c.MADV_DONTNEED, v2c.MADV_REMOVE, v2c.MADV_DONTFORK, v2c.MADV_DOFORK]);

class V1System implements EraSystem {
  readonly era = 'v1' as const;
  readonly kernel: V1Kernel;
  readonly title: string;
  readonly adviceNames = adviceNames(v2c, (k) => k === 'MADV_SHAREABLE' || k === 'MADV_UNSHAREABLE');
  readonly sysfs = null;

  constructor(readonly abi: HeaderAbi) {
    this.kernel = new V1Kernel({ abi });
    this.title = abi === '2008' ? 'v1: /dev/ksm, the Nov 2008 driver (seed 001)' : 'v1: /dev/ksm, the Mar 2009 driver (seed 002)';
  }

  get machine() {
    return this.kernel.machine;
  }
  get memory() {
    return this.kernel.memory;
  }
  /** A process as exec leaves it: stdin, stdout and stderr open on the terminal (fds 0-2), so /dev/ksm gets fd 3. */
  spawn(name: string, uid = 0) {
    const p = this.kernel.spawn(name, uid);
    const table = this.kernel.fdTable(p);
    for (let fd = 0; fd < 3; fd++) table.install(fd, new KFile('/dev/pts/0', {}, null, O_RDWR));
    return p;
  }
  fork(p: Process) {
    return this.kernel.fork(p);
  }
  exit(p: Process) {
    this.kernel.exit(p);
  }
  mmap(p: Process, addr: number, length: number, prot: number, flags: number) {
    return this.kernel.mmap(p, addr, length, prot, flags);
  }
  munmap(p: Process, addr: number, length: number) {
    return this.kernel.munmap(p, addr, length);
  }
  madvise(p: Process, addr: number, length: number, advice: number) {
    if (p.exited) return -ERRNO.ESRCH;
    return sysMadvise(this.memory, p.mm, addr, length, advice, {
      valid: (a) => BASE_ADVICE.has(a),
      apply: (vma, _s, _e, a) => (a === v2c.MADV_DONTFORK ? vma.flags | VM_DONTCOPY : a === v2c.MADV_DOFORK ? vma.flags & ~VM_DONTCOPY : vma.flags),
    });
  }
  open(p: Process, path: string, flags: number) {
    return this.kernel.open(p, path, flags);
  }
  close(p: Process, fd: number) {
    return this.kernel.close(p, fd);
  }
  ioctl(p: Process, fd: number, request: number, arg: bigint) {
    return this.kernel.ioctl(p, fd, request, arg);
  }
  readFile(_p: Process, _path: string) {
    return -ERRNO.ENOENT;
  }
  chmod(p: Process, path: string, mode: number) {
    return this.kernel.chmod(p, path, mode);
  }
  writeFile(_p: Process, _path: string, _text: string) {
    return -ERRNO.ENOENT;
  }
  advanceTo(t: number) {
    this.kernel.advanceTo(t);
  }
  nextBatchAt() {
    this.kernel.advanceTo(now(this.machine));
    const ws = this.ksmds()
      .map((k) => k.wakeAt)
      .filter((w): w is number => w !== null);
    return ws.length ? Math.min(...ws) : null;
  }
  fullScans() {
    return this.abi === '2008' ? this.kernel.ksm2008!.kthreadKsmScan.wraps : this.kernel.ksm2009!.tree.wraps;
  }
  ksmds() {
    return [this.kernel.kksmd2008, this.kernel.kksmd2009].filter((k): k is Ksmd => k !== null);
  }
}

/** The calls of the eras without /dev/ksm (v2, v3). */
abstract class MadviseSystem implements EraSystem {
  abstract readonly era: EraName;
  abstract readonly title: string;
  abstract readonly adviceNames: ReadonlyMap<number, string>;
  readonly abi = undefined;
  protected abstract readonly k: V2Kernel | V3Kernel;

  get machine() {
    return this.k.machine;
  }
  get memory() {
    return this.k.memory;
  }
  get sysfs() {
    return this.k.sysfs;
  }
  /** The front end itself, for live views that read its merger (the host's view for an attached TUI). */
  get kernel(): V2Kernel | V3Kernel {
    return this.k;
  }
  spawn(name: string, uid = 0) {
    return this.k.spawn(name, uid);
  }
  chmod(p: Process, path: string, mode: number) {
    if (p.exited) return -ERRNO.ESRCH;
    return this.k.sysfs.chmod(path, mode, p);
  }
  fork(p: Process) {
    return this.k.fork(p);
  }
  exit(p: Process) {
    this.k.exit(p);
  }
  mmap(p: Process, addr: number, length: number, prot: number, flags: number) {
    return this.k.mmap(p, addr, length, prot, flags);
  }
  munmap(p: Process, addr: number, length: number) {
    return this.k.munmap(p, addr, length);
  }
  madvise(p: Process, addr: number, length: number, advice: number) {
    return this.k.madvise(p, addr, length, advice);
  }
  open(p: Process, _path: string, _flags: number) {
    return p.exited ? -ERRNO.ESRCH : -ERRNO.ENOENT;
  }
  close(_p: Process, _fd: number) {
    return -ERRNO.EBADF;
  }
  ioctl(_p: Process, _fd: number, _request: number, _arg: bigint) {
    return -ERRNO.EBADF;
  }
  readFile(p: Process, path: string) {
    return this.k.readSysfs(path, p);
  }
  writeFile(p: Process, path: string, text: string) {
    return this.k.writeSysfs(path, text, p);
  }
  advanceTo(t: number) {
    this.k.ksmd.advanceTo(t);
  }
  nextBatchAt() {
    this.k.ksmd.advanceTo(now(this.machine));
    return this.k.ksmd.wakeAt;
  }
  abstract fullScans(): number;
  ksmds() {
    return [this.k.ksmd];
  }
}

class V2System extends MadviseSystem {
  readonly era = 'v2' as const;
  readonly title = 'v2: madvise(MADV_SHAREABLE) and the 4-file sysfs, April 2009 (seed 000)';
  readonly adviceNames = adviceNames(v2c);
  protected readonly k = new V2Kernel();
  fullScans() {
    return this.k.ksm.wraps;
  }
}

class V3System extends MadviseSystem {
  readonly era = 'v3' as const;
  readonly title = 'v3: madvise(MADV_MERGEABLE) and /sys/kernel/mm/ksm, Linux 2.6.32 (seed 003)';
  readonly adviceNames = adviceNames(v3c);
  protected readonly k = new V3Kernel();
  fullScans() {
    const r = this.k.readSysfs(`${v3c.KSM_SYSFS_DIR}/full_scans`);
    return typeof r === 'number' ? 0 : Number(r.trim());
  }
}

export function createSystem(opts: SystemOptions): EraSystem {
  switch (opts.era) {
    case 'v1':
      return new V1System(opts.abi ?? '2009');
    case 'v2':
      return new V2System();
    case 'v3':
      return new V3System();
  }
}

/** The device path, for messages. */
export const DEVICE_PATH = KSM_DEVICE_PATH;
export { PAGE_SIZE };
