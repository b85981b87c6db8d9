/**
 * The symbolic constants a script can name, built from the front ends' own
 * constant modules (no number is written here): the two linux/ksm.h headers
 * of the /dev/ksm era, the mman/fcntl values of every era, the errno names,
 * and the struct layouts of each header.
 *
 * Names common to several modules must agree (a test checks the table
 * builds). The two ksm.h headers disagree on purpose (the ioctl numbers
 * changed between them), so `KSM_*` names and the struct names resolve in the
 * header the script includes.
 */
import * as engine from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import { type StructLayout, structLayout, u64 } from '../kernel/cstruct.js';
import * as v1 from '../v1-ioctl/constants.js';
import type { KsmAbi } from '../v1-ioctl/device.js';
import * as h2008 from '../v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../v1-ioctl/linux-ksm-2009.js';
import * as v2 from '../v2-madvise/constants.js';
import * as v3 from '../v3-sysfs/constants.js';

export interface Header {
  /** The /dev/ksm ABI the header declares. */
  abi: KsmAbi;
  /** What a message calls it. */
  title: string;
  /** The file names that select it in `#include`. */
  files: readonly string[];
  constants: ReadonlyMap<string, bigint>;
  structs: ReadonlyMap<string, StructLayout>;
}

function numbers(mod: Record<string, unknown>): Array<[string, bigint]> {
  return Object.entries(mod)
    .filter(([, v]) => typeof v === 'number' && Number.isInteger(v))
    .map(([k, v]) => [k, BigInt(v as number)]);
}

function structsOf(mod: Record<string, unknown>): Map<string, StructLayout> {
  const m = new Map<string, StructLayout>();
  for (const v of Object.values(mod)) {
    const layout = (v as { layout?: StructLayout } | null)?.layout;
    if (typeof v === 'function' && layout !== undefined && typeof layout.name === 'string') m.set(layout.name.replace(/^struct /, ''), layout);
  }
  return m;
}

/** Constants every era shares (mman, fcntl, errno, page size), checked for agreement. */
function buildCommon(): Map<string, bigint> {
  const m = new Map<string, bigint>();
  const add = (source: string, entries: Array<[string, bigint]>) => {
    for (const [k, v] of entries) {
      const prev = m.get(k);
      if (prev !== undefined && prev !== v) throw new Error(`constant ${k}: ${prev} and ${v} (${source})`);
      m.set(k, v);
    }
  };
  add('engine/constants', numbers(engine));
  add('v1-ioctl/constants', numbers(v1));
  add('v2-madvise/constants', numbers(v2).filter(([k]) => k !== 'ksm_control_flags_run'));
  add('v3-sysfs/constants', numbers(v3));
  add('errno', Object.entries(ERRNO).map(([k, v]) => [k, BigInt(v)]));
  add('stddef', [['NULL', 0n]]);
  // <stdio.h>, <unistd.h>, <stdlib.h>, <limits.h> of glibc on x86-64.
  add('libc', [
    ['EOF', -1n],
    ['SEEK_SET', 0n],
    ['SEEK_CUR', 1n],
    ['SEEK_END', 2n],
    ['STDIN_FILENO', 0n],
    ['STDOUT_FILENO', 1n],
    ['STDERR_FILENO', 2n],
    ['EXIT_SUCCESS', 0n],
    ['EXIT_FAILURE', 1n],
    ['INT_MAX', 2147483647n],
    ['INT_MIN', -2147483648n],
    ['UINT_MAX', 4294967295n],
    ['LONG_MAX', (1n << 63n) - 1n],
    ['LONG_MIN', -(1n << 63n)],
    ['ULONG_MAX', (1n << 64n) - 1n],
    ['BUFSIZ', 8192n],
    ['PATH_MAX', 4096n],
    ['true', 1n],
    ['CLOCK_REALTIME', 0n],
    ['CLOCK_MONOTONIC', 1n],
    ['CLOCK_MONOTONIC_RAW', 4n],
    ['CLOCK_BOOTTIME', 7n],
    ['_SC_PAGESIZE', 30n],
    ['_SC_PAGE_SIZE', 30n],
    ['F_OK', 0n],
    ['X_OK', 1n],
    ['W_OK', 2n],
    ['R_OK', 4n],
    ['false', 0n],
  ]);
  return m;
}

export const COMMON: ReadonlyMap<string, bigint> = buildCommon();

/** The structs of the C library scripts use (x86-64 glibc): the clocks' (clock_gettime, gettimeofday). */
export const LIBC_STRUCTS: ReadonlyMap<string, StructLayout> = new Map([
  ['timespec', structLayout('struct timespec', 'glibc', 16, [u64('tv_sec', 0), u64('tv_nsec', 8)])],
  ['timeval', structLayout('struct timeval', 'glibc', 16, [u64('tv_sec', 0), u64('tv_usec', 8)])],
]);

export const HEADERS: Readonly<Record<KsmAbi, Header>> = {
  '2008': {
    abi: '2008',
    title: 'the Nov 2008 linux/ksm.h (seed 001)',
    files: ['ksm-2008.h', 'linux/ksm-2008.h'],
    constants: new Map(numbers(h2008)),
    structs: new Map([...structsOf(h2008), ...LIBC_STRUCTS]),
  },
  '2009': {
    abi: '2009',
    title: 'the Mar 2009 linux/ksm.h (seed 002)',
    files: ['ksm-2009.h', 'linux/ksm-2009.h'],
    constants: new Map(numbers(h2009)),
    structs: new Map([...structsOf(h2009), ...LIBC_STRUCTS]),
  },
};

/** The header an `#include` names, or undefined for any other file (`ksm.h`, `stdio.h`: the run's default). */
export function headerOfInclude(file: string): Header | undefined {
  return Object.values(HEADERS).find((h) => h.files.includes(file));
}

/** Every name a script could mean, for "did you mean" hints. */
export function allNames(): string[] {
  return [...new Set([...COMMON.keys(), ...HEADERS['2008'].constants.keys(), ...HEADERS['2009'].constants.keys()])];
}

/** The closest known name within a small edit distance, if any. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const c of candidates) {
    const d = editDistance(name.toUpperCase(), c.toUpperCase(), bestD);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
