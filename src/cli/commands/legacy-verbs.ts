/**
 * The verbs of the original ksmctl program, `ksmctl start N S | start N M S
 * | stop | info` (and every prefix of them, matched as the original matched):
 * they run the ksmctl program of the host's era on the host (`ksmctl
 * host`), printing exactly what it printed and exiting with its status. On
 * a v1 host that is the program of the loaded driver's ABI; on the madvise
 * eras, and with no host running, there is no /dev/ksm, and they say what
 * the original said when its open failed.
 */
import type { Command } from 'commander';
import { hostRequest, HostUnreachable } from '../../host/client.js';
import { socketPath } from '../../host/paths.js';
import type { HostResponse } from '../../host/protocol.js';
import { OPEN_FAILED_MESSAGE } from '../../script/ksmctl.js';
import { CliError, exitStatus } from '../errors.js';
import { type Io, LineWriter } from '../io.js';
import { socketOption } from './host.js';

/** A legacy verb (`start`, `st`, `info`, ...): runs the era's ksmctl on the host; its exit status. */
export async function legacyVerb(word: string, args: string[], opts: { socket?: string }, io: Io): Promise<number> {
  const path = socketPath(opts.socket);
  let r: HostResponse;
  try {
    r = await hostRequest(path, { op: 'ksmctl', args: [word, ...args] });
  } catch (e) {
    if (e instanceof HostUnreachable) {
      // No simulated machine, so no /dev/ksm: what the original printed when the open failed.
      io.err(OPEN_FAILED_MESSAGE.trimEnd());
      return 1;
    }
    throw e;
  }
  if (!r.ok) throw new CliError(`host: ${r.error}`, 2);
  const w = new LineWriter(io);
  for (const c of r.output ?? []) w.write(c.fd, c.text);
  w.flush();
  return r.status ?? 0;
}

/** Every prefix the original matched, and the verbs each runs (`s` and `st` run start, then stop). */
const VERB_WORDS = ['start', 'stop', 'info', 's', 'st', 'sta', 'star', 'sto', 'i', 'in', 'inf'];

const VERB_HELP: Record<string, string> = {
  start: 'ksmctl of 2009: start kksmd scanning (start NPAGES_TO_SCAN SLEEP; on a Nov 2008 host: start NPAGES_TO_SCAN MAX_PAGES_TO_MERGE SLEEP)',
  stop: 'ksmctl of 2009: stop kksmd',
  info: "ksmctl of 2009: print kksmd's settings",
};

/** Adds the verbs to the program. */
export function addLegacyVerbs(program: Command, io: Io): void {
  for (const word of VERB_WORDS) {
    const help = VERB_HELP[word];
    program
      .command(word, { hidden: help === undefined })
      .description(help ?? '')
      .argument('[args...]', 'the arguments of the original ksmctl')
      .addOption(socketOption())
      .allowUnknownOption()
      .allowExcessArguments()
      .action(async (args: string[], opts: { socket?: string }) => exitStatus(await legacyVerb(word, args, opts, io)));
  }
}
