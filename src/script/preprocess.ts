/**
 * The C preprocessor's share of a script, run on its text before the lexer:
 *
 * - conditionals: `#if EXPR`, `#ifdef NAME`, `#ifndef NAME`, `#elif EXPR`,
 *   `#else`, `#endif`, with `defined(NAME)` / `defined NAME` and integer
 *   expressions over the #define'd names (an unknown name is 0, as in C).
 *   The lines of a group not taken become empty lines;
 * - function-like macros, `#define MAX(a, b) ((a) > (b) ? (a) : (b))`:
 *   their definition line becomes empty and every use is replaced by the
 *   body with the arguments put in (`#x` makes a string of an argument,
 *   `a ## b` pastes, `...` and `__VA_ARGS__` take the rest), then scanned
 *   again for further macros, as cpp does;
 * - `#undef`, `#error` (a parse error there) and `#warning` (a message);
 *   `\` at the end of a directive line continues it.
 *
 * Object-like `#define NAME VALUE` lines stay for the parser (a define
 * statement: `-D NAME=VALUE` on the command line wins over it); their
 * values count here too, for `#if`. Lines keep their numbers: what is
 * removed leaves empty lines, so errors point where they are in the file.
 * Directives C has and scripts do not (`#line`, `#ident`, `#include_next`,
 * ...) are errors at their place; a `#` line whose first word is no
 * directive name is a comment (`# a shell comment`, `#!/usr/bin/...`).
 */
import type { Expr, Loc } from './ast.js';
import { parseError } from './errors.js';

export interface FunctionMacro {
  params: string[];
  variadic: boolean;
  body: string;
  loc: Loc;
  /** An object-like macro whose value is a string literal, put in as text (so `PATH "run"` pastes, as in C). */
  object?: boolean;
}

export interface PreprocessOptions {
  /** `-D NAME=VALUE` of the command line: defined, with their value, over the script's own #define. */
  defines?: Readonly<Record<string, string>>;
  /** A constant the headers (and the era modules) define, as a C header's macro: `#ifdef MADV_MERGEABLE`. */
  constant(name: string, includes: readonly string[]): bigint | undefined;
  /** Parses the text of an `#if` expression (the script's expression grammar); throws a parse ScriptError. */
  parseExpr(text: string, loc: Loc): Expr;
}

export interface Preprocessed {
  /** The text for the lexer: same lines, conditionals resolved, function-like macros expanded. */
  text: string;
  /** `#warning` messages, with their place. */
  warnings: Array<{ loc: Loc; message: string }>;
}

const CONDITIONALS = new Set(['if', 'ifdef', 'ifndef', 'elif', 'else', 'endif']);
/** Directives of C that scripts do not have: an error where they stand. */
const UNSUPPORTED = new Set(['line', 'ident', 'sccs', 'assert', 'unassert', 'include_next', 'import', 'elifdef', 'elifndef', 'embed']);

interface Group {
  /** Lines of this group run. */
  active: boolean;
  /** The enclosing group runs. */
  parent: boolean;
  /** A branch of this #if was taken. */
  taken: boolean;
  sawElse: boolean;
  loc: Loc;
  what: string;
}

/** Offsets of the starts of lines, for locations. */
function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

export function preprocess(source: string, opts: PreprocessOptions): Preprocessed {
  const lines = source.split('\n');
  const starts = lineStarts(source);
  const loc = (line: number, col = 1): Loc => ({ line: line + 1, col, offset: starts[line] + col - 1 });
  const warnings: Preprocessed['warnings'] = [];
  const objects = new Map<string, string>();
  const functions = new Map<string, FunctionMacro>();
  const includes: string[] = [];
  const stack: Group[] = [];
  const active = () => stack.length === 0 || stack[stack.length - 1].active;
  const out: string[] = [];
  let inComment = false;

  const evalCondition = (text: string, at: Loc): boolean => {
    // defined NAME / defined(NAME) first, before any name is replaced.
    const replaced = text.replace(/\bdefined\s*(?:\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))/g, (_, a?: string, b?: string) => (isDefined(a ?? b ?? '') ? '1' : '0'));
    if (/\bdefined\b/.test(replaced)) throw parseError('defined takes a name: defined(NAME) or defined NAME', at);
    const expanded = expandMacros(replaced, functions, at);
    if (expanded.trim() === '') throw parseError('#if with no expression', at);
    return evalInt(opts.parseExpr(expanded, at), new Set(), at) !== 0n;
  };
  const isDefined = (name: string) => objects.has(name) || functions.has(name) || (opts.defines !== undefined && name in opts.defines) || opts.constant(name, includes) !== undefined;

  /** An integer constant expression of #if, names replaced by their macros' values (unknown ones are 0). */
  const evalInt = (e: Expr, seen: Set<string>, at: Loc): bigint => {
    switch (e.k) {
      case 'num':
        return e.value;
      case 'ident': {
        const body = opts.defines?.[e.name] ?? objects.get(e.name);
        if (body !== undefined && !seen.has(e.name)) {
          const inner = expandMacros(body, functions, at);
          return inner.trim() === '' ? 0n : evalInt(opts.parseExpr(inner, at), new Set([...seen, e.name]), at);
        }
        return opts.constant(e.name, includes) ?? 0n;
      }
      case 'unary': {
        const v = evalInt(e.arg, seen, at);
        return e.op === '-' ? -v : e.op === '~' ? ~v : e.op === '!' ? (v === 0n ? 1n : 0n) : v;
      }
      case 'cast':
        return evalInt(e.arg, seen, at);
      case 'binary': {
        const l = evalInt(e.left, seen, at);
        if (e.op === '&&') return l !== 0n && evalInt(e.right, seen, at) !== 0n ? 1n : 0n;
        if (e.op === '||') return l !== 0n || evalInt(e.right, seen, at) !== 0n ? 1n : 0n;
        const r = evalInt(e.right, seen, at);
        const b = (x: boolean) => (x ? 1n : 0n);
        switch (e.op) {
          case '+': return l + r;
          case '-': return l - r;
          case '*': return l * r;
          case '/':
          case '%':
            if (r === 0n) throw parseError('division by zero in #if', at);
            return e.op === '/' ? l / r : l % r;
          case '<<': return l << r;
          case '>>': return l >> r;
          case '&': return l & r;
          case '|': return l | r;
          case '^': return l ^ r;
          case '==': return b(l === r);
          case '!=': return b(l !== r);
          case '<': return b(l < r);
          case '<=': return b(l <= r);
          case '>': return b(l > r);
          case '>=': return b(l >= r);
        }
        break;
      }
      case 'cond':
        return evalInt(e.test, seen, at) !== 0n ? evalInt(e.then, seen, at) : evalInt(e.else, seen, at);
      case 'comma':
        return e.items.reduce((_, x) => evalInt(x, seen, at), 0n);
      case 'call':
        throw parseError(`#if: ${e.name}(...) is not a macro defined here`, e.loc.line === 1 ? at : e.loc);
    }
    throw parseError('#if takes an integer constant expression', at);
  };

  for (let i = 0; i < lines.length; i++) {
    const startsInComment = inComment;
    inComment = commentStateAfter(lines[i], inComment);
    const m = startsInComment ? null : /^([ \t]*)#[ \t]*([A-Za-z_]\w*)?/.exec(lines[i]);
    const name = m?.[2];
    const isDirective = m !== null && (name === undefined ? /^[ \t]*#[ \t]*(\/[/*].*)?$/.test(lines[i]) : CONDITIONALS.has(name) || UNSUPPORTED.has(name) || ['define', 'undef', 'error', 'warning', 'include', 'pragma'].includes(name));
    if (!isDirective) {
      out.push(active() ? lines[i] : '');
      continue;
    }
    // A directive, with its continuation lines joined (they become empty lines).
    let text = lines[i];
    const first = i;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      text = `${text.slice(0, -1)} ${lines[++i]}`;
    }
    inComment = commentStateAfter(text, startsInComment);
    const blanks = i - first;
    const at = loc(first, (m![1]?.length ?? 0) + 1);
    const rest = stripComments(text.slice(m![0].length)).trim();
    const emit = (line: string) => {
      out.push(line);
      for (let k = 0; k < blanks; k++) out.push('');
    };
    if (name === undefined) {
      emit('');
      continue;
    }
    if (CONDITIONALS.has(name)) {
      const top = stack[stack.length - 1];
      switch (name) {
        case 'if':
        case 'ifdef':
        case 'ifndef': {
          const parent = active();
          let on = false;
          if (parent) {
            if (name === 'if') on = evalCondition(rest, at);
            else {
              const id = /^([A-Za-z_]\w*)$/.exec(rest)?.[1];
              if (id === undefined) throw parseError(`#${name} takes one name`, at);
              on = isDefined(id) === (name === 'ifdef');
            }
          }
          stack.push({ active: parent && on, parent, taken: on, sawElse: false, loc: at, what: `#${name}` });
          break;
        }
        case 'elif':
          if (top === undefined) throw parseError('#elif without #if', at);
          if (top.sawElse) throw parseError('#elif after #else', at);
          if (top.taken || !top.parent) top.active = false;
          else {
            top.active = evalCondition(rest, at);
            top.taken = top.active;
          }
          break;
        case 'else':
          if (top === undefined) throw parseError('#else without #if', at);
          if (top.sawElse) throw parseError('#else after #else', at);
          top.sawElse = true;
          top.active = top.parent && !top.taken;
          top.taken = true;
          break;
        case 'endif':
          if (top === undefined) throw parseError('#endif without #if', at);
          stack.pop();
          break;
      }
      emit('');
      continue;
    }
    if (!active()) {
      emit('');
      continue;
    }
    if (UNSUPPORTED.has(name)) throw parseError(`#${name} is not supported in scripts`, at);
    switch (name) {
      case 'error':
        throw parseError(`#error ${rest}`, at);
      case 'warning':
        warnings.push({ loc: at, message: `#warning ${rest}` });
        emit('');
        continue;
      case 'undef': {
        const id = /^([A-Za-z_]\w*)$/.exec(rest)?.[1];
        if (id === undefined) throw parseError('#undef takes one name', at);
        objects.delete(id);
        functions.delete(id);
        emit('');
        continue;
      }
      case 'include': {
        const f = /^[<"]([^>"]*)[>"]/.exec(rest)?.[1];
        if (f !== undefined) includes.push(f);
        emit(text);
        continue;
      }
      case 'define': {
        const d = /^([A-Za-z_]\w*)(\()?/.exec(text.slice(m![0].length).replace(/^[ \t]+/, ''));
        if (d === null) throw parseError('#define takes a name', at);
        const after = text.slice(m![0].length).replace(/^[ \t]+/, '').slice(d[0].length);
        if (d[2] === '(') {
          const close = after.indexOf(')');
          if (close === -1) throw parseError(`#define ${d[1]}(: the parameter list has no ')'`, at);
          const params = after.slice(0, close).split(',').map((p) => p.trim()).filter((p, k, a) => p !== '' || a.length > 1);
          let variadic = false;
          if (params.length > 0 && params[params.length - 1] === '...') {
            variadic = true;
            params.pop();
          }
          for (const p of params) if (!/^[A-Za-z_]\w*$/.test(p)) throw parseError(`#define ${d[1]}: '${p}' is not a parameter name`, at);
          functions.set(d[1], { params, variadic, body: stripComments(after.slice(close + 1)).trim(), loc: at });
          objects.delete(d[1]);
          emit('');
          continue;
        }
        const body = stripComments(after).trim();
        objects.set(d[1], body);
        functions.delete(d[1]);
        // A string constant is also put in as text where it is used: `#define DIR "/sys/kernel/mm/ksm/"` then `DIR "run"`.
        if (/^"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*$/.test(body) && !(opts.defines !== undefined && d[1] in opts.defines)) {
          functions.set(d[1], { params: [], variadic: false, body, loc: at, object: true });
        }
        // The parser reads the object-like define; a body using function-like macros is expanded first.
        emit(`${text.slice(0, text.length - after.length)}${expandMacros(after, functions, at)}`);
        continue;
      }
      default:
        emit(text);
    }
  }
  if (stack.length > 0) {
    const g = stack[stack.length - 1];
    throw parseError(`unterminated ${g.what} (no #endif)`, g.loc);
  }
  const joined = out.join('\n');
  return { text: functions.size === 0 ? joined : expandSource(joined, functions, lineStarts(joined)), warnings };
}

/** Whether a block comment is open at the end of `line`, given whether one was at its start. */
function commentStateAfter(line: string, open: boolean): boolean {
  let inC = open;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inC) {
      if (ch === '*' && line[i + 1] === '/') {
        inC = false;
        i++;
      }
      continue;
    }
    if (ch === '/' && line[i + 1] === '*') {
      inC = true;
      i++;
    } else if (ch === '/' && line[i + 1] === '/') break;
    else if (ch === '"' || ch === "'") i = skipQuoted(line, i);
  }
  return inC;
}

/** The index of the closing quote of the literal opening at i (or the end). */
function skipQuoted(s: string, i: number): number {
  const q = s[i];
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === q || s[j] === '\n') return j;
  }
  return s.length;
}

/** Comments of a directive's text removed (each a space). */
function stripComments(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      out += ' ';
      i = end === -1 ? s.length : end + 1;
    } else if (ch === '/' && s[i + 1] === '/') break;
    else if (ch === '"' || ch === "'") {
      const j = skipQuoted(s, i);
      out += s.slice(i, j + 1);
      i = j;
    } else out += ch;
  }
  return out;
}

/** The most macro expansions one use may lead to (a macro that grows without end). */
const MAX_EXPANSIONS = 10_000;

/**
 * Expands the function-like macros of `text` (not inside strings or
 * comments). Used on the whole source, where a use may span lines: the
 * newlines it spans are put back at the end of its last line, so the lines
 * after it keep their numbers.
 */
function expandSource(text: string, fns: ReadonlyMap<string, FunctionMacro>, starts: number[]): string {
  return expand(text, fns, new Set(), (offset) => {
    let line = 0;
    while (line + 1 < starts.length && starts[line + 1] <= offset) line++;
    return { line: line + 1, col: offset - starts[line] + 1, offset };
  }, { n: 0 }, true);
}

/** Expands the function-like macros of a piece of text (a directive's), errors at `at`. */
export function expandMacros(text: string, fns: ReadonlyMap<string, FunctionMacro>, at: Loc): string {
  if (fns.size === 0) return text;
  return expand(text, fns, new Set(), () => at, { n: 0 }, false);
}

function expand(text: string, fns: ReadonlyMap<string, FunctionMacro>, disabled: ReadonlySet<string>, where: (offset: number) => Loc, budget: { n: number }, keepLines: boolean): string {
  let out = '';
  let pendingNewlines = 0;
  let inComment = false;
  for (let i = 0; i < text.length; ) {
    const ch = text[i];
    if (inComment) {
      const end = text.indexOf('*/', i);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop);
      i = stop;
      inComment = false;
      continue;
    }
    if (ch === '\n') {
      out += '\n'.repeat(1 + pendingNewlines);
      pendingNewlines = 0;
      i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      inComment = true;
      out += '/*';
      i += 2;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const j = skipQuoted(text, i);
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    // A `#` line (a directive the parser reads, or a comment): copied as it is.
    if (ch === '#' && (i === 0 || text[i - 1] === '\n' || /^[ \t]*$/.test(text.slice(text.lastIndexOf('\n', i - 1) + 1, i)))) {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    const id = /^[A-Za-z_]\w*/.exec(text.slice(i, i + 256));
    if (id === null) {
      out += ch;
      i++;
      continue;
    }
    const name = id[0];
    const fn = fns.get(name);
    let j = i + name.length;
    if (fn === undefined || disabled.has(name)) {
      out += name;
      i = j;
      continue;
    }
    if (fn.object === true) {
      if (++budget.n > MAX_EXPANSIONS) throw parseError(`macro ${name}: more than ${MAX_EXPANSIONS} expansions`, where(i));
      out += fn.body;
      i = j;
      continue;
    }
    // A use only when `(` follows (whitespace and newlines between allowed).
    let k = j;
    while (k < text.length && /\s/.test(text[k])) k++;
    if (text[k] !== '(') {
      out += name;
      i = j;
      continue;
    }
    const at = where(i);
    const args = collectArgs(text, k, at, name);
    if (++budget.n > MAX_EXPANSIONS) throw parseError(`macro ${name}: more than ${MAX_EXPANSIONS} expansions (a macro that expands without end?)`, at);
    const spanned = keepLines ? countNewlines(text, i, args.end) : 0;
    out += expandUse(fn, name, args.args, fns, disabled, where, budget, at);
    pendingNewlines += spanned;
    i = args.end;
    j = i;
  }
  if (pendingNewlines > 0) out += '\n'.repeat(pendingNewlines);
  return out;
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s[i] === '\n') n++;
  return n;
}

/** The arguments of a use whose `(` is at `open`: split at top-level commas; `end` is after the `)`. */
function collectArgs(text: string, open: number, at: Loc, name: string): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      const j = skipQuoted(text, i);
      cur += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      cur += ' ';
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0 && ch === ')') {
        args.push(cur);
        return { args: args.length === 1 && args[0].trim() === '' ? [] : args.map((a) => a.trim()), end: i + 1 };
      }
      depth--;
    } else if (ch === ',' && depth === 0) {
      args.push(cur);
      cur = '';
      continue;
    }
    cur += ch === '\n' ? ' ' : ch;
  }
  throw parseError(`unterminated use of macro ${name} (no ')')`, at);
}

function expandUse(fn: FunctionMacro, name: string, args: string[], fns: ReadonlyMap<string, FunctionMacro>, disabled: ReadonlySet<string>, where: (offset: number) => Loc, budget: { n: number }, at: Loc): string {
  const n = fn.params.length;
  if (args.length === 0 && n === 1) args = [''];
  if (fn.variadic ? args.length < n : args.length !== n) {
    throw parseError(`macro ${name} takes ${fn.variadic ? 'at least ' : ''}${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, at);
  }
  const values = new Map<string, string>();
  fn.params.forEach((p, i) => values.set(p, args[i]));
  if (fn.variadic) values.set('__VA_ARGS__', args.slice(n).join(', '));
  const inner = new Set([...disabled, name]);
  const expanded = (p: string) => expand(values.get(p)!, fns, disabled, () => at, budget, false);
  // Parameters replaced token by token: `#p` a string, beside `##` the raw argument, else the expanded one.
  const body = fn.body;
  let out = '';
  const tokenRe = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|##|#\s*[A-Za-z_]\w*|[A-Za-z_]\w*|\s+|./gs;
  const toks = body.match(tokenRe) ?? [];
  for (let t = 0; t < toks.length; t++) {
    const tok = toks[t];
    const prevSig = (() => {
      for (let q = t - 1; q >= 0; q--) if (!/^\s+$/.test(toks[q])) return toks[q];
      return '';
    })();
    const nextSig = (() => {
      for (let q = t + 1; q < toks.length; q++) if (!/^\s+$/.test(toks[q])) return toks[q];
      return '';
    })();
    if (tok.startsWith('#') && tok !== '##') {
      const p = tok.slice(1).trim();
      if (!values.has(p)) throw parseError(`macro ${name}: '#' is not followed by a parameter`, at);
      out += JSON.stringify(values.get(p)!.replace(/\s+/g, ' '));
      continue;
    }
    if (tok === '##') {
      out = out.replace(/\s+$/, '');
      // The whitespace after ## goes too.
      while (t + 1 < toks.length && /^\s+$/.test(toks[t + 1])) t++;
      continue;
    }
    if (values.has(tok)) {
      out += prevSig === '##' || nextSig === '##' ? values.get(tok)! : expanded(tok);
      continue;
    }
    out += tok;
  }
  return expand(out, fns, inner, () => at, budget, false);
}
