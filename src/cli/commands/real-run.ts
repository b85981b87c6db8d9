/**
 * `ksmctl workload run FILE --era real [--sysfs N=V] [--node P=N] [--force]
 * [--wait SECONDS] [--json]`: the workload on the machine's own KSM (root),
 * printed exactly as the simulator prints it, so any two runs compare.
 * Everything that stops a run is one line and exit 2; a run ended by
 * Ctrl-C or SIGTERM says so and exits 128 + the signal, the knobs restored.
 */
import { builtinPreload } from '../../workload/library.js';
import type { Workload } from '../../workload/schema.js';
import { WorkloadError } from '../../workload/schema.js';
import { GuardError } from '../../real/guard.js';
import { exitStatusOf, InterruptedError, RealRunError, type RealRunOptions, type RealRunResult, runReal } from '../../real/run.js';
import { SYSTEM_PATHS } from '../../real/paths.js';
import { CliError } from '../errors.js';
import { parseNodeOptions, parseSysfsOptions } from './workload-run.js';

export interface RealWorkloadOptions {
  abi?: string;
  kernel?: string;
  sysfs?: string[];
  node?: string[];
  user?: number;
  force?: boolean;
  /** Seconds to wait for the lock and a free KSM. */
  wait?: number;
}

/** The options of a real run, refusing the ones that only mean something to a simulator. */
export function realRunOptions(w: Workload, opts: RealWorkloadOptions, note: (line: string) => void): RealRunOptions {
  if (opts.abi !== undefined || opts.kernel !== undefined) throw new CliError(`--abi and --kernel choose a simulated era; --era real is the running kernel`, 2);
  if (opts.user !== undefined && opts.user !== 0) throw new CliError('--user applies to the simulated eras; --era real runs its processes as root', 2);
  if (builtinPreload(w) !== undefined) throw new CliError(`${w.name}: its contents come from files, which --era real does not load`, 2);
  return {
    sysfs: opts.sysfs?.length ? parseSysfsOptions(opts.sysfs) : undefined,
    nodes: opts.node?.length ? parseNodeOptions(opts.node, w) : undefined,
    force: opts.force,
    waitMs: opts.wait === undefined ? 0 : opts.wait * 1000,
    note,
  };
}

/** A real run's failure as the CLI reports it. */
export function realRunError(e: unknown): unknown {
  if (e instanceof InterruptedError) return new CliError(`${e.message}: the workload's processes were killed and ${SYSTEM_PATHS.sysfs} restored`, exitStatusOf(e.signal));
  if (e instanceof WorkloadError || e instanceof GuardError || e instanceof RealRunError) return new CliError(e.message, 2);
  return e;
}

export async function realWorkloadRun(w: Workload, opts: RealWorkloadOptions, note: (line: string) => void): Promise<RealRunResult> {
  try {
    return await runReal(w, realRunOptions(w, opts, note));
  } catch (e) {
    throw realRunError(e);
  }
}
