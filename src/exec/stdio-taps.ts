/**
 * Writes the C library makes on a program's behalf where no interposition
 * can see them.
 *
 * glibc's stdio writes a stream's buffer with its internal write (not the
 * exported symbol the library interposes), so when a program points a
 * stream at a simulated file by descriptor — a shell's `echo 1 >
 * /sys/kernel/mm/ksm/run` (bash's echo is printf on stdout, after a dup2
 * of the opened file onto 1), `/bin/echo` exec'd with its stdout there, a
 * C program's dup2 before printf — the bytes reach the descriptor itself.
 * The descriptor is a placeholder the library made: an empty memfd named
 * "ksmctl-sim" (native/ksm-preload.c). The simulator holds its own
 * reference to each one (opened through /proc/PID/fd/N: the same memory
 * file) and, before every call of any process and when a process ends,
 * reads what was appended since it last looked: each such run of bytes is
 * one store into the simulated file, as the kernel would have had from
 * that write(). Nothing is truncated (the stream's own offset moves on),
 * so nothing written is read twice.
 *
 * Data structures: open file (the FileFd that fork and dup share, as they
 * share the placeholder) -> { our descriptor of the memfd, bytes already
 * taken, the process whose store it is }.
 */
import { closeSync, fstatSync, openSync, readlinkSync, readSync, writeSync } from 'node:fs';
import type { FileFd } from './fd-table.js';

/** The name every placeholder memfd has (readlink shows "/memfd:ksmctl-sim (deleted)"). */
const PLACEHOLDER = '/memfd:ksmctl-sim';

/** Whether descriptor `fd` of process `pid` is one of the library's placeholders. */
export function isPlaceholder(pid: number, fd: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(PLACEHOLDER);
  } catch {
    return false;
  }
}

interface Tap<P> {
  fd: number;
  taken: number;
  owner: P;
}

export class StdioTaps<P> {
  private readonly taps = new Map<FileFd, Tap<P>>();

  /**
   * Starts watching the placeholder `fd` of process `pid`, which stands for
   * `file`; with `text` (a file opened for reading only), the placeholder
   * holds it first, for stdio's reads behind read(): not a store.
   */
  open(pid: number, fd: number, file: FileFd, owner: P, text?: Buffer): void {
    if (this.taps.has(file) || !isPlaceholder(pid, fd)) return;
    try {
      const tap = openSync(`/proc/${pid}/fd/${fd}`, text === undefined ? 'r' : 'r+');
      if (text !== undefined && text.length > 0) writeSync(tap, text, 0, text.length, 0);
      this.taps.set(file, { fd: tap, taken: text?.length ?? 0, owner });
    } catch {
      // The process is gone already: nothing of it can be written any more.
    }
  }

  /** Hands every run of bytes appended since the last look to `store`, tap by tap. */
  drain(store: (owner: P, file: FileFd, bytes: Buffer) => void): void {
    for (const [file, tap] of this.taps) {
      const size = fstatSync(tap.fd).size;
      if (size <= tap.taken) continue;
      const bytes = Buffer.alloc(size - tap.taken);
      const n = readSync(tap.fd, bytes, 0, bytes.length, tap.taken);
      tap.taken += n;
      if (n > 0) store(tap.owner, file, bytes.subarray(0, n));
    }
  }

  /** Stops watching the open files no process holds any more (drain first). */
  release(held: (file: FileFd) => boolean): void {
    for (const [file, tap] of this.taps) {
      if (held(file)) continue;
      closeSync(tap.fd);
      this.taps.delete(file);
    }
  }

  closeAll(): void {
    for (const tap of this.taps.values()) closeSync(tap.fd);
    this.taps.clear();
  }
}
