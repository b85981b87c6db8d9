/**
 * Tokens of ksmctl scripts (chevrotain lexer), and the newline rule that
 * lets C lines be written with or without their semicolons: a newline ends
 * a statement when the line's last token can end one (a name, a number, a
 * string, `)`, `]`, `}`, `++`, ...) and the next line does not continue it
 * (`{`, `else`, a binary operator), outside parentheses, brackets and
 * object literals, as Go and JavaScript insert semicolons.
 */
import { createToken, createTokenInstance, type IToken, Lexer, type TokenType } from 'chevrotain';
import type { Loc } from './ast.js';
import { parseError } from './errors.js';

const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string, name = word.charAt(0).toUpperCase() + word.slice(1)): TokenType {
  return createToken({ name, pattern: new RegExp(`${word}\\b`), longer_alt: Identifier, label: `'${word}'` });
}

/** Words that name C types; `TypeKw` tokens combine (`unsigned long long`), `TypeName`s are typedefs. */
export const TYPE_KEYWORDS = ['void', 'char', 'short', 'int', 'long', 'unsigned', 'signed', 'const', 'volatile', 'register', 'inline', '__inline__'] as const;
export const TYPEDEFS: Record<string, { bits: 8 | 16 | 32 | 64; signed: boolean }> = {
  size_t: { bits: 64, signed: false },
  ssize_t: { bits: 64, signed: true },
  off_t: { bits: 64, signed: true },
  mode_t: { bits: 32, signed: false },
  pid_t: { bits: 32, signed: true },
  uint8_t: { bits: 8, signed: false },
  uint16_t: { bits: 16, signed: false },
  uint32_t: { bits: 32, signed: false },
  uint64_t: { bits: 64, signed: false },
  int8_t: { bits: 8, signed: true },
  int16_t: { bits: 16, signed: true },
  int32_t: { bits: 32, signed: true },
  int64_t: { bits: 64, signed: true },
  __u8: { bits: 8, signed: false },
  __u16: { bits: 16, signed: false },
  __u32: { bits: 32, signed: false },
  __u64: { bits: 64, signed: false },
  __s32: { bits: 32, signed: true },
  __s64: { bits: 64, signed: true },
  u8: { bits: 8, signed: false },
  u16: { bits: 16, signed: false },
  u32: { bits: 32, signed: false },
  u64: { bits: 64, signed: false },
  time_t: { bits: 64, signed: true },
  useconds_t: { bits: 32, signed: false },
  uintptr_t: { bits: 64, signed: false },
  intptr_t: { bits: 64, signed: true },
  uid_t: { bits: 32, signed: false },
  gid_t: { bits: 32, signed: false },
  bool: { bits: 8, signed: false },
  /** stdio's FILE, only ever used as FILE *: the pointer is the stream (the interpreter's FILE_BASE + fd). */
  FILE: { bits: 8, signed: false },
};

export const TypeKw = createToken({
  name: 'TypeKw',
  pattern: new RegExp(`(?:${TYPE_KEYWORDS.join('|')})\\b`),
  longer_alt: Identifier,
  label: 'a type',
});
export const TypeName = createToken({
  name: 'TypeName',
  pattern: new RegExp(`(?:${Object.keys(TYPEDEFS).join('|')})\\b`),
  longer_alt: Identifier,
  label: 'a type',
});

export const Struct = keyword('struct');
export const Sizeof = keyword('sizeof');
export const If = keyword('if');
export const Else = keyword('else');
export const For = keyword('for');
export const While = keyword('while');
export const Break = keyword('break');
export const Continue = keyword('continue');
export const Return = keyword('return');
export const Goto = keyword('goto');
export const Switch = keyword('switch');
export const Case = keyword('case');
export const Default = keyword('default');
export const Do = keyword('do');
export const Static = keyword('static');
export const Enum = keyword('enum');
/**
 * Words of C that scripts do not have: a clear error where they stand
 * (tokenize), never an unknown name further on. `extern` only says where
 * a definition lives; it is an error too, so nothing is taken and ignored
 * (`inline`, a hint that changes nothing a script can observe, is taken
 * with `const` and `volatile` among the type words).
 */
export const Unsupported = createToken({
  name: 'Unsupported',
  pattern: /(?:typedef|union|extern|asm|__asm__|__attribute__|_Bool|float|double|_Complex|restrict|__restrict|auto|_Static_assert|_Alignas|_Thread_local)\b/,
  longer_alt: Identifier,
  label: 'a word scripts do not have',
});
export const Ksmctl = keyword('ksmctl');
export const Echo = keyword('echo');
export const Cat = keyword('cat');
export const Print = keyword('print');
export const Expect = keyword('expect');

export const Define = createToken({ name: 'Define', pattern: /#[ \t]*define\b/, label: "'#define'" });
export const Include = createToken({ name: 'Include', pattern: /#[ \t]*include[ \t]*(?:<[^>\n]*>|"[^"\n]*")/, label: "'#include'" });
export const Pragma = createToken({ name: 'Pragma', pattern: /#[ \t]*pragma\b[^\n]*/, label: "'#pragma'" });
/** `#` comments (and `#!`), but not the directives above. */
const HashComment = createToken({ name: 'HashComment', pattern: /#(?![ \t]*(?:define|include|pragma)\b)[^\n]*/, group: Lexer.SKIPPED });
const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true });
const UnterminatedComment = createToken({ name: 'UnterminatedComment', pattern: /\/\*[\s\S]*/, line_breaks: true });
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\f\v]+/, group: Lexer.SKIPPED });
export const Newline = createToken({ name: 'Newline', pattern: /\n/, group: 'nl', line_breaks: true });

export const HexBytes = createToken({ name: 'HexBytes', pattern: /x"[0-9a-fA-F \t]*"/, label: 'x"..." bytes' });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/, label: 'a string' });
/** 'a', '\n', '\0', '\x41': an int, as in C. */
export const CharLit = createToken({ name: 'CharLit', pattern: /'(?:[^'\\\n]|\\(?:x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.))'/, label: 'a character' });
const UnterminatedChar = createToken({ name: 'UnterminatedChar', pattern: /'(?:[^'\\\n]|\\.)*/ });
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n]|\\.)*/ });
/** A floating-point constant: scripts have integers only (an error where it stands). */
const FloatLit = createToken({ name: 'FloatLit', pattern: /(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFlL]?|[0-9]+[eE][+-]?[0-9]+[fFlL]?/ });
/** `->`: scripts have no pointers to structs (an error where it stands). */
const Arrow = createToken({ name: 'Arrow', pattern: /->/ });
export const NumberLit = createToken({ name: 'NumberLit', pattern: /0[xX][0-9a-fA-F]+[uUlL]*|[0-9]+[uUlL]*/, longer_alt: Identifier, label: 'a number' });

/** A file path, only where one is expected: after `cat`, and after the `>` of an `echo`. */
export const Path = createToken({
  name: 'Path',
  label: 'a path',
  line_breaks: false,
  start_chars_hint: ['/'],
  pattern: {
    exec(text: string, offset: number, tokens: IToken[]): RegExpExecArray | null {
      const last = tokens[tokens.length - 1];
      if (last === undefined) return null;
      let ok = last.tokenType === Cat;
      if (!ok && last.tokenType === Gt) {
        for (let i = tokens.length - 2; i >= 0 && tokens[i].startLine === last.startLine; i--) {
          if (tokens[i].tokenType === Echo) ok = true;
        }
      }
      if (!ok) return null;
      const re = /\/[A-Za-z0-9_.\-/]*/y;
      re.lastIndex = offset;
      return re.exec(text);
    },
  },
});

// Operators: longest first.
export const PlusPlus = createToken({ name: 'PlusPlus', pattern: /\+\+/, label: "'++'" });
export const MinusMinus = createToken({ name: 'MinusMinus', pattern: /--/, label: "'--'" });
export const AssignOp = createToken({ name: 'AssignOp', pattern: Lexer.NA });
export const CompoundAssign = createToken({ name: 'CompoundAssign', pattern: /(?:\+|-|\*|\/|%|\||&|\^|<<|>>)=/, categories: [AssignOp], label: "'op='" });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/, label: "'=='" });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/, label: "'!='" });
export const Le = createToken({ name: 'Le', pattern: /<=/, label: "'<='" });
export const Ge = createToken({ name: 'Ge', pattern: />=/, label: "'>='" });
export const Shl = createToken({ name: 'Shl', pattern: /<</, label: "'<<'" });
export const Shr = createToken({ name: 'Shr', pattern: />>/, label: "'>>'" });
export const AndAnd = createToken({ name: 'AndAnd', pattern: /&&/, label: "'&&'" });
export const OrOr = createToken({ name: 'OrOr', pattern: /\|\|/, label: "'||'" });
export const Assign = createToken({ name: 'Assign', pattern: /=/, categories: [AssignOp], label: "'='" });
export const Lt = createToken({ name: 'Lt', pattern: /</, label: "'<'" });
export const Gt = createToken({ name: 'Gt', pattern: />/, label: "'>'" });
export const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
export const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });
export const Percent = createToken({ name: 'Percent', pattern: /%/, label: "'%'" });
export const Amp = createToken({ name: 'Amp', pattern: /&/, label: "'&'" });
export const Pipe = createToken({ name: 'Pipe', pattern: /\|/, label: "'|'" });
export const Caret = createToken({ name: 'Caret', pattern: /\^/, label: "'^'" });
export const Bang = createToken({ name: 'Bang', pattern: /!/, label: "'!'" });
export const Tilde = createToken({ name: 'Tilde', pattern: /~/, label: "'~'" });
export const Question = createToken({ name: 'Question', pattern: /\?/, label: "'?'" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Semi = createToken({ name: 'Semi', pattern: /;/, label: "';'" });
export const Dot = createToken({ name: 'Dot', pattern: /\./, label: "'.'" });
export const Dollar = createToken({ name: 'Dollar', pattern: /\$/, label: "'$'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: "'}'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });

export { Identifier };

export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Newline,
  BlockComment,
  UnterminatedComment,
  LineComment,
  Define,
  Include,
  Pragma,
  HashComment,
  HexBytes,
  StringLit,
  UnterminatedString,
  CharLit,
  UnterminatedChar,
  Path,
  FloatLit,
  NumberLit,
  TypeKw,
  TypeName,
  Struct,
  Sizeof,
  If,
  Else,
  For,
  While,
  Break,
  Continue,
  Return,
  Goto,
  Switch,
  Case,
  Default,
  Do,
  Static,
  Enum,
  Unsupported,
  Ksmctl,
  Echo,
  Cat,
  Print,
  Expect,
  Identifier,
  PlusPlus,
  MinusMinus,
  Arrow,
  CompoundAssign,
  AssignOp,
  EqEq,
  NotEq,
  Le,
  Ge,
  Shl,
  Shr,
  AndAnd,
  OrOr,
  Assign,
  Lt,
  Gt,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Amp,
  Pipe,
  Caret,
  Bang,
  Tilde,
  Question,
  Colon,
  Comma,
  Semi,
  Dot,
  Dollar,
  LParen,
  RParen,
  LCurly,
  RCurly,
  LBracket,
  RBracket,
];

const lexer = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: false });

/** Tokens after which a newline ends the statement. */
const ENDERS = new Set<TokenType>([Identifier, NumberLit, StringLit, CharLit, HexBytes, Path, RParen, RBracket, RCurly, PlusPlus, MinusMinus, Break, Continue, Return, Include, Pragma, TypeKw, TypeName]);
/** Tokens that continue the previous line's statement when a line starts with them. */
const CONTINUERS = new Set<TokenType>([LCurly, Else, Plus, Slash, Percent, Pipe, Caret, AndAnd, OrOr, Question, Colon, EqEq, NotEq, Lt, Gt, Le, Ge, Shl, Shr, Comma, Dot]);
/** Tokens after which `{` opens an object literal rather than a block. */
const BEFORE_OBJECT = new Set<TokenType>([Assign, CompoundAssign, LParen, Comma, Colon, LBracket, Return, Question]);

export function tokLoc(t: IToken): Loc {
  return { line: t.startLine ?? 1, col: t.startColumn ?? 1, offset: t.startOffset };
}

/** The script's tokens, statement ends inserted; throws a parse ScriptError on a lexical error. */
export function tokenize(source: string): IToken[] {
  const r = lexer.tokenize(source);
  if (r.errors.length > 0) {
    const e = r.errors[0];
    const ch = source.charAt(e.offset);
    // JSON's escapes, and \u escapes for DEL and the C1 controls JSON leaves raw.
    const shown = JSON.stringify(ch).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    throw parseError(`unexpected character ${shown}`, { line: e.line ?? 1, col: e.column ?? 1, offset: e.offset });
  }
  for (let i = 0; i < r.tokens.length; i++) {
    const t = r.tokens[i];
    if (t.tokenType === FloatLit) throw parseError(`floating-point constants are not supported in scripts (${t.image}): integers only`, tokLoc(t));
    if (t.tokenType === Arrow) throw parseError("'->' is not supported in scripts: struct variables only (info.field), no pointers to structs", tokLoc(t));
    if (t.tokenType === Struct && (r.tokens[i + 1]?.tokenType === LCurly || (r.tokens[i + 1]?.tokenType === Identifier && r.tokens[i + 2]?.tokenType === LCurly))) {
      throw parseError("defining a struct is not supported in scripts: the structs of the ksm headers only (struct ksm_memory_region, ...)", tokLoc(t));
    }
    if (t.tokenType === UnterminatedString) throw parseError('unterminated string', tokLoc(t));
    if (t.tokenType === UnterminatedComment) throw parseError('unterminated comment', tokLoc(t));
    if (t.tokenType === UnterminatedChar) throw parseError('unterminated or empty character constant', tokLoc(t));
    if (t.tokenType === Unsupported) throw parseError(`'${t.image}' is not supported in scripts`, tokLoc(t));
  }
  const newlines = (r.groups.nl ?? []).map((t) => t.startOffset);
  const out: IToken[] = [];
  const stack: Array<'(' | 'ctl(' | '[' | 'obj' | 'block'> = [];
  /** The `)` that closes `if (...)`, `for (...)`, `while (...)`: the statement goes on after it. */
  let controlClose: IToken | null = null;
  let nl = 0;
  const toks = r.tokens;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    const prev = out[out.length - 1];
    // A newline between prev and t?
    let sawNewline = false;
    while (nl < newlines.length && newlines[nl] < t.startOffset) {
      if (prev !== undefined && newlines[nl] > prev.startOffset) sawNewline = true;
      nl++;
    }
    const top = stack[stack.length - 1];
    if (sawNewline && prev !== undefined && prev !== controlClose && ENDERS.has(prev.tokenType) && !CONTINUERS.has(t.tokenType) && (top === undefined || top === 'block')) {
      out.push(semiAfter(prev));
    }
    switch (t.tokenType) {
      case LParen:
        stack.push(prev !== undefined && (prev.tokenType === If || prev.tokenType === For || prev.tokenType === While || prev.tokenType === Switch) ? 'ctl(' : '(');
        break;
      case LBracket:
        stack.push('[');
        break;
      case LCurly:
        // After a `:` at statement level (`case 1: {`, `out: {`) a block, else (`{seed: {...}}`, `a ? b : {...}`) as before.
        {
          // An enum's list is a list, not statements: `enum { A,\n B\n }`.
          const isEnum = prev !== undefined && (prev.tokenType === Enum || (prev.tokenType === Identifier && out[out.length - 2]?.tokenType === Enum));
          stack.push(isEnum || (prev !== undefined && BEFORE_OBJECT.has(prev.tokenType) && !(prev.tokenType === Colon && (top === undefined || top === 'block'))) ? 'obj' : 'block');
        }
        break;
      case RParen:
        if (stack.pop() === 'ctl(') controlClose = t;
        break;
      case RBracket:
      case RCurly:
        stack.pop();
        break;
    }
    out.push(t);
  }
  return out;
}

function semiAfter(prev: IToken): IToken {
  const end = prev.endOffset ?? prev.startOffset;
  return createTokenInstance(Semi, '', end + 1, end + 1, prev.endLine ?? 1, prev.endLine ?? 1, (prev.endColumn ?? 0) + 1, (prev.endColumn ?? 0) + 1);
}
