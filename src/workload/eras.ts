/**
 * The eras a workload can run under, and the driver that runs it.
 */
import type { ChecksumName } from '../engine/hash/page-checksum.js';
import type { EraDriver } from './driver.js';
import { V1_ABIS, V1_DEFAULT_ABI, V1Driver } from './drivers/v1.js';
import { V2Driver } from './drivers/v2.js';
import { V3Driver } from './drivers/v3.js';

/** Per-era choices of the command line (`--abi` of v1). */
export interface EraOptions {
  abi?: string;
  /** The page checksum the merger uses instead of its era's own (an experiment: ksmctl compare --checksum). */
  checksum?: ChecksumName;
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
    create: (opts) => new V1Driver((opts?.abi ?? V1_DEFAULT_ABI) as (typeof V1_ABIS)[number], { checksum: opts?.checksum }),
  },
  {
    name: 'v2',
    summary: 'madvise(MADV_SHAREABLE) + /sys/kernel/mm/ksm (4 files), April 2009 "alternative userspace" patch, tree merger (seed 000)',
    create: (opts) => new V2Driver({ checksum: opts?.checksum }),
  },
  {
    name: 'v3',
    summary: 'madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, mainline Linux 2.6.32 (seed 003)',
    create: (opts) => new V3Driver({ checksum: opts?.checksum }),
  },
];

export function eraNames(): string[] {
  return ERAS.map((e) => e.name);
}

export function findEra(name: string): EraInfo | undefined {
  return ERAS.find((e) => e.name === name);
}
