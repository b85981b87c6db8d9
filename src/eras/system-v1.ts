/**
 * The system calls of the /dev/ksm era (v1), on its V1Kernel: open, close
 * and ioctl of /dev/ksm and the fds the driver hands out, chmod of the
 * node, and the madvise of the 2.6.27/2.6.28 kernels the patches applied
 * to, which knows no KSM advice. There is no /sys/kernel/mm/ksm.
 */
import { VM_DONTCOPY } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import { sysMadvise } from '../kernel/madvise.js';
import type { V1Kernel } from '../v1-ioctl/kernel.js';
import * as v2c from '../v2-madvise/constants.js';
import { adviceNames, KernelSystem, type SystemAdapter } from './system.js';

/** madvise of 2.6.27/2.6.28: no KSM advice. */
const BASE_ADVICE = new Set([v2c.MADV_NORMAL, v2c.MADV_RANDOM, v2c.MADV_SEQUENTIAL, v2c.MADV_WILLNEED, v2c.MADV_DONTNEED, v2c.MADV_REMOVE, v2c.MADV_DONTFORK, v2c.MADV_DOFORK]);

const V1_ADVICE_NAMES = adviceNames(v2c, (k) => k === 'MADV_SHAREABLE' || k === 'MADV_UNSHAREABLE');

export class V1System extends KernelSystem {
  readonly adviceNames = V1_ADVICE_NAMES;
  readonly sysfs = null;

  constructor(
    adapter: SystemAdapter,
    readonly kernel: V1Kernel,
  ) {
    super(adapter);
  }

  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number {
    return this.kernel.mmap(p, addr, length, prot, flags);
  }
  munmap(p: Process, addr: number, length: number): number {
    return this.kernel.munmap(p, addr, length);
  }
  madvise(p: Process, addr: number, length: number, advice: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return sysMadvise(this.memory, p.mm, addr, length, advice, {
      valid: (a) => BASE_ADVICE.has(a),
      apply: (vma, _s, _e, a) => (a === v2c.MADV_DONTFORK ? vma.flags | VM_DONTCOPY : a === v2c.MADV_DOFORK ? vma.flags & ~VM_DONTCOPY : vma.flags),
    });
  }
  override open(p: Process, path: string, flags: number): number {
    return this.kernel.open(p, path, flags);
  }
  override close(p: Process, fd: number): number {
    return this.kernel.close(p, fd);
  }
  override ioctl(p: Process, fd: number, request: number, arg: bigint): number {
    return this.kernel.ioctl(p, fd, request, arg);
  }
  chmod(p: Process, path: string, mode: number): number {
    return this.kernel.chmod(p, path, mode);
  }
}
