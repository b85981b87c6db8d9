/**
 * A libc-style handle on one process of the April 2009 kernel, so that a
 * test or an example reads like the C program it models:
 *
 *   const p = t.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
 *   t.memset(p, 0, len);
 *   if (t.madvise(p, len, MADV_SHAREABLE) < 0) perror(t.errno);
 *   t.writeFile('/sys/kernel/mm/ksm/run', '1\n');
 *
 * Calls return -1 (MAP_FAILED for mmap, null for reads) and set errno, as
 * glibc's wrappers do.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { Memory } from '../engine/memory/memory.js';

/** The kernel calls a Task wraps (V2Kernel's; kernel.ts hands itself to each Task it makes). */
export interface TaskKernel {
  readonly memory: Memory;
  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number;
  munmap(p: Process, addr: number, length: number): number;
  madvise(p: Process, addr: number, length: number, advice: number): number;
  fork(p: Process): Process | number;
  exit(p: Process): void;
  readSysfs(path: string, p?: Process): string | number;
  writeSysfs(path: string, text: string, p?: Process): number;
}

/** mmap's failure value: (void *) -1. */
export const MAP_FAILED = -1;

export class Task {
  /** errno of the last call that failed. */
  errno = 0;

  constructor(readonly kernel: TaskKernel, readonly proc: Process) {}

  get pid(): number {
    return this.proc.pid;
  }

  private check(r: number): number {
    if (r >= 0) return r;
    this.errno = -r;
    return -1;
  }

  mmap(addr: number, length: number, prot: number, flags: number): number {
    return this.check(this.kernel.mmap(this.proc, addr, length, prot, flags));
  }

  munmap(addr: number, length: number): number {
    return this.check(this.kernel.munmap(this.proc, addr, length));
  }

  madvise(addr: number, length: number, advice: number): number {
    return this.check(this.kernel.madvise(this.proc, addr, length, advice));
  }

  /** memset(addr, c, n): 0, or -1 with EFAULT where C would take a SIGSEGV. */
  memset(addr: number, c: number, n: number): number {
    if (this.proc.exited) return this.check(-ERRNO.ESRCH);
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(n) || n < 0) return this.check(-ERRNO.EFAULT);
    const page = new Uint8Array(PAGE_SIZE).fill(c & 0xff);
    for (let done = 0; done < n;) {
      const a = addr + done;
      const chunk = Math.min(n - done, PAGE_SIZE - (a % PAGE_SIZE));
      const r = this.kernel.memory.writeBytes(this.proc.mm, a, page.subarray(0, chunk));
      if (r < 0) return this.check(r);
      done += chunk;
    }
    return 0;
  }

  /** memcpy(addr, bytes, bytes.length): 0, or -1 with EFAULT. */
  memcpy(addr: number, bytes: Uint8Array): number {
    if (this.proc.exited) return this.check(-ERRNO.ESRCH);
    return this.check(this.kernel.memory.writeBytes(this.proc.mm, addr, bytes));
  }

  /** The n bytes at addr, or null with EFAULT. */
  peek(addr: number, n: number): Uint8Array | null {
    if (this.proc.exited) {
      this.errno = ERRNO.ESRCH;
      return null;
    }
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(n) || n < 0 || n > 1 << 30) {
      this.errno = ERRNO.EFAULT;
      return null;
    }
    const r = this.kernel.memory.readBytes(this.proc.mm, addr, n);
    if (typeof r === 'number') {
      this.errno = -r;
      return null;
    }
    return r;
  }

  fork(): Task | null {
    const child = this.kernel.fork(this.proc);
    if (typeof child === 'number') {
      this.errno = -child;
      return null;
    }
    return new Task(this.kernel, child);
  }

  exit(): void {
    this.kernel.exit(this.proc);
  }

  /** open(path, O_WRONLY) + write(fd, text, strlen(text)): the bytes written (0 when a store refuses the text), or -1. */
  writeFile(path: string, text: string): number {
    return this.check(this.kernel.writeSysfs(path, text, this.proc));
  }

  /** open(path, O_RDONLY) + read(): the text, or null with errno. */
  readFile(path: string): string | null {
    const r = this.kernel.readSysfs(path, this.proc);
    if (typeof r === 'number') {
      this.errno = -r;
      return null;
    }
    return r;
  }
}
