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

/** The most of a long source line shown under an error (the part around the column). */
const SHOWN_LINE = 160;

/** The error as printed: `file:line:col: message`, the source line, and a caret. */
export function formatScriptError(file: string, source: string, e: ScriptError): string {
  // The line alone, found without splitting the whole source.
  let start = 0;
  for (let n = 1; n < e.loc.line; n++) {
    const i = source.indexOf('\n', start);
    if (i === -1) {
      start = source.length;
      break;
    }
    start = i + 1;
  }
  const endAt = source.indexOf('\n', start);
  let text = source.slice(start, endAt === -1 ? source.length : endAt).replace(/\r$/, '');
  let col = Math.max(0, e.loc.col - 1);
  // A long line is cut to the part around the column, marked with "...".
  if (text.length > SHOWN_LINE) {
    const from = Math.max(0, Math.min(col - SHOWN_LINE / 2, text.length - SHOWN_LINE));
    const cut = text.slice(from, from + SHOWN_LINE);
    text = `${from > 0 ? '...' : ''}${cut}${from + SHOWN_LINE < text.length ? '...' : ''}`;
    col = col - from + (from > 0 ? 3 : 0);
  }
  // Control characters are shown as '?' (one column each, so the caret still points): none reaches the terminal raw.
  text = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
  // Tabs stay tabs under the caret, so it lines up in a terminal.
  const pad = text.slice(0, col).replace(/[^\t]/g, ' ');
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
