/**
 * The few libc calls the real-kernel era needs, through koffi (a maintained
 * FFI library for Node: no compiled add-on of our own). Loaded on first use,
 * so no other command loads a native module. Addresses are plain numbers
 * (user space fits in 47 bits), declared as uintptr_t, which the x86-64 and
 * arm64 calling conventions pass exactly as pointers.
 *
 * Every call returns what the C call returns; `errno()` is the thread's
 * errno right after it.
 */
import { createRequire } from 'node:module';

/** <sys/mman.h> */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_NOHUGEPAGE = 15;
/** <linux/prctl.h> */
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_MEMORY_MERGE = 67;
/** <sys/file.h> */
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
/** <fcntl.h> */
export const O_CLOEXEC = 0o2000000;
/** <poll.h> */
export const POLLIN = 0x001;
/** <linux/mempolicy.h> */
export const MPOL_BIND = 2;
/** x86-64 and arm64 (asm-generic) syscall numbers of mbind: glibc has no wrapper (libnuma does). */
const SYS_MBIND: Partial<Record<string, number>> = { x64: 237, arm64: 235 };
/** SIGKILL */
export const SIGKILL = 9;

export interface Libc {
  mmap(addr: number, length: number, prot: number, flags: number, fd: number, offset: number): number | bigint;
  munmap(addr: number, length: number): number;
  madvise(addr: number, length: number, advice: number): number;
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number;
  /** memcpy(dst, src, n) from a JS buffer into the process's memory. */
  copyIn(dst: number, src: Uint8Array, n: number): void;
  getppid(): number;
  pipe2(fds: Int32Array, flags: number): number;
  /** close(2): for the pipe fds (fs.closeSync warns about fds it did not open, in a worker thread). */
  close(fd: number): number;
  flock(fd: number, op: number): number;
  /** poll() on one fd: >0 ready, 0 timed out, -1 error. */
  pollIn(fd: number, timeoutMs: number): number;
  /** mbind(addr, len, MPOL_BIND, {node}, ...): 0 or -1. */
  mbindNode(addr: number, length: number, node: number): number;
  errno(): number;
}

let loaded: Libc | null = null;

/** The bindings (koffi is loaded here, the first time). */
export function libc(): Libc {
  if (loaded !== null) return loaded;
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const mmap = lib.func('uintptr_t mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, intptr_t off)');
  const munmap = lib.func('int munmap(uintptr_t addr, size_t len)');
  const madvise = lib.func('int madvise(uintptr_t addr, size_t len, int advice)');
  const prctl = lib.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
  const memcpy = lib.func('uintptr_t memcpy(uintptr_t dst, const void *src, size_t n)');
  const getppid = lib.func('int getppid(void)');
  const pipe2 = lib.func('int pipe2(_Out_ int *fds, int flags)');
  const flock = lib.func('int flock(int fd, int op)');
  const close = lib.func('int close(int fd)');
  const PollFd = koffi.struct('ksmctl_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  const poll = lib.func('int poll(_Inout_ ksmctl_pollfd *fds, unsigned long nfds, int timeout)');
  void PollFd;
  const syscall = lib.func('long syscall(long number, uintptr_t a1, unsigned long a2, unsigned long a3, const uint64_t *a4, unsigned long a5, unsigned long a6)');
  loaded = {
    mmap: (a, l, p, f, fd, o) => mmap(a, l, p, f, fd, o) as number | bigint,
    munmap: (a, l) => munmap(a, l) as number,
    madvise: (a, l, adv) => madvise(a, l, adv) as number,
    prctl: (o, a2, a3, a4, a5) => prctl(o, a2, a3, a4, a5) as number,
    copyIn: (dst, src, n) => {
      memcpy(dst, src, n);
    },
    getppid: () => getppid() as number,
    pipe2: (fds, flags) => pipe2(fds, flags) as number,
    flock: (fd, op) => flock(fd, op) as number,
    close: (fd) => close(fd) as number,
    pollIn: (fd, timeoutMs) => poll([{ fd, events: POLLIN, revents: 0 }], 1, timeoutMs) as number,
    mbindNode: (addr, length, node) => {
      const nr = SYS_MBIND[process.arch];
      if (nr === undefined) return -1;
      const mask = new BigUint64Array(Math.floor(node / 64) + 1);
      mask[Math.floor(node / 64)] = 1n << BigInt(node % 64);
      return Number(syscall(nr, addr, length, MPOL_BIND, mask, mask.length * 64 + 1, 0));
    },
    errno: () => koffi.errno(),
  };
  return loaded;
}
