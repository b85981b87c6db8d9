/**
 * The commands on the machine's own KSM: `status --real` (read-only) and
 * `verify` (the real kernel against its simulated era). Registered on the
 * program by one call, so program.ts stays a list of commands.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Io } from '../program.js';
import { PROCESS_SORTS, type ProcessSort } from '../../real/proc.js';
import { parseSeconds, runStatus } from './status.js';
import { collect } from './workload-run.js';
import { runVerify } from './verify.js';
import { runCalibrate } from './calibrate.js';

export function addRealCommands(program: Command, io: Io): void {
  program
    .command('status')
    .description("the machine's own KSM, read-only: the counters and knobs of /sys/kernel/mm/ksm, general_profit, ksmd's CPU use, the processes with KSM activity")
    .option('--real', "read this machine's kernel (the only source status has)")
    .option('--json', 'print JSON (with --watch: one object per line)')
    .addOption(new Option('--watch <seconds>', 'sample every SECONDS and print rates per second; Ctrl-C ends').argParser(parseSeconds))
    .addOption(new Option('--count <n>', 'with --watch: end after N samples').argParser((v) => {
      if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError('expected a positive integer');
      return Number(v);
    }))
    .addOption(new Option('--sort <key>', 'the process list order').choices(PROCESS_SORTS).default('merging'))
    .action((opts: { real?: boolean; json?: boolean; watch?: number; count?: number; sort: ProcessSort }) => runStatus(opts, (s) => io.out(s)));

  program
    .command('verify')
    .description("run a workload on this machine's KSM (as root) and on the simulated era closest to uname -r, and print the first snapshot and counter that differ (exit 1) or that all agree (exit 0); --recover puts back the knobs a killed run left changed")
    .argument('[workload]', 'workload file, or builtin:NAME')
    .option('--era <era>', 'the simulated era to compare with (default: the v3 kernel closest to uname -r)')
    .option('--sysfs <name=value>', 'write /sys/kernel/mm/ksm/NAME before the first step, on both sides (repeatable)', collect)
    .option('--json', 'print both runs and the comparison as JSON')
    .option('--force', 'run although KSM holds pages or other processes are registered (their pages get unmerged)')
    .addOption(new Option('--wait <seconds>', 'wait up to SECONDS for another run to end and KSM to be free').argParser(parseSeconds))
    .option('--recover', 'restore /sys/kernel/mm/ksm from the recovery file of a run that was killed, and do nothing else')
    .action((spec: string | undefined, opts: { era?: string; sysfs?: string[]; json?: boolean; force?: boolean; wait?: number; recover?: boolean }) =>
      runVerify(spec, opts, (s) => io.out(s), (s) => io.err(s)),
    );

  program
    .command('calibrate')
    .description("measure what ksmd's work costs in CPU on this machine's kernel (as root, with KSM) and store it as a CPU profile; --check compares a profile's predictions with the real kernel on workloads it was not fitted on")
    .option('--profile <name>', 'the profile to write (or, with --check, to check); default: default')
    .option('--out <file>', 'write the profile to FILE instead of the user profile directory')
    .option('--workloads <dir>', "run the workload files of DIR instead of the built-in calibration (or check) set")
    .option('--check', "compare the profile's predicted ksmd CPU per pass with the real kernel's; exit 1 when one is off by more than 25 %")
    .option('--json', 'print the profile (or the check) as JSON')
    .option('--force', 'replace an existing profile file; run although KSM holds pages or other processes are registered')
    .addOption(new Option('--wait <seconds>', 'wait up to SECONDS for another run to end and KSM to be free').argParser(parseSeconds))
    .action((opts: { profile?: string; out?: string; workloads?: string; check?: boolean; json?: boolean; force?: boolean; wait?: number }) =>
      runCalibrate(opts, (s) => io.out(s), (s) => io.err(s)),
    );
}
