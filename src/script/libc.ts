/**
 * The parts of the C library scripts call that are pure computation, as
 * glibc does them: strtol and its kin (base 0 for 0x and 0 prefixes,
 * saturation at the type's limits with ERANGE), atoi, and the scanf
 * conversions programs use on sysfs and proc text (%d %i %u %x %o %ld %lu
 * %lld %llu %s %c %%, widths, and literal text). Everything that touches a
 * process (streams, descriptors) is in the interpreter and runtime.
 */
import { ERRNO } from '../engine/errno.js';

export interface StrtolResult {
  value: bigint;
  /** The text after the number (strtol's *endptr); all of it when no digits were read. */
  rest: string;
  /** ERANGE when the value saturated, else 0 (errno is left alone then). */
  errno: number;
}

const SPACE = /^[ \t\n\v\f\r]*/;

/**
 * strtol(s, &end, base) for a type of `bits` bits, signed or not (strtoul
 * of a negative number wraps, as glibc's does). An invalid base is EINVAL.
 */
export function strtol(s: string, base: number, bits: 32 | 64, signed: boolean): StrtolResult {
  if (base !== 0 && (base < 2 || base > 36)) return { value: 0n, rest: s, errno: ERRNO.EINVAL };
  let i = SPACE.exec(s)![0].length;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b = base;
  if ((b === 0 || b === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitOf(s[i + 2]) < 16) {
    i += 2;
    b = 16;
  } else if (b === 0) b = s[i] === '0' ? 8 : 10;
  const start = i;
  let v = 0n;
  while (i < s.length && digitOf(s[i]) < b) v = v * BigInt(b) + BigInt(digitOf(s[i++]));
  if (i === start) return { value: 0n, rest: s, errno: 0 };
  const rest = s.slice(i);
  if (signed) {
    const max = (1n << BigInt(bits - 1)) - 1n;
    if (!neg && v > max) return { value: max, rest, errno: ERRNO.ERANGE };
    if (neg && v > max + 1n) return { value: -(max + 1n), rest, errno: ERRNO.ERANGE };
    return { value: neg ? -v : v, rest, errno: 0 };
  }
  const max = (1n << BigInt(bits)) - 1n;
  if (v > max) return { value: max, rest, errno: ERRNO.ERANGE };
  return { value: neg ? BigInt.asUintN(bits, -v) : v, rest, errno: 0 };
}

function digitOf(ch: string | undefined): number {
  if (ch === undefined) return 99;
  const c = ch.charCodeAt(0);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 87;
  if (c >= 65 && c <= 90) return c - 55;
  return 99;
}

/** atoi: (int) strtol(s, NULL, 10); atol and atoll: the 64-bit strtol. */
export function atoi(s: string, bits: 32 | 64 = 32): bigint {
  const v = strtol(s, 10, 64, true).value;
  return bits === 32 ? BigInt.asIntN(32, v) : v;
}

/** One value scanf stored: a number, or a string (%s, %c). */
export type Scanned = bigint | string;

/**
 * scanf's matching of `fmt` against `input`: the values converted, in
 * order (assignments suppressed with `*` are not listed), and whether the
 * input ended before the first conversion (scanf's EOF, -1).
 */
export function scanf(input: string, fmt: string): { values: Scanned[]; eof: boolean; consumed: number } {
  const values: Scanned[] = [];
  let i = 0;
  let convs = 0;
  for (let f = 0; f < fmt.length; f++) {
    const ch = fmt[f];
    if (/\s/.test(ch)) {
      while (i < input.length && /\s/.test(input[i])) i++;
      continue;
    }
    if (ch !== '%') {
      if (input[i] !== ch) break;
      i++;
      continue;
    }
    const m = /^%(\*)?(\d+)?(hh|h|ll|l|j|z|t)?([diuxXoscn%])/.exec(fmt.slice(f));
    if (m === null) throw new RangeError(`scanf: the conversion at "${fmt.slice(f)}" is not supported (%d %i %u %x %o %s %c %n %%, with l, ll, h, hh)`);
    f += m[0].length - 1;
    const [, skip, width, len, conv] = m;
    if (conv === '%') {
      while (i < input.length && /\s/.test(input[i])) i++;
      if (input[i] !== '%') break;
      i++;
      continue;
    }
    if (conv === 'n') {
      if (!skip) values.push(BigInt(i));
      continue;
    }
    if (conv !== 'c') while (i < input.length && /\s/.test(input[i])) i++;
    if (i >= input.length) {
      if (convs === 0 && values.length === 0) return { values, eof: true, consumed: i };
      break;
    }
    const w = width ? Number(width) : conv === 'c' ? 1 : Number.POSITIVE_INFINITY;
    if (conv === 's' || conv === 'c') {
      let j = i;
      while (j < input.length && j - i < w && (conv === 'c' || !/\s/.test(input[j]))) j++;
      if (!skip) values.push(input.slice(i, j));
      i = j;
      convs++;
      continue;
    }
    const field = input.slice(i, Number.isFinite(w) ? i + w : undefined);
    const base = conv === 'x' || conv === 'X' ? 16 : conv === 'o' ? 8 : conv === 'i' ? 0 : 10;
    const bits: 32 | 64 = len === 'l' || len === 'll' || len === 'j' || len === 'z' || len === 't' ? 64 : 32;
    const r = strtol(field, base, 64, conv !== 'u' && conv !== 'x' && conv !== 'X' && conv !== 'o');
    if (r.rest === field) break;
    i += field.length - r.rest.length;
    const narrow = len === 'hh' ? 8 : len === 'h' ? 16 : bits;
    if (!skip) values.push(conv === 'd' || conv === 'i' ? BigInt.asIntN(narrow, r.value) : BigInt.asUintN(narrow, r.value));
    convs++;
  }
  return { values, eof: false, consumed: i };
}
