/**
 * `ksmctl tui [WORKLOAD] [--era E] [--abi A]`, and `ksmctl` alone: the TUI
 * on a workload (the built-in guests-live by default). This module only
 * prepares it (the session, loaded); the CLI's entry point opens the
 * terminal. Without a terminal, the CLI says so and prints the workload's
 * table instead (`noTerminal`).
 */
import { findSessionEra, SESSION_ERAS, sessionEraSpecs } from '../../session/eras.js';
import type { AppProps } from '../../tui/app.js';
import { builtinChurn, DEFAULT_WORKLOAD } from '../../workload/builtin.js';
import type { Workload } from '../../workload/schema.js';
import { CliError } from '../errors.js';

export interface TuiOptions {
  era: string;
  abi?: string;
}

/** The `--era` values the TUI knows. */
export function tuiEraNames(): string[] {
  return [...new Set(SESSION_ERAS.map((e) => e.era))];
}

/** A session of the chosen era with the workload loaded, and what the app needs beside it. */
export function prepareTui(w: Workload, opts: TuiOptions): AppProps {
  const era = findSessionEra(opts.era, opts.abi);
  if (era === undefined) {
    const what = opts.abi === undefined ? `era "${opts.era}"` : `era "${opts.era}" with ABI "${opts.abi}"`;
    throw new CliError(`the TUI has no ${what} (known: ${sessionEraSpecs().join(', ')})`);
  }
  const session = era.create();
  const loadCalls = session.load(w);
  const churn = w.source === `builtin:${w.name}` ? builtinChurn(w.name) : [];
  return { session, workload: w, churn, loadCalls };
}

/** What ksmctl says on stderr when the TUI cannot open: no terminal, and what to run instead. */
export function noTerminalMessage(spec: string | undefined): string {
  const instead = spec ?? `builtin:${DEFAULT_WORKLOAD}`;
  return `ksmctl: the TUI needs a terminal (stdin and stdout must be TTYs); try \`ksmctl workload run ${instead}\`. Running it:`;
}
