/**
 * ksm-compat as a library: Linux KSM (Kernel Samepage Merging) in each of its
 * historical API eras, on one simulated engine.
 *
 * - **Kernels**: {@link V1Kernel} (`/dev/ksm` ioctls, Nov 2008 and Mar 2009),
 *   {@link V2Kernel} (`madvise(MADV_SHAREABLE)`, Apr 2009), {@link V3Kernel}
 *   (`madvise(MADV_MERGEABLE)` and sysfs: Linux 2.6.32, 3.9, 6.18). Their
 *   calls read like the C ones and return what the syscall returns (a value
 *   ≥ 0, or `-errno`).
 * - **Eras**: the registry ({@link ERAS}, {@link parseEra}) and the
 *   {@link EraAdapter} every tool drives an era through.
 * - **Workloads**: {@link loadWorkload} / {@link parseWorkloadText} read a
 *   workload file (docs/workload-format.md, schema/workload.schema.json),
 *   {@link builtinWorkload} the built-in ones, {@link createDriver} and
 *   {@link runWorkload} run one under an era.
 * - **Compare**: {@link compare} runs one workload under several eras side
 *   by side; {@link formatComparison} prints it as `ksmctl compare` does.
 * - **Snapshot / estimate**: {@link takeSnapshot} captures real memory into
 *   a snapshot file, {@link estimate} tells what KSM would save there.
 *
 * Everything here is what `ksmctl` itself uses; nothing touches the
 * machine's own KSM except {@link takeSnapshot} reading `/proc` (read-only).
 *
 * @packageDocumentation
 */

// Kernels of each era, and the constants their callers pass.
export { V1Kernel, type V1KernelOptions, type DeviceNode, DEFAULT_DEVICE_NODE } from './v1-ioctl/kernel.js';
export { V2Kernel } from './v2-madvise/kernel.js';
export { V3Kernel, type V3KernelOptions, type KernelVersion, MPOL_BIND } from './v3-sysfs/kernel.js';
export { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from './engine/constants.js';
export { MADV_SHAREABLE, MADV_UNSHAREABLE } from './v2-madvise/constants.js';
export { MADV_MERGEABLE, MADV_UNMERGEABLE, PR_SET_MEMORY_MERGE } from './v3-sysfs/constants.js';

// The era registry and the adapter every tool drives an era through.
export {
  ALL_ERAS,
  DEFAULT_ERA,
  ERA_IDS,
  ERAS,
  EraInputError,
  REAL_ERA,
  eraById,
  parseEra,
  simulatedEras,
  type EraEntry,
  type EraFamily,
  type EraId,
  type EraInfo,
  type RealEraEntry,
} from './eras/registry.js';
export { COUNTER_NAMES, EraAdapter, type BootOptions, type CounterName, type Counters } from './eras/adapter.js';

// Workloads: the file format, the built-in ones, the runner.
export {
  loadWorkload,
  parseWorkloadText,
  stringifyWorkloadJson,
  totalPages,
  workloadToJson,
  WorkloadError,
  type Region,
  type Run,
  type Step,
  type Workload,
  type WorkloadErrorInfo,
} from './workload/schema.js';
export { builtinNames, builtinWorkload } from './workload/builtin.js';
export { generatedWorkload, GENERATORS, type Generator } from './workload/library.js';
export { createDriver, type DriverOptions } from './workload/eras.js';
export type { EraDriver } from './workload/driver.js';
export { resultJson, runWorkload, type RunOptions, type RunResult, type Snapshot, type StepError } from './workload/runner.js';

// Compare: one workload under several eras.
export { compare, type CompareOptions, type Comparison } from './compare/compare.js';
export { configurations, DEFAULT_COMPARE_ERAS, parseEras, type Configuration } from './compare/configs.js';
export { DEFAULT_MAX_PASSES, type CompareInput, type ConfigResult, type PassRecord, type Plan } from './compare/run.js';
export { formatComparison } from './compare/format.js';

// Real memory: snapshots and the estimate of what KSM would save.
export { takeSnapshot, type TakeOptions, type TakeResult } from './snapshot/take.js';
export { SnapshotError, SnapshotReader } from './snapshot/reader.js';
export { snapshotWorkload, type SnapshotWorkload, type SnapshotWorkloadOptions } from './snapshot/workload.js';
export { estimate, type EraEstimate, type Estimate, type EstimateOptions } from './estimate/estimate.js';
export { formatEstimate } from './estimate/format.js';

// Types the signatures above refer to (the engine's and the eras' own), so that
// a caller can name them and the reference can link them.
export type { BucketShape, TreeShape } from './compare/probe.js';
export type { Progress } from './compare/run.js';
export type { Ksmd, VirtualClock } from './engine/clock.js';
export type { ChecksumName } from './engine/hash/page-checksum.js';
export type { Machine, Process, SpawnCred } from './engine/machine.js';
export type { Memory, Range } from './engine/memory/memory.js';
export type { Mm } from './engine/memory/mm.js';
export type { Hash2008, KsmAllocSite } from './engine/merge/hash-2008.js';
export type { AnyMerger } from './engine/merge/merger.js';
export type { Tree2009 } from './engine/merge/tree-2009.js';
export type { RunContent, SinglePage } from './engine/pages.js';
export type { EraFile, MappedRegion } from './eras/adapter.js';
export type { CallRecord, Knobs } from './eras/calls.js';
export type { StateLabel, StateRange } from './eras/page-states.js';
export type { SimulatedEraEntry } from './eras/registry.js';
export type { EraSystem } from './eras/system.js';
export type { Replay } from './estimate/replay.js';
export type { StaticBound } from './estimate/static-bound.js';
export type { SysfsDir } from './kernel/sysfs.js';
export type { RealDriverOptions } from './real/driver.js';
export type { IndexRecord, ProcessRecord } from './snapshot/format.js';
export type { EffectivePolicy } from './snapshot/policy.js';
export type { PageTable } from './snapshot/reader.js';
export type { RegionOrigin } from './snapshot/workload.js';
export type { WriterStats } from './snapshot/writer.js';
export type { DeviceAbis, KsmAbi, KsmDevice } from './v1-ioctl/device.js';
export type { FdTable } from './v1-ioctl/files.js';
export type { Ksm2009 } from './v1-ioctl/ksm-2009.js';
export type { KthreadKnobs } from './v2-madvise/sysfs.js';
export type { Task, TaskKernel } from './v2-madvise/task.js';
export type { MemoryAction } from './v3-sysfs/constants.js';
export type { MergerOf } from './v3-sysfs/kernel.js';
export type { WorkloadDriver } from './workload/driver.js';
export type { ParamSpec, Params, Preload } from './workload/library.js';
export type { HashTables } from './workload/schema.js';
export { KERNEL_VERSIONS } from './v3-sysfs/kernels.js';
