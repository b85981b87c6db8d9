/**
 * A sysfs attribute directory: files with a mode and show/store functions,
 * reached by path, with the VFS and sysfs behaviour a user program sees
 * (fs/sysfs/file.c of the era): permission checks at open, stores that get
 * the written text as one NUL-terminated buffer of at most PAGE_SIZE - 1
 * bytes, and a read that returns what show printed.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';

export interface SysfsAttr {
  name: string;
  /** 0644 for KSM_ATTR, 0444 for KSM_ATTR_RO. */
  mode: number;
  show(): string;
  /** Gets the buffer and the byte count; returns count (or another byte count) or -errno. */
  store?(buf: string, count: number): number;
}

/** Who is calling: the permission checks need the uid (and CAP_DAC_OVERRIDE for root). */
export interface Caller {
  uid: number;
}

export class SysfsDir {
  private readonly attrs = new Map<string, SysfsAttr>();

  constructor(readonly path: string, attrs: SysfsAttr[]) {
    for (const a of attrs) this.attrs.set(a.name, a);
  }

  /** File names in the order of the seed's attribute array. */
  names(): string[] {
    return [...this.attrs.keys()];
  }

  has(name: string): boolean {
    return this.attrs.has(name);
  }

  mode(name: string): number | undefined {
    return this.attrs.get(name)?.mode;
  }

  /** The attribute for a full path or a bare file name, or -ENOENT. */
  lookup(path: string): SysfsAttr | number {
    const name = path.startsWith(this.path + '/') ? path.slice(this.path.length + 1) : path.includes('/') ? '' : path;
    return this.attrs.get(name) ?? -ERRNO.ENOENT;
  }

  /** open(O_RDONLY) + read(): the text of the file, or -errno. */
  read(path: string, caller: Caller): string | number {
    const a = this.lookup(path);
    if (typeof a === 'number') return a;
    // The files are owned by root; others need the "other" read bit.
    if (caller.uid !== 0 && !(a.mode & 0o004)) return -ERRNO.EACCES;
    return a.show();
  }

  /**
   * open(O_WRONLY) + write(): returns the byte count store returned, or -errno.
   * sysfs_open_file refuses a file with no write bit or no store method with
   * EACCES, even for root.
   */
  write(path: string, data: string, caller: Caller): number {
    const a = this.lookup(path);
    if (typeof a === 'number') return a;
    if (!(a.mode & 0o222) || !a.store) return -ERRNO.EACCES;
    if (caller.uid !== 0 && !(a.mode & 0o002)) return -ERRNO.EACCES;
    let count = data.length; // one char per byte: callers pass latin1 text
    if (count === 0) return 0;
    // fill_write_buffer: at most PAGE_SIZE - 1 bytes reach the store method.
    let buf = data;
    if (count >= PAGE_SIZE) {
      count = PAGE_SIZE - 1;
      buf = data.slice(0, count);
    }
    // The buffer is a C string: store sees it up to the first NUL.
    const nul = buf.indexOf('\0');
    return a.store(nul >= 0 ? buf.slice(0, nul) : buf, count);
  }
}
