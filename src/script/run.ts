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
 * The era and ABI come from the command line, else from the script's
 * `#pragma era v1` / `#pragma abi 2008`, else from its includes (a ksm
 * header means the /dev/ksm era), else v3. The header the program was
 * "compiled" against is the one it includes (`ksm-2008.h`, `ksm-2009.h`),
 * else the loaded driver's: a 2008 program can run on a 2009 kernel.
 */
import { basename, extname } from 'node:path';
import type { Expr, Program } from './ast.js';
import { checkProgram } from './check.js';
import { type Header, type HeaderAbi, HEADERS, headerOfInclude } from './constants.js';
import { formatScriptError, parseError, runtimeError, ScriptError } from './errors.js';
import { Interpreter, RunLimitError } from './interpreter.js';
import { parseScript } from './parser.js';
import { Runtime, type Sink } from './runtime.js';
import { createSystem, ERA_NAMES, type EraName, type EraSystem } from './system.js';

export interface ScriptSettings {
  era: EraName;
  abi: HeaderAbi;
  header: Header;
}

export interface ScriptRunOptions {
  era?: string;
  abi?: string;
  /** Echo the system calls (strace style) to the sink's trace. */
  trace?: boolean;
  sink: Sink;
  /** Run on this machine instead of a fresh one (the host's); its era and ABI then win. */
  system?: EraSystem;
  /** `-D NAME=VALUE` definitions (VALUE an expression); they win over the script's #define. */
  defines?: Record<string, string>;
  /** The program's uid (`--user`; default 0, root). */
  uid?: number;
  /** A bound on the statements run (InterpreterOptions.maxSteps). */
  maxSteps?: number;
  /** A bound on the virtual time the run lets pass, µs (InterpreterOptions.maxVirtualMicros). */
  maxVirtualMicros?: number;
  /** A bound on the ksmd batches the run lets run (InterpreterOptions.maxBatches). */
  maxBatches?: number;
  /** A bound on the machine's page contents, bytes (InterpreterOptions.maxContentBytes). */
  maxContentBytes?: number;
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

function isAbi(s: string): s is HeaderAbi {
  return s === '2008' || s === '2009';
}

/** The kernel and header a script runs with. */
export function scriptSettings(prog: Program, opts: { era?: string; abi?: string; system?: EraSystem }): ScriptSettings {
  let era: EraName | undefined;
  let abi: HeaderAbi | undefined;
  let included: Header | undefined;
  let includesKsm = false;
  for (const s of prog.body) {
    if (s.k === 'pragma' && s.words[0] === 'era') {
      const v = s.words[1] ?? '';
      if (!(ERA_NAMES as readonly string[]).includes(v)) throw parseError(`#pragma era: unknown era "${v}" (${ERA_NAMES.join(', ')})`, s.loc);
      era = v as EraName;
    }
    if (s.k === 'pragma' && s.words[0] === 'abi') {
      const v = s.words[1] ?? '';
      if (!isAbi(v)) throw parseError(`#pragma abi: unknown ABI "${v}" (2008, 2009)`, s.loc);
      abi = v;
    }
    if (s.k === 'include') {
      const h = headerOfInclude(s.file);
      if (h !== undefined) included = h;
      if (/(^|\/)ksm(-\d+)?\.h$/.test(s.file)) includesKsm = true;
    }
  }
  if (opts.system !== undefined) {
    era = opts.system.era;
    abi = opts.system.abi;
  } else {
    if (opts.era !== undefined) {
      if (!(ERA_NAMES as readonly string[]).includes(opts.era)) throw new Error(`unknown era "${opts.era}" (${ERA_NAMES.join(', ')})`);
      era = opts.era as EraName;
    }
    if (opts.abi !== undefined) {
      if (!isAbi(opts.abi)) throw new Error(`unknown ABI "${opts.abi}" (2008, 2009)`);
      abi = opts.abi;
    }
  }
  era ??= includesKsm ? 'v1' : 'v3';
  abi ??= included?.abi ?? '2009';
  return { era, abi, header: included ?? HEADERS[abi] };
}

/** `-D` values as expressions; a bad one is a CLI error naming the option. */
function parseDefines(defs: Record<string, string>): Map<string, Expr> {
  const m = new Map<string, Expr>();
  for (const [name, value] of Object.entries(defs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new DefineError(`-D ${name}=${value}: not a name`);
    let prog: Program;
    try {
      prog = parseScript(`-D ${name}`, `#define ${name} ${value}\n`);
    } catch (e) {
      if (e instanceof ScriptError) throw new DefineError(`-D ${name}=${value}: ${e.message}`);
      throw e;
    }
    const d = prog.body[0];
    if (prog.body.length !== 1 || d.k !== 'define') throw new DefineError(`-D ${name}=${value}: not one expression`);
    m.set(name, d.value);
  }
  return m;
}

/** A bad -D option (a command-line error, not a script error). */
export class DefineError extends Error {}

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
    const prog = parseScript(file, source);
    settings = scriptSettings(prog, opts);
    const defines = parseDefines(opts.defines ?? {});
    checkProgram(prog, { header: settings.header, defined: defines.keys() });
    const sys = opts.system ?? createSystem({ era: settings.era, abi: settings.abi });
    const sink = opts.maxOutputBytes === undefined ? opts.sink : boundedSink(opts.sink, opts.maxOutputBytes);
    const rt = new Runtime(sys, sink, opts.trace === true);
    interp = new Interpreter(prog, rt, {
      header: settings.header,
      name: programName(file),
      defines,
      uid: opts.uid,
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
