/**
 * `ksmctl tui --real`: the TUI on the machine's own KSM (src/real/session.ts).
 * Without a terminal it says so and prints `status --real` instead.
 */
import { existsSync } from 'node:fs';
import { SYSTEM_PATHS } from '../../real/paths.js';
import { RealSession } from '../../real/session.js';
import { CliError } from '../errors.js';
import type { Io } from '../program.js';
import { runStatus } from './status.js';
import { DEFAULT_HASH_TABLES, type Workload } from '../../workload/schema.js';

export async function realTui(io: Io): Promise<void> {
  if (!existsSync(SYSTEM_PATHS.sysfs)) throw new CliError(`no ${SYSTEM_PATHS.sysfs}: this kernel was built without KSM (CONFIG_KSM)`, 2);
  if (!io.isTTY || io.tui === undefined) {
    io.err('ksmctl: the TUI needs a terminal (stdin and stdout must be TTYs); try `ksmctl status --real`. Running it:');
    await runStatus({ real: true }, (s) => io.out(s));
    return;
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const note = root ? `the controls write ${SYSTEM_PATHS.sysfs} (as root)` : `read-only: the controls need root`;
  // A workload of no process names the view; there is no era to switch to.
  const machine: Workload = { name: 'this machine', description: '', pagesToScan: 0, hashTables: { ...DEFAULT_HASH_TABLES }, processes: [], steps: [] };
  await io.tui({ session: new RealSession(SYSTEM_PATHS), workload: machine, eras: [], loadCalls: [{ text: `watching this machine's KSM; ${note}`, ok: true }] });
}
