/**
 * `ksmctl tui [WORKLOAD] [--era E] [--abi A]`, and `ksmctl` alone: the TUI
 * on a workload (the built-in guests-live by default). This module only
 * prepares it (the session, loaded); the CLI's entry point opens the
 * terminal. Without a terminal, the CLI says so and prints the workload's
 * table instead (`noTerminal`).
 *
 * When a ksmctl host answers on the socket the verbs use (--socket,
 * $KSMCTL_HOST, the default path), the TUI attaches to it instead
 * (`attachTui`): the host's kernel, processes and trace, steered through
 * the host. A WORKLOAD, --era/--abi or --no-host ask for a private session;
 * --host insists on the host.
 */
import { hostRequest, HostUnreachable } from '../../host/client.js';
import { findSessionEra, SESSION_ERAS, sessionEraSpecs } from '../../session/eras.js';
import { AttachedSession } from '../../tui/attached.js';
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

/** How `ksmctl tui` chooses between the host and a private session. */
export interface TuiTarget {
  /** true: --host (a host must answer); false: --no-host; undefined: the host if one answers. */
  host?: boolean;
  socket?: string;
  /** A workload, --era or --abi was given: a private session is asked for. */
  privateAsked: boolean;
}

/** The socket to try, or null for a private session; a one-line error (exit 2) for --host with a private session's options. */
export function hostToTry(t: TuiTarget, socketOf: (option?: string) => string): string | null {
  if (t.host === true && t.privateAsked) throw new CliError('--host shows the host\'s own era and processes: it takes no WORKLOAD, --era or --abi', 2);
  if (t.host === false || t.privateAsked) return null;
  return socketOf(t.socket);
}

/** The one-line error of --host when no host answers. */
export function noHostError(path: string): CliError {
  return new CliError(`no ksmctl host on ${path} (start one with: ksmctl host start)`, 2);
}

/** Whether a host answers on `path` (without a terminal there is nothing to attach, only to tell). */
export async function hostAnswers(path: string): Promise<boolean> {
  try {
    const r = await hostRequest(path, { op: 'ping' });
    return r.ok;
  } catch (e) {
    if (e instanceof HostUnreachable) return false;
    throw e;
  }
}

/**
 * The TUI's props attached to the host on `path`, or null when nobody
 * answers there. The caller closes the connection (`session.close()`) once
 * the TUI has ended.
 */
export async function attachTui(path: string): Promise<(AppProps & { session: AttachedSession }) | null> {
  let session: AttachedSession;
  try {
    session = await AttachedSession.connect(path);
  } catch (e) {
    if (e instanceof HostUnreachable) return null;
    throw new CliError(`cannot attach to the host on ${path}: ${(e as Error).message}`, 1);
  }
  return { session };
}

/** What ksmctl says on stderr when the TUI cannot open on a running host: no terminal, and what it prints instead. */
export function noTerminalHostMessage(path: string): string {
  return `ksmctl: the TUI needs a terminal (stdin and stdout must be TTYs); a host runs on ${path}, \`ksmctl host status\` shows it. Running it:`;
}
