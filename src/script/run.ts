/**
 * Running a script file: parse, choose the kernel and the header, check,
 * and run it on a fresh machine of the era (or on the host's), reporting
 * what the command line needs: the exit status (the program's: what main
 * returned or exit() was given, 0 when it ran off its end; 1 an expect
 * failed; 2 a parse or runtime error) and the error as `file:line:col:
 * message` with the line and a caret.
 *
 * Whatever the input, a run ends in one of those: a limit passed (the
 * options' statements, virtual time, ksmd batches, memory, output; the
 * program's stack, MAX_CALL_DEPTH) is a runtime error at the statement
 * running, never an exception of the simulator.
 *
 * The era is a registry entry (src/eras/registry.ts), named by the command
 * line (`--era v3:6.18`, or the old `--era v1 --abi 2009` / `--era v3
 * --kernel 6.18`), else by the script (`#pragma era v3:6.18`, or `#pragma
 * era v1` with `#pragma abi 2008`, `#pragma era v3` with `#pragma kernel
 * 3.9`), else by its includes (a ksm header means the /dev/ksm era), else
 * v3. Where only the family v1 is named, the ABI is the one the script's
 * header declares, else v1's one default. The header the program was
 * "compiled" against is the one it includes (`ksm-2008.h`, `ksm-2009.h`),
 * else the loaded driver's: a 2008 program can run on a 2009 kernel.
 */
import { basename, extname } from 'node:path';
import { type EraEntry, EraInputError, parseEra, V1_DEFAULT_ABI } from '../eras/registry.js';
import type { EraSystem } from '../eras/system.js';
import type { Expr, Loc, Program } from './ast.js';
import { checkProgram } from './check.js';
import { type Header, HEADERS, headerOfInclude } from './constants.js';
import { formatScriptError, parseError, runtimeError, ScriptError } from './errors.js';
import { Interpreter, RunLimitError } from './interpreter.js';
import { parseScript } from './parser.js';
import { Runtime, type Sink } from './runtime.js';

export interface ScriptSettings {
  era: EraEntry;
  header: Header;
}

export interface ScriptRunOptions {
  /** `--era`: any spelling the registry takes. */
  era?: string;
  /** `--abi`: the old spelling of v1:2008 / v1:2009. */
  abi?: string;
  /** `--kernel`: the old spelling of v3:VERSION. */
  kernel?: string;
  /** Echo the system calls (strace style) to the sink's trace. */
  trace?: boolean;
  sink: Sink;
  /** Run on this machine instead of a fresh one (the host's); its era then wins. */
  system?: EraSystem;
  /** `-D NAME=VALUE` definitions (VALUE an expression); they win over the script's #define. */
  defines?: Record<string, string>;
  /** The program's uid (`--user`; default 0, root). */
  uid?: number;
  /** The program's arguments (argv[1]...): `ksmctl run FILE ARGS...`. */
  args?: readonly string[];
  /** The program's environment (getenv); `ksmctl run` passes its own. */
  env?: Readonly<Record<string, string>>;
  /** A bound on the statements run (InterpreterOptions.maxSteps). */
  maxSteps?: number;
  /** A bound on the virtual time the run lets pass, µs (InterpreterOptions.maxVirtualMicros). */
  maxVirtualMicros?: number;
  /** A bound on the ksmd batches the run lets run (InterpreterOptions.maxBatches). */
  maxBatches?: number;
  /** A bound on the machine's page contents, bytes (InterpreterOptions.maxContentBytes). */
  maxContentBytes?: number;
  /** A bound on the pages all mappings may hold together (Memory.maxMappedPages: mmap and fork beyond it are ENOMEM); none by default. */
  maxMappedPages?: number;
  /** ksmd's work so far, judged (InterpreterOptions.overWork). */
  overWork?: () => string | null;
  /** The run's time so far, judged (InterpreterOptions.overTime). */
  overTime?: () => string | null;
  /** The most bytes the program may write to stdout and stderr, and the trace take (the host's runs collect them); none by default. */
  maxOutputBytes?: number;
}

export interface ScriptRunResult {
  /** The program's exit status (0 when main ran off its end or the run left it paused); 1: an expect failed; 2: a parse or runtime error. */
  status: number;
  /** The error as printed (file:line:col, line, caret), if any. */
  error?: string;
  /** Processes the script left alive (paused). */
  alive: number[];
  settings?: ScriptSettings;
  /** After an error: the processes of the run still alive then (the host reaps them). */
  leftover?: number[];
}

/** A bad command-line option of a run (`--era`, `--abi`, `--kernel`, `-D`): the CLI's error, not the script's. */
export class ScriptOptionError extends Error {}

/** The script's `#pragma era|abi|kernel WORD` lines (the last of each). */
type Pragmas = Partial<Record<'era' | 'abi' | 'kernel', { value: string; loc: Loc }>>;

/** The registry entry of `text` with an ABI or kernel; a bad spelling becomes the error `fail` makes of the message. */
function entryOf(text: string, version: { abi?: string; kernel?: string }, fail: (message: string) => Error): EraEntry {
  try {
    return parseEra(text, version);
  } catch (e) {
    if (e instanceof EraInputError) throw fail(e.message);
    throw e;
  }
}

/** The kernel's KSM header, as programs of each ABI included it (ksm.h, linux/ksm.h, ksm-2009.h). */
const KSM_HEADER = /(^|\/)ksm(-\d+)?\.h$/;

/** The family an ABI (v1) or a kernel version (v3) implies. */
const familyOf = (abi: unknown, kernel: unknown): string | undefined => (abi !== undefined ? 'v1' : kernel !== undefined ? 'v3' : undefined);

/** The kernel and header a script runs with. */
export function scriptSettings(prog: Program, opts: { era?: string; abi?: string; kernel?: string; system?: EraSystem }): ScriptSettings {
  const p: Pragmas = {};
  let included: Header | undefined;
  let includesKsm = false;
  for (const s of prog.body) {
    if (s.k === 'pragma' && (s.words[0] === 'era' || s.words[0] === 'abi' || s.words[0] === 'kernel')) p[s.words[0]] = { value: s.words[1] ?? '', loc: s.loc };
    if (s.k === 'include') {
      // The kernel's headers (ksm.h, of either ABI) and the C library's are the script's own; a header of the
      // program's (util.h) would be skipped, and what it defines missed later or, under #ifdef, silently.
      if (s.local && !KSM_HEADER.test(s.file)) {
        throw parseError(`#include "${s.file}": a script reads no header of its own (only the kernel's ksm.h and the C library's): put its definitions in the script, or compile the program with ksmctl cc and run it with ksmctl exec`, s.loc);
      }
      const h = headerOfInclude(s.file);
      if (h !== undefined) included = h;
      if (KSM_HEADER.test(s.file)) includesKsm = true;
    }
  }
  // Every pragma is checked where it stands, whatever decides in the end.
  const atPragma = (name: keyof Pragmas) => (message: string) => parseError(`#pragma ${name}: ${message}`, p[name]!.loc);
  if (p.era) entryOf(p.era.value, {}, atPragma('era'));
  if (p.abi) entryOf(p.era?.value ?? 'v1', { abi: p.abi.value }, atPragma('abi'));
  if (p.kernel) entryOf(p.era?.value ?? 'v3', { kernel: p.kernel.value }, atPragma('kernel'));
  if (opts.system !== undefined) {
    // On a given machine (the host's) its era runs the script; pragmas that name another are refused
    // at their place, rather than the script failing later on a call that era lacks (ENOENT, EINVAL).
    const host = opts.system.era;
    const named = p.era ?? p.kernel ?? p.abi;
    if (named !== undefined) {
      const family = p.era !== undefined ? entryOf(p.era.value, {}, atPragma('era')).family : familyOf(p.abi, p.kernel)!;
      const versioned = p.abi !== undefined || p.kernel !== undefined || (p.era !== undefined && entryOf(p.era.value, {}, atPragma('era')).family !== p.era.value);
      const want = versioned ? entryOf(p.era?.value ?? family, { abi: p.abi?.value, kernel: p.kernel?.value }, atPragma(p.era ? 'era' : p.kernel ? 'kernel' : 'abi')) : undefined;
      if (want !== undefined ? want !== host : family !== host.family) {
        const which = p.era ? 'era' : p.kernel ? 'kernel' : 'abi';
        const asked = want?.id ?? family;
        throw parseError(`#pragma ${which} ${named.value}: this script is for ${asked}, and the host runs ${host.id} (ksmctl host start --era ${asked}, or run it without --host)`, named.loc);
      }
    }
    return { era: host, header: included ?? HEADERS[host.abi ?? V1_DEFAULT_ABI] };
  }

  // The command line first, then the script's pragmas, then its includes.
  const text = opts.era ?? familyOf(opts.abi, opts.kernel) ?? p.era?.value ?? familyOf(p.abi, p.kernel) ?? (includesKsm ? 'v1' : 'v3');
  const version = { abi: opts.abi, kernel: opts.kernel };
  if (version.abi === undefined && version.kernel === undefined && entryOf(text, {}, (m) => new ScriptOptionError(m)).family === text) {
    // Only the family is named: its version is the script's (a pragma for that family, or v1's header), else the default.
    const pragmaApplies = p.era === undefined || p.era.value === text;
    if (text === 'v1') version.abi = (pragmaApplies ? p.abi?.value : undefined) ?? included?.abi ?? V1_DEFAULT_ABI;
    else if (text === 'v3' && pragmaApplies) version.kernel = p.kernel?.value;
  }
  const era = entryOf(text, version, (m) => new ScriptOptionError(m));
  return { era, header: included ?? HEADERS[era.abi ?? V1_DEFAULT_ABI] };
}

/** `-D` values as expressions; a bad one is a CLI error naming the option. */
function parseDefines(defs: Record<string, string>): Map<string, Expr> {
  const m = new Map<string, Expr>();
  for (const [name, value] of Object.entries(defs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ScriptOptionError(`-D ${name}=${value}: not a name`);
    let prog: Program;
    try {
      prog = parseScript(`-D ${name}`, `#define ${name} ${value}\n`);
    } catch (e) {
      if (e instanceof ScriptError) throw new ScriptOptionError(`-D ${name}=${value}: ${e.message}`);
      throw e;
    }
    const d = prog.body[0];
    if (prog.body.length !== 1 || d.k !== 'define') throw new ScriptOptionError(`-D ${name}=${value}: not one expression`);
    m.set(name, d.value);
  }
  return m;
}

/** The name of a script's first process: its file name without the extension (`ksmpages`). */
export function programName(file: string): string {
  return basename(file, extname(file)) || 'script';
}

/**
 * A sink that counts what goes through it and throws a RunLimitError past
 * `max` bytes (the trace counted as its lines, the output as written).
 */
function boundedSink(sink: Sink, max: number): Sink {
  let used = 0;
  const take = (n: number) => {
    used += n;
    if (used > max) throw new RunLimitError(`the run wrote more than ${max >= 1 << 20 ? `${max / (1 << 20)} MiB` : `${max} bytes`} (its output and trace; the limit of this run)`);
  };
  return {
    trace: (line) => {
      take(line.length + 1);
      sink.trace(line);
    },
    stdout: (text) => {
      take(text.length);
      sink.stdout(text);
    },
    stderr: (text) => {
      take(text.length);
      sink.stderr(text);
    },
  };
}

/** A stack overflow of the simulator itself (a deep expression the parser let through, say). */
function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** Parses, checks and runs a script. Never throws a ScriptError: it becomes status and error text. */
export function runScript(file: string, source: string, opts: ScriptRunOptions): ScriptRunResult {
  let settings: ScriptSettings | undefined;
  let interp: Interpreter | null = null;
  try {
    const prog = parseScript(file, source, { defines: opts.defines });
    for (const w of prog.warnings ?? []) opts.sink.stderr(`${file}:${w.loc.line}:${w.loc.col}: ${w.message}\n`);
    settings = scriptSettings(prog, opts);
    const defines = parseDefines(opts.defines ?? {});
    checkProgram(prog, { header: settings.header, defined: defines.keys() });
    const sys = opts.system ?? settings.era.boot().system();
    if (opts.maxMappedPages !== undefined) sys.memory.maxMappedPages = opts.maxMappedPages;
    const sink = opts.maxOutputBytes === undefined ? opts.sink : boundedSink(opts.sink, opts.maxOutputBytes);
    const rt = new Runtime(sys, sink, opts.trace === true);
    interp = new Interpreter(prog, rt, {
      header: settings.header,
      name: programName(file),
      defines,
      uid: opts.uid,
      args: opts.args,
      env: opts.env,
      maxSteps: opts.maxSteps,
      maxVirtualMicros: opts.maxVirtualMicros,
      maxBatches: opts.maxBatches,
      maxContentBytes: opts.maxContentBytes,
      overWork: opts.overWork,
      overTime: opts.overTime,
    });
    const out = interp.run();
    return { status: out.exitStatus ?? 0, alive: out.alive, settings };
  } catch (e) {
    let err = e;
    // A limit, or the simulator's own stack: an error at the statement that was running.
    if (e instanceof RunLimitError || isStackOverflow(e)) {
      const what = e instanceof RunLimitError ? e.message : 'the program nests too deeply here for the interpreter (its expressions or calls)';
      err = runtimeError(what, interp?.location ?? { line: 1, col: 1, offset: 0 });
    }
    if (err instanceof ScriptError) {
      const leftover = interp?.liveTasks().map((t) => t.pid) ?? [];
      return { status: err.kind === 'expect' ? 1 : 2, error: formatScriptError(file, source, err), alive: [], settings, leftover };
    }
    throw e;
  }
}
