/**
 * The eras a workload can run under, and the driver that runs it.
 */
import type { EraDriver } from './driver.js';
import { V1_ABIS, V1_DEFAULT_ABI, V1Driver } from './drivers/v1.js';
import { V2Driver } from './drivers/v2.js';
import { V3Driver } from './drivers/v3.js';

/** Per-era choices of the command line (`--abi` of v1). */
export interface EraOptions {
  abi?: string;
}

export interface EraInfo {
  name: string;
  summary: string;
  /** The ABIs the era can speak (`--abi`), the first being the default; absent for single-ABI eras. */
  abis?: readonly string[];
  create(opts?: EraOptions): EraDriver;
}

export const ERAS: EraInfo[] = [
  {
    name: 'v1',
    summary: '/dev/ksm ioctls: --abi 2008 (Nov 2008, hash-table merger, seed 001; the default) or --abi 2009 (Mar 2009, tree merger, seed 002)',
    abis: [V1_DEFAULT_ABI, ...V1_ABIS.filter((a) => a !== V1_DEFAULT_ABI)],
    create: (opts) => new V1Driver((opts?.abi ?? V1_DEFAULT_ABI) as (typeof V1_ABIS)[number]),
  },
  {
    name: 'v2',
    summary: 'madvise(MADV_SHAREABLE) + /sys/kernel/mm/ksm (4 files), April 2009 "alternative userspace" patch, tree merger (seed 000)',
    create: () => new V2Driver(),
  },
  {
    name: 'v3',
    summary: 'madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, mainline Linux 2.6.32 (seed 003)',
    create: () => new V3Driver(),
  },
];

export function eraNames(): string[] {
  return ERAS.map((e) => e.name);
}

export function findEra(name: string): EraInfo | undefined {
  return ERAS.find((e) => e.name === name);
}
