/**
 * Where the running kernel shows KSM: the sysfs directory and /proc. Every
 * reader of the real kernel takes these as parameters, so tests lay out a
 * fake tree (an older kernel's subset of files, made-up processes) in a
 * temporary directory and nothing reaches the real files by accident.
 */
export interface RealPaths {
  /** /sys/kernel/mm/ksm: the knobs and counters. */
  readonly sysfs: string;
  /** /proc: ksmd's stat, each process's ksm_stat, pagemap. */
  readonly proc: string;
}

/** The machine's own files. */
export const SYSTEM_PATHS: RealPaths = Object.freeze({ sysfs: '/sys/kernel/mm/ksm', proc: '/proc' });
