/**
 * Typed errno values with the kernel's own numbers and glibc's wording
 * (asm-generic/errno-base.h, errno.h). Handlers return them negated, as the
 * kernel's do (-ERRNO.EINVAL); front ends show them by name (errnoName, as
 * strace does) or by message (strerror, as perror and bash do). Tests assert
 * on the name or number, never on the message.
 */

const TABLE = [
  ['EPERM', 1, 'Operation not permitted'],
  ['ENOENT', 2, 'No such file or directory'],
  ['ESRCH', 3, 'No such process'],
  ['EINTR', 4, 'Interrupted system call'],
  ['EIO', 5, 'Input/output error'],
  ['ENXIO', 6, 'No such device or address'],
  ['E2BIG', 7, 'Argument list too long'],
  ['EBADF', 9, 'Bad file descriptor'],
  ['ECHILD', 10, 'No child processes'],
  ['EAGAIN', 11, 'Resource temporarily unavailable'],
  ['ENOMEM', 12, 'Cannot allocate memory'],
  ['EACCES', 13, 'Permission denied'],
  ['EFAULT', 14, 'Bad address'],
  ['EBUSY', 16, 'Device or resource busy'],
  ['EEXIST', 17, 'File exists'],
  ['ENODEV', 19, 'No such device'],
  ['ENOTDIR', 20, 'Not a directory'],
  ['EISDIR', 21, 'Is a directory'],
  ['EINVAL', 22, 'Invalid argument'],
  ['ENFILE', 23, 'Too many open files in system'],
  ['EMFILE', 24, 'Too many open files'],
  ['ENOTTY', 25, 'Inappropriate ioctl for device'],
  ['ENOSPC', 28, 'No space left on device'],
  ['ESPIPE', 29, 'Illegal seek'],
  ['EROFS', 30, 'Read-only file system'],
  ['ERANGE', 34, 'Numerical result out of range'],
  ['ENOSYS', 38, 'Function not implemented'],
  ['EOPNOTSUPP', 95, 'Operation not supported'],
  // Kernel-internal: never reaches user space from a completed syscall, but
  // the seeds return it from functions whose result we show (unmerge_ksm_pages).
  ['ERESTARTSYS', 512, 'Interrupted system call (ERESTARTSYS)'],
] as const;

export type ErrnoName = (typeof TABLE)[number][0];

export const ERRNO: { readonly [K in ErrnoName]: number } = Object.fromEntries(
  TABLE.map(([name, num]) => [name, num]),
) as { [K in ErrnoName]: number };

const BY_NUMBER = new Map<number, { name: ErrnoName; message: string }>(
  TABLE.map(([name, num, message]) => [num, { name, message }]),
);

/** The symbolic name of an errno number (`EINVAL` for 22), or `E<n>` when unknown. */
export function errnoName(num: number): string {
  return BY_NUMBER.get(num)?.name ?? `E${num}`;
}

/** glibc's strerror() text for an errno number. */
export function strerror(num: number): string {
  return BY_NUMBER.get(num)?.message ?? `Unknown error ${num}`;
}
