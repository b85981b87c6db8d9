/**
 * Errors of ksmctl scripts: where they are, and how they are shown
 * (`file:line:col: message`, then the offending line and a caret under the
 * column, as compilers print them). Never a stack trace.
 */
import type { Loc } from './ast.js';

export type ScriptErrorKind = 'parse' | 'runtime' | 'expect';

export class ScriptError extends Error {
  constructor(
    readonly kind: ScriptErrorKind,
    message: string,
    readonly loc: Loc,
  ) {
    super(message);
    this.name = 'ScriptError';
  }
}

export const parseError = (message: string, loc: Loc): ScriptError => new ScriptError('parse', message, loc);
export const runtimeError = (message: string, loc: Loc): ScriptError => new ScriptError('runtime', message, loc);

/** The error as printed: `file:line:col: message`, the source line, and a caret. */
export function formatScriptError(file: string, source: string, e: ScriptError): string {
  const lines = source.split('\n');
  const text = (lines[e.loc.line - 1] ?? '').replace(/\r$/, '');
  // Tabs stay tabs under the caret, so it lines up in a terminal.
  const pad = text.slice(0, Math.max(0, e.loc.col - 1)).replace(/[^\t]/g, ' ');
  return `${file}:${e.loc.line}:${e.loc.col}: ${e.message}\n${text}\n${pad}^`;
}

/** A location from a 0-based offset in `source`. */
export function locAt(source: string, offset: number): Loc {
  let line = 1;
  let start = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1, offset };
}
