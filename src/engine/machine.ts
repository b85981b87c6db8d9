/**
 * A simulated machine: memory, processes and the virtual clock. Each era's
 * front end builds one and plugs its KSM code into the memory hooks.
 *
 * It is also the process layer the three kernels share (as gVisor keeps
 * sys_mmap.go thin over one mm core): spawn, fork, exit, mmap and munmap
 * live here once, and V1Kernel, V2Kernel and V3Kernel add only what their
 * era adds (descriptor tables, ksm_add_vma).
 */
import { VirtualClock } from './clock.js';
import { ERRNO } from './errno.js';
import { Memory } from './memory/memory.js';
import type { Mm } from './memory/mm.js';

/** A simulated task: a pid, its credentials and its address space. */
export class Process {
  /** errno of the last failed call made through a libc-style wrapper. */
  errno = 0;
  exited = false;
  /** Real and effective gid (default: the uid's own group). */
  gid: number;
  /** Supplementary groups. */
  groups: number[] = [];
  /**
   * Effective capabilities as a bit mask (src/kernel/cred.ts); undefined:
   * what exec gives, the full set for uid 0 and none for anyone else.
   */
  caps: bigint | undefined = undefined;

  constructor(
    readonly pid: number,
    readonly name: string,
    readonly mm: Mm,
    /** Real and effective uid (Machine.setuid changes both). */
    public uid: number,
    readonly parent: number,
  ) {
    this.gid = uid;
  }
}

/** Credentials of a new process besides its uid. */
export interface SpawnCred {
  gid?: number;
  groups?: readonly number[];
  caps?: bigint;
}

/** pid_max's default (include/linux/threads.h PID_MAX_DEFAULT): pids stay below it. */
export const PID_MAX_DEFAULT = 0x8000;
/** RESERVED_PIDS (kernel/pid.c): once pids wrap, they start again here. */
export const RESERVED_PIDS = 300;

export class Machine {
  readonly memory = new Memory();
  readonly clock = new VirtualClock();
  /**
   * Processes by pid: the live ones, and exited ones until their pid is
   * taken again (an exited process's record stays for what still reads it).
   */
  readonly processes = new Map<number, Process>();
  /** pid_max (tests lower it to see pids wrap). */
  pidMax = PID_MAX_DEFAULT;
  /** The last pid handed out (the first process gets 100: the model's boot left the lower ones to the kernel's threads). */
  private lastPid = 99;

  /**
   * alloc_pidmap: the next free pid after the last one, wrapping to
   * RESERVED_PIDS at pid_max; 0 when none is free. A pid is free when no
   * process has it, or its process has exited and its address space is gone
   * (one that KSM still pins keeps its pid, as a zombie would). Runs that
   * never reach pid_max number their processes 100, 101, 102...
   */
  private allocPid(): number {
    const max = Math.max(RESERVED_PIDS + 1, this.pidMax);
    for (let i = 0, pid = this.lastPid + 1; i < max; i++, pid++) {
      if (pid >= max) pid = RESERVED_PIDS;
      const p = this.processes.get(pid);
      if (p === undefined || (p.exited && p.mm.users === 0)) {
        this.lastPid = pid;
        return pid;
      }
    }
    return 0;
  }

  private add(p: Process): void {
    // A reused pid's new process goes to the end: the map stays in creation order.
    this.processes.delete(p.pid);
    this.processes.set(p.pid, p);
  }

  /**
   * Starts a new process with an empty address space (as after exec), as
   * user `uid` (group, supplementary groups and capabilities as `cred` says,
   * exec's defaults otherwise).
   */
  spawn(name: string, uid = 0, cred: SpawnCred = {}): Process {
    const pid = this.allocPid();
    if (pid === 0) throw new RangeError(`no free pid: ${this.live().length} processes alive below pid_max ${this.pidMax}`);
    const p = new Process(pid, name, this.memory.createMm(), uid, 1);
    if (cred.gid !== undefined) p.gid = cred.gid;
    if (cred.groups !== undefined) p.groups = [...cred.groups];
    if (cred.caps !== undefined) p.caps = cred.caps;
    this.add(p);
    return p;
  }

  /** fork(): the child shares every private page copy-on-write. Returns the child or -errno (EAGAIN: no free pid). */
  fork(parent: Process, name = parent.name): Process | number {
    if (parent.exited) return -ERRNO.ESRCH;
    const pid = this.allocPid();
    if (pid === 0) return -ERRNO.EAGAIN;
    const mm = this.memory.fork(parent.mm);
    if (typeof mm === 'number') {
      this.lastPid = pid - 1;
      return mm;
    }
    const child = new Process(pid, name, mm, parent.uid, parent.pid);
    child.gid = parent.gid;
    child.groups = [...parent.groups];
    child.caps = parent.caps;
    this.add(child);
    return child;
  }

  /**
   * setuid(2) by a process with CAP_SETUID (root): real and effective uid
   * become `uid`; leaving uid 0 clears the capabilities (the kernel's
   * cap_emulate_setxuid). Returns 0, or -EPERM for anyone else changing uid.
   */
  setuid(p: Process, uid: number): number {
    if (p.uid !== 0 && uid !== p.uid) return -ERRNO.EPERM;
    if (p.uid === 0 && uid !== 0) p.caps = 0n;
    p.uid = uid;
    return 0;
  }

  /** setgid(2): root (CAP_SETGID) sets any group, others only their own. 0 or -EPERM. */
  setgid(p: Process, gid: number): number {
    if (p.uid !== 0 && gid !== p.gid) return -ERRNO.EPERM;
    p.gid = gid;
    return 0;
  }

  /**
   * mmap(2) of anonymous memory in p's address space: the address or -errno.
   * The one mmap every era's kernel calls, so a fault gives the same errno
   * in each: ESRCH for an exited process, ENOMEM for a mapping the model
   * cannot allocate page tables for (the kernel's overcommit refusal).
   */
  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    try {
      return this.memory.mmap(p.mm, addr, length, prot, flags);
    } catch (e) {
      // The model's page tables are allocated at mmap: a mapping too large
      // for this machine's memory fails as the kernel's would, not with a trace.
      if (e instanceof RangeError) return -ERRNO.ENOMEM;
      throw e;
    }
  }

  /** munmap(2): 0 or -errno (ESRCH for an exited process). */
  munmap(p: Process, addr: number, length: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.memory.munmap(p.mm, addr, length);
  }

  /** exit(): the process drops its address space (mmput). */
  exit(p: Process): void {
    if (p.exited) return;
    p.exited = true;
    this.memory.mmput(p.mm);
  }

  /** Live processes in pid order. */
  live(): Process[] {
    return [...this.processes.values()].filter((p) => !p.exited);
  }
}
