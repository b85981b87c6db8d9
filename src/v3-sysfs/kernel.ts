/**
 * The mainline KSM kernel of 2.6.32 as a user program sees it: processes
 * with mmap/munmap/madvise/fork/exit, the /sys/kernel/mm/ksm files, and ksmd
 * running on the virtual clock. Calls return what the syscall returns
 * (0, a count, or -errno); the libc-style Task wrapper sets errno instead.
 */
import { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import { Machine, type Process, type SpawnCred } from '../engine/machine.js';
import { ROOT } from '../kernel/cred.js';
import { Mainline2632 } from '../engine/merge/mainline-2632.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import { madvise2632 } from './madvise.js';
import { ksmSysfs2632 } from './sysfs.js';

export class V3Kernel {
  readonly machine = new Machine();
  readonly ksm: Mainline2632;
  readonly ksmd: Ksmd;
  readonly sysfs: SysfsDir;

  constructor() {
    this.ksm = new Mainline2632(this.machine.memory);
    const ksm = this.ksm;
    this.ksmd = new Ksmd(this.machine.clock, {
      shouldRun: () => ksm.ksmdShouldRun(),
      batch: () => ksm.ksmdBatch(),
      sleepMicros: () => ksm.sleepMillisecs * 1000,
    });
    this.sysfs = ksmSysfs2632(this.ksm, this.ksmd);
  }

  get memory() {
    return this.machine.memory;
  }

  /** A new process (as after exec) of user `uid`; `cred` sets its group, groups and capabilities. */
  spawn(name: string, uid = 0, cred?: SpawnCred): Process {
    return this.machine.spawn(name, uid, cred);
  }

  fork(p: Process): Process | number {
    return this.machine.fork(p);
  }

  exit(p: Process): void {
    this.machine.exit(p);
  }

  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.memory.mmap(p.mm, addr, length, prot, flags);
  }

  munmap(p: Process, addr: number, length: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.memory.munmap(p.mm, addr, length);
  }

  /** madvise(2): 0 or -errno. A newly registered mm wakes ksmd. */
  madvise(p: Process, addr: number, length: number, advice: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    const r = madvise2632(this.memory, this.ksm, p.mm, addr, length, advice);
    this.ksmd.wake();
    return r;
  }

  /** Reads a sysfs file as process p: its text, or -errno. */
  readSysfs(path: string, p?: Process): string | number {
    return this.sysfs.read(path, p ?? ROOT);
  }

  /** Writes a sysfs file as process p (`echo VALUE > FILE` writes "VALUE\n"): bytes written or -errno. */
  writeSysfs(path: string, text: string, p?: Process): number {
    return this.sysfs.write(path, text, p ?? ROOT);
  }

  /** Lets virtual time pass: ksmd runs every batch due meanwhile. */
  sleep(ms: number): void {
    this.ksmd.advanceTo(this.machine.clock.now + ms * 1000);
  }
}
