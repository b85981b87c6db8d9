/**
 * Credentials and the VFS permission check every era's user-visible KSM
 * files go through (include/linux/capability.h, fs/namei.c of 2.6.2x/3x).
 *
 * None of the seeds checks a capability itself: the /dev/ksm driver (001,
 * 002) has no open method, and the sysfs stores (000, 003) and ksm_madvise
 * take no capable() call. What guards each era is therefore the mode of
 * the file a program opens (the /dev/ksm node, the /sys/kernel/mm/ksm
 * attributes), checked by generic_permission, where root's power is two
 * capabilities: CAP_DAC_OVERRIDE (read or write any file) and
 * CAP_DAC_READ_SEARCH (read any file). The 002 review thread proposed "an
 * admin capability check in the ioctl" (CAP_SYS_ADMIN); no seed has it.
 */
import { ERRNO } from '../engine/errno.js';

/** include/linux/capability.h: the capabilities a KSM era's paths consult. */
export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
/** chmod of a file one does not own. */
export const CAP_FOWNER = 3;
/** Named by the 002 review thread's proposed fix; no seed checks it. */
export const CAP_SYS_ADMIN = 21;

/** A capability set as a bit mask (cap_t, the effective set). */
export type CapSet = bigint;

export function capMask(...caps: number[]): CapSet {
  return caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
}

/** CAP_FULL_SET of 2.6.2x (capabilities 0..33): what a uid-0 process has after exec. */
export const CAP_FULL_SET: CapSet = (1n << 34n) - 1n;
export const CAP_EMPTY_SET: CapSet = 0n;

/** include/linux/fs.h: the access a permission check asks for. */
export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

/** What a permission check needs of the calling task (struct cred: fsuid, fsgid, cap_effective). */
export interface Cred {
  uid: number;
  /** Absent: the uid's own group (every simulated user has a group of its number). */
  gid?: number;
  /** Supplementary groups (in_group_p looks at them too). */
  groups?: readonly number[];
  /** Effective capabilities; absent: the full set for uid 0, none otherwise (what exec gives). */
  caps?: CapSet;
}

/** The effective capability set of a credential (absent: exec's rule for uid 0 and the others). */
export function effectiveCaps(c: Cred): CapSet {
  return c.caps ?? (c.uid === 0 ? CAP_FULL_SET : CAP_EMPTY_SET);
}

/** capable(cap) for this credential. */
export function capable(c: Cred, cap: number): boolean {
  return (effectiveCaps(c) & (1n << BigInt(cap))) !== 0n;
}

/** in_group_p: the fsgid or one of the supplementary groups. */
export function inGroupP(c: Cred, gid: number): boolean {
  return (c.gid ?? c.uid) === gid || (c.groups?.includes(gid) ?? false);
}

/** The owner, group and mode bits of an inode. */
export interface InodeMode {
  uid: number;
  gid: number;
  /** Permission bits (07777); the file type is not needed here. */
  mode: number;
}

/**
 * generic_permission (fs/namei.c) for a non-directory: the owner's, the
 * group's or the others' bits; then CAP_DAC_OVERRIDE overrides read and
 * write (exec only if some x bit is set), and CAP_DAC_READ_SEARCH overrides
 * a read. Returns 0 or -EACCES.
 */
export function genericPermission(inode: InodeMode, cred: Cred, mask: number): number {
  let mode = inode.mode;
  if (cred.uid === inode.uid) mode >>= 6;
  else if (inGroupP(cred, inode.gid)) mode >>= 3;
  if ((mode & mask & (MAY_READ | MAY_WRITE | MAY_EXEC)) === mask) return 0;
  // Read/write DACs are always overridable. Executable DACs are
  // overridable if at least one exec bit is set.
  if (!(mask & MAY_EXEC) || inode.mode & 0o111) if (capable(cred, CAP_DAC_OVERRIDE)) return 0;
  // Searching includes executable on directories, else just read.
  if (mask === MAY_READ && capable(cred, CAP_DAC_READ_SEARCH)) return 0;
  return -ERRNO.EACCES;
}

/** The administrator: uid 0 with every capability. */
export const ROOT: Readonly<Cred> = Object.freeze({ uid: 0, gid: 0 });
