/**
 * The eras a workload can run under, and the driver that runs it.
 */
import type { EraDriver } from './driver.js';
import { V2Driver } from './drivers/v2.js';
import { V3Driver } from './drivers/v3.js';

export interface EraInfo {
  name: string;
  summary: string;
  create(): EraDriver;
}

export const ERAS: EraInfo[] = [
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
