/**
 * Fuzz targets: one per front end and per parser. Each feeds random,
 * mostly hostile input to one entry point and checks the answer against
 * what the era's kernel could say (its errno, or a seed's positive oddity),
 * never an exception; every few inputs, the memory model's and the merger's
 * invariants are recomputed.
 *
 * The targets of a front end are one per era it belongs to, named
 * `KIND-ERA` with the era's registry id (`madvise-v3:6.18`, `sysfs-v2`);
 * `--target` takes the era's other spellings too (`sysfs-v3` is
 * sysfs-v3:2.6.32). `ioctl` alone draws its driver per session (the 2008
 * ABI, the 2009 one, or both at once); `ioctl-v1:2008` keeps to one era.
 *
 * An input belongs to a session (a fresh kernel every SESSION inputs) and is
 * generated from (seed, target, session), so any failure replays with
 * `npm run fuzz -- --seed S --target T --session K`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../engine/constants.js';
import { ERRNO, errnoName } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import { checkMemory } from '../engine/memory/invariants.js';
import type { AnyMerger } from '../engine/merge/merger.js';
import { _IOC } from '../kernel/ioctl.js';
import { FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIOQSIZE, KSM_DEVICE_PATH, O_RDWR } from '../v1-ioctl/constants.js';
import { requestTable } from '../v1-ioctl/device.js';
import { V1Kernel } from '../v1-ioctl/kernel.js';
import * as h2008 from '../v1-ioctl/linux-ksm-2008.js';
import { WorkloadError } from '../workload/errors.js';
import { EraInputError, ERAS, type EraEntry, type EraId, parseEra } from '../eras/registry.js';
import { WorkloadDriver } from '../workload/driver.js';
import { runWorkload } from '../workload/runner.js';
import { parseWorkloadText, totalPages } from '../workload/schema.js';
import { BUILTINS } from '../script/builtins.js';
import { runScript } from '../script/run.js';
import { eraProblems, framePins, mergerProblems } from '../eras/invariants.js';
import { Rng } from './rng.js';
import { cpuMs } from './cpu-time.js';

/** Inputs per session: a fresh kernel after this many. */
export const SESSION = 200;

/** What one input did, for the coverage histogram ("EINVAL", "ok", "+22", ...). */
export type Outcome = string;

export interface FuzzTarget {
  name: string;
  /** The era it fuzzes, when it keeps to one. */
  era?: EraEntry;
  /** The name its sessions' seeds derive from, when not `name` (a target renamed to its era's id keeps its replays). */
  seedName?: string;
  /** What is fuzzed, for the report. */
  what: string;
  /** A new session (a fresh kernel); its run() takes one input at a time. */
  session(rng: Rng): FuzzSession;
  /** The time an input may take before it counts as a hang (default: the runner's). */
  slowMs?: number;
}

export interface FuzzSession {
  /** Generates and feeds one input; returns its outcome; throws FuzzViolation on a wrong answer. */
  run(rng: Rng): Outcome;
  /** Invariant problems of the session's kernel (recomputed). */
  problems(): string[];
  /** The input run() fed last (for a report of a hang or a crash). */
  lastInput?: string;
}

export class FuzzViolation extends Error {
  constructor(readonly input: string, detail: string) {
    super(`${detail}\n  input: ${input}`);
    this.name = 'FuzzViolation';
  }
}

/** The name of a syscall result: "ok" (0), "+N" (positive), or the errno's name. */
function outcome(r: number): Outcome {
  if (!Number.isInteger(r)) return `non-integer ${r}`;
  return r === 0 ? 'ok' : r > 0 ? `+${r > 99 ? 'N' : r}` : errnoName(-r);
}

function expectOneOf(input: string, r: number, allowed: readonly number[], what: string): Outcome {
  const o = outcome(r);
  if (r < 0 && !allowed.includes(-r)) throw new FuzzViolation(input, `${what} returned ${o}, not an errno this call can give (${allowed.map(errnoName).join(', ')})`);
  if (!Number.isInteger(r)) throw new FuzzViolation(input, `${what} returned ${r}`);
  return o;
}

// ---------------------------------------------------------------- hostile numbers and text

/** A number from the edges: 0, ±1, powers of two and their neighbours, page multiples, huge. */
export function edgeNumber(rng: Rng): number {
  switch (rng.int(8)) {
    case 0:
      return rng.pick([0, 1, -1, 4095, 4096, 4097, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 47, 2 ** 53 - 1, -(2 ** 31)]);
    case 1:
      return 2 ** rng.int(64) + rng.range(-2, 2);
    case 2:
      return rng.int(64) * PAGE_SIZE;
    case 3:
      return -rng.int(1 << 20);
    case 4:
      return rng.int(0x100000000) * PAGE_SIZE;
    default:
      return rng.int(1 << 24);
  }
}

/** The text of a sysfs write: digits, signs, blanks, newlines, huge numbers, garbage, NULs, long. */
export function hostileText(rng: Rng): string {
  const digits = (n: number) => Array.from({ length: n }, () => String(rng.int(10))).join('');
  switch (rng.int(12)) {
    case 0:
      return `${rng.int(100)}\n`;
    case 1:
      return `${rng.int(5)}`;
    case 2:
      return `-${rng.int(1000)}\n`;
    case 3:
      return `+${rng.int(1000)}\n`;
    case 4:
      return `${digits(rng.range(10, 40))}\n`;
    case 5:
      return rng.pick([' 1\n', '1 \n', '1\n\n', '\n', '', '\t1', '1\r\n', '0x10\n', '1e3\n', '0001\n', '4294967295\n', '4294967296\n', '18446744073709551615\n', '18446744073709551616\n']);
    case 6:
      return `${rng.int(10)}\0${rng.int(10)}\n`;
    case 7:
      return 'x'.repeat(rng.range(4090, 5000));
    case 8:
      return `${digits(rng.range(4095, 4200))}`;
    case 9:
      return String.fromCharCode(...rng.bytes(rng.range(1, 24)));
    case 10:
      return `${rng.int(3)}${rng.pick(['\n', ' ', 'k', '.', ',', '\0'])}`;
    default:
      return `${rng.u32()}${rng.chance(0.5) ? '\n' : ''}`;
  }
}

// ---------------------------------------------------------------- v1: ioctl on every fd type

const REQUESTS = requestTable();
const GENERIC = [FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE];
const GENERIC_NAMES = new Map([[FIOCLEX, 'FIOCLEX'], [FIONCLEX, 'FIONCLEX'], [FIONBIO, 'FIONBIO'], [FIOASYNC, 'FIOASYNC'], [FIOQSIZE, 'FIOQSIZE']]);
const KNOWN = [...REQUESTS.keys(), ...GENERIC];

/** Every errno a /dev/ksm-era ioctl can return to user space (the seeds' handlers and do_vfs_ioctl). */
const IOCTL_ERRNOS = [ERRNO.EBADF, ERRNO.EINVAL, ERRNO.EFAULT, ERRNO.ENOMEM, ERRNO.EMFILE, ERRNO.EPERM, ERRNO.EAGAIN, ERRNO.ENOTTY];

/**
 * The ioctl target of a v1 era, or (none given) of a driver drawn per
 * session: 2008, 2009, or both ABIs at once. It calls the kernel's ioctl
 * entry itself with any request on any fd, below the era adapter (which
 * speaks for the era's programs, and only as they called).
 */
function ioctlTarget(era?: EraEntry): FuzzTarget {
  return {
    name: era ? `ioctl-${era.id}` : 'ioctl',
    era,
    what: `v1 ioctl(2): random request numbers and struct bytes on the /dev/ksm fd, SMA fds, SCAN fds and bad fds, ${era ? `the ${era.abi} driver` : '2008 / 2009 / both-ABI drivers'}`,
    session(rng) {
      const abi = era?.abi ?? rng.pick(['2008', '2009', 'both'] as const);
      const k = new V1Kernel({ abi, pageHashSize: rng.pick([1, 13, 4099]) });
      const p = k.spawn('fuzz');
      const buf = k.mmap(p, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      const region = k.mmap(p, 0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      for (let i = 0; i < 8; i++) k.memory.writeBytes(p.mm, region + i * PAGE_SIZE, new Uint8Array([i % 3]));
      const dev = k.open(p, KSM_DEVICE_PATH, O_RDWR);
      const kinds = new Map<number, 'device' | 'sma' | 'scan'>([[dev, 'device']]);
      const mkSma = () => {
        const fd = k.ioctl(p, dev, h2008.KSM_CREATE_SHARED_MEMORY_AREA);
        if (fd >= 0) kinds.set(fd, 'sma');
      };
      mkSma();
      if (abi !== '2009') {
        const fd = k.ioctl(p, dev, h2008.KSM_CREATE_SCAN);
        if (fd >= 0) kinds.set(fd, 'scan');
      }
      return {
        lastInput: '',
        run(r) {
          // Keep the fd table small: new fds come from CREATE_* requests.
          for (const e of k.fdTable(p).entries()) if (!kinds.has(e.fd)) kinds.set(e.fd, e.file.path.includes('ksm-scan') ? 'scan' : e.file.path.includes('ksm-sma') ? 'sma' : 'device');
          if (kinds.size > 40) for (const fd of [...kinds.keys()].slice(10)) if (k.close(p, fd) === 0) kinds.delete(fd);
          if (r.chance(0.05)) mkSma();
          const live = [...kinds.keys()];
          // Each kind of fd as often as the others, and now and then a bad one.
          const ofKind = (kd: string) => live.filter((f) => kinds.get(f) === kd);
          const pool = r.chance(0.93) ? ofKind(r.pick(['device', 'sma', 'scan'])) : [];
          const fd = pool.length ? r.pick(pool) : r.pick([-1, 1000, 2 ** 31 - 1, 77]);
          let req: number;
          switch (r.int(4)) {
            case 0:
            case 1:
              req = r.pick(KNOWN);
              if (r.chance(0.2)) req = (req ^ (1 << r.int(32))) >>> 0;
              break;
            case 2:
              req = _IOC(r.int(4), r.chance(0.8) ? 0xab : r.int(256), r.int(0x50), r.int(64));
              break;
            default:
              req = r.u32();
          }
          // The argument: a struct of random bytes in the buffer (sometimes a plausible one), or a bad address.
          let arg: bigint;
          const a = r.int(10);
          if (a < 5) {
            const bytes = r.bytes(32);
            if (r.chance(0.5)) {
              // A plausible struct: small npages / pages_to_scan, an address in the region.
              const dv = new DataView(bytes.buffer);
              dv.setUint32(0, r.chance(0.5) ? r.int(16) : r.u32(), true);
              dv.setUint32(4, r.int(64), true);
              dv.setBigUint64(8, BigInt(region + r.range(-2, 9) * PAGE_SIZE), true);
              if (r.chance(0.5)) dv.setUint32(8, r.int(3), true);
              dv.setUint32(12, r.int(4), true);
            }
            k.memory.writeBytes(p.mm, buf, bytes);
            arg = BigInt(buf + (r.chance(0.1) ? r.int(8) : 0));
          } else if (a === 5) arg = BigInt(buf + 2 * PAGE_SIZE - r.range(1, 23)); // the struct runs off the mapping
          else if (a === 6) arg = 0n;
          else if (a === 7) arg = r.u64();
          else if (a === 8) arg = 0xffff880000000000n + BigInt(r.int(1 << 20));
          else arg = BigInt(region + r.int(8 * PAGE_SIZE));
          const input = `${abi} ioctl(${fd} [${kinds.get(fd) ?? 'bad'}], 0x${req.toString(16)}, 0x${arg.toString(16)})`;
          this.lastInput = input;
          const res = k.ioctl(p, fd, req, arg);
          const o = expectOneOf(input, res, IOCTL_ERRNOS, 'ioctl');
          const kind = kinds.get(fd);
          if (kind === undefined && res !== -ERRNO.EBADF) throw new FuzzViolation(input, `a bad fd gave ${o}, not EBADF`);
          const info = REQUESTS.get(req);
          if (kind !== undefined && !GENERIC.includes(req) && (info === undefined || (abi !== 'both' && info.abi !== 'both' && info.abi !== abi))) {
            // A number this driver does not know: the seeds' default cases.
            const want = kind === 'device' ? -ERRNO.EINVAL : ERRNO.EINVAL;
            if (res !== want) throw new FuzzViolation(input, `an unknown request on a ${kind} fd gave ${o}, not ${outcome(want)}`);
          }
          // Positive results: an fd from KSM_CREATE_*, the API version (1), and the seeds' +EPERM (1) and +EINVAL (22).
          if (res > 0 && res !== 1 && res !== 22 && !info?.name.startsWith('KSM_CREATE')) {
            throw new FuzzViolation(input, `a positive result ${res} from ${info?.name ?? 'an unknown request'}`);
          }
          if (r.chance(0.1)) {
            // A batch of kksmd, and a KSM_SCAN, over whatever got registered.
            k.sleep(r.range(1, 5));
          }
          return `${kind ?? 'bad-fd'} ${info?.name ?? GENERIC_NAMES.get(req) ?? 'unknown'}: ${o}`;
        },
        problems() {
          // One driver or both: the tree merger's pins are the only ones either holds.
          const mergers: AnyMerger[] = [...(k.ksm2008 ? [k.ksm2008] : []), ...(k.ksm2009 ? [k.ksm2009.tree] : [])];
          return [...checkMemory(k.memory, k.ksm2009 ? framePins(k.ksm2009.tree) : new Map()), ...mergers.flatMap(mergerProblems)];
        },
      };
    },
  };
}

// ---------------------------------------------------------------- v2, v3: madvise ranges

/** sys_madvise's errnos in 2.6.29/2.6.32 (madvise_behavior_valid, the walk, madvise_vma, ksm_madvise). */
const MADVISE_ERRNOS = [ERRNO.EINVAL, ERRNO.ENOMEM, ERRNO.EAGAIN, ERRNO.EBADF, ERRNO.EACCES, ERRNO.EIO, ERRNO.EPERM, ERRNO.ESRCH];

/** The eras that register with madvise (v2, v3): one madvise and one sysfs target each. */
const MADVISE_ERAS = ERAS.filter((e) => e.family !== 'v1');

/**
 * The advice values for which an unaligned start must give EINVAL: v2's
 * sys_madvise checks the start for every advice; v3's checks it after
 * madvise_behavior_valid, and 2.6.32 runs MADV_HWPOISON (100) before both.
 */
const ALIGNMENT_CHECKED: Record<'v2' | 'v3', (advice: number) => boolean> = {
  v2: () => true,
  v3: (advice) => [12, 13, 0, 1, 2, 3, 4, 9, 10, 11].includes(advice),
};

/** The seeds of the targets named before era ids (their replays stay valid). */
const OLD_NAMES: Partial<Record<string, string>> = { 'madvise-v3:2.6.32': 'madvise-v3', 'sysfs-v3:2.6.32': 'sysfs-v3' };

function madviseTarget(era: EraEntry): FuzzTarget {
  const name = `madvise-${era.id}`;
  const aligned = ALIGNMENT_CHECKED[era.family as 'v2' | 'v3'];
  return {
    name,
    era,
    seedName: OLD_NAMES[name],
    what: `${era.id} madvise(2): random ranges (unaligned, overflowing, unmapped, partly mapped) and advice values over private, shared and read-only mappings`,
    session(rng) {
      const k = era.boot();
      const procs: Process[] = [k.spawn('a', 0), k.spawn('b', 1000)];
      const maps: Array<{ p: Process; addr: number; len: number }> = [];
      const mapSome = (p: Process) => {
        const len = rng.range(1, 16) * PAGE_SIZE;
        const flags = rng.chance(0.8) ? MAP_PRIVATE : MAP_SHARED;
        const prot = rng.chance(0.8) ? PROT_READ | PROT_WRITE : PROT_READ;
        const addr = k.mmap(p, len / PAGE_SIZE, prot, flags | MAP_ANONYMOUS);
        if (addr < 0) return;
        maps.push({ p, addr, len });
        if (prot & PROT_WRITE) for (let i = 0; i < len; i += PAGE_SIZE) if (rng.chance(0.7)) k.memory.writeBytes(p.mm, addr + i, new Uint8Array([rng.int(3)]));
      };
      for (const p of procs) for (let i = 0; i < 3; i++) mapSome(p);
      return {
        lastInput: '',
        run(r) {
          if (r.chance(0.03)) mapSome(r.pick(procs));
          if (r.chance(0.02) && maps.length) {
            const m = r.pick(maps);
            k.munmap(m.p, m.addr + r.int(m.len / PAGE_SIZE) * PAGE_SIZE, r.range(1, 3));
          }
          const m = maps.length ? r.pick(maps) : { p: procs[0], addr: 0x10000, len: PAGE_SIZE };
          let start: number;
          let len: number;
          switch (r.int(6)) {
            case 0: // exactly a mapping
              start = m.addr;
              len = m.len;
              break;
            case 1: // partly mapped: spills past the end or starts before
              start = m.addr + r.range(-4, 4) * PAGE_SIZE;
              len = m.len + r.range(1, 8) * PAGE_SIZE;
              break;
            case 2: // unaligned
              start = m.addr + r.range(1, 4095);
              len = r.range(1, m.len);
              break;
            case 3: // overflowing or negative lengths
              start = m.addr;
              len = r.pick([-1, -PAGE_SIZE, 2 ** 64 - 1, 2 ** 63, 2 ** 53, -(2 ** 53), 0, 1]);
              break;
            case 4: // unmapped or absurd starts
              start = r.pick([0, 4096, 2 ** 47, 2 ** 47 - PAGE_SIZE, 2 ** 64 - PAGE_SIZE, 2 ** 53, m.addr + 64 * PAGE_SIZE]);
              len = r.range(0, 4) * PAGE_SIZE;
              break;
            default:
              start = edgeNumber(r);
              len = edgeNumber(r);
          }
          const advice = r.chance(0.6) ? r.pick([12, 13, 12, 0, 1, 2, 3, 4, 9, 10, 11, 14, 100]) : r.chance(0.5) ? edgeNumber(r) : r.u32() | 0;
          const p = m.p.exited ? procs[0] : m.p;
          const input = `${era.id} madvise(pid ${p.pid}, 0x${start.toString(16)}, ${len}, ${advice})`;
          this.lastInput = input;
          const res = k.madvise(p, start, len, advice);
          const o = expectOneOf(input, res, MADVISE_ERRNOS, 'madvise');
          if (res > 0) throw new FuzzViolation(input, `madvise returned ${res}`);
          // sys_madvise's first checks, independently of the model.
          if (Number.isSafeInteger(start) && start % PAGE_SIZE !== 0 && res !== -ERRNO.EINVAL && aligned(advice)) {
            throw new FuzzViolation(input, `an unaligned start gave ${o}, not EINVAL`);
          }
          if (r.chance(0.1)) k.scan(r.range(1, 50));
          return `advice ${[12, 13].includes(advice) ? advice : 'other'}: ${o}`;
        },
        problems() {
          return eraProblems(k);
        },
      };
    },
  };
}

// ---------------------------------------------------------------- v2, v3: sysfs writes

/**
 * How one era's /sys/kernel/mm/ksm answers a well-formed write (permission,
 * missing files and empty writes are checked alike for all): the outcome,
 * or a FuzzViolation. Each is written from the seed's or the kernel's rules,
 * independently of the model.
 */
interface SysfsOracle {
  /** Every errno a write can return. */
  errnos: number[];
  /** The parse of an unsigned knob (the mainline kernels: their run=2 unmerges, and is followed by run=0 to keep ksmd cheap). */
  parse?: (s: string) => bigint | null;
  /** The answer `res` to the store seeing `buf` (`count` bytes written), with the file's text before and after. */
  judge(input: string, name: string, buf: string, count: number, res: number, before: string | number, after: string | number): Outcome;
}

const U64 = (1n << 64n) - 1n;
const UINT_MAX = 0xffffffffn;

/** What strict_strtoul (2.6.29-2.6.32) accepts: digits, at most one trailing newline; the value wraps at 2^64. */
function strictOracle(s: string): bigint | null {
  const m = /^([0-9]+)\n?$/.exec(s);
  return m ? BigInt(m[1]) & U64 : null;
}

/** What kstrtoul / kstrtouint (2.6.39 and later) accept: an optional '+', digits, at most one trailing newline; null past 2^64 - 1. */
function kstrtoOracle(s: string): bigint | null {
  const m = /^\+?([0-9]+)\n?$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[1]);
  return v > U64 ? null : v;
}

const SYSFS_ERRNOS = [ERRNO.EINVAL, ERRNO.EACCES, ERRNO.ENOENT, ERRNO.EIO, ERRNO.ENOMEM, ERRNO.ERESTARTSYS];

/** 000: a failed parse returns 0 and changes nothing; otherwise the value as an int. */
const V2_ORACLE: SysfsOracle = {
  errnos: SYSFS_ERRNOS,
  judge(input, name, buf, count, res, before, after) {
    const o = outcome(res);
    const v = strictOracle(buf);
    if (v === null) {
      if (res !== 0 || after !== before) throw new FuzzViolation(input, `v2: a malformed write gave ${o} (want 0) and read back ${JSON.stringify(after)}`);
      return `${name}: 0 (refused)`;
    }
    if (res !== count) throw new FuzzViolation(input, `v2: a valid write gave ${o}, not ${count}`);
    const int = Number(BigInt.asIntN(32, v));
    const want = name === 'sleep' ? String(int >>> 0) : BigInt.asUintN(64, BigInt(int)).toString();
    if (after !== `${want}\n`) throw new FuzzViolation(input, `v2: read back ${JSON.stringify(after)}, want ${want}`);
    return `${name}: count`;
  },
};

/**
 * A mainline kernel whose unsigned knobs (`limits`: each knob's largest
 * value) parse with `parse`: -EINVAL for a parse error or a value past the
 * limit, and no change; otherwise the count, and the value reads back. Its
 * other files are held to the general rules: the count, or an errno of
 * `errnos` and no change.
 */
function mainlineOracle(kernel: string, parse: (s: string) => bigint | null, limits: Record<string, bigint>, errnos: number[]): SysfsOracle {
  return {
    errnos,
    parse,
    judge(input, name, buf, count, res, before, after) {
      const o = outcome(res);
      const limit = limits[name];
      if (limit === undefined) {
        if (res < 0) {
          if (after !== before) throw new FuzzViolation(input, `${kernel}: a refused write (${o}) changed the file to ${JSON.stringify(after)}`);
          return `${name}: ${o}`;
        }
        if (res !== count) throw new FuzzViolation(input, `${kernel}: a write gave ${o}, neither the count ${count} nor an errno`);
        return `${name}: count`;
      }
      const v = parse(buf);
      if (v === null || v > limit) {
        if (res !== -ERRNO.EINVAL || after !== before) throw new FuzzViolation(input, `${kernel}: gave ${o} and read back ${JSON.stringify(after)}; want EINVAL and no change`);
        return `${name}: EINVAL`;
      }
      if (res !== count) throw new FuzzViolation(input, `${kernel}: a valid write gave ${o}, not ${count}`);
      if (after !== `${v}\n`) throw new FuzzViolation(input, `${kernel}: read back ${JSON.stringify(after)}, want ${v}`);
      return `${name}: count`;
    },
  };
}

/** Each era's rules. 003: strict_strtoul, -EINVAL past UINT_MAX (max_kernel_pages: an unsigned long) and for run > 2. */
const SYSFS_ORACLES: Partial<Record<EraId, SysfsOracle>> = {
  v2: V2_ORACLE,
  'v3:2.6.32': mainlineOracle('v3', strictOracle, { sleep_millisecs: UINT_MAX, pages_to_scan: UINT_MAX, run: 2n, max_kernel_pages: U64 }, SYSFS_ERRNOS),
  // 004: kstrtoul, then "> UINT_MAX" is -EINVAL; merge_across_nodes returns kstrtoul's own error (-ERANGE) or -EBUSY.
  'v3:3.9': mainlineOracle('3.9', kstrtoOracle, { sleep_millisecs: UINT_MAX, pages_to_scan: UINT_MAX, run: 2n }, [...SYSFS_ERRNOS, ERRNO.ERANGE, ERRNO.EBUSY]),
  // 6.18: kstrtouint with its errors turned into -EINVAL; max_page_sharing's kstrtoint errors pass through (-ERANGE), -EBUSY while
  // pages are shared. pages_to_scan is refused while the advisor runs: the general rules only.
  'v3:6.18': mainlineOracle(
    '6.18',
    kstrtoOracle,
    { sleep_millisecs: UINT_MAX, run: 2n, stable_node_chains_prune_millisecs: UINT_MAX },
    [...SYSFS_ERRNOS, ERRNO.ERANGE, ERRNO.EBUSY],
  ),
};

function sysfsTarget(era: EraEntry): FuzzTarget {
  const name = `sysfs-${era.id}`;
  const oracle = SYSFS_ORACLES[era.id]!;
  return {
    name,
    era,
    seedName: OLD_NAMES[name],
    what: `${era.id} /sys/kernel/mm/ksm writes: huge numbers, negatives, signs, whitespace, newlines, garbage, NULs, > PAGE_SIZE, by root and by a user; each answer checked against the era's parse rules and read back`,
    session() {
      const k = era.boot();
      const dir = k.sysfs!;
      const user = k.spawn('user', 1000);
      const root = k.spawn('root', 0);
      const names = dir.names();
      const bogus = ['nonexistent', '../run', '', 'run/'];
      return {
        lastInput: '',
        run(r) {
          const name = r.chance(0.9) ? r.pick(names) : r.pick(bogus);
          const text = hostileText(r);
          const who = r.chance(0.15) ? user : root;
          const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}... (${text.length} bytes)` : JSON.stringify(text);
          const input = `${era.id} uid ${who.uid} write(${name}, ${shown})`;
          this.lastInput = input;
          const before = k.readSysfs(name, root);
          const res = k.writeSysfs(name, text, who);
          const o = expectOneOf(input, res, oracle.errnos, 'write');
          const mode = dir.mode(name);
          if (mode === undefined) {
            if (res !== -ERRNO.ENOENT) throw new FuzzViolation(input, `a missing file gave ${o}`);
            return 'ENOENT';
          }
          if (who.uid !== 0 || !(mode & 0o200)) {
            if (res !== -ERRNO.EACCES) throw new FuzzViolation(input, `a write without permission gave ${o}, not EACCES`);
            if (k.readSysfs(name, root) !== before) throw new FuzzViolation(input, 'a refused write changed the file');
            return `${name}: EACCES`;
          }
          if (text.length === 0) {
            if (res !== 0) throw new FuzzViolation(input, `an empty write gave ${o}`);
            return 'empty';
          }
          // What the store sees: at most PAGE_SIZE - 1 bytes, up to the first NUL.
          let buf = text.length >= PAGE_SIZE ? text.slice(0, PAGE_SIZE - 1) : text;
          const nul = buf.indexOf('\0');
          if (nul >= 0) buf = buf.slice(0, nul);
          const count = Math.min(text.length, PAGE_SIZE - 1);
          const result = oracle.judge(input, name, buf, count, res, before, k.readSysfs(name, root));
          // Keep ksmd cheap for the next inputs.
          if (name === 'run' && res === count && oracle.parse?.(buf) === 2n) k.writeSysfs('run', '0\n', root);
          return result;
        },
        problems() {
          return eraProblems(k);
        },
      };
    },
  };
}

// ---------------------------------------------------------------- workload JSON

const CONTENT_FORMS = (r: Rng): unknown =>
  r.pick<() => unknown>([
    () => 'zero',
    () => ({ fill: r.chance(0.8) ? r.int(256) : edgeNumber(r) }),
    () => ({ seed: r.chance(0.8) ? r.int(10) : edgeNumber(r) }),
    () => ({ tail: r.chance(0.8) ? r.int(10) : r.u64().toString() }),
    () => ({ seedFrom: r.int(100) }),
    () => ({ tailFrom: r.int(100) }),
    () => ({ cycle: [{ seed: 1 }, 'zero'] }),
    () => ({ cycle: [] }),
  ])();

const BAD_CONTENT = (r: Rng): unknown => r.pick([null, 7, 'one', [], {}, { seed: -1 }, { fill: 256 }, { seed: 1, fill: 2 }]);
const CONTENT = (r: Rng): unknown => (r.chance(0.97) ? CONTENT_FORMS(r) : BAD_CONTENT(r));

/** A random workload document: mostly well formed, with one or two things wrong. */
function randomWorkload(r: Rng): unknown {
  const procs: Record<string, unknown> = {};
  const names = ['a', 'b', 'c'].slice(0, r.range(1, 3));
  for (const n of names) {
    procs[n] = Array.from({ length: r.range(1, 2) }, () =>
      r.chance(0.8) ? { pages: r.chance(0.97) ? r.range(1, 12) : edgeNumber(r), content: CONTENT(r) } : { runs: [{ pages: r.range(1, 4), content: CONTENT(r) }, { pages: r.range(0, 3), content: CONTENT(r) }] },
    );
  }
  const proc = () => (r.chance(0.97) ? r.pick(names) : r.pick(['zz', '', 7, null]));
  const steps = Array.from({ length: r.range(0, 10) }, () =>
    r.pick<() => unknown>([
      () => ({ register: proc() }),
      () => ({ register: proc(), region: r.chance(0.95) ? r.int(2) : edgeNumber(r) }),
      () => ({ unregister: proc() }),
      () => ({ scan: r.chance(0.95) ? r.range(0, 50) : edgeNumber(r) }),
      () => ({ fullScans: r.chance(0.95) ? r.range(0, 3) : edgeNumber(r) }),
      () => ({ write: { proc: proc(), region: r.int(2), page: r.chance(0.95) ? r.int(4) : edgeNumber(r), content: CONTENT(r) } }),
      () => ({ exit: proc() }),
      () => ({ snapshot: r.chance(0.95) ? `s${r.int(9)}` : r.pick([7, null, '']) }),
      () => (r.chance(0.3) ? r.pick([{}, { bogus: 1 }, { scan: 1, exit: 'a' }, [], 'scan']) : { scan: 1 }),
    ])(),
  );
  const doc: Record<string, unknown> = { name: r.chance(0.97) ? 'fuzz' : r.pick([7, '', null]), processes: procs, steps };
  if (r.chance(0.3)) doc.pagesToScan = r.chance(0.9) ? r.range(1, 50) : edgeNumber(r);
  if (r.chance(0.2)) doc.hashTables = { pageHash: r.chance(0.9) ? r.range(1, 100) : edgeNumber(r) };
  if (r.chance(0.05)) doc[r.pick(['extra', 'description', 'steps'])] = r.pick([1, 'x', null, []]);
  return doc;
}

/** Bytes of a document mangled: cut short, a character changed, garbage. */
function mangle(r: Rng, text: string): string {
  switch (r.int(5)) {
    case 0:
      return text.slice(0, r.int(text.length + 1));
    case 1: {
      const i = r.int(text.length + 1);
      return text.slice(0, i) + r.pick(['{', '}', ',', '"', ':', '\\', '\u0000', '\ufeff', ']', '1e999', '-']) + text.slice(i);
    }
    case 2:
      return String.fromCharCode(...r.bytes(r.range(0, 64)));
    case 3:
      return '['.repeat(r.range(100, 3000));
    default:
      return text.replace(/[0-9]+/, String(edgeNumber(r)));
  }
}

export const workloadJsonTarget: FuzzTarget = {
  name: 'workload-json',
  what: 'workload files: random documents (mostly well formed, one thing wrong) and mangled text; parsed, and when small enough run under every era',
  session() {
    let runs = 0;
    return {
      lastInput: '',
      run(r) {
        let text = JSON.stringify(randomWorkload(r), null, r.chance(0.5) ? 2 : 0);
        if (r.chance(0.3)) text = mangle(r, text);
        const input = text.length > 2000 ? `${text.slice(0, 2000)}... (${text.length} chars)` : text;
        this.lastInput = input;
        let w;
        try {
          w = parseWorkloadText(text, 'fuzz.json');
        } catch (e) {
          if (e instanceof WorkloadError) {
            if (e.message.includes('\n')) throw new FuzzViolation(input, `a multi-line error message: ${e.message}`);
            return `rejected: ${e.kind}`;
          }
          throw new FuzzViolation(input, `the parser threw ${(e as Error).name}: ${(e as Error).message}`);
        }
        // Run only what is quick: a batch far larger than the memory completes a pass per page
        // of it, and the schema records a snapshot per pass (see test/fuzz/found.test.ts).
        if (totalPages(w) > 256 || w.pagesToScan > 2000 || w.steps.some((s) => s.kind === 'fullScans' && s.count > 3) || w.steps.some((s) => s.kind === 'scan' && s.pages > 5000)) {
          return 'accepted (too big to run)';
        }
        for (const era of ERAS) {
          try {
            runWorkload(w, new WorkloadDriver(era));
            runs++;
          } catch (e) {
            if (e instanceof WorkloadError) continue;
            throw new FuzzViolation(input, `${era.id}: the run threw ${(e as Error).name}: ${(e as Error).message}`);
          }
        }
        return 'accepted and run';
      },
      problems() {
        return runs < 0 ? ['impossible'] : [];
      },
    };
  },
};

// ---------------------------------------------------------------- script text

/** The example scripts, found from this file upwards (src/fuzz in the sources, dist/src/fuzz when built). */
export function exampleScripts(): Array<{ name: string; text: string }> {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 5 && !existsSync(join(dir, 'examples', 'scripts')); i++) dir = join(dir, '..');
  const out: Array<{ name: string; text: string }> = [];
  for (const sub of ['scripts', 'permissions']) {
    const d = join(dir, 'examples', sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).filter((x) => x.endsWith('.ksm')).sort()) out.push({ name: f, text: readFileSync(join(d, f), 'utf8') });
  }
  return out;
}

const TOKEN = /\s+|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|0x[0-9a-fA-F]+|[0-9]+[A-Za-z]*|==|!=|<=|>=|&&|\|\||<<|>>|->|\+\+|--|[+\-*\/%=<>!&|^~?:;,.(){}\[\]#]|./g;

const VOCAB = [
  ...Object.keys(BUILTINS), 'int', 'char', 'unsigned', 'long', 'struct', 'if', 'else', 'for', 'while', 'return', 'break', 'continue', 'sizeof', 'expect', 'echo', 'cat', 'print', 'ksmctl',
  '#define', '#include', '#pragma', 'era', 'abi', 'v1', 'v2', 'v3', '2008', '2009', 'NULL', 'PAGE_SIZE', 'MADV_MERGEABLE', 'MADV_UNMERGEABLE', 'MADV_SHAREABLE', 'O_RDWR', 'KSM_CREATE_SHARED_MEMORY_AREA',
  'KSM_REGISTER_MEMORY_REGION', 'KSM_START_STOP_KTHREAD', 'KSM_GET_INFO_KTHREAD', 'KSM_SCAN', 'errno', 'EINVAL', '"/dev/ksm"', '"/sys/kernel/mm/ksm/run"', 'x"00ff"', '{fill: 1}', '"zero"',
  '(', ')', '{', '}', '[', ']', ';', ',', '=', '==', '&', '*', '->', '.', '+', '-', '<<', '!', '?', ':', '\n', '"', '/*', '*/',
];

const TIME_CALLS = new Set(['sleep', 'usleep', 'wait_full_scans']);

/** 1-4 token-level mutations of a script: delete, duplicate, swap, replace (numbers by small or edge values). */
export function mutateScript(r: Rng, text: string): string {
  const toks = text.match(TOKEN) ?? [];
  const n = r.range(1, 4);
  for (let k = 0; k < n && toks.length; k++) {
    const i = r.int(toks.length);
    switch (r.int(5)) {
      case 0:
        toks.splice(i, 1);
        break;
      case 1:
        // Apart, so that a number is not glued to its copy (512 -> 512512: a 2 GiB guest, work not a bug).
        toks.splice(i, 0, toks[i], ' ');
        break;
      case 2: {
        const j = r.int(toks.length);
        [toks[i], toks[j]] = [toks[j], toks[i]];
        break;
      }
      case 3:
        toks[i] = r.pick(VOCAB);
        break;
      default: {
        // A number: the argument of a call that lets virtual time pass stays small.
        const nums = toks.map((t, x) => (/^[0-9]/.test(t) ? x : -1)).filter((x) => x >= 0);
        if (!nums.length) break;
        const x = r.pick(nums);
        const before = toks.slice(Math.max(0, x - 4), x).join('');
        const timed = [...TIME_CALLS].some((c) => before.includes(`${c}(`));
        toks[x] = timed ? String(r.int(3)) : r.chance(0.5) ? String(r.int(65)) : r.pick(['0', '1', '4095', '4096', '0x7fffffff', '0xffffffff', '4294967296', '18446744073709551615', '99999999999999999999999']);
      }
    }
  }
  return toks.join('');
}

/**
 * The bounds of one script input. A mutation can turn `16*1024*1024` into a
 * guest of gigabytes or a loop over it: without them one input once mapped
 * ~10 GiB of simulated memory and ran for minutes. Mapped pages and page
 * contents are bounded as the host bounds a request (mmap, memalign and fork
 * beyond them fail with ENOMEM, as a kernel out of memory would answer; the
 * contents limit is a run-time error), so an input's memory stays within
 * tens of MiB; the time limit is the backstop for work the counts do not see
 * (a run-time error "taken more than 5 s of CPU time", counted as an outcome;
 * CPU, so that a loaded machine does not change what an input does).
 */
export const SCRIPT_LIMITS = {
  run: { maxSteps: 20_000, maxVirtualMicros: 3_600_000_000, maxBatches: 2_000_000, maxOutputBytes: 1 << 20, maxMappedPages: 1 << 16, maxContentBytes: 32 << 20 },
  ms: 5_000,
} as const;

export const scriptTarget: FuzzTarget = {
  name: 'script',
  // wait_full_scans gives up after 2,000,000 ksmd batches with a clear error (pages_to_scan 0, say): seconds of work.
  slowMs: 30_000,
  what: 'ksmctl run: the example scripts mutated token by token, token soup and random bytes; a run ends with the program\'s status (exit(), main\'s return), 1 (an expect) or 2 (file:line:col and a caret), never an exception',
  session() {
    const examples = exampleScripts();
    if (!examples.length) throw new Error('no example scripts found');
    return {
      lastInput: '',
      run(r) {
        let text: string;
        const kind = r.int(20);
        if (kind < 17) text = mutateScript(r, r.pick(examples).text);
        else if (kind < 19) text = Array.from({ length: r.range(3, 60) }, () => r.pick(VOCAB)).join(r.pick([' ', '', '\n']));
        else text = String.fromCharCode(...r.bytes(r.range(0, 200)));
        this.lastInput = text.length > 4000 ? `${text.slice(0, 4000)}... (${text.length} chars)` : text;
        let res;
        try {
          const deadline = cpuMs() + SCRIPT_LIMITS.ms;
          res = runScript('fuzz.ksm', text, {
            sink: { trace: () => {}, stdout: () => {}, stderr: () => {} },
            ...SCRIPT_LIMITS.run,
            overTime: () => (cpuMs() > deadline ? `this run has taken more than ${SCRIPT_LIMITS.ms / 1000} s of CPU time (the fuzzer's limit of an input)` : null),
          });
        } catch (e) {
          throw new FuzzViolation(this.lastInput, `runScript threw ${(e as Error).stack ?? e}`);
        }
        // Status 2 with no error is the program's own (exit(2), main returning 2).
        if (res.status === 2 && res.error !== undefined) {
          if (!res.error?.startsWith('fuzz.ksm:')) throw new FuzzViolation(this.lastInput, `an error without its place: ${res.error}`);
          const m = /^fuzz\.ksm:\d+:\d+: ([a-z_#]+(?: [a-z]+)?)/i.exec(res.error);
          return `status 2: ${m ? m[1] : 'error'}`;
        }
        if (!Number.isInteger(res.status) || res.status < 0 || res.status > 255) throw new FuzzViolation(this.lastInput, `exit status ${res.status}`);
        return `status ${res.status}`;
      },
      problems() {
        return [];
      },
    };
  },
};

/** What `npm run fuzz` runs: every front end in every era it belongs to, and the parsers. */
export const TARGETS: FuzzTarget[] = [
  ioctlTarget(),
  ...MADVISE_ERAS.map(madviseTarget),
  ...MADVISE_ERAS.map(sysfsTarget),
  workloadJsonTarget,
  scriptTarget,
];

/** The targets of one era each, beyond TARGETS: the ioctl front end kept to one v1 era. */
const ERA_TARGETS: FuzzTarget[] = ERAS.filter((e) => e.family === 'v1').map(ioctlTarget);

/** The targets that fuzz the era's own front ends (its ioctl, or its madvise and sysfs). */
export function targetsOf(era: EraEntry): FuzzTarget[] {
  return [...TARGETS, ...ERA_TARGETS].filter((t) => t.era === era);
}

/** A target by name: `KIND-ERA` takes any spelling of the era (`sysfs-v3`, `madvise-v3-6.18`). */
export function findTarget(name: string): FuzzTarget | undefined {
  const all = [...TARGETS, ...ERA_TARGETS];
  const exact = all.find((t) => t.name === name);
  if (exact !== undefined) return exact;
  const dash = name.indexOf('-');
  if (dash < 0) return undefined;
  let era: EraEntry;
  try {
    era = parseEra(name.slice(dash + 1));
  } catch (e) {
    if (e instanceof EraInputError) return undefined;
    throw e;
  }
  return all.find((t) => t.era === era && t.name === `${name.slice(0, dash)}-${era.id}`);
}
