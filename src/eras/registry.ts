/**
 * The one table of eras. Every command takes its `--era` values from here,
 * every tool boots its era through an entry's `boot`, and `ksmctl eras`
 * prints this table; adding an era is one entry here, its kernel and its
 * adapter (docs/architecture.md).
 *
 * | id | the kernel it models | seed |
 * |---|---|---|
 * | v1:2008 | /dev/ksm, the November 2008 patch (hash-table merger) | 001 |
 * | v1:2009 | /dev/ksm, the March 2009 patch (tree merger) | 002 |
 * | v2 | madvise(MADV_SHAREABLE), the April 2009 patch | 000 |
 * | v3:2.6.32 | madvise(MADV_MERGEABLE) + sysfs, Linux 2.6.32 | 003 |
 * | v3:3.9 | the same, Linux 3.9 (NUMA) | 004 |
 * | v3:6.18 | the same, Linux 6.18 (chains, zero pages, smart scan, advisor, prctl) | the kernel itself |
 * | real | this machine's own KSM (src/real): real processes, ksmd through sysfs | the running kernel |
 *
 * `real` is not simulated: its entry has no `boot` (no EraAdapter) but a
 * `driver` for the workload runner; tools that boot eras take them from
 * `simulatedEras()`.
 * Spellings kept as aliases: `v1` (= v1:2008, the one default ABI), `v3`
 * (= v3:2.6.32), `v1-2008`, `v3-6.18` and the like, and the options
 * `--era v1 --abi 2009`, `--era v3 --kernel 6.18`.
 */
import type { MergerName } from '../engine/merge/merger.js';
import type { KsmAbi } from '../v1-ioctl/device.js';
import type { KernelVersion } from '../v3-sysfs/kernels.js';
import type { BootOptions, CounterName, EraAdapter } from './adapter.js';
import { V1Adapter } from './v1.js';
import { V2Adapter } from './v2.js';
import { V3Adapter } from './v3.js';
import type { EraDriver } from '../workload/driver.js';
import { RealDriver, type RealDriverOptions } from '../real/driver.js';

/** The ids of the six simulated eras, oldest first. */
export const ERA_IDS = ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32', 'v3:3.9', 'v3:6.18'] as const;
/** The machine's own kernel, driven for real (src/real); not one of the simulated ERA_IDS. */
export const REAL_ERA_ID = 'real';
/** A simulated era's id. */
export type EraId = (typeof ERA_IDS)[number];
/** The API family of an era: /dev/ksm ioctls (v1), MADV_SHAREABLE (v2), MADV_MERGEABLE and sysfs (v3). */
export type EraFamily = 'v1' | 'v2' | 'v3';

/** What `--era` means when it is not given. */
export const DEFAULT_ERA: EraId = 'v3:2.6.32';
/** `--era v1` without an ABI: November 2008, the era's first (the only home of the hash-table merger). */
export const V1_DEFAULT_ABI: KsmAbi = '2008';

/** What every era says of itself, simulated or real. */
export interface EraInfo {
  /** The one spelling on the command line and in JSON. */
  readonly id: EraId | typeof REAL_ERA_ID;
  readonly family: EraFamily | 'real';
  /** v1: the ioctl ABI of the driver. */
  readonly abi?: KsmAbi;
  /** v3: the kernel version. */
  readonly kernel?: KernelVersion;
  /** Short, for columns and the era switch: `v1 2008`, `v3 6.18`. */
  readonly label: string;
  /** One line: what it models. */
  readonly title: string;
  /** The kernel, for messages (`Linux 6.18`, `the April 2009 patch (seed 000)`). */
  readonly system: string;
  /** The historical patch or source it follows: `001`, or `Linux 6.18` where no seed is the source. */
  readonly seed: string;
  /** When it was current. */
  readonly date: string;
  /** How a program registers memory with it. */
  readonly registration: string;
  /** How ksmd (kksmd) is steered, and the files or calls that show it. */
  readonly control: string;
  /** The merge algorithm, for humans. */
  readonly merger: string;
  /** The same, short, for table columns. */
  readonly mergerShort: string;

  /** The era's own page checksum. */
  readonly checksum: string;
  /** The counters the era exposed to user space; the others of the five are derived (SCHEMA.md). */
  readonly exposed: readonly CounterName[];
  /**
   * Knobs a workload run writes before its first step, so that the run is
   * the one the kernel oracle makes on the real kernel (6.18: smart_scan 0,
   * use_zero_pages 0); the workload's own "sysfs" and --sysfs come after.
   */
  readonly workloadKnobs: ReadonlyArray<readonly [string, string]>;
}

/** A simulated era: what every tool boots. */
export interface EraEntry extends EraInfo {
  readonly id: EraId;
  readonly family: EraFamily;
  /** Which merger runs (engine/merge/merger.ts). */
  readonly algorithm: MergerName;
  /** A fresh machine of the era with its KSM code loaded. */
  boot(opts?: BootOptions): EraAdapter;
}

/** The machine's own KSM (src/real): no simulator, a workload driver of real processes. */
export interface RealEraEntry extends EraInfo {
  readonly id: typeof REAL_ERA_ID;
  readonly family: 'real';
  driver(opts: RealDriverOptions): EraDriver;
}

/** The name the real-kernel code gives a simulated entry. */
export type SimulatedEraEntry = EraEntry;

const FIVE: readonly CounterName[] = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'];

const v3 = (kernel: KernelVersion, rest: Omit<SimulatedEraEntry, 'id' | 'family' | 'kernel' | 'boot' | 'exposed' | 'registration'> & { registration?: string }): SimulatedEraEntry => {
  const e: SimulatedEraEntry = {
    id: `v3:${kernel}` as EraId,
    family: 'v3',
    kernel,
    exposed: FIVE,
    registration: 'madvise(MADV_MERGEABLE=12 / MADV_UNMERGEABLE=13)',
    ...rest,
    boot: (opts) => new V3Adapter(e, opts),
  };
  return e;
};

const v1 = (abi: KsmAbi, rest: Omit<SimulatedEraEntry, 'id' | 'family' | 'abi' | 'boot' | 'exposed' | 'workloadKnobs'>): SimulatedEraEntry => {
  const e: SimulatedEraEntry = { id: `v1:${abi}` as EraId, family: 'v1', abi, exposed: [], workloadKnobs: [], ...rest, boot: (opts) => new V1Adapter(e, opts) };
  return e;
};

const V2_ENTRY: SimulatedEraEntry = {
  id: 'v2',
  family: 'v2',
  label: 'v2 2009',
  system: 'the April 2009 patch (seed 000)',
  title: 'madvise(MADV_SHAREABLE) + /sys/kernel/mm/ksm (4 files), April 2009 (seed 000)',
  seed: '000',
  date: 'Apr 2009',
  registration: 'madvise(MADV_SHAREABLE=12); no unregistration (MADV_UNSHAREABLE is EINVAL)',
  control: '/sys/kernel/mm/ksm/{sleep,pages_to_scan,run,pages_shared} (sleep in µs)',
  merger: 'trees, Apr 2009 (seed 000)',
  mergerShort: '2009 trees',
  algorithm: 'tree-2009',
  checksum: 'lookup2',
  exposed: ['pages_shared'],
  workloadKnobs: [],
  boot: (opts) => new V2Adapter(V2_ENTRY, opts),
};

/** The simulated eras (the real kernel is REAL_ERA; ALL_ERAS has both). */
export const ERAS: readonly SimulatedEraEntry[] = [
  v1('2008', {
    label: 'v1 2008',
    system: 'the Nov 2008 /dev/ksm driver (seed 001)',
    title: '/dev/ksm ioctls (Nov 2008 ABI), hash-table merger (seed 001)',
    seed: '001',
    date: 'Nov 2008',
    registration: '/dev/ksm: KSM_CREATE_SHARED_MEMORY_AREA, KSM_REGISTER_MEMORY_REGION; SCAN fds and KSM_SCAN',
    control: 'KSM_START_STOP_KTHREAD / KSM_GET_INFO_KTHREAD on /dev/ksm (sleep in µs); no counters',
    merger: 'hash table, Nov 2008 (seed 001)',
    mergerShort: 'hash table',
    algorithm: 'hash-2008',
    checksum: 'lookup2 (bucket)',
  }),
  v1('2009', {
    label: 'v1 2009',
    system: 'the Mar 2009 /dev/ksm driver (seed 002)',
    title: '/dev/ksm ioctls (Mar 2009 ABI), tree merger (seed 002)',
    seed: '002',
    date: 'Mar 2009',
    registration: '/dev/ksm: KSM_CREATE_SHARED_MEMORY_AREA, KSM_REGISTER_MEMORY_REGION',
    control: 'KSM_START_STOP_KTHREAD / KSM_GET_INFO_KTHREAD on /dev/ksm (sleep in µs); no counters',
    merger: 'trees, Mar 2009 (seed 002)',
    mergerShort: '2009 trees',
    algorithm: 'tree-2009',
    checksum: 'lookup2',
  }),
  V2_ENTRY,
  v3('2.6.32', {
    label: 'v3 2.6.32',
    system: 'Linux 2.6.32 (seed 003)',
    title: 'madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm, mainline Linux 2.6.32 (seed 003)',
    seed: '003',
    date: 'Dec 2009',
    control: '/sys/kernel/mm/ksm/{sleep_millisecs,pages_to_scan,run,max_kernel_pages} and the five counters',
    merger: 'trees, Linux 2.6.32 (seed 003)',
    mergerShort: '2.6.32 trees',
    algorithm: 'mainline-2632',
    checksum: 'lookup2',
    workloadKnobs: [],
  }),
  v3('3.9', {
    label: 'v3 3.9',
    system: 'Linux 3.9 (seed 004)',
    title: 'madvise(MADV_MERGEABLE) + /sys/kernel/mm/ksm with NUMA placement (mbind, merge_across_nodes), Linux 3.9 (seed 004)',
    seed: '004',
    date: 'Apr 2013',
    control: '/sys/kernel/mm/ksm/{sleep_millisecs,pages_to_scan,run (0 at boot),merge_across_nodes} and the five counters',
    merger: 'trees per NUMA node, stable_nodes, Linux 3.9 (seed 004)',
    mergerShort: '3.9 trees',
    algorithm: 'mainline-39',
    checksum: 'lookup3',
    workloadKnobs: [],
  }),
  v3('6.18', {
    label: 'v3 6.18',
    system: 'Linux 6.18',
    title: 'madvise(MADV_MERGEABLE) or prctl(PR_SET_MEMORY_MERGE) + /sys/kernel/mm/ksm, Linux 6.18',
    seed: 'Linux 6.18 (checked against the running kernel)',
    date: 'Dec 2025',
    registration: 'madvise(MADV_MERGEABLE=12 / MADV_UNMERGEABLE=13), prctl(PR_SET_MEMORY_MERGE=67); /proc/PID/ksm_stat',
    control: 'the 24 files of /sys/kernel/mm/ksm (run 0 at boot; chains, zero pages, smart scan, advisor, general_profit)',
    merger: 'trees with stable_node chains, Linux 6.18',
    mergerShort: '6.18 trees',
    algorithm: 'mainline-618',
    checksum: 'xxhash',
    workloadKnobs: [
      ['smart_scan', '0'],
      ['use_zero_pages', '0'],
    ],
  }),
];

/**
 * The machine's own KSM: the workload's processes are real processes, ksmd
 * runs one whole pass at a time through /sys/kernel/mm/ksm, as root, under
 * the guard of src/real/guard.ts (knobs saved and restored).
 */
export const REAL_ERA: RealEraEntry = {
  id: REAL_ERA_ID,
  family: 'real',
  label: 'real',
  system: 'the running kernel',
  title: "this machine's own KSM: real processes (mmap, madvise through koffi), ksmd driven one pass at a time through /sys/kernel/mm/ksm",
  seed: 'the running kernel',
  date: 'now',
  registration: 'madvise(MADV_MERGEABLE=12 / MADV_UNMERGEABLE=13) in real processes',
  control: '/sys/kernel/mm/ksm as this kernel has it (root)',
  merger: "the running kernel's mm/ksm.c",
  mergerShort: 'real kernel',
  checksum: "the kernel's own",
  exposed: FIVE,
  // As the recorded real-6.18 runs: no smart scan, no zero-page merging, unless the workload says so.
  workloadKnobs: [
    ['smart_scan', '0'],
    ['use_zero_pages', '0'],
  ],
  driver: (opts) => new RealDriver(REAL_ERA, opts),
};

/** Every era: the simulated ones and the machine's own KSM (`real`). */
export const ALL_ERAS: ReadonlyArray<EraEntry | RealEraEntry> = [...ERAS, REAL_ERA];

/** Whether an entry has a simulator behind it (every one but the real kernel). */
export function isSimulated(e: EraEntry | RealEraEntry): e is EraEntry {
  return e.family !== 'real';
}

/** The eras with a simulator (a `boot`): every tool that boots eras enumerates these. */
export function simulatedEras(): readonly SimulatedEraEntry[] {
  return ERAS;
}

/** A bad --era, --abi or --kernel (the CLI reports it in one line, exit 2). */
export class EraInputError extends Error {
  override readonly name = 'EraInputError';
}

/** Other spellings of the ids. */
const ALIASES: Record<string, EraId> = {
  v1: `v1:${V1_DEFAULT_ABI}`,
  v3: 'v3:2.6.32',
  'v1-2008': 'v1:2008',
  'v1-2009': 'v1:2009',
  'v3-2.6.32': 'v3:2.6.32',
  'v3-3.9': 'v3:3.9',
  'v3-6.18': 'v3:6.18',
};

/** The registry entry of a simulated era. */
export function eraById(id: EraId): EraEntry {
  return ERAS.find((e) => e.id === id)!;
}

/** Every spelling `--era` accepts: the ids, then the aliases, then real. */
export function eraSpellings(): string[] {
  return [...ERA_IDS, ...Object.keys(ALIASES)];
}

/**
 * The era of `--era TEXT [--abi ABI] [--kernel VERSION]`: TEXT is an id or
 * an alias; --abi applies to v1 and --kernel to v3 (the old spellings), and
 * must agree with an id that already names one.
 */
export function parseEra(text: string = DEFAULT_ERA, opts: { abi?: string; kernel?: string } = {}): EraEntry {
  if (text === REAL_ERA_ID) throw new EraInputError(`--era ${REAL_ERA_ID} is this machine's own KSM, not a simulated era: workload run, verify, status --real and tui --real take it`);
  const id = (ERA_IDS as readonly string[]).includes(text) ? (text as EraId) : ALIASES[text];
  if (id === undefined) throw new EraInputError(`unknown --era "${text}": not one of ${ERA_IDS.join(', ')} (or v1, v3)`);
  let e = eraById(id);
  if (opts.abi !== undefined) {
    if (e.family !== 'v1') throw new EraInputError(`--abi applies to --era v1 only (era ${e.id} has one ABI)`);
    const withAbi = ERAS.find((x) => x.family === 'v1' && x.abi === opts.abi);
    if (withAbi === undefined) throw new EraInputError(`v1 has no ABI "${opts.abi}" (known: 2008, 2009)`);
    if (text !== 'v1' && withAbi !== e) throw new EraInputError(`--era ${text} and --abi ${opts.abi} disagree`);
    e = withAbi;
  }
  if (opts.kernel !== undefined) {
    if (e.family !== 'v3') throw new EraInputError(`--kernel applies to --era v3 only (era ${e.id} has one kernel)`);
    const withKernel = ERAS.find((x) => x.family === 'v3' && x.kernel === opts.kernel);
    if (withKernel === undefined) throw new EraInputError(`v3 has no kernel "${opts.kernel}" (known: 2.6.32, 3.9, 6.18)`);
    if (text !== 'v3' && withKernel !== e) throw new EraInputError(`--era ${text} and --kernel ${opts.kernel} disagree`);
    e = withKernel;
  }
  return e;
}

/** The entry of a family with a version (`v1` + `2009`, `v3` + `6.18`), as old call sites name them. */
export function eraOf(family: EraFamily, version?: string): EraEntry {
  return parseEra(family, family === 'v1' ? { abi: version } : family === 'v3' ? { kernel: version } : {});
}

/** The `--era` help text every command shows. */
export const ERA_OPTION_HELP = `the era: ${ERA_IDS.join(', ')} (v1 = v1:${V1_DEFAULT_ABI}, v3 = v3:2.6.32; ksmctl eras lists them), or ${REAL_ERA_ID} (this machine's own KSM, as root)`;
