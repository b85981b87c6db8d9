/**
 * The ksmctl command line: commander only parses; each command is a function
 * in commands/ that returns data or text, so it can be tested in-process.
 */
import { existsSync } from 'node:fs';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { ERA_IDS, ERA_OPTION_HELP, REAL_ERA_ID } from '../eras/registry.js';
import { DEFAULT_TUI_WORKLOAD, DEFAULT_WORKLOAD } from '../workload/builtin.js';
import { attachTui, hostAnswers, hostToTry, noHostError, noTerminalHostMessage, noTerminalMessage, prepareTui, type TuiOptions, type TuiTarget, tuiEra } from './commands/tui.js';
import { socketPath } from '../host/paths.js';
import { collect, formatRun, parseUid, resolveWorkload, stdinWorkload, withMeasuredCpu, workloadRun } from './commands/workload-run.js';
import { KERNEL_VERSIONS } from '../v3-sysfs/kernels.js';
import { addHostCommands, hostStatus } from './commands/host.js';
import { addLegacyVerbs } from './commands/legacy-verbs.js';
import { addRunCommand } from './commands/run.js';
import { DEFAULT_ERAS, formatCompare, outputWidth, runCompare, writeReport } from './commands/compare.js';
import { POLICIES_HELP, sweepCommand } from './commands/sweep.js';
import { CliError } from './errors.js';
import { formatEras, listEras } from './commands/eras.js';
import { formatWorkloads, listWorkloads } from './commands/workloads.js';
import { addSnapshotCommand } from './commands/snapshot.js';
import { addEstimateCommand } from './commands/estimate.js';
import { addExecCommands } from './commands/exec.js';
import type { Io } from './io.js';
import { addRealCommands } from './commands/real.js';
import { realWorkloadRun } from './commands/real-run.js';
import { realTui } from './commands/real-tui.js';
import { parseSeconds } from './commands/status.js';
import { checkOutputPath } from './files.js';
import { packageVersion } from './version.js';
import { wantColor } from './color.js';
import { showCursorOnExit } from './cursor.js';
import { completionScript, type Shell, SHELLS } from './completion.js';
import { checkWorkloadMemory, FORCE_MEMORY_HELP } from './memory-guard.js';
import { progressWanted, taskProgress } from './progress.js';

export type { Io } from './io.js';

/** --register of the commands that take snapshot:FILE (src/snapshot/policy.ts). */
const REGISTER_HELP = 'snapshot:FILE: the ranges registered: auto (default), captured (MADV_MERGEABLE when captured), anon (every private anonymous range), all-private (as prctl(PR_SET_MEMORY_MERGE))';

export function buildProgram(io: Io): Command {
  const program = new Command('ksmctl')
    .description('Linux KSM in all of its historical API eras, on one simulated engine')
    .version(packageVersion(), '-V, --version', 'print the version of ksmctl')
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      // commander's parser errors start "error: "; every ksmctl error starts "ksmctl: ".
      outputError: (s, write) => write(s.replace(/^error: /, 'ksmctl: ')),
    })
    .exitOverride()
    .showHelpAfterError('(ksmctl --help lists the commands)')
    // `ksmctl help CMD`: commander adds it only to programs without their own action.
    .helpCommand(true);

  // The TUI on a terminal; elsewhere, a note on stderr and the workload's table.
  const tui = async (spec: string | undefined, opts: TuiOptions & { register?: string; forceMemory?: boolean }, target: TuiTarget = { privateAsked: false }) => {
    // A bad --era, --abi or --kernel is refused before anything else (exit 2).
    tuiEra(undefined, opts);
    // Attached to the running host, unless a private session is asked for.
    const path = hostToTry({ ...target, privateAsked: target.privateAsked || spec !== undefined }, socketPath);
    if (path !== null) {
      if (!io.isTTY || io.tui === undefined) {
        if (await hostAnswers(path)) {
          io.err(noTerminalHostMessage(path));
          await hostStatus({ socket: path }, io);
          return;
        }
        if (target.host === true) throw noHostError(path);
      } else {
        const props = await attachTui(path);
        if (props !== null) {
          try {
            await io.tui(props);
          } finally {
            props.session.close();
          }
          return;
        }
        if (target.host === true) throw noHostError(path);
      }
    }
    if (!io.isTTY || io.tui === undefined) {
      io.err(noTerminalMessage(spec));
      const w = resolveWorkload(spec ?? `builtin:${DEFAULT_WORKLOAD}`, existsSync, opts);
      io.out(formatRun(workloadRun(w, { era: tuiEra(w, opts).id, forceMemory: opts.forceMemory, what: spec }), false));
      return;
    }
    const w = resolveWorkload(spec ?? `builtin:${DEFAULT_TUI_WORKLOAD}`, existsSync, opts);
    // The memory guard before the terminal is taken over: a refusal is one line in the shell.
    checkWorkloadMemory(spec ?? w.name, w, [tuiEra(w, opts).id], { force: opts.forceMemory });
    await io.tui(prepareTui(w, opts));
  };

  // The bare `ksmctl` opens the TUI; any word left over names no command.
  program.action(() => {
    if (program.args.length > 0) unknownCommand(program);
    return tui(undefined, {});
  });

  program
    .command('tui')
    .description(`watch and steer the scanner interactively (default workload: builtin:${DEFAULT_TUI_WORKLOAD})`)
    .argument('[workload]', `workload file, builtin:NAME (${DEFAULT_TUI_WORKLOAD}), or snapshot:FILE`)
    .addOption(new Option('--era <era>', `${ERA_OPTION_HELP}; default v3:2.6.32, or the kernel the workload file names`))
    .addOption(new Option('--abi <abi>', 'the old spelling of v1:2008 / v1:2009: --era v1 --abi 2009'))
    .addOption(new Option('--kernel <version>', 'the old spelling of v3:VERSION: --era v3 --kernel 6.18'))
    .option('--host', 'attach to the running ksmctl host (the default when one answers and no WORKLOAD, --era, --abi or --kernel is given); fail if none does')
    .option('--no-host', 'a private session even when a ksmctl host runs')
    .option('--socket <path>', 'the host socket (default: $KSMCTL_HOST, or host.sock in a per-user runtime directory)')
    .option('--register <policy>', REGISTER_HELP)
    .option('--real', "this machine's own KSM (read-only; as root the controls write /sys/kernel/mm/ksm)")
    .option('--force-memory', FORCE_MEMORY_HELP)
    .action((spec: string | undefined, opts: TuiOptions & { host?: boolean; socket?: string; real?: boolean; register?: string }, cmd: Command) =>
      opts.real === true
        ? realTui(io)
        : tui(spec, opts, { host: opts.host, socket: opts.socket, privateAsked: cmd.getOptionValueSource('era') === 'cli' || opts.abi !== undefined || opts.kernel !== undefined }),
    );

  const workload = program.command('workload').description('run workload files (docs/workload-format.md)');
  workload
    .command('run')
    .description('run a workload under one era and print its counters')
    .argument('<file>', `workload file, - (read from stdin), builtin:NAME (${DEFAULT_WORKLOAD}), or snapshot:FILE (ksmctl snapshot)`)
    .addOption(new Option('--era <era>', ERA_OPTION_HELP).default('v3'))
    .addOption(new Option('--abi <abi>', 'the old spelling of v1:2008 / v1:2009: --era v1 --abi 2009').choices(['2008', '2009']))
    .addOption(new Option('--kernel <version>', "the old spelling of v3:VERSION: --era v3 --kernel 6.18 (default: the workload's \"kernel\", else 2.6.32)").choices(KERNEL_VERSIONS))
    .option('--sysfs <name=value>', '--era v3: write /sys/kernel/mm/ksm/NAME before the first step (repeatable)', collect)
    .option('--node <proc[:region]=node>', "--era v3: the NUMA node of a process's regions, or of one region (repeatable)", collect)
    .addOption(new Option('--user <uid>', "run the workload's processes as this user (default 0, root); the era's permission checks apply, and refused calls are listed under errors").argParser(parseUid))
    .option('--json', 'print exactly the JSON of the workload schema')
    .option('--register <policy>', REGISTER_HELP)
    .option('--force', '--era real: run although KSM holds pages or other processes are registered (their pages get unmerged)')
    .addOption(new Option('--wait <seconds>', '--era real: wait up to SECONDS for another run to end and KSM to be free').argParser(parseSeconds))
    .option('--ksmd-cpu [profile]', "add ksmd's CPU seconds and share of a core (JSON: ksmd_cpu): by the CPU model and PROFILE (default: default), or measured from /proc with --era real")
    .option('--force-memory', FORCE_MEMORY_HELP)
    .action(async (file: string, opts: { era: string; abi?: string; kernel?: string; sysfs?: string[]; node?: string[]; user?: number; json?: boolean; force?: boolean; wait?: number; register?: string; ksmdCpu?: boolean | string; forceMemory?: boolean }) => {
      const w = file === '-' ? stdinWorkload() : resolveWorkload(file, existsSync, opts);
      if (opts.era === REAL_ERA_ID) {
        // Real processes hold every page for real, and the simulated mirror besides.
        checkWorkloadMemory(file === '-' ? '<stdin>' : file, w, [REAL_ERA_ID], { force: opts.forceMemory, realPages: true });
        return io.out(formatRun(withMeasuredCpu(await realWorkloadRun(w, opts, (l) => io.err(`ksmctl: ${l}`)), opts.ksmdCpu), opts.json === true));
      }
      const progress = taskProgress('workload run');
      try {
        io.out(formatRun(workloadRun(w, { era: opts.era, abi: opts.abi, kernel: opts.kernel, sysfs: opts.sysfs, node: opts.node, user: opts.user, ksmdCpu: opts.ksmdCpu, forceMemory: opts.forceMemory, what: file === '-' ? '<stdin>' : file, progress: progress?.update }), opts.json === true));
      } finally {
        progress?.stop();
      }
    });
  program
    .command('eras')
    .description('list the eras --era takes: what each registers with, its control files, merger, counters and seed')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => io.out(formatEras(listEras(), opts.json === true)));
  program
    .command('workloads')
    .description('list the built-in workloads and their parameters')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => io.out(formatWorkloads(listWorkloads(), opts.json === true)));

  const count = (min: number) => (v: string) => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > 1 << 20) throw new InvalidArgumentError(`expected an integer from ${min} to ${1 << 20}`);
    return Number(v);
  };
  program
    .command('compare')
    .description('run one workload under several eras side by side: pages saved, convergence, hashing and comparison work, tree and bucket shapes, copy-on-write breaks, metadata')
    .argument('[workload]', 'workload file, builtin:NAME[:key=value,...] (ksmctl workloads lists them), or snapshot:FILE')
    // Required but for --merge, which joins parts already run: the usage line says what nearly every use needs.
    .usage('[options] <workload>')
    .option('--eras <list>', `comma-separated eras: ${ERA_IDS.join(', ')} (v1 = v1:2008, v3 = v3:2.6.32; ksmctl eras lists them)`, DEFAULT_ERAS)
    .option('--checksum <list>', "run every era with each of these page checksums instead of its own: lookup2, lookup3, xxhash (an experiment, not era behaviour)")
    .addOption(new Option('--passes <n>', "exactly N more full passes after the workload's steps").argParser(count(0)).conflicts('untilConverged'))
    .option('--until-converged', "after the workload's steps, passes until 2 in a row change nothing (the default)")
    .option('--max-passes <n>', 'the most passes --until-converged runs', count(1), 50)
    .option('--jobs <n>', 'configurations run at once, one worker thread each (default: all of them)', count(1))
    .option('--json', 'print the comparison as JSON')
    .option('--wide', 'tables at full width (default: the terminal\'s width, or 80 columns off a terminal, paging the eras)')
    .option('--report <file.html>', 'also write a self-contained HTML report with one chart per family of metrics')
    .option('--register <policy>', REGISTER_HELP)
    .option('--force', 'replace the --report file if it exists')
    .option('--force-memory', `${FORCE_MEMORY_HELP}; every configuration running at once holds its own copy`)
    .option('--policies <list>', POLICIES_HELP)
    .option('--sweep <knob=values>', 'a knob and its values (pages_to_scan=100,500): every combination with the eras and policies runs on the timeline (repeat for more knobs; docs/sweeps.md)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--until <seconds>', "the timeline's end (default: the workload's own, or 600 s)", count(1))
    .option('--list', 'print the sweep: one line per run, its index and configuration, and run nothing')
    .option('--shard <i/n>', 'run shard I of N of the sweep (the runs whose index is I-1 modulo N)')
    .option('--out <file.jsonl>', 'write the runs as JSON Lines (one part of --merge), whole and atomically')
    .option('--merge <parts...>', 'join the JSON Lines of shards (no WORKLOAD) into the table and report of the whole sweep')
    .action(async (spec: string | undefined, opts: { eras: string; checksum?: string; passes?: number; untilConverged?: boolean; maxPasses: number; jobs?: number; json?: boolean; report?: string; register?: string; force?: boolean; policies?: string; sweep?: string[]; until?: number; list?: boolean; shard?: string; out?: string; merge?: string[]; wide?: boolean; forceMemory?: boolean }, cmd: Command) => {
      if (opts.report !== undefined) checkOutputPath(opts.report, opts.force);
      if (opts.merge !== undefined || opts.policies !== undefined || opts.sweep !== undefined || opts.list || opts.shard !== undefined || opts.out !== undefined || opts.until !== undefined) {
        await sweepCommand(spec, opts, cmd.getOptionValueSource('eras') === 'cli', io);
        return;
      }
      if (spec === undefined) throw new CliError("missing required argument 'workload'", 2);
      const color = wantColor(io.isTTY);
      // Progress goes to stderr whenever it is a terminal, whatever stdout is (a file, a pipe, --json).
      const bars = progressWanted() ? (await import('../compare/progress.js')).progressBars : undefined;
      // The bars hide the cursor: it comes back on Ctrl-C and SIGTERM too.
      const cursor = bars ? showCursorOnExit(process.stderr) : undefined;
      let c;
      try {
        c = await runCompare(spec, opts, existsSync, bars && ((labels, expected, open) => bars(labels, { stream: process.stderr, expectedPasses: expected, open })));
      } finally {
        cursor?.();
      }
      if (opts.report !== undefined) {
        writeReport(c, opts.report, ['ksmctl', ...process.argv.slice(2)].join(' '), opts.force === true);
        io.err(`HTML report: ${opts.report}`);
      }
      io.out(formatCompare(c, { json: opts.json === true, color, width: outputWidth(opts.wide === true, { isTTY: io.isTTY, columns: process.stdout.columns }) }));
    });
  addRunCommand(program, io);
  addLegacyVerbs(program, io);
  addHostCommands(program, io);
  addRealCommands(program, io);
  addSnapshotCommand(program, io);
  addEstimateCommand(program, io);
  program
    .command('completion')
    .description('print the shell completion script for bash, zsh or fish (docs/shell-completion.md)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell) => io.out(completionScript(program, shell)));
  addExecCommands(program, io);
  // Set last, so no subcommand inherits it: the root's own action reports the
  // extra words as an unknown command, not as "too many arguments".
  program.allowExcessArguments(true);
  return program;
}

/** commander's own "unknown command 'X'" error, with its "(Did you mean ...?)" suggestion. */
function unknownCommand(program: Command): never {
  (program as unknown as { unknownCommand(): never }).unknownCommand();
  throw new Error('unreachable');
}
