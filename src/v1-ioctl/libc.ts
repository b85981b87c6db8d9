/**
 * The C library calls a /dev/ksm program of 2008/2009 made, for one
 * simulated process: open, close, dup, ioctl, mmap, munmap, memalign, free,
 * fork, exit. As in C, a failing call returns -1 (memalign: 0) and sets
 * `errno`; a call that succeeds returns what the kernel returned, which for
 * the KSM ioctls includes the seeds' positive oddities (+22, +1).
 *
 * ioctl takes its third argument as C does, an address, or as a struct
 * object of a header (linux-ksm-2008.ts, linux-ksm-2009.ts): the struct is
 * then copied to the process's stack, its address passed, and whatever the
 * kernel left there copied back into the object, as `&info` would be.
 *
 *   const ksm = new Libc(kernel, kernel.spawn('qemu'));
 *   const fd = ksm.open('/dev/ksm', O_RDWR);
 *   const sma = ksm.ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA);
 *   const mem = ksm.memalign(4096, 16 * 4096);
 *   ksm.ioctl(sma, KSM_REGISTER_MEMORY_REGION, new ksm_memory_region({ npages: 16, addr: mem }));
 *
 * `trace` receives each call in strace form, so a transcript can be diffed.
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../engine/constants.js';
import { ERRNO, errnoName, strerror } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import { CStruct } from '../kernel/cstruct.js';
import { formatIoc } from '../kernel/ioctl.js';
import { MAP_FAILED, O_ACCMODE, O_CLOEXEC, O_RDONLY, O_RDWR, O_WRONLY } from './constants.js';
import { requestTable } from './device.js';
import type { V1Kernel } from './kernel.js';

const REQUESTS = requestTable();

/** Size of the simulated stack a process passes its ioctl structs on. */
const STACK_SIZE = PAGE_SIZE;

export class Libc {
  /** errno of the last failed call. */
  errno = 0;
  /** Receives every call in strace form (`ioctl(3, KSM_SCAN, {...}) = 0`). */
  trace: ((line: string) => void) | null = null;
  private stack = 0;
  private readonly allocations = new Map<number, number>();

  constructor(readonly kernel: V1Kernel, readonly proc: Process) {}

  get pid(): number {
    return this.proc.pid;
  }

  getpid(): number {
    return this.proc.pid;
  }

  /** The result a C wrapper returns: the value, or -1 with errno set. */
  private ret(r: number, call: string): number {
    if (r < 0) {
      this.errno = -r;
      this.trace?.(`${call} = -1 ${errnoName(-r)} (${strerror(-r)})`);
      return -1;
    }
    this.trace?.(`${call} = ${r}`);
    return r;
  }

  /** perror(s): the line it prints. */
  perror(s: string): string {
    return `${s}: ${strerror(this.errno)}`;
  }

  open(path: string, flags = O_RDONLY): number {
    return this.ret(this.kernel.open(this.proc, path, flags), `open(${JSON.stringify(path)}, ${openFlags(flags)})`);
  }

  close(fd: number): number {
    return this.ret(this.kernel.close(this.proc, fd), `close(${fd})`);
  }

  dup(fd: number): number {
    return this.ret(this.kernel.dup(this.proc, fd), `dup(${fd})`);
  }

  dup2(oldfd: number, newfd: number): number {
    return this.ret(this.kernel.dup2(this.proc, oldfd, newfd), `dup2(${oldfd}, ${newfd})`);
  }

  /**
   * ioctl(fd, request, arg): arg is an address (number or bigint), a struct
   * object (passed by address on the stack and updated after the call), or
   * absent (0).
   */
  ioctl(fd: number, request: number, arg: number | bigint | CStruct = 0): number {
    request >>>= 0;
    const info = REQUESTS.get(request);
    const name = info?.name ?? formatIoc(request);
    if (!(arg instanceof CStruct)) {
      const a = BigInt(arg);
      const shown = info?.layout ? `0x${a.toString(16)}` : `${a}`;
      return this.ret(this.kernel.ioctl(this.proc, fd, request, a), `ioctl(${fd}, ${name}${arg === 0 && !info?.layout ? '' : `, ${shown}`})`);
    }
    const addr = this.stackAddr();
    if (addr < 0) return this.ret(addr, `ioctl(${fd}, ${name}, ...)`);
    const bytes = arg.encode();
    if (this.kernel.memory.writeBytes(this.proc.mm, addr, bytes) < 0) throw new Error(`pid ${this.pid}: the stack at 0x${addr.toString(16)} is not writable`);
    const before = formatStruct(arg);
    const r = this.kernel.ioctl(this.proc, fd, request, BigInt(addr));
    if (!this.proc.exited) {
      const back = this.kernel.memory.readBytes(this.proc.mm, addr, bytes.length);
      if (typeof back !== 'number') arg.decodeFrom(back);
    }
    const after = formatStruct(arg);
    return this.ret(r, `ioctl(${fd}, ${name}, ${before === after ? before : `${before} => ${after}`})`);
  }

  /** mmap(addr, length, prot, flags, -1, 0) of anonymous memory: the address, or MAP_FAILED (-1). */
  mmap(addr: number, length: number, prot: number, flags: number): number {
    const r = this.kernel.mmap(this.proc, addr, length, prot, flags);
    const call = `mmap(${addr ? `0x${addr.toString(16)}` : 'NULL'}, ${length}, ${prot}, ${flags}, -1, 0)`;
    if (r < 0) {
      this.errno = -r;
      this.trace?.(`${call} = -1 ${errnoName(-r)} (${strerror(-r)})`);
      return MAP_FAILED;
    }
    this.trace?.(`${call} = 0x${r.toString(16)}`);
    return r;
  }

  munmap(addr: number, length: number): number {
    return this.ret(this.kernel.munmap(this.proc, addr, length), `munmap(0x${addr.toString(16)}, ${length})`);
  }

  /**
   * memalign(alignment, size): a block of its own anonymous mapping (as glibc
   * serves large requests), aligned to `alignment` (a power of two). Returns
   * the address, or 0 (NULL) with errno EINVAL or ENOMEM.
   */
  memalign(alignment: number, size: number): number {
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
      this.errno = ERRNO.EINVAL;
      return 0;
    }
    const align = Math.max(alignment, PAGE_SIZE);
    const len = Math.max(PAGE_SIZE, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    const raw = this.kernel.mmap(this.proc, 0, len + align - PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (raw < 0) {
      this.errno = ERRNO.ENOMEM;
      return 0;
    }
    const addr = Math.ceil(raw / align) * align;
    if (addr > raw) this.kernel.munmap(this.proc, raw, addr - raw);
    const end = raw + len + align - PAGE_SIZE;
    if (end > addr + len) this.kernel.munmap(this.proc, addr + len, end - (addr + len));
    this.allocations.set(addr, len);
    return addr;
  }

  /** free(ptr) of a memalign block. */
  free(ptr: number): void {
    const len = this.allocations.get(ptr);
    if (len === undefined) return;
    this.allocations.delete(ptr);
    this.kernel.munmap(this.proc, ptr, len);
  }

  /**
   * fork(): the child process (it inherits every descriptor and shares every
   * private page copy-on-write), as a Libc to keep calling from; null with
   * errno on failure. (A C program would test the pid; here both sides go on
   * through their own handle.)
   */
  fork(): Libc | null {
    const r = this.kernel.fork(this.proc);
    if (typeof r === 'number') {
      this.ret(r, 'fork()');
      return null;
    }
    this.trace?.(`fork() = ${r.pid}`);
    const child = new Libc(this.kernel, r);
    child.stack = this.stack;
    child.trace = this.trace;
    for (const [a, l] of this.allocations) child.allocations.set(a, l);
    return child;
  }

  /** exit(status): the process's descriptors close and its address space goes. */
  exit(status = 0): void {
    this.trace?.(`exit(${status}) = ?`);
    this.kernel.exit(this.proc);
  }

  // ------------------------------------------------------------ memory, as the program's loads and stores

  /** Stores bytes at addr (a write fault breaks copy-on-write first); 0 or -1 with EFAULT. */
  store(addr: number, data: Uint8Array): number {
    const r = this.kernel.memory.writeBytes(this.proc.mm, addr, data);
    if (r < 0) {
      this.errno = -r;
      return -1;
    }
    return 0;
  }

  /** Loads `length` bytes at addr, or null with EFAULT. */
  load(addr: number, length: number): Uint8Array | null {
    const r = this.kernel.memory.readBytes(this.proc.mm, addr, length);
    if (typeof r === 'number') {
      this.errno = -r;
      return null;
    }
    return r;
  }

  /** memset(addr, c, n) */
  memset(addr: number, c: number, n: number): number {
    return this.store(addr, new Uint8Array(n).fill(c & 0xff));
  }

  /** The stack page structs are passed on (mapped at the first struct argument). */
  private stackAddr(): number {
    if (this.stack === 0) {
      const r = this.kernel.mmap(this.proc, 0, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      if (r < 0) return r;
      this.stack = r;
    }
    return this.stack;
  }
}

function openFlags(flags: number): string {
  const acc = flags & O_ACCMODE;
  const names = [acc === O_RDONLY ? 'O_RDONLY' : acc === O_WRONLY ? 'O_WRONLY' : acc === O_RDWR ? 'O_RDWR' : '3'];
  if (flags & O_CLOEXEC) names.push('O_CLOEXEC');
  const rest = flags & ~(O_ACCMODE | O_CLOEXEC);
  if (rest) names.push(`0${rest.toString(8)}`);
  return names.join('|');
}

/** A struct the way strace prints it: `{npages=16, pad=0, addr=0x2aaaaaaab000}`. */
export function formatStruct(s: CStruct): string {
  const v = s.values();
  return `{${s
    .layout()
    .fields.map((f) => `${f.name}=${f.name === 'addr' ? `0x${BigInt(v[f.name]).toString(16)}` : String(v[f.name])}`)
    .join(', ')}}`;
}
