/**
 * ioctl request numbers as asm-generic/ioctl.h builds them (x86, i386 and
 * x86-64 alike): `dir << 30 | size << 16 | type << 8 | nr`. The helpers
 * mirror the C macros, so a header can be transcribed line for line:
 * `_IOW(KSMIO, 0x20, struct ksm_memory_region)` becomes
 * `_IOW(KSMIO, 0x20, ksm_memory_region)` with the struct's layout (or its
 * size) standing in for `sizeof`.
 */

export const _IOC_NRBITS = 8;
export const _IOC_TYPEBITS = 8;
export const _IOC_SIZEBITS = 14;
export const _IOC_DIRBITS = 2;

export const _IOC_NRSHIFT = 0;
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;

export const _IOC_NONE = 0;
export const _IOC_WRITE = 1;
export const _IOC_READ = 2;

/** Anything with a C size: a number of bytes, or a struct class/layout with `size`. */
export type Sized = number | { readonly size: number } | { readonly layout: { readonly size: number } };

function sizeOf(s: Sized): number {
  if (typeof s === 'number') return s;
  return 'layout' in s ? s.layout.size : s.size;
}

/** _IOC(dir, type, nr, size), as an unsigned 32-bit number. */
export function _IOC(dir: number, type: number, nr: number, size: number): number {
  if (dir >>> _IOC_DIRBITS || type >>> _IOC_TYPEBITS || nr >>> _IOC_NRBITS || size >>> _IOC_SIZEBITS) {
    throw new RangeError(`_IOC(${dir}, ${type}, ${nr}, ${size}): a field does not fit its bits`);
  }
  return ((dir << _IOC_DIRSHIFT) | (type << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)) >>> 0;
}

/** _IO(type, nr): no argument. */
export function _IO(type: number, nr: number): number {
  return _IOC(_IOC_NONE, type, nr, 0);
}

/** _IOR(type, nr, T): the kernel writes a T to user space. */
export function _IOR(type: number, nr: number, t: Sized): number {
  return _IOC(_IOC_READ, type, nr, sizeOf(t));
}

/** _IOW(type, nr, T): the kernel reads a T from user space. */
export function _IOW(type: number, nr: number, t: Sized): number {
  return _IOC(_IOC_WRITE, type, nr, sizeOf(t));
}

/** _IOWR(type, nr, T): both directions. */
export function _IOWR(type: number, nr: number, t: Sized): number {
  return _IOC(_IOC_READ | _IOC_WRITE, type, nr, sizeOf(t));
}

export const _IOC_DIR = (req: number): number => (req >>> _IOC_DIRSHIFT) & ((1 << _IOC_DIRBITS) - 1);
export const _IOC_TYPE = (req: number): number => (req >>> _IOC_TYPESHIFT) & ((1 << _IOC_TYPEBITS) - 1);
export const _IOC_NR = (req: number): number => (req >>> _IOC_NRSHIFT) & ((1 << _IOC_NRBITS) - 1);
export const _IOC_SIZE = (req: number): number => (req >>> _IOC_SIZESHIFT) & ((1 << _IOC_SIZEBITS) - 1);

/** A request number the way strace prints an unknown one: `_IOC(_IOC_WRITE, 0xab, 0x20, 0x18)`. */
export function formatIoc(req: number): string {
  const dir = _IOC_DIR(req);
  const dirName = dir === 0 ? '_IOC_NONE' : [dir & _IOC_READ ? '_IOC_READ' : '', dir & _IOC_WRITE ? '_IOC_WRITE' : ''].filter(Boolean).join('|');
  const hex = (n: number) => `0x${n.toString(16)}`;
  return `_IOC(${dirName}, ${hex(_IOC_TYPE(req))}, ${hex(_IOC_NR(req))}, ${hex(_IOC_SIZE(req))})`;
}
