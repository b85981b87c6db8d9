/**
 * A simulated machine: memory, processes and the virtual clock. Each era's
 * front end builds one and plugs its KSM code into the memory hooks.
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

  constructor(
    readonly pid: number,
    readonly name: string,
    readonly mm: Mm,
    /** Real and effective uid (no setuid in this model). */
    readonly uid: number,
    readonly parent: number,
  ) {}
}

export class Machine {
  readonly memory = new Memory();
  readonly clock = new VirtualClock();
  readonly processes = new Map<number, Process>();
  private nextPid = 100;

  /** Starts a new process with an empty address space (as after exec). */
  spawn(name: string, uid = 0): Process {
    const p = new Process(this.nextPid++, name, this.memory.createMm(), uid, 1);
    this.processes.set(p.pid, p);
    return p;
  }

  /** fork(): the child shares every private page copy-on-write. Returns the child or -errno. */
  fork(parent: Process, name = parent.name): Process | number {
    if (parent.exited) return -ERRNO.ESRCH;
    const mm = this.memory.fork(parent.mm);
    if (typeof mm === 'number') return mm;
    const child = new Process(this.nextPid++, name, mm, parent.uid, parent.pid);
    this.processes.set(child.pid, child);
    return child;
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
