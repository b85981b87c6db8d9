/**
 * The ksmctl command line: commander only parses; each command is a function
 * in commands/ that returns data or text, so it can be tested in-process.
 */
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { AppProps } from '../tui/app.js';
import { eraNames } from '../workload/eras.js';
import { DEFAULT_TUI_WORKLOAD, DEFAULT_WORKLOAD } from '../workload/builtin.js';
import { noTerminalMessage, prepareTui, tuiEraNames } from './commands/tui.js';
import { formatRun, resolveWorkload, workloadRun } from './commands/workload-run.js';
import { addScriptCommands } from './commands/script.js';

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
  const tui = async (spec: string | undefined, opts: { era: string; abi?: string }) => {
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
    .action((spec: string | undefined, opts: { era: string; abi?: string }) => tui(spec, opts));

  const workload = program.command('workload').description('run workload files (shared/workloads/SCHEMA.md)');
  workload
    .command('run')
    .description('run a workload under one era and print its counters')
    .argument('<file>', `workload file, or builtin:NAME (${DEFAULT_WORKLOAD})`)
    .addOption(new Option('--era <era>', 'API era').choices(eraNames()).default('v3'))
    .addOption(new Option('--abi <abi>', 'the ioctl ABI of --era v1: 2008 (Nov 2008, hash-table merger) or 2009 (Mar 2009, tree merger); default 2008').choices(['2008', '2009']))
    .option('--json', 'print exactly the JSON of the workload schema')
    .action((file: string, opts: { era: string; abi?: string; json?: boolean }) => {
      const w = resolveWorkload(file, existsSync);
      io.out(formatRun(workloadRun(w, { era: opts.era, abi: opts.abi }), opts.json === true));
    });
  addScriptCommands(program, io);
  return program;
}
