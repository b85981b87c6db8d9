/**
 * Running a script file: parse, choose the kernel and the header, check,
 * and run it on a fresh machine of the era (or on the host's), reporting
 * what the command line needs: the exit status (0 ran, 1 an expect failed,
 * 2 a parse or runtime error) and the error as `file:line:col: message`
 * with the line and a caret.
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
import { formatScriptError, parseError, ScriptError } from './errors.js';
import { Interpreter } from './interpreter.js';
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
}

export interface ScriptRunResult {
  /** 0: ran to the end; 1: an expect failed; 2: a parse or runtime error. */
  status: 0 | 1 | 2;
  /** The error as printed (file:line:col, line, caret), if any. */
  error?: string;
  /** Processes the script left alive (paused). */
  alive: number[];
  settings?: ScriptSettings;
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

/** Parses, checks and runs a script. Never throws a ScriptError: it becomes status and error text. */
export function runScript(file: string, source: string, opts: ScriptRunOptions): ScriptRunResult {
  let settings: ScriptSettings | undefined;
  try {
    const prog = parseScript(file, source);
    settings = scriptSettings(prog, opts);
    const defines = parseDefines(opts.defines ?? {});
    checkProgram(prog, { header: settings.header, defined: defines.keys() });
    const sys = opts.system ?? createSystem({ era: settings.era, abi: settings.abi });
    const rt = new Runtime(sys, opts.sink, opts.trace === true);
    const out = new Interpreter(prog, rt, { header: settings.header, name: programName(file), defines, uid: opts.uid, maxSteps: opts.maxSteps }).run();
    return { status: 0, alive: out.alive, settings };
  } catch (e) {
    if (e instanceof ScriptError) return { status: e.kind === 'expect' ? 1 : 2, error: formatScriptError(file, source, e), alive: [], settings };
    throw e;
  }
}
