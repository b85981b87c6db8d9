#!/usr/bin/env node
/** ksmctl: the command-line entry point. Errors become one line and an exit status. */
import { CommanderError } from 'commander';
import { CliError } from './errors.js';
import { buildProgram } from './program.js';

const io = {
  out: (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  isTTY: process.stdout.isTTY === true && process.stdin.isTTY === true,
};

try {
  await buildProgram(io).parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof CliError) {
    io.err(`ksmctl: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`ksmctl: internal error: ${msg}`);
    if (process.env.KSMCTL_DEBUG && e instanceof Error) io.err(e.stack ?? '');
    process.exitCode = 70;
  }
}
