/**
 * System calls the way strace prints them: `name(args) = result`, flags as
 * their symbolic names joined with `|`, structs as `{field=value, ...}`
 * (pointers in hex), strings quoted with C escapes and cut at 32 bytes,
 * failures as `-1 ENAME (message)`. Names come from the front ends'
 * constant modules and the /dev/ksm request table.
 */
import * as engine from '../engine/constants.js';
import { errnoName, strerror } from '../engine/errno.js';
import { decodeStruct, type StructLayout } from '../kernel/cstruct.js';
import { formatIoc } from '../kernel/ioctl.js';
import * as v1 from '../v1-ioctl/constants.js';
import { type RequestInfo, requestTable } from '../v1-ioctl/device.js';
import * as v3 from '../v3-sysfs/constants.js';

export const REQUESTS: ReadonlyMap<number, RequestInfo> = requestTable();

/** strace's default string limit (-s 32). */
const STRLEN = 32;

/** `= 3`, `= 0x2aaaaaaab000`, `= -1 EINVAL (Invalid argument)`. */
export function formatResult(r: number, hex = false): string {
  if (r < 0) return `-1 ${errnoName(-r)} (${strerror(-r)})`;
  return hex ? `0x${r.toString(16)}` : String(r);
}

/** A C string as strace shows it: quoted, escaped, cut at 32 bytes (`"..."...`). */
export function quote(s: string, limit = STRLEN): string {
  const cut = s.length > limit;
  const body = (cut ? s.slice(0, limit) : s).replace(/[\\"\n\t\r\x00-\x1f\x7f-\xff]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
      default:
        return `\\${c.charCodeAt(0).toString(8)}`;
    }
  });
  return `"${body}"${cut ? '...' : ''}`;
}

function flagNames(value: number, table: Array<[string, number]>, zero: string): string {
  if (value === 0) return zero;
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [name, bit] of table) {
    if (bit !== 0 && (rest & bit) === bit) {
      names.push(name);
      rest &= ~bit >>> 0;
    }
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

const OPEN_FLAGS: Array<[string, number]> = [
  ['O_CREAT', v1.O_CREAT],
  ['O_EXCL', v1.O_EXCL],
  ['O_NOCTTY', v1.O_NOCTTY],
  ['O_TRUNC', v1.O_TRUNC],
  ['O_APPEND', v1.O_APPEND],
  ['O_NONBLOCK', v1.O_NONBLOCK],
  ['O_DIRECTORY', v1.O_DIRECTORY],
  ['O_CLOEXEC', v1.O_CLOEXEC],
];

/** `O_RDWR|O_TRUNC` */
export function openFlags(flags: number): string {
  const acc = flags & v1.O_ACCMODE;
  const mode = acc === v1.O_RDONLY ? 'O_RDONLY' : acc === v1.O_WRONLY ? 'O_WRONLY' : acc === v1.O_RDWR ? 'O_RDWR' : `0x${acc.toString(16)}`;
  const rest = flags & ~v1.O_ACCMODE;
  return rest ? `${mode}|${flagNames(rest, OPEN_FLAGS, '')}` : mode;
}

export function protFlags(prot: number): string {
  return flagNames(prot, [['PROT_READ', engine.PROT_READ], ['PROT_WRITE', engine.PROT_WRITE], ['PROT_EXEC', engine.PROT_EXEC]], 'PROT_NONE');
}

export function mapFlags(flags: number): string {
  return flagNames(flags, [['MAP_SHARED', engine.MAP_SHARED], ['MAP_PRIVATE', engine.MAP_PRIVATE], ['MAP_FIXED', engine.MAP_FIXED], ['MAP_ANONYMOUS', engine.MAP_ANONYMOUS]], '0');
}

export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** An address argument: `NULL` or hex. */
export function pointer(n: number | bigint): string {
  return BigInt(n) === 0n ? 'NULL' : hex(n);
}

/** `mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x2aaaaaaab000` */
export function mmapCall(addr: number, length: number, prot: number, flags: number, fd: number, offset: number, result: number): string {
  return `mmap(${pointer(addr)}, ${length}, ${protFlags(prot)}, ${mapFlags(flags)}, ${fd}, ${offset}) = ${formatResult(result, true)}`;
}

/** The prctl options strace names here: those of KSM (linux/prctl.h, 6.4 and later). */
const PRCTL_OPTIONS: ReadonlyMap<number, string> = new Map([
  [v3.PR_SET_MEMORY_MERGE, 'PR_SET_MEMORY_MERGE'],
  [v3.PR_GET_MEMORY_MERGE, 'PR_GET_MEMORY_MERGE'],
]);

/**
 * A prctl call as strace decodes the KSM options (its default decoding):
 * the option by name (an unknown one in hex, marked PR_???), then arg2..arg5
 * in hex (`prctl(PR_SET_MEMORY_MERGE, 0x1, 0, 0, 0)`).
 */
export function prctlCall(option: number, args: readonly number[]): string {
  const name = PRCTL_OPTIONS.get(option) ?? `${hex(option >>> 0)} /* PR_??? */`;
  return `prctl(${[name, ...args.map((a) => (a === 0 ? '0' : hex(BigInt.asUintN(64, BigInt(a)))))].join(', ')})`;
}

/** The request's name (`KSM_REGISTER_MEMORY_REGION`), or `_IOC(...)` for a number no header defines. */
export function requestName(request: number): string {
  return REQUESTS.get(request >>> 0)?.name ?? formatIoc(request >>> 0);
}

/** The struct layout the request passes, if any header defines one. */
export function requestLayout(request: number): StructLayout | null {
  return REQUESTS.get(request >>> 0)?.layout ?? null;
}

/** `{npages=16, pad=0, addr=0x2aaaaaaab000, reserved_bits=0}` */
export function formatStruct(layout: StructLayout, bytes: Uint8Array): string {
  const v = decodeStruct(layout, bytes);
  return `{${layout.fields.map((f) => `${f.name}=${f.name === 'addr' ? hex(v[f.name]) : String(v[f.name])}`).join(', ')}}`;
}
