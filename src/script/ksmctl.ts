/**
 * The original ksmctl programs, run as processes of a simulated machine,
 * output for output and call for call. Their sources are not in the seeds:
 * they come with the patch series' cover letters on the mailing lists.
 *
 * - 2008: the ksmctl of the November 2008 series (v2, 17 Nov 2008, the
 *   series of seed 001), for its linux/ksm.h: `start npages_to_scan
 *   max_pages_to_merge sleep`, `stop`, `info`.
 * - 2009: the ksmctl of 2009 (kvm-userspace, for the March 2009 header of
 *   seed 002): `start npages_to_scan sleep`, `stop`, `info`.
 *
 * Both match the verb as the C did, `!strncmp(argv[1], "start",
 * strlen(argv[1]))`: any prefix of a verb selects it, so `s` runs start and
 * then stop, and the empty word runs all three. Details of C the programs
 * rely on are kept: `atoi` (no error for junk, 32-bit wrap), `%d` of a
 * `__u32`, an uninitialized `struct ksm_kthread_info` (modelled as zeros:
 * the values on a real stack are unknowable), the stop ioctl whose result
 * the 2009 program never checks, and the 2008 program's `argc < 4` check
 * that lets `start N S` read argv[4], a NULL pointer (the process dies of
 * SIGSEGV and the shell prints "Segmentation fault").
 */
import { encodeStruct } from '../kernel/cstruct.js';
import { KSM_DEVICE_PATH, O_RDWR, O_TRUNC } from '../v1-ioctl/constants.js';
import * as h2008 from '../v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../v1-ioctl/linux-ksm-2009.js';
import { V1_DEFAULT_ABI } from '../eras/registry.js';
import type { KsmAbi } from '../v1-ioctl/device.js';
import type { Runtime, Task } from './runtime.js';

export const KSMCTL_VERBS = ['start', 'stop', 'info'] as const;

/** The verbs `word` selects, as strncmp(word, verb, strlen(word)) == 0 does: every verb it is a prefix of. */
export function matchVerbs(word: string): string[] {
  return KSMCTL_VERBS.filter((v) => v.startsWith(word));
}

/** glibc atoi: (int) strtol(s, NULL, 10), strtol saturating at the 64-bit limits. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(s);
  if (m === null || m[2] === '') return 0;
  let v = BigInt(m[2]);
  if (m[1] === '-') v = -v;
  const LONG_MAX = (1n << 63n) - 1n;
  const LONG_MIN = -(1n << 63n);
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < LONG_MIN) v = LONG_MIN;
  return Number(BigInt.asIntN(32, v));
}

/** printf("%d") of an int (or of a __u32 passed where an int is expected). */
const d = (v: number | bigint): string => String(Number(BigInt.asIntN(32, BigInt(v))));

export interface KsmctlResult {
  /** The exit status a shell sees ($?): 0, 1, or 139 for SIGSEGV. */
  status: number;
  pid: number;
}

/** What both programs print when open("/dev/ksm") fails: on the madvise eras, and with no machine at all. */
export const OPEN_FAILED_MESSAGE = 'could not open /dev/ksm\n';

/** What a shell prints when a child dies of SIGSEGV. */
export const SEGFAULT_MESSAGE = 'Segmentation fault\n';

/**
 * Runs `ksmctl ARGS...` as a new process on the runtime's machine. `version`
 * is the header the binary was built against: by default the loaded
 * driver's, or v1's default on the kernels without /dev/ksm (where either
 * program only says it could not open it).
 */
export function runKsmctl(rt: Runtime, args: string[], version?: KsmAbi): KsmctlResult {
  const v = version ?? rt.sys.era.abi ?? V1_DEFAULT_ABI;
  const t = rt.spawn('ksmctl');
  const argv = ['ksmctl', ...args];
  rt.trace(t.pid, `execve("/usr/bin/ksmctl", [${argv.map((a) => JSON.stringify(a)).join(', ')}], 0x7ffc0 /* envp */) = 0`);
  const status = v === '2008' ? main2008(t, argv) : main2009(t, argv);
  if (status !== null) t.exit(status);
  return { status: t.exitStatus ?? 0, pid: t.pid };
}

/** `fd = open("/dev/ksm", O_RDWR | O_TRUNC, (mode_t)0600)`, or the program's message and exit(1). */
function openDevice(t: Task): number | null {
  const fd = t.open(KSM_DEVICE_PATH, O_RDWR | O_TRUNC, 0o600);
  if (fd === -1) {
    t.write(2, OPEN_FAILED_MESSAGE);
    return null;
  }
  return fd;
}

/** ioctl(fd, req, &info), copying the kernel's bytes back into info. */
function ioctlInfo<T extends Record<string, number | bigint>>(t: Task, fd: number, req: number, layout: typeof h2009.ksm_kthread_info.layout, info: T): number {
  const { r, out } = t.ioctl(fd, req, { kind: 'bytes', bytes: encodeStruct(layout, info), layout });
  if (out !== null) {
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (const f of layout.fields) (info as Record<string, number | bigint>)[f.name] = f.type === 'u32' ? dv.getUint32(f.offset, true) : dv.getBigUint64(f.offset, true);
  }
  return r;
}

/** The 2009 ksmctl's main(); null when the process already ended. */
function main2009(t: Task, argv: string[]): number | null {
  const argc = argv.length;
  let used = 0;
  const info = { sleep: 0, pages_to_scan: 0, flags: 0, pad: 0, reserved_bits: 0n };
  const layout = h2009.ksm_kthread_info.layout;
  if (argc < 2) {
    t.write(2, `usage: ${argv[0]} {start npages sleep | stop | info}\n`);
    return 1;
  }
  const fd = openDevice(t);
  if (fd === null) return 1;
  const verbs = matchVerbs(argv[1]);
  if (verbs.includes('start')) {
    used = 1;
    if (argc < 4) {
      t.write(2, `usage: ${argv[0]} start npages_to_scan sleep\n`);
      return 1;
    }
    info.pages_to_scan = atoi(argv[2]) >>> 0;
    info.sleep = atoi(argv[3]) >>> 0;
    info.flags = h2009.ksm_control_flags_run;
    if (ioctlInfo(t, fd, h2009.KSM_START_STOP_KTHREAD, layout, info) === -1) {
      t.write(2, 'KSM_START_KTHREAD failed\n');
      return 1;
    }
    t.write(1, 'created scanner\n');
  }
  if (verbs.includes('stop')) {
    used = 1;
    info.flags = 0;
    ioctlInfo(t, fd, h2009.KSM_START_STOP_KTHREAD, layout, info);
    t.write(1, 'stopped scanner\n');
  }
  if (verbs.includes('info')) {
    used = 1;
    ioctlInfo(t, fd, h2009.KSM_GET_INFO_KTHREAD, layout, info);
    t.write(1, `flags ${d(info.flags)}, pages_to_scan ${d(info.pages_to_scan)}, sleep_time ${d(info.sleep)}\n`);
  }
  if (!used) t.write(2, `unknown command ${argv[1]}\n`);
  return 0;
}

/** The November 2008 ksmctl's main(); null when the process already ended. */
function main2008(t: Task, argv: string[]): number | null {
  const argc = argv.length;
  let used = 0;
  const info = { sleep: 0, pages_to_scan: 0, max_pages_to_merge: 0, flags: 0 };
  const layout = h2008.ksm_kthread_info.layout;
  if (argc < 2) {
    t.write(2, `usage: ${argv[0]} {start npages sleep | stop | info}\n`);
    return 1;
  }
  const fd = openDevice(t);
  if (fd === null) return 1;
  const verbs = matchVerbs(argv[1]);
  if (verbs.includes('start')) {
    used = 1;
    if (argc < 4) {
      t.write(2, `usage: ${argv[0]} start npages_to_scan max_pages_to_merge sleep\n`);
      return 1;
    }
    if (argc < 5) {
      // atoi(argv[4]) with argv[4] == NULL: a read of address 0.
      t.killedBy('SIGSEGV', 0);
      t.rt.sink.stderr(SEGFAULT_MESSAGE);
      return null;
    }
    info.pages_to_scan = atoi(argv[2]) >>> 0;
    info.max_pages_to_merge = atoi(argv[3]) >>> 0;
    info.sleep = atoi(argv[4]) >>> 0;
    info.flags = h2008.ksm_control_flags_run;
    if (ioctlInfo(t, fd, h2008.KSM_START_STOP_KTHREAD, layout, info) === -1) {
      t.write(2, 'KSM_START_KTHREAD failed\n');
      return 1;
    }
    t.write(1, 'created scanner\n');
  }
  if (verbs.includes('stop')) {
    used = 1;
    info.flags = 0;
    ioctlInfo(t, fd, h2008.KSM_START_STOP_KTHREAD, layout, info);
    t.write(1, 'stopped scanner\n');
  }
  if (verbs.includes('info')) {
    used = 1;
    ioctlInfo(t, fd, h2008.KSM_GET_INFO_KTHREAD, layout, info);
    t.write(1, `flags ${d(info.flags)}, pages_to_scan ${d(info.pages_to_scan)} npages_merge ${d(info.max_pages_to_merge)}, sleep_time ${d(info.sleep)}\n`);
  }
  if (!used) t.write(2, `unknown command ${argv[1]}\n`);
  return 0;
}

