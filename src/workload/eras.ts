/**
 * The eras a workload can run under, and the driver that runs it: every
 * entry of the era registry (src/eras/registry.ts).
 */
import { parseEra } from '../eras/registry.js';
import { type DriverOptions, WorkloadDriver } from './driver.js';

export type { DriverOptions };

/** A driver for `--era TEXT [--abi A] [--kernel K]` (EraInputError for a bad one). */
export function createDriver(era: string, opts: DriverOptions & { abi?: string; kernel?: string } = {}): WorkloadDriver {
  return new WorkloadDriver(parseEra(era, { abi: opts.abi, kernel: opts.kernel }), opts);
}
