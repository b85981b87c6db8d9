/**
 * The eras a workload can run under, and the driver that runs it.
 */
import type { ChecksumName } from '../engine/hash/page-checksum.js';
import type { EraDriver } from './driver.js';
import { V1_ABIS, V1_DEFAULT_ABI, V1Driver } from './drivers/v1.js';
import { V2Driver } from './drivers/v2.js';
import { MainlineDriver, V3Driver } from './drivers/v3.js';
import { DEFAULT_KERNEL, KERNEL_VERSIONS, type KernelVersion } from '../v3-sysfs/kernels.js';

/** Per-era choices of the command line (`--abi` of v1). */
export interface EraOptions {
  abi?: string;
  /** The page checksum the merger uses instead of its era's own (an experiment: ksmctl compare --checksum). */
  checksum?: ChecksumName;
  /** The kernel version of an era that has several (v3: 2.6.32, 3.9, 6.18); the era's default when absent. */
  kernel?: string;
  /** /sys/kernel/mm/ksm files to write at setup, after the workload's own (v3). */
  sysfs?: ReadonlyArray<readonly [string, string]>;
  /** NUMA nodes of regions, "proc" or "proc:region" -> node, overriding the workload's (v3). */
  nodes?: ReadonlyMap<string, number>;
  /** The uid the workload's processes run as (`--user`; default 0, root). The administrator's setup stays root's. */
  uid?: number;
}

export interface EraInfo {
  name: string;
  summary: string;
  /** The ABIs the era can speak (`--abi`), the first being the default; absent for single-ABI eras. */
  abis?: readonly string[];
  /** The kernel versions the era can run (`--kernel`), the first being the default; absent for single-kernel eras. */
  kernels?: readonly string[];
  create(opts?: EraOptions): EraDriver;
}

export const ERAS: EraInfo[] = [
  {
    name: 'v1',
    summary: '/dev/ksm ioctls: --abi 2008 (Nov 2008, hash-table merger, seed 001; the default) or --abi 2009 (Mar 2009, tree merger, seed 002)',
    abis: [V1_DEFAULT_ABI, ...V1_ABIS.filter((a) => a !== V1_DEFAULT_ABI)],
    create: (opts) => new V1Driver((opts?.abi ?? V1_DEFAULT_ABI) as (typeof V1_ABIS)[number], { checksum: opts?.checksum, uid: opts?.uid }),
  },
  {
    name: 'v2',
    summary: 'madvise(MADV_SHAREABLE) + /sys/kernel/mm/ksm (4 files), April 2009 "alternative userspace" patch, tree merger (seed 000)',
    create: (opts) => new V2Driver({ checksum: opts?.checksum, uid: opts?.uid }),
  },
  {
    name: 'v3',
    summary: 'madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, mainline Linux: --kernel 2.6.32 (seed 003; the default), 3.9 (seed 004) or 6.18',
    kernels: [DEFAULT_KERNEL, ...KERNEL_VERSIONS.filter((k) => k !== DEFAULT_KERNEL)],
    create: (opts) => {
      const kernel = (opts?.kernel ?? DEFAULT_KERNEL) as KernelVersion;
      const common = { checksum: opts?.checksum, sysfs: opts?.sysfs, nodes: opts?.nodes, uid: opts?.uid };
      return kernel === '2.6.32' ? new V3Driver(common) : new MainlineDriver({ ...common, kernel });
    },
  },
];

export function eraNames(): string[] {
  return ERAS.map((e) => e.name);
}

export function findEra(name: string): EraInfo | undefined {
  return ERAS.find((e) => e.name === name);
}
