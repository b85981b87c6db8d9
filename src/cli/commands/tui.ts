/**
 * `ksmctl tui [WORKLOAD] [--era E] [--abi A] [--kernel K]`, and `ksmctl`
 * alone: the TUI on a workload (the built-in guests-live by default) under
 * any era of the registry (`--era v3:6.18`, or the old `--era v3 --kernel
 * 6.18`; default v3:2.6.32, or the kernel a workload file names). This
 * module only prepares it (the session, loaded); the CLI's entry point opens
 * the terminal. Without a terminal, the CLI says so and prints the
 * workload's table instead (`noTerminal`).
 *
 * When a ksmctl host answers on the socket the verbs use (--socket,
 * $KSMCTL_HOST, the default path), the TUI attaches to it instead
 * (`attachTui`): the host's kernel, processes and trace, steered through
 * the host. A WORKLOAD, --era/--abi/--kernel or --no-host ask for a private session;
 * --host insists on the host.
 */
import { hostRequest, HostUnreachable } from '../../host/client.js';
import { DEFAULT_ERA, type EraEntry, EraInputError, parseEra } from '../../eras/registry.js';
import { AdapterSession } from '../../session/adapter-session.js';
import { AttachedSession } from '../../session/attached.js';
import type { AppProps } from '../../tui/app.js';
import { builtinChurn, DEFAULT_WORKLOAD } from '../../workload/builtin.js';
import type { Workload } from '../../workload/schema.js';
import { builtinPreload } from '../../workload/library.js';
import { CliError } from '../errors.js';

export interface TuiOptions {
  /** Any spelling of the registry (an id or an alias); default v3:2.6.32. */
  era?: string;
  abi?: string;
  kernel?: string;
}

/**
 * The era of the options for workload `w`: --era/--abi/--kernel as every
 * command reads them; a workload file that names a kernel runs under it
 * when the era is the v3 family's default (`v3`, or no --era), as `workload
 * run` does. A bad value is a one-line error (exit 2).
 */
export function tuiEra(w: Workload | undefined, opts: TuiOptions): EraEntry {
  try {
    // --abi or --kernel alone names the family's era of that version.
    const text = opts.era ?? (opts.abi !== undefined ? 'v1' : opts.kernel !== undefined ? 'v3' : DEFAULT_ERA);
    const era = parseEra(text, { abi: opts.abi, kernel: opts.kernel });
    const familyDefault = opts.era === undefined || opts.era === 'v3';
    if (w?.kernel !== undefined && opts.kernel === undefined && era.family === 'v3' && familyDefault) return parseEra('v3', { kernel: w.kernel });
    return era;
  } catch (e) {
    if (e instanceof EraInputError) throw new CliError(e.message.startsWith('unknown era') ? `--era: ${e.message}` : e.message, 2);
    throw e;
  }
}

/** A session of the chosen era with the workload loaded, and what the app needs beside it. */
export function prepareTui(w: Workload, opts: TuiOptions): AppProps {
  const session = new AdapterSession(tuiEra(w, opts));
  const loadCalls = session.load(w, builtinPreload(w));
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
  /** A workload, --era, --abi or --kernel was given: a private session is asked for. */
  privateAsked: boolean;
}

/** The socket to try, or null for a private session; a one-line error (exit 2) for --host with a private session's options. */
export function hostToTry(t: TuiTarget, socketOf: (option?: string) => string): string | null {
  if (t.host === true && t.privateAsked) throw new CliError('--host shows the host\'s own era and processes: it takes no WORKLOAD, --era, --abi or --kernel', 2);
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
