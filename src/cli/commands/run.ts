/**
 * `ksmctl run FILE [ARGS...] [--era E] [--trace] [-D NAME=VALUE] [--user UID] [--host]`:
 * a script (C as the programs of 2008-2009 wrote it, and a few shell lines)
 * on a fresh machine of any era, or on the ksmctl host. It prints the
 * script's output on stdout, its trace (--trace) and errors on stderr, and
 * exits 0, 1 (an expect failed) or 2 (a parse or runtime error, or a bad
 * option).
 *
 * `--era` takes every spelling of the era registry (`v1:2008` ... `v3:6.18`,
 * and the old `--era v1 --abi 2009`, `--era v3 --kernel 6.18`); without it
 * the script's `#pragma era` decides, else its includes (src/script/run.ts).
 */
import { type Command, Option } from 'commander';
import { readScriptFile } from '../files.js';
import { ERA_OPTION_HELP } from '../../eras/registry.js';
import { hostRequest, HostUnreachable } from '../../host/client.js';
import { socketPath } from '../../host/paths.js';
import type { HostResponse } from '../../host/protocol.js';
import { KERNEL_VERSIONS } from '../../v3-sysfs/kernels.js';
import { FORCE_MEMORY_HELP, memoryBudget } from '../memory-guard.js';
import { PER_PAGE_MAX } from '../../workload/memory-need.js';
import { CliError, exitStatus } from '../errors.js';
import { type Io, LineWriter } from '../io.js';
import { socketOption, unreachable } from './host.js';
import { parseUid } from './workload-run.js';

export interface ScriptRunCliOptions {
  era?: string;
  abi?: string;
  kernel?: string;
  trace?: boolean;
  define?: string[];
  host?: boolean;
  socket?: string;
  /** --user UID: the program runs as this user. */
  user?: number;
  /** Past the memory guard: no bound from this machine's memory. */
  forceMemory?: boolean;
}

function parseDefineOptions(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of list) {
    const i = d.indexOf('=');
    if (i <= 0) throw new CliError(`-D ${d}: expected NAME=VALUE`);
    out[d.slice(0, i)] = d.slice(i + 1);
  }
  return out;
}

/** A script's bounds from this machine's memory: contents up to the guard's budget, and as many mapped pages as the rest holds. */
function scriptMemoryBounds(): { maxContentBytes: number; maxMappedPages: number } {
  const budget = memoryBudget();
  return { maxContentBytes: budget, maxMappedPages: Math.max(1, Math.floor(budget / PER_PAGE_MAX)) };
}

/** `ksmctl run FILE [--] [ARGS...]`: the exit status. */
export async function scriptRun(file: string, opts: ScriptRunCliOptions, io: Io, args: string[] = []): Promise<number> {
  const source = readScriptFile(file);
  const defines = parseDefineOptions(opts.define);
  const w = new LineWriter(io);
  if (opts.host) {
    if (opts.era !== undefined || opts.abi !== undefined || opts.kernel !== undefined) throw new CliError('--era, --abi and --kernel do not apply with --host: the host has its era (ksmctl host start --era ...)');
    if (opts.user !== undefined) throw new CliError('--user does not apply with --host (a script there runs as the host\'s root; use setuid() in the script)');
    const path = socketPath(opts.socket);
    let r: HostResponse;
    try {
      r = await hostRequest(path, { op: 'run', file, source, trace: opts.trace === true, defines, ...(args.length > 0 ? { args } : {}) });
    } catch (e) {
      if (e instanceof HostUnreachable) throw unreachable(path);
      throw e;
    }
    if (!r.ok) throw new CliError(`host: ${r.error}`, 2);
    for (const c of r.output ?? []) w.write(c.fd, c.text);
    w.flush();
    return r.status ?? 0;
  }
  // The parser (chevrotain and its lodash) loads only when a script runs: every other command starts faster.
  const { ScriptOptionError, runScript } = await import('../../script/run.js');
  let result;
  try {
    result = runScript(file, source, {
      era: opts.era,
      abi: opts.abi,
      kernel: opts.kernel,
      trace: opts.trace === true,
      defines,
      uid: opts.user,
      args,
      env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
      // The memory guard, for a program: its page contents and mappings stay within this machine's memory
      // (past them: a run-time error at the statement, and ENOMEM from mmap, memalign and fork).
      ...(opts.forceMemory === true ? {} : scriptMemoryBounds()),
      sink: { trace: (line) => w.write(2, `${line}\n`), stdout: (t) => w.write(1, t), stderr: (t) => w.write(2, t) },
    });
  } catch (e) {
    if (e instanceof ScriptOptionError) throw new CliError(e.message, 2);
    throw e;
  }
  w.flush();
  if (result.error !== undefined) io.err(result.error);
  return result.status;
}

/** Adds `run` to the program. */
export function addRunCommand(program: Command, io: Io): void {
  program
    .command('run')
    .description('run a ksmctl script (C-like programs of 2008-2009 line for line, and of today\'s 6.18; examples/scripts/)')
    .argument('<file>', 'script file')
    .argument('[args...]', "the program's arguments, its argv[1]...; after -- when one starts with -: ksmctl run prog.ksm -- -v start")
    .addOption(new Option('--era <era>', `${ERA_OPTION_HELP}; default: the script's #pragma era, else v1 if it includes a ksm header (with that header's ABI), else v3`))
    .addOption(new Option('--abi <abi>', 'the old spelling of v1:2008 / v1:2009: --era v1 --abi 2009').choices(['2008', '2009']))
    .addOption(new Option('--kernel <version>', 'the old spelling of v3:VERSION: --era v3 --kernel 6.18').choices(KERNEL_VERSIONS))
    .option('--trace', 'print every simulated system call on stderr, strace style')
    .option('-D, --define <NAME=VALUE...>', "define NAME as VALUE (an expression), over the script's #define")
    .option('--host', 'run on the ksmctl host (ksmctl host start) instead of a fresh machine')
    .addOption(new Option('--user <uid>', 'run the program as this user (default 0, root): the era\'s permission checks apply').argParser(parseUid))
    .addOption(socketOption())
    .option('--force-memory', FORCE_MEMORY_HELP)
    .action(async (file: string, args: string[], opts: ScriptRunCliOptions) => exitStatus(await scriptRun(file, opts, io, args)));
}
