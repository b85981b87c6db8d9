/**
 * The mainline KSM kernel as a user program sees it, in one of the kernel
 * versions of the MADV_MERGEABLE era (kernels.ts): 2.6.32 (the default),
 * 3.9 or 6.18. Processes with mmap/munmap/madvise/mbind/fork/exit (and
 * prctl on 6.18), the /sys/kernel/mm/ksm files of that version, /proc files,
 * and ksmd running on the virtual clock. Calls return what the syscall
 * returns (0, a count, or -errno); the libc-style Task wrapper sets errno
 * instead.
 *
 *   const k = new V3Kernel({ kernel: '6.18', numaNodes: 2 });
 */
import { Ksmd } from '../engine/clock.js';
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import { Machine, type Process, type SpawnCred } from '../engine/machine.js';
import { ROOT } from '../kernel/cred.js';
import { Mainline2632 } from '../engine/merge/mainline-2632.js';
import { KSM_RUN_OFFLINE, Mainline39 } from '../engine/merge/mainline-39.js';
import { Mainline618 } from '../engine/merge/mainline-618.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import { MEM_CANCEL_OFFLINE, MEM_GOING_OFFLINE, MEM_OFFLINE, type MemoryAction, PR_GET_MEMORY_MERGE, PR_SET_MEMORY_MERGE } from './constants.js';
import { DEFAULT_KERNEL, DEFAULTS_39, DEFAULTS_618, isKernelVersion, KERNEL_TITLES, type KernelVersion } from './kernels.js';
import { madvise2632 } from './madvise.js';
import { madvise3x } from './madvise-3x.js';
import { OfflineGate } from './offline.js';
import { ksmSysfs2632 } from './sysfs.js';
import { ksmSysfs39 } from './sysfs-39.js';
import { ksmSysfs618 } from './sysfs-618.js';

export type { KernelVersion } from './kernels.js';

/** The merger of a kernel version. */
export type MergerOf<K extends KernelVersion> = K extends '6.18' ? Mainline618 : K extends '3.9' ? Mainline39 : Mainline2632;
export type AnyMerger = Mainline2632 | Mainline39 | Mainline618;

/** How a V3Kernel boots: the kernel version, the NUMA nodes, RAM. */
export interface V3KernelOptions<K extends KernelVersion> {
  /** The kernel version (default 2.6.32). */
  kernel?: K;
  /** NUMA nodes of the simulated machine (nr_node_ids, default 1); mbind places regions on them. */
  numaNodes?: number;
}

/** MPOL_BIND of linux/mempolicy.h: the only policy mbind() models. */
export const MPOL_BIND = 2;

/** The mainline kernel of KSM: `madvise(MADV_MERGEABLE / MADV_UNMERGEABLE)`, the files of /sys/kernel/mm/ksm, ksmd on a virtual clock; Linux 2.6.32 (seed 003) by default, 3.9 (seed 004) or 6.18 (`prctl(PR_SET_MEMORY_MERGE)`, /proc/PID/ksm_stat) by `kernel`. Calls return what the syscall returns: a value >= 0, or -errno. */
export class V3Kernel<K extends KernelVersion = '2.6.32'> {
  readonly machine = new Machine();
  readonly kernel: K;
  readonly ksm: MergerOf<K>;
  readonly ksmd: Ksmd;
  readonly sysfs: SysfsDir;
  /** nr_node_ids */
  readonly numaNodes: number;
  private readonly gate: OfflineGate;

  constructor(opts: V3KernelOptions<K> = {}) {
    const kernel = (opts.kernel ?? DEFAULT_KERNEL) as K;
    if (!isKernelVersion(kernel)) throw new RangeError(`unknown kernel version ${String(kernel)}`);
    this.kernel = kernel;
    this.numaNodes = opts.numaNodes ?? 1;
    if (!Number.isInteger(this.numaNodes) || this.numaNodes < 1 || this.numaNodes > 1024) throw new RangeError(`numaNodes must be 1..1024`);
    const memory = this.machine.memory;
    let ksm: AnyMerger;
    if (kernel === '6.18') ksm = new Mainline618(memory, this.machine.clock, { ...DEFAULTS_618 }, this.numaNodes);
    else if (kernel === '3.9') ksm = new Mainline39(memory, { ...DEFAULTS_39 }, this.numaNodes, this.machine.clock);
    else ksm = new Mainline2632(memory);
    this.ksm = ksm as MergerOf<K>;
    const sleepMicros = ksm.algorithm === 'mainline-2632' ? () => ksm.sleepMillisecs * 1000 : () => ksm.sleepMicros();
    this.ksmd = new Ksmd(this.machine.clock, {
      shouldRun: () => ksm.ksmdShouldRun() && !(ksm.run & KSM_RUN_OFFLINE),
      batch: () => ksm.ksmdBatch(),
      sleepMicros,
      // 2.6.32's batches take no virtual time of their own (3.9 and 6.18 run the clock per page): a sleep of 0 costs their pages.
      pagesScanned: ksm.algorithm === 'mainline-2632' ? () => ksm.stats.pagesScanned : undefined,
    });
    this.gate = new OfflineGate(() => (ksm.run & KSM_RUN_OFFLINE) !== 0);
    switch (ksm.algorithm) {
      case 'mainline-618':
        this.sysfs = ksmSysfs618(ksm, this.ksmd, this.gate);
        break;
      case 'mainline-39':
        this.sysfs = ksmSysfs39(ksm, this.ksmd, this.gate);
        break;
      case 'mainline-2632':
        this.sysfs = ksmSysfs2632(ksm, this.ksmd);
        break;
    }
  }

  /** What this kernel is, for titles (`Linux 6.18`). */
  get title(): string {
    return KERNEL_TITLES[this.kernel];
  }

  private get merger(): AnyMerger {
    return this.ksm as AnyMerger;
  }

  get memory() {
    return this.machine.memory;
  }

  /** A new process (as after exec) of user `uid`; `cred` sets its group, groups and capabilities. */
  spawn(name: string, uid = 0, cred?: SpawnCred): Process {
    return this.machine.spawn(name, uid, cred);
  }

  fork(p: Process): Process | number {
    return this.machine.fork(p);
  }

  exit(p: Process): void {
    this.machine.exit(p);
  }

  /** mmap(2); on 6.18 a new VMA of a process with prctl(PR_SET_MEMORY_MERGE) is mergeable at once (ksm_add_vma). */
  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number {
    const r = this.machine.mmap(p, addr, length, prot, flags);
    const ksm = this.merger;
    if (r >= 0 && ksm.algorithm === 'mainline-618') {
      const vma = p.mm.vmaAt(r);
      if (vma !== null) ksm.ksmAddVma(vma);
    }
    return r;
  }

  munmap(p: Process, addr: number, length: number): number {
    return this.machine.munmap(p, addr, length);
  }

  /** madvise(2) of this kernel version: 0 or -errno. A newly registered mm wakes ksmd. */
  madvise(p: Process, addr: number, length: number, advice: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    const ksm = this.merger;
    const r = ksm.algorithm === 'mainline-2632'
      ? madvise2632(this.memory, ksm, p.mm, addr, length, advice)
      : madvise3x(this.memory, ksm, ksm.algorithm === 'mainline-618' ? '6.18' : '3.9', p.mm, addr, length, advice);
    this.ksmd.wake();
    return r;
  }

  /**
   * mbind(addr, len, MPOL_BIND, {node}, ..., 0): pages of the range that are
   * faulted in from now on are allocated on `node` (pages already there
   * stay where they are). 0, -EINVAL (bad node or address) or -EFAULT (a hole).
   */
  mbind(p: Process, addr: number, length: number, node: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    if (addr % PAGE_SIZE !== 0 || length < 0 || !Number.isInteger(node) || node < 0 || node >= this.numaNodes) return -ERRNO.EINVAL;
    const end = addr + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (end === addr) return 0;
    const mm = p.mm;
    for (let a = addr; a < end; ) {
      const v = mm.vmaAt(a);
      if (v === null) return -ERRNO.EFAULT;
      a = v.end;
    }
    this.memory.splitAt(mm, addr);
    this.memory.splitAt(mm, end);
    for (const v of mm.vmas) if (v.start >= addr && v.end <= end) v.node = node;
    return 0;
  }

  /**
   * prctl(2), the options KSM adds in 6.4 and later: PR_SET_MEMORY_MERGE
   * (arg2 non-zero: every compatible VMA of the process, present and future,
   * is mergeable; 0: unmerge and stop) and PR_GET_MEMORY_MERGE. Other
   * options, and these on older kernels, are -EINVAL here.
   */
  prctl(p: Process, option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
    if (p.exited) return -ERRNO.ESRCH;
    const ksm = this.merger;
    if (ksm.algorithm !== 'mainline-618') return -ERRNO.EINVAL;
    switch (option) {
      case PR_SET_MEMORY_MERGE: {
        if (arg3 || arg4 || arg5) return -ERRNO.EINVAL;
        const r = arg2 ? ksm.ksmEnableMergeAny(p.mm) : ksm.ksmDisableMergeAny(p.mm);
        this.ksmd.wake();
        return r;
      }
      case PR_GET_MEMORY_MERGE:
        if (arg2 || arg3 || arg4 || arg5) return -ERRNO.EINVAL;
        return ksm.ksmStat(p.mm).ksmMergeAny ? 1 : 0;
    }
    return -ERRNO.EINVAL;
  }

  /**
   * Reads /proc/<pid>/NAME: `ksm_stat` or `ksm_merging_pages` (6.18; the
   * files do not exist in 2.6.32 and 3.9). The text, or -ENOENT.
   */
  readProc(p: Process | number, name: string): string | number {
    const proc = typeof p === 'number' ? this.machine.processes.get(p) : p;
    const ksm = this.merger;
    if (proc === undefined || proc.exited || ksm.algorithm !== 'mainline-618') return -ERRNO.ENOENT;
    const s = ksm.ksmStat(proc.mm);
    switch (name) {
      case 'ksm_merging_pages':
        return `${s.ksmMergingPages}\n`;
      case 'ksm_stat':
        return [
          `ksm_rmap_items ${s.ksmRmapItems}`,
          `ksm_zero_pages ${s.ksmZeroPages}`,
          `ksm_merging_pages ${s.ksmMergingPages}`,
          `ksm_process_profit ${s.ksmProcessProfit}`,
          `ksm_merge_any: ${s.ksmMergeAny ? 'yes' : 'no'}`,
          `ksm_mergeable: ${s.ksmMergeable ? 'yes' : 'no'}`,
          '',
        ].join('\n');
    }
    return -ERRNO.ENOENT;
  }

  /**
   * The memory hot-remove notifier as KSM sees it (ksm_memory_callback, 3.9
   * and later): MEM_GOING_OFFLINE sets KSM_RUN_OFFLINE (run reads back with
   * 4 added, ksmd and the writers of run and merge_across_nodes wait);
   * MEM_OFFLINE drops the stable nodes of the frames [startPfn, startPfn +
   * nrPages) and, like MEM_CANCEL_OFFLINE, clears the bit and wakes the
   * waiters. 0, or -EINVAL on 2.6.32 (which has no notifier).
   */
  memoryNotify(action: MemoryAction, startPfn = 0, nrPages = 0): number {
    const ksm = this.merger;
    if (ksm.algorithm === 'mainline-2632') return -ERRNO.EINVAL;
    switch (action) {
      case MEM_GOING_OFFLINE:
        ksm.run |= KSM_RUN_OFFLINE;
        return 0;
      case MEM_OFFLINE:
        ksm.ksmCheckStableTree(startPfn, startPfn + nrPages);
      // fallthrough
      case MEM_CANCEL_OFFLINE:
        ksm.run &= ~KSM_RUN_OFFLINE;
        this.gate.wake();
        this.ksmd.wake();
        return 0;
    }
    return -ERRNO.EINVAL;
  }

  /** Reads a sysfs file as process p: its text, or -errno. */
  readSysfs(path: string, p?: Process): string | number {
    return this.sysfs.read(path, p ?? ROOT);
  }

  /** Writes a sysfs file as process p (`echo VALUE > FILE` writes "VALUE\n"): bytes written or -errno. */
  writeSysfs(path: string, text: string, p?: Process): number {
    return this.sysfs.write(path, text, p ?? ROOT);
  }

  /** Lets virtual time pass: ksmd runs every batch due meanwhile. */
  sleep(ms: number): void {
    this.ksmd.advanceTo(this.machine.clock.now + ms * 1000);
  }
}
