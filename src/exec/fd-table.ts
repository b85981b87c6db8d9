/**
 * The descriptors a program holds on simulated files, per real process:
 * the real descriptor number the library handed out (a placeholder: an
 * empty memfd, whose stdio writes stdio-taps.ts reads) mapped to what it stands for:
 *
 * - `device`: a descriptor of the era's kernel (/dev/ksm, and the SMA and
 *   SCAN fds its driver hands out), by its number in the simulated process;
 * - `file`: an open sysfs or /proc file, with its offset. As in the
 *   kernel, a read at offset 0 asks the file for its text again (sysfs's
 *   show() runs per read), later reads continue in that text, and each
 *   write() is one store. dup and fork share the object, as they share an
 *   open file description and its offset.
 */
export interface DeviceFd {
  kind: 'device';
  simFd: number;
}

export interface FileFd {
  kind: 'file';
  /** The path as the era's system reads it (/proc/PID with the simulated pid). */
  path: string;
  flags: number;
  pos: number;
  /** The text the last read at offset 0 produced. */
  text: Buffer | null;
}

export type OpenFd = DeviceFd | FileFd;

export class FdTable {
  private readonly fds = new Map<number, OpenFd>();

  get(fd: number): OpenFd | undefined {
    return this.fds.get(fd);
  }

  set(fd: number, f: OpenFd): void {
    this.fds.set(fd, f);
  }

  delete(fd: number): void {
    this.fds.delete(fd);
  }

  /** A forked child's table: the same open files (device numbers are the same in the simulated child). */
  clone(): FdTable {
    const t = new FdTable();
    for (const [k, v] of this.fds) t.fds.set(k, v);
    return t;
  }

  /** Whether some descriptor of this table is `f` (dup and fork share the object). */
  holds(f: OpenFd): boolean {
    for (const v of this.fds.values()) if (v === f) return true;
    return false;
  }

  numbers(): number[] {
    return [...this.fds.keys()];
  }
}
