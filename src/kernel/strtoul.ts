/**
 * The kernel's string-to-number parsers of each era, as sysfs store
 * functions call them. Values are unsigned long (64-bit): overflow wraps in
 * simple_strtoul, exactly as the C does, so results are bigints.
 */
import { ERRNO } from '../engine/errno.js';

const U64 = (1n << 64n) - 1n;

/** simple_strtoul(cp, &endp, base): digits only, no sign, no blanks; wraps at 2^64. */
export function simpleStrtoul(s: string, base = 10): { value: bigint; end: number } {
  let i = 0;
  if (base === 16 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')) i = 2;
  let v = 0n;
  const b = BigInt(base);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else break;
    if (d >= base) break;
    v = (v * b + BigInt(d)) & U64;
  }
  return { value: v, end: i };
}

/**
 * strict_strtoul (lib/vsprintf.c of 2.6.2x/2.6.3x): the whole string must be
 * digits, optionally followed by a single newline. Returns the value or -EINVAL.
 */
export function strictStrtoul(s: string, base = 10): bigint | number {
  if (s.length === 0) return -ERRNO.EINVAL;
  const { value, end } = simpleStrtoul(s, base);
  if (end === 0) return -ERRNO.EINVAL;
  if (end === s.length || (s.length === end + 1 && s[end] === '\n')) return value;
  return -ERRNO.EINVAL;
}

/**
 * kstrtoul (lib/kstrtox.c, 2.6.39 and later): an optional leading '+', digits,
 * at most one trailing newline; -ERANGE on overflow, -EINVAL otherwise.
 */
export function kstrtoul(s: string, base = 10): bigint | number {
  let i = 0;
  if (s[0] === '+') i = 1;
  if (base === 16 && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) i += 2;
  let v = 0n;
  const b = BigInt(base);
  const start = i;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else break;
    if (d >= base) break;
    v = v * b + BigInt(d);
    if (v > U64) return -ERRNO.ERANGE;
  }
  if (i === start) return -ERRNO.EINVAL;
  if (s[i] === '\n') i++;
  if (i !== s.length) return -ERRNO.EINVAL;
  return v;
}

export const UINT_MAX = 0xffffffffn;
