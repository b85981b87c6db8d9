/**
 * The April 2009 KSM kernel (seed 000 on 2.6.29/2.6.30-rc) as a user program
 * sees it: processes with mmap/munmap/madvise/fork/exit, the four files of
 * /sys/kernel/mm/ksm, and kksmd running on the virtual clock. Calls return
 * what the syscall returns (0, a count, or -errno); the libc-style Task
 * (task.ts) sets errno instead.
 */
import { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import { Machine, type Process, type SpawnCred } from '../engine/machine.js';
import { ROOT } from '../kernel/cred.js';
import { Tree2009 } from '../engine/merge/tree-2009.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import { ksm_control_flags_run } from './constants.js';
import { sysMadvise2009 } from './madvise.js';
import { type KthreadKnobs, ksmSysfs2009 } from './sysfs.js';
import { Task, type TaskKernel } from './task.js';

export class V2Kernel implements KthreadKnobs, TaskKernel {
  readonly machine = new Machine();
  readonly ksm: Tree2009;
  /** kksmd: kthread_ksm_scan_thread on the virtual clock. */
  readonly ksmd: Ksmd;
  readonly sysfs: SysfsDir;

  /* The kthread's variables, `int` as in the seed; all 0 at module load. */
  /** kthread_sleep: microseconds between batches. */
  kthreadSleep = 0;
  /** kthread_pages_to_scan: pages per batch (passed on as an unsigned int). */
  kthreadPagesToScan = 0;
  /** ksmd_flags: the whole value written to `run`; bit 0 makes kksmd scan. */
  ksmdFlags = 0;

  constructor() {
    this.ksm = new Tree2009(this.machine.memory, '000');
    this.ksmd = new Ksmd(this.machine.clock, {
      shouldRun: () => (this.ksmdFlags & ksm_control_flags_run) !== 0,
      batch: () => this.kthreadLoopBody(),
      // Deviation from kthread_ksm_scan_thread (000): it sleeps
      // usecs_to_jiffies(kthread_sleep) (an unsigned int) in scheduler ticks;
      // the seed does not show the rounding, and kksmd sleeps here exactly
      // that many microseconds of virtual time.
      sleepMicros: () => this.kthreadSleep >>> 0,
      pagesScanned: () => this.ksm.positions,
    });
    this.sysfs = ksmSysfs2009(this);
  }

  get memory() {
    return this.machine.memory;
  }

  /** ksm_pages_shared, for pages_shared_show. */
  get pagesShared(): number {
    return this.ksm.ksmPagesShared;
  }

  /** wake_up_interruptible(&kthread_wait): a kksmd waiting for the run bit re-checks it. */
  wake(): void {
    this.ksmd.wake();
  }

  /**
   * One iteration of kthread_ksm_scan_thread: if the run bit is set, one
   * batch of kthread_pages_to_scan pages (then the sleep, which Ksmd times).
   */
  kthreadLoopBody(): void {
    if (this.ksmdFlags & ksm_control_flags_run) this.ksm.ksmScanStart(this.kthreadPagesToScan >>> 0);
  }

  /** A new process (as after exec) of user `uid`; `cred` sets its group, groups and capabilities. */
  spawn(name: string, uid = 0, cred?: SpawnCred): Process {
    return this.machine.spawn(name, uid, cred);
  }

  fork(p: Process): Process | number {
    return this.machine.fork(p);
  }

  /** exit(): the address space goes only if no KSM slot pins it (get_task_mm at registration). */
  exit(p: Process): void {
    this.machine.exit(p);
  }

  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number {
    return this.machine.mmap(p, addr, length, prot, flags);
  }

  munmap(p: Process, addr: number, length: number): number {
    return this.machine.munmap(p, addr, length);
  }

  /** madvise(2) of this kernel: 0 or -errno. Registration does not wake kksmd. */
  madvise(p: Process, addr: number, length: number, advice: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return sysMadvise2009({ memory: this.memory, ksm: this.ksm }, p.mm, addr, length, advice);
  }

  /** Reads a sysfs file as process p (absent: root): its text, or -errno. */
  readSysfs(path: string, p?: Process): string | number {
    return this.sysfs.read(path, p ?? ROOT);
  }

  /** Writes a sysfs file as process p (absent: root; `echo VALUE > FILE` writes "VALUE\n"): bytes written or -errno. */
  writeSysfs(path: string, text: string, p?: Process): number {
    return this.sysfs.write(path, text, p ?? ROOT);
  }

  /** Lets virtual time pass, in microseconds: kksmd runs every batch due meanwhile. */
  usleep(us: number): void {
    this.ksmd.advanceTo(this.machine.clock.now + us);
  }

  /** Lets virtual time pass, in milliseconds. */
  sleep(ms: number): void {
    this.usleep(ms * 1000);
  }

  /** A libc-style handle on process p, for code that reads like a 2009 C program. */
  task(p: Process): Task {
    return new Task(this, p);
  }
}
