/**
 * The commands on the machine's own KSM: `status --real` (read-only) and
 * `verify` (the real kernel against its simulated era). Registered on the
 * program by one call, so program.ts stays a list of commands.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Io } from '../program.js';
import { PROCESS_SORTS, type ProcessSort } from '../../real/proc.js';
import { parseSeconds, runStatus } from './status.js';

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
}
