/**
 * Simulated processes as a C program sees them through libc: each call goes
 * to the era's kernel (its adapter's system: src/eras/system.ts), is echoed in strace form, and returns
 * what the C wrapper returns (the value, or -1 with `errno` set). Scripts
 * and the original ksmctl programs both run on this.
 *
 * Struct arguments of ioctl are passed as C passes `&var`: the bytes are
 * stored on the process's stack page (mapped at the top of user space when
 * the process starts, as exec would), the call gets their address, and the
 * bytes the kernel left there are read back.
 */
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../engine/constants.js';
import { ERRNO, strerror } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import { TASK_SIZE } from '../engine/memory/mm.js';
import type { StructLayout } from '../kernel/cstruct.js';
import { O_ACCMODE, O_CREAT, O_WRONLY } from '../v1-ioctl/constants.js';
import { formatResult, formatStruct, hex, mmapCall, openFlags, pointer, prctlCall, quote, requestLayout, requestName } from './strace.js';
import type { EraSystem } from '../eras/system.js';

/** Where a run's output goes: trace lines (strace's stderr), and the processes' stdout and stderr. */
export interface Sink {
  trace(line: string): void;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The stack page every process gets: the last page of user space. */
export const STACK_ADDR = TASK_SIZE - PAGE_SIZE;

/** An ioctl's third argument. */
export type IoctlArg =
  | { kind: 'none' }
  | { kind: 'value'; value: bigint }
  /** Bytes passed by address on the stack, shown decoded when `layout` fits them. */
  | { kind: 'bytes'; bytes: Uint8Array; layout: StructLayout | null };

/** The machine-wide side of a run: the era's kernel, where output goes, and the strace -f pid prefixes. */
export class Runtime {
  /** Set once a second process is traced: every line then starts with `[pid N] `, as strace -f prints. */
  multi = false;
  private traced = 0;

  constructor(
    readonly sys: EraSystem,
    readonly sink: Sink,
    /** Whether calls are echoed at all. */
    readonly tracing = true,
  ) {}

  /** A new process (as after fork + exec), with its stack page. */
  spawn(name: string, uid = 0): Task {
    return this.adopt(this.sys.spawn(name, uid), true);
  }

  /** Wraps a process the kernel created (spawn or fork). */
  adopt(p: Process, mapStack: boolean): Task {
    if (mapStack) {
      const r = this.sys.mmap(p, STACK_ADDR, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
      if (r < 0) throw new Error(`pid ${p.pid}: no stack page (${r})`);
    }
    if (++this.traced > 1) this.multi = true;
    return new Task(this, p);
  }

  trace(pid: number, line: string): void {
    if (this.tracing) this.sink.trace(this.multi ? `[pid ${pid}] ${line}` : line);
  }
}

/**
 * The virtual time one system call takes on the simulated CPU, µs: entry,
 * exit and a sysfs show or store (a few hundred ns to a few µs on hardware
 * of 2008-2025). A script's calls cost it where a process spins on them (a
 * loop polling a counter: the interpreter lets this time pass at each turn
 * of a loop), so ksmd runs meanwhile, as on a second CPU.
 */
export const SYSCALL_COST_US = 1;

/**
 * A sysfs or proc file a process has open: its offset, and the text its
 * show() gave at the last read from offset 0 (sysfs fills its buffer then;
 * a poller seeks back to 0, or reopens, to read a new value).
 */
export interface OpenFile {
  path: string;
  flags: number;
  pos: number;
  text: string | null;
}

/** Files the script runtime opens itself (the era's /sys and /proc files); other paths go to the kernel (/dev/ksm). */
export function isKernelFile(path: string): boolean {
  return path.startsWith('/sys/') || path.startsWith('/proc/');
}

/** lseek's whence. */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

/** One process, called as C calls libc. */
export class Task {
  /** The sysfs and proc files it has open, by descriptor (fork copies them). */
  files = new Map<number, OpenFile>();
  errno = 0;
  /** System calls made so far (each costs SYSCALL_COST_US where the process spins). */
  calls = 0;
  exitStatus: number | null = null;

  constructor(
    readonly rt: Runtime,
    readonly proc: Process,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }

  get sys(): EraSystem {
    return this.rt.sys;
  }

  /** Echoes `call = result` and returns the C wrapper's value. */
  private ret(call: string, r: number, hexResult = false): number {
    this.calls++;
    this.rt.trace(this.pid, `${call} = ${formatResult(r, hexResult)}`);
    if (r < 0) {
      this.errno = -r;
      return -1;
    }
    return r;
  }

  open(path: string, flags: number, mode?: number): number {
    const m = flags & O_CREAT && mode !== undefined ? `, 0${mode.toString(8)}` : '';
    return this.ret(`open(${quote(path, 4096)}, ${openFlags(flags)}${m})`, this.sys.open(this.proc, path, flags));
  }

  close(fd: number): number {
    return this.ret(`close(${fd})`, this.sys.close(this.proc, fd));
  }

  /** ioctl(fd, request, arg): the result, and for a struct argument the bytes it holds afterwards. */
  ioctl(fd: number, request: number, arg: IoctlArg): { r: number; out: Uint8Array | null } {
    const name = requestName(request);
    if (arg.kind === 'none') return { r: this.ret(`ioctl(${fd}, ${name})`, this.sys.ioctl(this.proc, fd, request >>> 0, 0n)), out: null };
    if (arg.kind === 'value') {
      const shown = requestLayout(request) ? pointer(arg.value) : String(arg.value);
      return { r: this.ret(`ioctl(${fd}, ${name}, ${shown})`, this.sys.ioctl(this.proc, fd, request >>> 0, BigInt.asUintN(64, arg.value))), out: null };
    }
    const len = arg.bytes.length;
    if (len > PAGE_SIZE) throw new RangeError(`an ioctl argument of ${len} bytes does not fit the stack page`);
    const memory = this.sys.memory;
    if (this.proc.exited) return { r: this.ret(`ioctl(${fd}, ${name}, ...)`, -ERRNO.ESRCH), out: null };
    if (memory.writeBytes(this.proc.mm, STACK_ADDR, arg.bytes) < 0) throw new Error(`pid ${this.pid}: the stack page is not writable`);
    const show = (b: Uint8Array) => (arg.layout && b.length >= arg.layout.size ? formatStruct(arg.layout, b) : hex(STACK_ADDR));
    const before = show(arg.bytes);
    const r = this.sys.ioctl(this.proc, fd, request >>> 0, BigInt(STACK_ADDR));
    let out: Uint8Array | null = null;
    if (!this.proc.exited) {
      const back = memory.readBytes(this.proc.mm, STACK_ADDR, len);
      if (typeof back !== 'number') out = back;
    }
    const after = out !== null ? show(out) : before;
    return { r: this.ret(`ioctl(${fd}, ${name}, ${before === after ? before : `${before} => ${after}`})`, r), out };
  }

  mmap(addr: number, length: number, prot: number, flags: number, fd = -1, offset = 0): number {
    const r = this.sys.mmap(this.proc, addr, length, prot, flags);
    this.calls++;
    this.rt.trace(this.pid, mmapCall(addr, length, prot, flags, fd, offset, r));
    if (r < 0) {
      this.errno = -r;
      return -1;
    }
    return r;
  }

  munmap(addr: number, length: number): number {
    return this.ret(`munmap(${pointer(addr)}, ${length})`, this.sys.munmap(this.proc, addr, length));
  }

  madvise(addr: number, length: number, advice: number): number {
    const name = this.sys.adviceNames.get(advice) ?? String(advice);
    return this.ret(`madvise(${pointer(addr)}, ${length}, ${name})`, this.sys.madvise(this.proc, addr, length, advice));
  }

  /** prctl(option, arg2, arg3, arg4, arg5): the value, or -1 with errno. */
  prctl(option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
    const r = this.proc.exited ? -ERRNO.ESRCH : this.sys.prctl(this.proc, option, arg2, arg3, arg4, arg5);
    return this.ret(prctlCall(option, [arg2, arg3, arg4, arg5]), r);
  }

  /**
   * memalign(alignment, size) as glibc serves a request this large: one
   * anonymous mapping with room to align, trimmed at both ends. Returns the
   * address, or 0 with errno.
   */
  memalign(alignment: number, size: number): number {
    if (!Number.isSafeInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
      this.errno = ERRNO.EINVAL;
      return 0;
    }
    const align = Math.max(alignment, PAGE_SIZE);
    const len = Math.max(PAGE_SIZE, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    const raw = this.mmap(0, len + align - PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (raw < 0) {
      this.errno = ERRNO.ENOMEM;
      return 0;
    }
    const addr = Math.ceil(raw / align) * align;
    if (addr > raw) this.munmap(raw, addr - raw);
    const end = raw + len + align - PAGE_SIZE;
    if (end > addr + len) this.munmap(addr + len, end - (addr + len));
    return addr;
  }

  /** fork(): the child's Task (in the parent), or null with errno. */
  fork(): Task | null {
    const r = this.sys.fork(this.proc);
    if (typeof r === 'number') {
      this.ret('fork()', r);
      return null;
    }
    const child = this.rt.adopt(r, false);
    this.calls++;
    this.rt.trace(this.pid, `fork() = ${r.pid}`);
    return child;
  }

  /** write(fd, text): the program's output (fd 1 stdout, fd 2 stderr). */
  write(fd: 1 | 2, text: string): number {
    const n = Buffer.byteLength(text, 'utf8');
    this.calls++;
    this.rt.trace(this.pid, `write(${fd}, ${quote(text)}, ${n}) = ${n}`);
    if (fd === 1) this.rt.sink.stdout(text);
    else this.rt.sink.stderr(text);
    return n;
  }

  /** perror(s) */
  perror(s: string): void {
    this.write(2, `${s ? `${s}: ` : ''}${strerror(this.errno)}\n`);
  }

  /** A file's text as show() gives it now (or /proc/meminfo's), or -errno; no trace. */
  private fileText(path: string): string | number {
    return this.sys.readFile(this.proc, path);
  }

  /** Whether a sysfs or proc file exists (access(F_OK)). */
  exists(path: string): boolean {
    return this.fileText(path) !== -ERRNO.ENOENT;
  }

  /** Whether the kernel's own table (the /dev/ksm era's) has fd open. */
  private kernelHasFd(fd: number): boolean {
    const k = this.sys.kernel as { fdTable?: (p: Process) => { get(fd: number): unknown } };
    return typeof k.fdTable === 'function' && !this.proc.exited && k.fdTable(this.proc).get(fd) !== null;
  }

  /** open(2) of a sysfs or proc file: the lowest free descriptor, or -1 with errno (ENOENT; EACCES to read what the caller may not). */
  openFile(path: string, flags: number, mode?: number): number {
    const m = flags & O_CREAT && mode !== undefined ? `, 0${mode.toString(8)}` : '';
    const call = `open(${quote(path, 4096)}, ${openFlags(flags)}${m})`;
    if (this.proc.exited) return this.ret(call, -ERRNO.ESRCH);
    const t = this.fileText(path);
    // Existence, and for reading the permission: a write's is checked at the write (the store).
    if (typeof t === 'number' && (t === -ERRNO.ENOENT || (flags & O_ACCMODE) !== O_WRONLY)) return this.ret(call, t);
    let fd = 3;
    while (this.files.has(fd) || this.kernelHasFd(fd)) fd++;
    this.files.set(fd, { path, flags, pos: 0, text: null });
    return this.ret(call, fd);
  }

  /** The open file of fd, if it is one of ours. */
  file(fd: number): OpenFile | undefined {
    return this.files.get(fd);
  }

  /** The file's text for reading at its offset: read again at offset 0 (traced as the read(2) that does it). */
  private fill(fd: number, f: OpenFile, count: number): string | number {
    if (f.text === null || f.pos === 0) {
      const t = this.fileText(f.path);
      if (typeof t === 'number') return t;
      f.text = t;
    }
    const chunk = f.text.slice(f.pos, f.pos + count);
    return chunk;
  }

  /** read(fd, buf, count): the bytes read (as text), or null with errno; fd 0 (stdin) is at its end. */
  read(fd: number, count: number): string | null {
    const f = this.files.get(fd);
    let r: string | number;
    if (f !== undefined) {
      if ((f.flags & O_ACCMODE) === O_WRONLY) r = -ERRNO.EBADF;
      else r = this.fill(fd, f, Math.max(0, count));
    } else if (fd === 0) r = '';
    else r = this.kernelHasFd(fd) ? -ERRNO.EINVAL : -ERRNO.EBADF;
    if (typeof r === 'number') {
      this.ret(`read(${fd}, ${pointer(STACK_ADDR)}, ${count})`, r);
      return null;
    }
    if (f !== undefined) f.pos += r.length;
    this.ret(`read(${fd}, ${quote(r)}, ${count})`, r.length);
    return r;
  }

  /** A line (up to and with its newline, at most max - 1 bytes) from an open file, as fgets reads it: null at the end or with errno. */
  readLine(fd: number, max: number): string | null {
    const f = this.buffered(fd);
    if (f === null) return null;
    const text = f.text ?? '';
    if (f.pos >= text.length || max <= 1) return null;
    const nl = text.indexOf('\n', f.pos);
    const end = Math.min(nl === -1 ? text.length : nl + 1, f.pos + max - 1);
    const line = text.slice(f.pos, end);
    f.pos = end;
    return line;
  }

  /** What is left to read of an open file (fscanf's input), filled as stdio fills it; null with errno. */
  rest(fd: number): string | null {
    if (fd === 0 && !this.readable(fd)) return '';
    const f = this.buffered(fd);
    return f === null ? null : (f.text ?? '').slice(f.pos);
  }

  /** Whether fd is a file open for reading. */
  private readable(fd: number): boolean {
    const f = this.files.get(fd);
    return f !== undefined && (f.flags & O_ACCMODE) !== O_WRONLY;
  }

  /**
   * The open file stdio reads fd through (fgets, fscanf), its buffer filled
   * as stdio fills it, with one read(2) at the start of the file; null at
   * stdin (no input) or with errno (EBADF, the read's).
   */
  private buffered(fd: number): OpenFile | null {
    const f = this.files.get(fd);
    if (f === undefined || !this.readable(fd)) {
      if (fd !== 0) this.errno = ERRNO.EBADF;
      return null;
    }
    if (f.text === null || f.pos === 0) {
      const t = this.read(fd, 4096);
      if (t === null) return null;
      f.pos -= t.length;
    }
    return f;
  }

  /** Marks n more bytes of an open file read (after fscanf). */
  consume(fd: number, n: number): void {
    const f = this.files.get(fd);
    if (f !== undefined) f.pos += n;
  }

  /** write(fd, text): stdout and stderr, or a store to a sysfs file (the count, or -1 with errno). */
  writeFd(fd: number, text: string): number {
    if (fd === 1 || fd === 2) {
      if (!this.files.has(fd)) return this.write(fd, text);
    }
    const f = this.files.get(fd);
    const n = Buffer.byteLength(text, 'latin1');
    if (f === undefined) return this.ret(`write(${fd}, ${quote(text)}, ${n})`, this.kernelHasFd(fd) ? -ERRNO.EINVAL : -ERRNO.EBADF);
    if ((f.flags & O_ACCMODE) === 0) return this.ret(`write(${fd}, ${quote(text)}, ${n})`, -ERRNO.EBADF);
    return this.ret(`write(${fd}, ${quote(text)}, ${n})`, this.sys.writeFile(this.proc, f.path, text));
  }

  /** lseek(fd, offset, whence): the new offset, or -1 with errno. */
  lseek(fd: number, offset: number, whence: number): number {
    const name = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END'][whence] ?? String(whence);
    const call = `lseek(${fd}, ${offset}, ${name})`;
    const f = this.files.get(fd);
    if (f === undefined) return this.ret(call, this.kernelHasFd(fd) ? -ERRNO.ESPIPE : -ERRNO.EBADF);
    let base: number;
    if (whence === SEEK_SET) base = 0;
    else if (whence === SEEK_CUR) base = f.pos;
    else if (whence === SEEK_END) {
      const t = f.text ?? this.fileText(f.path);
      base = typeof t === 'string' ? t.length : 0;
    } else return this.ret(call, -ERRNO.EINVAL);
    const pos = base + offset;
    if (pos < 0) return this.ret(call, -ERRNO.EINVAL);
    f.pos = pos;
    return this.ret(call, pos);
  }

  /** close(fd) of a sysfs or proc file, or of the kernel's (/dev/ksm). */
  closeFd(fd: number): number {
    if (this.files.delete(fd)) return this.ret(`close(${fd})`, 0);
    return this.close(fd);
  }

  /** `cat FILE`: open + read; the text, or null with errno. */
  readFile(path: string): string | null {
    const r = this.fileText(path);
    // open, read, close.
    this.calls += 2;
    if (typeof r === 'number') {
      this.ret(`read(${quote(path, 4096)})`, r);
      return null;
    }
    this.calls++;
    this.rt.trace(this.pid, `read(${quote(path, 4096)}, ${quote(r)}, ${PAGE_SIZE}) = ${r.length}`);
    return r;
  }

  /** setuid(uid): 0, or -1 with errno. */
  setuid(uid: number): number {
    return this.ret(`setuid(${uid})`, this.proc.exited ? -ERRNO.ESRCH : this.sys.machine.setuid(this.proc, uid));
  }

  /** setgid(gid): 0, or -1 with errno. */
  setgid(gid: number): number {
    return this.ret(`setgid(${gid})`, this.proc.exited ? -ERRNO.ESRCH : this.sys.machine.setgid(this.proc, gid));
  }

  /** chmod(path, mode): 0, or -1 with errno. */
  chmod(path: string, mode: number): number {
    return this.ret(`chmod(${quote(path, 4096)}, 0${mode.toString(8)})`, this.sys.chmod(this.proc, path, mode));
  }

  /** `echo VALUE > FILE`: open + write; the count written, or -1 with errno. */
  writeFile(path: string, text: string): number {
    this.calls += 2;
    return this.ret(`write(${quote(path, 4096)}, ${quote(text)}, ${text.length})`, this.sys.writeFile(this.proc, path, text));
  }

  /** nanosleep's echo (the time passes in the scheduler). */
  traceSleep(micros: number): void {
    const sec = Math.floor(micros / 1e6);
    const nsec = Math.round((micros - sec * 1e6) * 1000);
    this.rt.trace(this.pid, `nanosleep({tv_sec=${sec}, tv_nsec=${nsec}}, NULL) = 0`);
  }

  /** exit(status): exit_group, then the process is gone. */
  exit(status: number): void {
    if (this.proc.exited) return;
    this.rt.trace(this.pid, `exit_group(${status}) = ?`);
    this.exitStatus = status & 0xff;
    this.sys.exit(this.proc);
    this.rt.trace(this.pid, `+++ exited with ${status & 0xff} +++`);
  }

  /** The process dies of a signal (SIGSEGV: a NULL dereference). */
  killedBy(signal: 'SIGSEGV', addr = 0): void {
    if (this.proc.exited) return;
    this.rt.trace(this.pid, `--- ${signal} {si_signo=${signal}, si_code=SEGV_MAPERR, si_addr=${pointer(addr)}} ---`);
    this.exitStatus = 128 + 11;
    this.sys.exit(this.proc);
    this.rt.trace(this.pid, `+++ killed by ${signal} +++`);
  }
}
