/**
 * The ksmctl command line: commander only parses; each command is a function
 * in commands/ that returns data or text, so it can be tested in-process.
 */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AppProps } from '../tui/app.js';
import { eraNames } from '../workload/eras.js';
import { DEFAULT_TUI_WORKLOAD, DEFAULT_WORKLOAD } from '../workload/builtin.js';
import { attachTui, hostAnswers, hostToTry, noHostError, noTerminalHostMessage, noTerminalMessage, prepareTui, type TuiTarget, tuiEraNames } from './commands/tui.js';
import { socketPath } from '../host/paths.js';
import { collect, formatRun, parseUid, resolveWorkload, workloadRun } from './commands/workload-run.js';
import { KERNEL_VERSIONS } from '../v3-sysfs/kernels.js';
import { addScriptCommands } from './commands/script.js';
import { DEFAULT_ERAS, formatCompare, runCompare, writeReport } from './commands/compare.js';
import { formatWorkloads, listWorkloads } from './commands/workloads.js';
import { checkOutputPath } from './files.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdin and stdout are both terminals. */
  isTTY: boolean;
  /** Opens the TUI on the terminal and resolves when the user quits (absent: no TUI, as in tests). */
  tui?: (props: AppProps) => Promise<void>;
}

export function buildProgram(io: Io): Command {
  const program = new Command('ksmctl')
    .description('Linux KSM in all of its historical API eras, on one simulated engine')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride()
    .showHelpAfterError('(ksmctl --help lists the commands)');

  // The TUI on a terminal; elsewhere, a note on stderr and the workload's table.
  const tui = async (spec: string | undefined, opts: { era: string; abi?: string }, target: TuiTarget = { privateAsked: false }) => {
    // Attached to the running host, unless a private session is asked for.
    const path = hostToTry({ ...target, privateAsked: target.privateAsked || spec !== undefined }, socketPath);
    if (path !== null) {
      if (!io.isTTY || io.tui === undefined) {
        if (await hostAnswers(path)) {
          io.err(noTerminalHostMessage(path));
          const { hostStatus } = await import('./commands/script.js');
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
      const w = resolveWorkload(spec ?? `builtin:${DEFAULT_WORKLOAD}`, existsSync);
      io.out(formatRun(workloadRun(w, opts), false));
      return;
    }
    await io.tui(prepareTui(resolveWorkload(spec ?? `builtin:${DEFAULT_TUI_WORKLOAD}`, existsSync), opts));
  };

  program.action(() => tui(undefined, { era: 'v3' }));

  program
    .command('tui')
    .description(`watch and steer the scanner interactively (default workload: builtin:${DEFAULT_TUI_WORKLOAD})`)
    .argument('[workload]', `workload file, or builtin:NAME (${DEFAULT_TUI_WORKLOAD})`)
    .addOption(new Option('--era <era>', 'API era').choices(tuiEraNames()).default('v3'))
    .addOption(new Option('--abi <abi>', 'the ioctl ABI of --era v1: 2008 (Nov 2008, hash-table merger) or 2009 (Mar 2009, tree merger); default 2008').choices(['2008', '2009']))
    .option('--host', 'attach to the running ksmctl host (the default when one answers and no WORKLOAD, --era or --abi is given); fail if none does')
    .option('--no-host', 'a private session even when a ksmctl host runs')
    .option('--socket <path>', 'the host socket (default: $KSMCTL_HOST, or host.sock in a per-user runtime directory)')
    .action((spec: string | undefined, opts: { era: string; abi?: string; host?: boolean; socket?: string }, cmd: Command) =>
      tui(spec, opts, { host: opts.host, socket: opts.socket, privateAsked: cmd.getOptionValueSource('era') === 'cli' || opts.abi !== undefined }),
    );

  const workload = program.command('workload').description('run workload files (shared/workloads/SCHEMA.md)');
  workload
    .command('run')
    .description('run a workload under one era and print its counters')
    .argument('<file>', `workload file, or builtin:NAME (${DEFAULT_WORKLOAD})`)
    .addOption(new Option('--era <era>', 'API era').choices(eraNames()).default('v3'))
    .addOption(new Option('--abi <abi>', 'the ioctl ABI of --era v1: 2008 (Nov 2008, hash-table merger) or 2009 (Mar 2009, tree merger); default 2008').choices(['2008', '2009']))
    .addOption(new Option('--kernel <version>', "the kernel version of --era v3 (default: the workload's \"kernel\", else 2.6.32)").choices(KERNEL_VERSIONS))
    .option('--sysfs <name=value>', '--era v3: write /sys/kernel/mm/ksm/NAME before the first step (repeatable)', collect)
    .option('--node <proc[:region]=node>', "--era v3: the NUMA node of a process's regions, or of one region (repeatable)", collect)
    .addOption(new Option('--user <uid>', "run the workload's processes as this user (default 0, root); the era's permission checks apply, and refused calls are listed under errors").argParser(parseUid))
    .option('--json', 'print exactly the JSON of the workload schema')
    .action((file: string, opts: { era: string; abi?: string; kernel?: string; sysfs?: string[]; node?: string[]; user?: number; json?: boolean }) => {
      const w = resolveWorkload(file, existsSync);
      io.out(formatRun(workloadRun(w, { era: opts.era, abi: opts.abi, kernel: opts.kernel, sysfs: opts.sysfs, node: opts.node, user: opts.user }), opts.json === true));
    });
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
    .argument('<workload>', 'workload file, or builtin:NAME[:key=value,...] (ksmctl workloads lists them)')
    .option('--eras <list>', 'comma-separated eras: v1:2008 (hash table), v1:2009, v2, v3 (2.6.32), v3:3.9, v3:6.18', DEFAULT_ERAS)
    .option('--checksum <list>', "run every era with each of these page checksums instead of its own: lookup2, lookup3, xxhash (an experiment, not era behaviour)")
    .addOption(new Option('--passes <n>', "exactly N more full passes after the workload's steps").argParser(count(0)).conflicts('untilConverged'))
    .option('--until-converged', "after the workload's steps, passes until 2 in a row change nothing (the default)")
    .option('--max-passes <n>', 'the most passes --until-converged runs', count(1), 50)
    .option('--jobs <n>', 'configurations run at once, one worker thread each (default: all of them)', count(1))
    .option('--json', 'print the comparison as JSON')
    .option('--report <file.html>', 'also write a self-contained HTML report with one chart per family of metrics')
    .option('--force', 'replace the --report file if it exists')
    .action(async (spec: string, opts: { eras: string; checksum?: string; passes?: number; untilConverged?: boolean; maxPasses: number; jobs?: number; json?: boolean; report?: string; force?: boolean }) => {
      if (opts.report !== undefined) checkOutputPath(opts.report, opts.force);
      const color = io.isTTY;
      const bars = io.isTTY && process.stderr.isTTY
        ? (await import('../compare/progress.js')).progressBars
        : undefined;
      const c = await runCompare(spec, opts, existsSync, bars && ((labels, expected, open) => bars(labels, { stream: process.stderr, expectedPasses: expected, open })));
      if (opts.report !== undefined) {
        writeReport(c, opts.report, ['ksmctl', ...process.argv.slice(2)].join(' '), opts.force === true);
        io.err(`HTML report: ${opts.report}`);
      }
      io.out(formatCompare(c, { json: opts.json === true, color }));
    });
  addScriptCommands(program, io);
  return program;
}
