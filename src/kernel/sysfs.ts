/**
 * A sysfs attribute directory: files with a mode and show/store functions,
 * reached by path, with the VFS and sysfs behaviour a user program sees
 * (fs/sysfs/file.c of the era): permission checks at open, stores that get
 * the written text as one NUL-terminated buffer of at most PAGE_SIZE - 1
 * bytes, and a read that returns what show printed.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import { CAP_FOWNER, capable, type Cred, genericPermission, MAY_READ, MAY_WRITE } from './cred.js';

export interface SysfsAttr {
  name: string;
  /** 0644 for KSM_ATTR, 0444 for KSM_ATTR_RO. */
  mode: number;
  show(): string;
  /**
   * Gets the buffer and the byte count; returns count (or another byte
   * count) or -errno. Absent on a file with a write bit: kobj_attr_store
   * answers -EIO.
   */
  store?(buf: string, count: number): number;
}

/**
 * Who is calling: the permission checks need the uid, the groups and the
 * capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH; see cred.ts). A
 * Process is one.
 */
export type Caller = Cred;

/** sysfs inodes belong to root:root. */
const SYSFS_OWNER = { uid: 0, gid: 0 };

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

  /**
   * chmod(2) of an attribute (sysfs_setattr): its owner (root) or a caller
   * with CAP_FOWNER may change the permission bits. 0 or -errno.
   */
  chmod(path: string, mode: number, caller: Caller): number {
    const a = this.lookup(path);
    if (typeof a === 'number') return a;
    if (caller.uid !== SYSFS_OWNER.uid && !capable(caller, CAP_FOWNER)) return -ERRNO.EPERM;
    a.mode = mode & 0o7777;
    return 0;
  }

  /**
   * open(O_RDONLY) + read(): the text of the file, or -errno. The VFS check
   * (generic_permission on root:root and the file's mode), then
   * sysfs_open_file's: no read bit at all is EACCES even for root.
   */
  read(path: string, caller: Caller): string | number {
    const a = this.lookup(path);
    if (typeof a === 'number') return a;
    const denied = genericPermission({ ...SYSFS_OWNER, mode: a.mode }, caller, MAY_READ);
    if (denied) return denied;
    if (!(a.mode & 0o444)) return -ERRNO.EACCES;
    return a.show();
  }

  /**
   * open(O_WRONLY) + write(): returns the byte count store returned, or -errno.
   * The VFS check first (a user without CAP_DAC_OVERRIDE needs a write bit
   * of its class), then sysfs_open_file refuses a file with no write bit
   * with EACCES, even for root; a file with a write bit but no store method
   * opens, and the write gets -EIO from kobj_attr_store.
   */
  write(path: string, data: string, caller: Caller): number {
    const a = this.lookup(path);
    if (typeof a === 'number') return a;
    const denied = genericPermission({ ...SYSFS_OWNER, mode: a.mode }, caller, MAY_WRITE);
    if (denied) return denied;
    if (!(a.mode & 0o222)) return -ERRNO.EACCES;
    let count = data.length; // one char per byte: callers pass latin1 text
    if (count === 0) return 0;
    // fill_write_buffer: at most PAGE_SIZE - 1 bytes reach the store method.
    let buf = data;
    if (count >= PAGE_SIZE) {
      count = PAGE_SIZE - 1;
      buf = data.slice(0, count);
    }
    if (!a.store) return -ERRNO.EIO;
    // The buffer is a C string: store sees it up to the first NUL.
    const nul = buf.indexOf('\0');
    return a.store(nul >= 0 ? buf.slice(0, nul) : buf, count);
  }
}
