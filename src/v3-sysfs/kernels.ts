/**
 * The kernel versions of the MADV_MERGEABLE + sysfs era, side by side: the
 * one switch (`--kernel`, V3Kernel's `kernel` option) picks the sysfs file
 * set, the defaults, the counters and the merger of that version.
 *
 * | version | seed | merger | sysfs table |
 * |---|---|---|---|
 * | 2.6.32 | 003 | engine/merge/mainline-2632.ts | sysfs.ts |
 * | 3.9 | 004 | engine/merge/mainline-39.ts | sysfs-39.ts |
 * | 6.18 | none: mm/ksm.c of Linux 6.18, checked against the running kernel | engine/merge/mainline-618.ts | sysfs-618.ts |
 */
import type { Tunables39 } from '../engine/merge/mainline-39.js';
import { KSM_ADVISOR_NONE, type Tunables618 } from '../engine/merge/mainline-618.js';

export const KERNEL_VERSIONS = ['2.6.32', '3.9', '6.18'] as const;
/** A mainline kernel version the v3 era runs. */
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];
export const DEFAULT_KERNEL: KernelVersion = '2.6.32';

export function isKernelVersion(v: string): v is KernelVersion {
  return (KERNEL_VERSIONS as readonly string[]).includes(v);
}

/** What each version is, for titles and --help. */
export const KERNEL_TITLES: Record<KernelVersion, string> = {
  '2.6.32': 'Linux 2.6.32 (seed 003)',
  '3.9': 'Linux 3.9 (seed 004)',
  '6.18': 'Linux 6.18',
};

/**
 * 2.6.32's defaults live in its merger (Mainline2632's field initialisers,
 * the seed's static variables); listed here to be read side by side.
 */
export const DEFAULTS_2632 = {
  sleepMillisecs: 20,
  pagesToScan: 200,
  run: 1,
  maxKernelPages: 2000n,
} as const;

/** ksm_init and the static variables of 3.9 (seed 004): ksmd stopped, 100 pages per batch. */
export const DEFAULTS_39: Readonly<Tunables39> = Object.freeze({
  pagesToScan: 100,
  sleepMillisecs: 20,
  run: 0,
  mergeAcrossNodes: 1,
});

/** The static variables of mm/ksm.c of 6.18 (smart_scan "default to true at least temporarily, for testing"). */
export const DEFAULTS_618: Readonly<Tunables618> = Object.freeze({
  pagesToScan: 100,
  sleepMillisecs: 20,
  run: 0,
  mergeAcrossNodes: 1,
  maxPageSharing: 256,
  stableNodeChainsPruneMillisecs: 2000,
  useZeroPages: false,
  smartScan: true,
  advisorMode: KSM_ADVISOR_NONE,
  advisorMaxCpu: 70,
  advisorMinPagesToScan: 500,
  advisorMaxPagesToScan: 30000,
  advisorTargetScanTime: 200,
});

/** The files of /sys/kernel/mm/ksm of each version, in the order of its ksm_attrs array. */
export const SYSFS_FILES: Record<KernelVersion, readonly string[]> = {
  '2.6.32': ['sleep_millisecs', 'pages_to_scan', 'run', 'max_kernel_pages', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'],
  '3.9': ['sleep_millisecs', 'pages_to_scan', 'run', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans', 'merge_across_nodes'],
  '6.18': [
    'sleep_millisecs', 'pages_to_scan', 'run', 'pages_scanned', 'pages_shared', 'pages_sharing', 'pages_unshared',
    'pages_volatile', 'pages_skipped', 'ksm_zero_pages', 'full_scans', 'merge_across_nodes', 'max_page_sharing',
    'stable_node_chains', 'stable_node_dups', 'stable_node_chains_prune_millisecs', 'use_zero_pages', 'general_profit',
    'smart_scan', 'advisor_mode', 'advisor_max_cpu', 'advisor_min_pages_to_scan', 'advisor_max_pages_to_scan',
    'advisor_target_scan_time',
  ],
};
