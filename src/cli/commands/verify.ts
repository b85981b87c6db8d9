/**
 * `ksmctl verify WORKLOAD [--era v3:6.18] [--sysfs N=V] [--json] [--force]
 * [--wait SECONDS]`: the workload on the real kernel (as root) and on the
 * simulated era closest to `uname -r` (or the one named); prints the first
 * snapshot and counter that differ, or that all N snapshots agree. Exit 0
 * on agreement, 1 on a difference, 2 on an error.
 *
 * `ksmctl verify --recover`: puts back the knobs a killed run left changed
 * (its recovery file), or says there is nothing to recover.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { EraInputError, parseEra, REAL_ERA_ID, type SimulatedEraEntry } from '../../eras/registry.js';
import { GuardError, recover, stateDir } from '../../real/guard.js';
import { closestEra, compareWithSimulation, formatVerification } from '../../real/verify.js';
import { WorkloadError } from '../../workload/schema.js';
import { CliError } from '../errors.js';
import { realWorkloadRun } from './real-run.js';
import { parseSysfsOptions, resolveWorkload } from './workload-run.js';

export interface VerifyOptions {
  era?: string;
  json?: boolean;
  sysfs?: string[];
  force?: boolean;
  /** Seconds to wait for the lock and a free KSM. */
  wait?: number;
  recover?: boolean;
}

function simulatedEra(text: string | undefined): SimulatedEraEntry {
  if (text === undefined) return closestEra(release());
  if (text === REAL_ERA_ID) throw new CliError(`verify compares the real kernel with a simulated era: --era ${text} is not one`, 2);
  try {
    return parseEra(text);
  } catch (err) {
    if (err instanceof EraInputError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** `--recover`: one line about what was restored. */
export function verifyRecover(opts: VerifyOptions, out: (s: string) => void): void {
  try {
    const { restored } = recover(stateDir(), { waitMs: (opts.wait ?? 0) * 1000 });
    if (restored === null) out('nothing to recover: no run left /sys/kernel/mm/ksm changed');
    else out(`restored ${restored.sysfs} as it was before the run of pid ${restored.pid} (started ${restored.started}): ${Object.keys(restored.knobs).length} knobs`);
  } catch (e) {
    if (e instanceof GuardError) throw new CliError(e.message, 2);
    throw e;
  }
}

export async function runVerify(spec: string | undefined, opts: VerifyOptions, out: (s: string) => void, err: (s: string) => void): Promise<void> {
  if (opts.recover === true) {
    if (spec !== undefined) throw new CliError('verify --recover takes no workload', 2);
    return verifyRecover(opts, out);
  }
  if (spec === undefined) throw new CliError('verify needs a workload (or --recover)', 2);
  const w = resolveWorkload(spec, existsSync);
  const era = simulatedEra(opts.era);
  const sysfs = opts.sysfs?.length ? parseSysfsOptions(opts.sysfs) : [];
  const t0 = performance.now();
  const real = await realWorkloadRun(w, { sysfs: opts.sysfs, force: opts.force, wait: opts.wait }, (l) => err(`ksmctl: ${l}`));
  const realMs = performance.now() - t0;
  let v;
  try {
    v = compareWithSimulation(w, real, realMs, era, sysfs);
  } catch (e) {
    if (e instanceof WorkloadError) throw new CliError(`${era.id}: ${e.message}`, 2);
    throw e;
  }
  out(opts.json === true ? JSON.stringify(v, null, 2) : formatVerification(v));
  if (!v.agree) throw new CliError('', 1);
}
