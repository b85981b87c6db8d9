#!/usr/bin/env node
/** ksmctl: the command-line entry point. Errors become one line and an exit status. */
import { CommanderError } from 'commander';
import type { AppProps } from '../tui/app.js';
import { applyNoColor } from './color.js';
import { CliError } from './errors.js';
import { isSizeError, sizeErrorMessage } from './memory-guard.js';
import { buildProgram } from './program.js';

// NO_COLOR reaches the TUI's chalk (loaded later, with the TUI) as FORCE_COLOR=0.
applyNoColor();

const io = {
  out: (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  isTTY: process.stdout.isTTY === true && process.stdin.isTTY === true,
  // Loaded only when a terminal opens: ink and react stay out of `workload run`.
  tui: async (props: AppProps) => (await import('../tui/run.js')).runTui(props),
};

try {
  await buildProgram(io).parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof CliError) {
    // An empty message: the command printed its own output and only sets the status.
    if (e.message !== '') io.err(`ksmctl: ${e.message}`);
    process.exitCode = e.exitCode;
  } else if (isSizeError(e)) {
    // An allocation the memory guard did not foresee (or --force-memory let through): one line, not an internal error.
    io.err(`ksmctl: ${sizeErrorMessage(e as Error)}`);
    process.exitCode = 2;
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`ksmctl: internal error: ${msg}`);
    if (process.env.KSMCTL_DEBUG && e instanceof Error) io.err(e.stack ?? '');
    process.exitCode = 70;
  }
}
