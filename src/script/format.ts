/**
 * printf of the C library, for the conversions scripts use: %d %i %u %x %X
 * %o %c %s %p %%, with flags (-, 0, +, space, #), width, precision and the
 * length modifiers hh h l ll z j t (which set the integer's width: int is
 * 32 bits, long 64).
 */
import type { Value } from './values.js';
import { show } from './values.js';

export class FormatError extends Error {}

/**
 * The widest field a conversion may pad to, and the longest precision: what
 * a run may write in all (16 MiB, run.ts). glibc would pad on up to INT_MAX
 * and then fail with EOVERFLOW; a field wider than the run's output could
 * only end the run.
 */
export const MAX_FIELD = 16 << 20;

export function cFormat(fmt: string, args: Value[]): string {
  let out = '';
  let ai = 0;
  const re = /%([-0+ #]*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|j|t|L)?([diuxXocsp%])/g;
  let last = 0;
  for (let m = re.exec(fmt); m !== null; m = re.exec(fmt)) {
    out += fmt.slice(last, m.index);
    last = re.lastIndex;
    const [, flags, w, p, len, conv] = m;
    if (conv === '%') {
      out += '%';
      continue;
    }
    const next = (): Value => {
      if (ai >= args.length) throw new FormatError(`printf: the format has more conversions than arguments ("${fmt.replace(/\n/g, '\\n')}")`);
      return args[ai++];
    };
    let left = flags.includes('-');
    let width = 0;
    if (w === '*') {
      // An int argument; a negative one is the '-' flag and its absolute value.
      const v = Number(BigInt.asIntN(32, toBig(next())));
      if (v < 0) left = true;
      width = Math.abs(v);
    } else if (w) {
      width = Number(w);
    }
    let prec: number | undefined;
    if (p === '*') {
      // A negative precision argument is taken as if the precision were omitted.
      const v = Number(BigInt.asIntN(32, toBig(next())));
      prec = v < 0 ? undefined : v;
    } else if (p !== undefined) {
      prec = Number(p);
    }
    if (width > MAX_FIELD || (prec ?? 0) > MAX_FIELD) {
      throw new FormatError(`printf: a field ${width > MAX_FIELD ? `width of ${width}` : `precision of ${prec}`} is more than a run may write (${MAX_FIELD >> 20} MiB)`);
    }
    const bits = len === 'l' || len === 'll' || len === 'z' || len === 'j' || len === 't' ? 64 : len === 'h' ? 16 : len === 'hh' ? 8 : 32;
    const a = next();
    let body: string;
    let sign = '';
    switch (conv) {
      case 'd':
      case 'i': {
        const v = BigInt.asIntN(bits, toBig(a));
        sign = v < 0n ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
        body = (v < 0n ? -v : v).toString();
        break;
      }
      case 'u':
        body = BigInt.asUintN(bits, toBig(a)).toString();
        break;
      case 'x':
      case 'X':
      case 'o': {
        const v = BigInt.asUintN(bits, toBig(a));
        body = v.toString(conv === 'o' ? 8 : 16);
        if (conv === 'X') body = body.toUpperCase();
        if (flags.includes('#') && v !== 0n) sign = conv === 'o' ? '0' : conv === 'x' ? '0x' : '0X';
        break;
      }
      case 'p':
        body = `0x${BigInt.asUintN(64, toBig(a)).toString(16)}`;
        break;
      case 'c':
        body = String.fromCharCode(Number(BigInt.asUintN(8, toBig(a))));
        break;
      default:
        body = typeof a === 'string' ? a : show(a);
        if (prec !== undefined) body = body.slice(0, prec);
    }
    if (prec !== undefined && 'diuxXo'.includes(conv)) body = body.padStart(prec, '0');
    let s = sign + body;
    if (s.length < width) {
      if (left) s = s.padEnd(width);
      else if (flags.includes('0') && prec === undefined && conv !== 's' && conv !== 'c') s = sign + body.padStart(width - sign.length, '0');
      else s = s.padStart(width);
    }
    out += s;
  }
  return out + fmt.slice(last);
}

function toBig(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  throw new FormatError(`printf: ${typeof v === 'string' ? 'a string' : 'a value'} where the format wants a number`);
}
