/**
 * Open files and file descriptors, as far as the /dev/ksm era needs them
 * (fs/file_table.c, fs/file.c, fs/open.c of 2.6.28): a struct file has a
 * reference count (f_count) shared by every descriptor that refers to it,
 * in any process; the file's release method runs when the last reference
 * goes (fput). Each process has a table of descriptors, and a new descriptor
 * is always the lowest free number. fork copies the table (every file gains
 * a reference), dup adds a descriptor to the same file, and exit closes
 * every descriptor.
 */
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import { INR_OPEN } from './constants.js';

export interface FileOperations {
  /** unlocked_ioctl (and compat_ioctl, the same function in every fops of the seeds). */
  unlockedIoctl?(file: KFile, cmd: number, arg: bigint, current: Process): number;
  /** release: the last reference to the file is gone. Its result is ignored (fput). */
  release?(file: KFile): number;
}

/** struct file */
export class KFile {
  /** f_count: descriptors (in every process) plus temporary references. */
  count = 1;

  constructor(
    /** The path a program opened, or "anon_inode:[name]" for anon_inode_getfd files. */
    readonly path: string,
    readonly fops: FileOperations,
    /** private_data */
    public privateData: unknown,
    /** f_flags: the O_* flags of open() (O_NONBLOCK and O_ASYNC can change later) */
    public flags: number,
  ) {}

  /** Simulator only: the file has been released. */
  released = false;
}

/** fput: drop a reference; the last one releases the file. */
export function fput(file: KFile): void {
  if (file.count <= 0) throw new Error(`fput of ${file.path}: f_count already 0`);
  if (--file.count > 0) return;
  file.released = true;
  file.fops.release?.(file);
}

/** fget: take a temporary reference for the length of a call. */
export function fget(file: KFile): KFile {
  file.count++;
  return file;
}

interface Slot {
  file: KFile;
  /** FD_CLOEXEC */
  cloexec: boolean;
}

/** struct files_struct: one process's descriptors. */
export class FdTable {
  private readonly fds: Array<Slot | null> = [];
  /** RLIMIT_NOFILE (soft): descriptors are numbered below it. */
  limit = INR_OPEN;

  /** get_unused_fd_flags: the lowest free descriptor, or -EMFILE. */
  getUnusedFd(): number {
    for (let fd = 0; fd < this.limit; fd++) if (!this.fds[fd]) return fd;
    return -ERRNO.EMFILE;
  }

  /** fd_install: `file`'s reference passes to the descriptor. */
  install(fd: number, file: KFile, cloexec = false): void {
    if (this.fds[fd]) throw new Error(`fd_install: fd ${fd} is in use`);
    this.fds[fd] = { file, cloexec };
  }

  /** get_unused_fd + fd_install in one step: the descriptor, or -EMFILE (the reference stays with the caller). */
  allocFd(file: KFile, cloexec = false): number {
    const fd = this.getUnusedFd();
    if (fd >= 0) this.install(fd, file, cloexec);
    return fd;
  }

  /** The file behind fd, or null (EBADF). */
  get(fd: number): KFile | null {
    if (!Number.isInteger(fd) || fd < 0) return null;
    return this.fds[fd]?.file ?? null;
  }

  cloexec(fd: number): boolean {
    return this.fds[fd]?.cloexec ?? false;
  }

  /** FIOCLEX / FIONCLEX / fcntl(F_SETFD) */
  setCloexec(fd: number, on: boolean): number {
    const s = this.fds[fd];
    if (!s) return -ERRNO.EBADF;
    s.cloexec = on;
    return 0;
  }

  /** sys_close: 0 or -EBADF. */
  close(fd: number): number {
    const s = Number.isInteger(fd) && fd >= 0 ? this.fds[fd] : null;
    if (!s) return -ERRNO.EBADF;
    this.fds[fd] = null;
    fput(s.file);
    return 0;
  }

  /** sys_dup: the lowest free descriptor for the same file (close-on-exec clear), or -errno. */
  dup(fd: number): number {
    const file = this.get(fd);
    if (file === null) return -ERRNO.EBADF;
    const nfd = this.getUnusedFd();
    if (nfd < 0) return nfd;
    this.install(nfd, fget(file));
    return nfd;
  }

  /** sys_dup2: newfd refers to oldfd's file (closing what newfd was), or -errno. */
  dup2(oldfd: number, newfd: number): number {
    const file = this.get(oldfd);
    if (file === null) return -ERRNO.EBADF;
    if (!Number.isInteger(newfd) || newfd < 0 || newfd >= this.limit) return -ERRNO.EBADF;
    if (newfd === oldfd) return newfd;
    const old = this.fds[newfd];
    this.fds[newfd] = { file: fget(file), cloexec: false };
    if (old) fput(old.file);
    return newfd;
  }

  /** dup_fd (fork): the child's table refers to the same files, one more reference each. */
  fork(): FdTable {
    const t = new FdTable();
    t.limit = this.limit;
    this.fds.forEach((s, fd) => {
      if (s) t.fds[fd] = { file: fget(s.file), cloexec: s.cloexec };
    });
    return t;
  }

  /** close_files (exit): every descriptor, in ascending order. */
  closeAll(): void {
    for (let fd = 0; fd < this.fds.length; fd++) if (this.fds[fd]) this.close(fd);
  }

  /** Open descriptors in ascending order, with their files. */
  entries(): Array<{ fd: number; file: KFile; cloexec: boolean }> {
    const out: Array<{ fd: number; file: KFile; cloexec: boolean }> = [];
    this.fds.forEach((s, fd) => {
      if (s) out.push({ fd, file: s.file, cloexec: s.cloexec });
    });
    return out;
  }
}
