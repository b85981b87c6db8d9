/**
 * The system calls of the madvise eras (v2: MADV_SHAREABLE, April 2009; v3:
 * MADV_MERGEABLE, every kernel version), on their V2Kernel or V3Kernel:
 * madvise, the files of /sys/kernel/mm/ksm, and where the kernel has them
 * prctl(PR_SET_MEMORY_MERGE / PR_GET_MEMORY_MERGE) and /proc/PID/ksm_stat
 * and ksm_merging_pages (6.18). There is no /dev/ksm.
 */
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { SysfsDir } from '../kernel/sysfs.js';
import type { V2Kernel } from '../v2-madvise/kernel.js';
import type { KernelVersion, V3Kernel } from '../v3-sysfs/kernel.js';
import { KernelSystem, type SystemAdapter } from './system.js';

/** The calls of a madvise kernel: V3Kernel has prctl and readProc (which answer for its version), V2Kernel neither. */
type MadviseKernel = (V2Kernel | V3Kernel<KernelVersion>) & {
  prctl?(p: Process, option: number, arg2: number, arg3: number, arg4: number, arg5: number): number;
  readProc?(p: Process, name: string): string | number;
};

export class MadviseSystem extends KernelSystem {
  constructor(
    adapter: SystemAdapter,
    readonly kernel: MadviseKernel,
    readonly adviceNames: ReadonlyMap<number, string>,
  ) {
    super(adapter);
  }

  get sysfs(): SysfsDir {
    return this.kernel.sysfs;
  }

  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number {
    return this.kernel.mmap(p, addr, length, prot, flags);
  }
  munmap(p: Process, addr: number, length: number): number {
    return this.kernel.munmap(p, addr, length);
  }
  madvise(p: Process, addr: number, length: number, advice: number): number {
    return this.kernel.madvise(p, addr, length, advice);
  }
  override prctl(p: Process, option: number, arg2: number, arg3: number, arg4: number, arg5: number): number {
    return this.kernel.prctl?.(p, option, arg2, arg3, arg4, arg5) ?? super.prctl(p, option, arg2, arg3, arg4, arg5);
  }
  protected override readProc(target: Process, name: string): string | number {
    return this.kernel.readProc?.(target, name) ?? -ERRNO.ENOENT;
  }
  protected override readSysfs(p: Process, path: string): string | number {
    return this.kernel.readSysfs(path, p);
  }
  override writeFile(p: Process, path: string, text: string): number {
    return this.kernel.writeSysfs(path, text, p);
  }
  chmod(p: Process, path: string, mode: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.kernel.sysfs.chmod(path, mode, p);
  }
}
