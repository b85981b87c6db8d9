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

const LLONG_MAX = (1n << 63n) - 1n;
const INT_MAX = 0x7fffffffn;
const INT_MIN = -0x80000000n;

/**
 * _kstrtoull (lib/kstrtox.c): digits then at most one newline, no sign.
 * -ERANGE on overflow, -EINVAL otherwise.
 */
function kstrtoullNoSign(s: string, base: number): bigint | number {
  return s.startsWith('+') ? -ERRNO.EINVAL : kstrtoul(s, base);
}

/** kstrtouint: kstrtoull, then -ERANGE when the value does not fit an unsigned int. */
export function kstrtouint(s: string, base = 10): bigint | number {
  const v = kstrtoul(s, base);
  if (typeof v === 'number') return v;
  return v > UINT_MAX ? -ERRNO.ERANGE : v;
}

/**
 * kstrtoll / kstrtoint (lib/kstrtox.c): a leading '-' (parsed without a
 * further sign) or kstrtoull's optional '+'; -ERANGE when out of range.
 */
export function kstrtoll(s: string, base = 10): bigint | number {
  if (s[0] === '-') {
    const v = kstrtoullNoSign(s.slice(1), base);
    if (typeof v === 'number') return v;
    if (v > LLONG_MAX + 1n) return -ERRNO.ERANGE;
    return -v;
  }
  const v = kstrtoul(s, base);
  if (typeof v === 'number') return v;
  return v > LLONG_MAX ? -ERRNO.ERANGE : v;
}

export function kstrtoint(s: string, base = 10): bigint | number {
  const v = kstrtoll(s, base);
  if (typeof v === 'number') return v;
  return v > INT_MAX || v < INT_MIN ? -ERRNO.ERANGE : v;
}

/**
 * kstrtobool (lib/kstrtox.c of 5.x/6.x): looks at the first one or two
 * characters only: y/Y/t/T/1 and "on" are true, n/N/f/F/0 and "of(f)" are
 * false; anything else, the empty string included, is -EINVAL.
 */
export function kstrtobool(s: string): boolean | number {
  switch (s[0]) {
    case 'y': case 'Y': case 't': case 'T': case '1':
      return true;
    case 'n': case 'N': case 'f': case 'F': case '0':
      return false;
    case 'o': case 'O':
      if (s[1] === 'n' || s[1] === 'N') return true;
      if (s[1] === 'f' || s[1] === 'F') return false;
      break;
  }
  return -ERRNO.EINVAL;
}

/** sysfs_streq: equal, except that either may end with one newline. */
export function sysfsStreq(s1: string, s2: string): boolean {
  const strip = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s);
  return strip(s1) === strip(s2);
}
