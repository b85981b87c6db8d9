/**
 * `ksmctl exec [--era ID] -- PROGRAM ARGS...`: a natively compiled program
 * run against the simulated kernel of an era (src/exec); and `ksmctl cc
 * [--era ID] -- CC_ARGS...`: the C compiler with the era's own headers.
 * See docs/exec.md.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ERA_OPTION_HELP, parseEra } from '../../eras/registry.js';
import { pingHost } from '../../host/client.js';
import { socketPath } from '../../host/paths.js';
import { CliError, exitStatus } from '../errors.js';
import type { Io } from '../io.js';
import { socketOption, unreachable } from './host.js';

const positive = (what: string, max: number) => (v: string) => {
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new InvalidArgumentError(`expected ${what} from 1 to ${max}`);
  return Number(v);
};

interface ExecCliOptions {
  era?: string;
  start?: number;
  ramPages?: number;
  endOnPause?: boolean;
  settle: number;
  stats?: boolean;
  json?: boolean;
  trace?: boolean;
  host?: boolean;
  socket?: string;
}

function era(text: string) {
  if (text === 'real') throw new CliError('exec runs programs against a simulated era; --era real would be the real kernel, which exec never touches');
  try {
    return parseEra(text);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

export function addExecCommands(program: Command, io: Io): void {
  program
    .command('exec')
    .description('run a natively compiled program against the simulated kernel of an era: its KSM calls go to the simulator, everything else runs natively (docs/exec.md)')
    .argument('<program>', 'the program (a path, or a name on PATH); put -- before it when it takes options')
    .argument('[args...]', "the program's arguments")
    .addOption(new Option('--era <era>', `${ERA_OPTION_HELP.replace(/, or real .*$/, '')} (default v3; with --host: the host's, and another is refused)`))
    .addOption(new Option('--start <pages>', "start ksmd before the program, scanning PAGES per batch, through the era's own controls (v1: a control program's KSM_START_STOP_KTHREAD; v2, v3: sysfs)").argParser(positive('a page count', 1 << 24)))
    .addOption(new Option('--ram-pages <pages>', "the simulated machine's RAM in 4 KiB pages, as /proc/meminfo (MemTotal), sysinfo and sysconf show it to the program (default 67108864, 256 GiB; v1 eras 262144, 1 GiB)").argParser(positive('a page count', 1 << 30)))
    .option('--end-on-pause', 'when every process of the program waits in pause() and ksmd has settled, end them with SIGTERM')
    .addOption(new Option('--settle <seconds>', 'the most virtual seconds ksmd runs to settle while the program pauses').argParser(positive('seconds', 86400)).default(300))
    .option('--stats', "print the era's counters and the virtual time on stderr when the program has exited")
    .option('--json', 'with --stats: the stats as one JSON line')
    .option('--trace', 'print every intercepted call and its answer on stderr')
    .option('--host', "run on the ksmctl host (ksmctl host start): the program's processes become the host's, sharing its KSM with its other programs and scripts")
    .addOption(socketOption())
    .action(async (prog: string, args: string[], opts: ExecCliOptions) => {
      let entry = era(opts.era ?? 'v3');
      let hostSocket: string | undefined;
      if (opts.host === true) {
        if (opts.start !== undefined) throw new CliError("--start does not apply with --host: the host's ksmd is the host's (start it there: ksmctl start, or a script with ksmctl run --host)");
        if (opts.trace === true) throw new CliError("--trace does not apply with --host: the calls go to the host's trace (ksmctl tui --host shows it)");
        if (opts.ramPages !== undefined) throw new CliError("--ram-pages does not apply with --host: the host's machine has its own RAM");
        hostSocket = socketPath(opts.socket);
        const info = await pingHost(hostSocket);
        if (info === null) throw unreachable(hostSocket);
        // The host runs its era: another asked for is refused here, before the program starts (the host checks it too).
        // As for a script's #pragma era on the host, a bare family (v1, v3) asks for any of its versions.
        const hostEntry = era(info.era);
        const bare = opts.era === entry.family;
        const asked = bare ? entry.family : entry.id;
        if (opts.era !== undefined && (bare ? hostEntry.family !== entry.family : hostEntry.id !== entry.id)) {
          throw new CliError(`exec --era ${asked}: the host runs ${hostEntry.id} (ksmctl host start --era ${asked}, or exec without --host)`);
        }
        entry = hostEntry;
      } else if (opts.socket !== undefined) throw new CliError('--socket applies only with --host');
      const { formatStats, runExec } = await import('../../exec/run.js');
      const r = await runExec(entry, prog, args, {
        startPages: opts.start,
        ramPages: opts.ramPages,
        endOnPause: opts.endOnPause === true,
        settleSeconds: opts.settle,
        trace: opts.trace === true ? (l) => io.err(`ksmctl exec: ${l}`) : undefined,
        hostSocket,
        hostEra: hostSocket !== undefined ? entry.id : undefined,
        onHostError: (l) => io.err(l),
      });
      if (opts.stats === true) io.err(opts.json === true ? JSON.stringify(r.stats) : formatStats(r.stats));
      exitStatus(r.status);
    });
  program
    .command('cc')
    .description("compile a C program against an era's own headers (linux/ksm.h of Nov 2008 / Mar 2009, the era's madvise values): cc -I ERA-INCLUDE ... (docs/exec.md)")
    .argument('[args...]', 'the compiler arguments; put -- before them')
    .addOption(new Option('--era <era>', ERA_OPTION_HELP.replace(/, or real .*$/, '')).default('v3'))
    .option('--print-include', "print the era's include directory and exit")
    .action(async (args: string[], opts: { era: string; printInclude?: boolean }) => {
      const entry = era(opts.era);
      const { eraIncludeDir, runCc } = await import('../../exec/cc.js');
      if (opts.printInclude === true) return io.out(eraIncludeDir(entry));
      exitStatus(runCc(entry, args));
    });
}
