/**
 * The grammar of ksmctl scripts, as a chevrotain parser that builds the
 * syntax tree (ast.ts) directly. In brief:
 *
 *   program   := (function | statement)*
 *   function  := type '*'* NAME '(' params ')' block
 *   statement := block | if | for | while | break | continue | return
 *              | '#define' NAME expr | '#include' <file> | '#pragma' words
 *              | type declarator ('=' expr)? (',' ...)*          (C declarations)
 *              | lvalue ('=' | '+=' | ...) expr | expr               (assignments, calls)
 *              | 'ksmctl' word* | 'echo' word '>' PATH | 'cat' PATH
 *              | 'print' expr (',' expr)* | 'expect' expr
 *   expr      := C expressions (?: || && | ^ & == != < <= > >= << >> + - * / % unary
 *                casts, sizeof(type), *(T *)p, &var, x++), numbers (hex, octal,
 *                1UL), "strings", x"hex bytes", {field: v, ...} and [a, b] literals,
 *                `cat PATH`
 *
 * Semicolons may be left out at the end of a line (lexer.ts).
 */
import { EmbeddedActionsParser, type IToken, type ParserMethod, type TokenType } from 'chevrotain';
import type { CType, Declarator, Expr, FuncDef, Loc, Program, Stmt, Word } from './ast.js';
import { COMMON, headerOfInclude } from './constants.js';
import { parseError, ScriptError } from './errors.js';
import * as T from './lexer.js';
import { preprocess } from './preprocess.js';

const BINARY_LEVELS: TokenType[][] = [
  [T.OrOr],
  [T.AndAnd],
  [T.Pipe],
  [T.Caret],
  [T.Amp],
  [T.EqEq, T.NotEq],
  [T.Lt, T.Gt, T.Le, T.Ge],
  [T.Shl, T.Shr],
  [T.Plus, T.Minus],
  [T.Star, T.Slash, T.Percent],
];

const TYPE_START = new Set<TokenType>([T.TypeKw, T.TypeName, T.Struct, T.Enum]);

function unescape(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return ({ n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b' } as Record<string, string>)[e] ?? e;
  });
}

/** The int value of a character constant: 'a', '\\n', '\\0', '\\x41' ('ab' is an error, as gcc warns and scripts refuse). */
function charValue(image: string, loc: Loc): bigint {
  const body = unescape(image.slice(1, -1));
  if (body.length !== 1) throw parseError(`a character constant holds one character, not ${image}`, loc);
  // A char is signed on x86: '\xff' is -1.
  return BigInt.asIntN(8, BigInt(body.charCodeAt(0) & 0xff));
}

function numberValue(image: string, loc: Loc): bigint {
  const digits = image.replace(/[uUlL]+$/, '');
  if (/^0[xX]/.test(digits)) return BigInt(digits);
  if (digits.length > 1 && digits.startsWith('0')) {
    // As gcc says it (an 8 or a 9 made BigInt('0o9') throw: found by the script fuzzer).
    const bad = /[89]/.exec(digits);
    if (bad) throw parseError(`invalid digit "${bad[0]}" in octal constant`, loc);
    return BigInt(`0o${digits.slice(1)}`);
  }
  return BigInt(digits);
}

/** A C type from its words (`unsigned long`, `const char`, `struct ksm_memory_region`, `__u32`). */
export function typeFromWords(words: string[], structName: string | null): CType {
  if (structName !== null) return { kind: 'struct', name: structName };
  // Qualifiers and inline change nothing a script can observe: `static inline bool` is bool.
  const w = words.filter((x) => x !== 'const' && x !== 'volatile' && x !== 'register' && x !== 'inline' && x !== '__inline__');
  if (w.length === 1 && T.TYPEDEFS[w[0]]) return { kind: 'int', name: w[0], ...T.TYPEDEFS[w[0]] };
  if (w.length === 1 && w[0] === 'void') return { kind: 'void', name: 'void' };
  const unsigned = w.includes('unsigned');
  const longs = w.filter((x) => x === 'long').length;
  const bits: 8 | 16 | 32 | 64 = w.includes('char') ? 8 : w.includes('short') ? 16 : longs > 0 ? 64 : 32;
  return { kind: 'int', name: w.join(' '), bits, signed: !unsigned };
}

export function typeName(t: CType): string {
  switch (t.kind) {
    case 'int':
    case 'void':
      return t.name;
    case 'struct':
      return `struct ${t.name}`;
    case 'ptr':
      return `${typeName(t.to)} *`;
    case 'array':
      return `${typeName(t.of)} []`;
  }
}

class ScriptParser extends EmbeddedActionsParser {
  source = '';
  funcs = new Map<string, FuncDef>();
  private depth = 0;

  constructor() {
    super(T.ALL_TOKENS, { maxLookahead: 3, recoveryEnabled: false });
    this.performSelfAnalysis();
  }

  private loc(t: IToken): Loc {
    return T.tokLoc(t);
  }

  public program = this.RULE('program', (): Stmt[] => {
    const body: Stmt[] = [];
    this.MANY(() => {
      const s = this.SUBRULE(this.statement);
      this.ACTION(() => {
        if (s !== null) body.push(s);
      });
    });
    return body;
  });

  /** A statement, or null for a function definition (kept in `funcs`). */
  private statement = this.RULE('statement', (): Stmt | null => {
    // Alternatives are tried in order: a `{` at the start of a statement is a
    // block and `cat` the cat statement, never an expression statement.
    return this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
      { ALT: () => this.SUBRULE(this.block) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.SUBRULE(this.whileStmt) },
      {
        ALT: () => {
          const t = this.CONSUME(T.Break);
          this.OPTION(() => this.CONSUME(T.Semi));
          return { k: 'break', loc: this.loc(t) } as Stmt;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Continue);
          this.OPTION2(() => this.CONSUME2(T.Semi));
          return { k: 'continue', loc: this.loc(t) } as Stmt;
        },
      },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.gotoStmt) },
      { ALT: () => this.SUBRULE(this.switchStmt) },
      { ALT: () => this.SUBRULE(this.caseStmt) },
      { ALT: () => this.SUBRULE(this.doStmt) },
      { ALT: () => this.SUBRULE(this.staticDecl) },
      {
        GATE: () => this.LA(1).tokenType === T.Enum && (this.LA(2).tokenType === T.LCurly || this.LA(3).tokenType === T.LCurly),
        ALT: () => this.SUBRULE(this.enumDef),
      },
      {
        GATE: () => this.LA(1).tokenType === T.Identifier && this.LA(2).tokenType === T.Colon,
        ALT: () => {
          const id = this.CONSUME(T.Identifier);
          this.CONSUME(T.Colon);
          return { k: 'label', loc: this.loc(id), name: id.image } as Stmt;
        },
      },
      { ALT: () => this.SUBRULE(this.directive) },
      { ALT: () => this.SUBRULE(this.ksmctlStmt) },
      { ALT: () => this.SUBRULE(this.echoStmt) },
      { ALT: () => this.SUBRULE(this.catStmt) },
      { ALT: () => this.SUBRULE(this.printStmt) },
      { ALT: () => this.SUBRULE(this.expectStmt) },
      {
        ALT: () => {
          const t = this.CONSUME3(T.Semi);
          return { k: 'empty', loc: this.loc(t) } as Stmt;
        },
      },
      {
        GATE: () => TYPE_START.has(this.LA(1).tokenType),
        ALT: () => this.SUBRULE(this.declOrFunc),
      },
      {
        ALT: () => {
          const s = this.SUBRULE(this.simpleStmt);
          this.OPTION3(() => this.CONSUME4(T.Semi));
          return s;
        },
      },
      ],
    });
  });

  private block = this.RULE('block', (): Stmt & { k: 'block' } => {
    const open = this.CONSUME(T.LCurly);
    const body: Stmt[] = [];
    this.ACTION(() => this.depth++);
    this.MANY(() => {
      const s = this.SUBRULE(this.statement);
      this.ACTION(() => {
        if (s !== null) body.push(s);
      });
    });
    this.CONSUME(T.RCurly);
    this.ACTION(() => this.depth--);
    return { k: 'block', loc: this.loc(open), body };
  });

  private ifStmt = this.RULE('ifStmt', (): Stmt => {
    const t = this.CONSUME(T.If);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.commaExpr);
    this.CONSUME(T.RParen);
    const then = this.SUBRULE(this.statement);
    let otherwise: Stmt | null = null;
    this.OPTION(() => {
      this.CONSUME(T.Else);
      otherwise = this.SUBRULE2(this.statement);
    });
    return this.ACTION(() => ({ k: 'if', loc: this.loc(t), test, then: this.nonFunc(then, t), else: otherwise }) as Stmt);
  });

  private nonFunc(s: Stmt | null, t: IToken): Stmt {
    if (s === null) throw parseError('a function cannot be defined here', this.loc(t));
    return s;
  }

  private forStmt = this.RULE('forStmt', (): Stmt => {
    const t = this.CONSUME(T.For);
    this.CONSUME(T.LParen);
    let init: Stmt | null = null;
    let test: Expr | null = null;
    let step: Stmt | null = null;
    this.OPTION(() => {
      init = this.OR([
        { GATE: () => TYPE_START.has(this.LA(1).tokenType), ALT: () => this.SUBRULE(this.declaration) },
        { ALT: () => this.SUBRULE(this.simpleStmt) },
      ]);
    });
    this.CONSUME(T.Semi);
    this.OPTION2(() => {
      test = this.SUBRULE(this.commaExpr);
    });
    this.CONSUME2(T.Semi);
    this.OPTION3(() => {
      step = this.SUBRULE2(this.simpleStmt);
    });
    this.CONSUME(T.RParen);
    const body = this.SUBRULE(this.statement);
    return this.ACTION(() => ({ k: 'for', loc: this.loc(t), init, test, step, body: this.nonFunc(body, t) }) as Stmt);
  });

  private whileStmt = this.RULE('whileStmt', (): Stmt => {
    const t = this.CONSUME(T.While);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.commaExpr);
    this.CONSUME(T.RParen);
    const body = this.SUBRULE(this.statement);
    return this.ACTION(() => ({ k: 'while', loc: this.loc(t), test, body: this.nonFunc(body, t) }) as Stmt);
  });

  private returnStmt = this.RULE('returnStmt', (): Stmt => {
    const t = this.CONSUME(T.Return);
    let value: Expr | null = null;
    this.OPTION(() => {
      value = this.SUBRULE(this.commaExpr);
    });
    this.OPTION2(() => this.CONSUME(T.Semi));
    return { k: 'return', loc: this.loc(t), value };
  });

  private gotoStmt = this.RULE('gotoStmt', (): Stmt => {
    const t = this.CONSUME(T.Goto);
    const id = this.CONSUME(T.Identifier);
    this.OPTION(() => this.CONSUME(T.Semi));
    return { k: 'goto', loc: this.loc(t), label: id.image };
  });

  private switchStmt = this.RULE('switchStmt', (): Stmt => {
    const t = this.CONSUME(T.Switch);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.commaExpr);
    this.CONSUME(T.RParen);
    const body = this.SUBRULE(this.block);
    return { k: 'switch', loc: this.loc(t), test, body };
  });

  private caseStmt = this.RULE('caseStmt', (): Stmt => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(T.Case);
          const value = this.SUBRULE(this.ternary);
          this.CONSUME(T.Colon);
          return { k: 'case', loc: this.loc(t), value } as Stmt;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Default);
          this.CONSUME2(T.Colon);
          return { k: 'case', loc: this.loc(t), value: null } as Stmt;
        },
      },
    ]);
  });

  private doStmt = this.RULE('doStmt', (): Stmt => {
    const t = this.CONSUME(T.Do);
    const body = this.SUBRULE(this.statement);
    this.CONSUME(T.While);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.commaExpr);
    this.CONSUME(T.RParen);
    this.OPTION(() => this.CONSUME(T.Semi));
    return this.ACTION(() => ({ k: 'dowhile', loc: this.loc(t), body: this.nonFunc(body, t), test }) as Stmt);
  });

  /** `static T x = v;` (a local keeps its value from call to call; at file scope a global), or `static T f(...) {...}`. */
  private staticDecl = this.RULE('staticDecl', (): Stmt | null => {
    this.CONSUME(T.Static);
    const s = this.SUBRULE(this.declOrFunc);
    return this.ACTION(() => (s !== null && s.k === 'decl' ? ({ ...s, static: true } as Stmt) : s));
  });

  private enumDef = this.RULE('enumDef', (): Stmt => {
    const t = this.CONSUME(T.Enum);
    this.OPTION(() => this.CONSUME(T.Identifier));
    this.CONSUME(T.LCurly);
    const items: Array<{ loc: Loc; name: string; value: Expr | null }> = [];
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        const id = this.CONSUME2(T.Identifier);
        let value: Expr | null = null;
        this.OPTION2(() => {
          this.CONSUME(T.Assign);
          value = this.SUBRULE(this.ternary);
        });
        this.ACTION(() => items.push({ loc: this.loc(id), name: id.image, value }));
      },
    });
    this.CONSUME(T.RCurly);
    this.OPTION3(() => this.CONSUME(T.Semi));
    return { k: 'enum', loc: this.loc(t), items };
  });

  private directive = this.RULE('directive', (): Stmt => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(T.Define);
          const name = this.CONSUME(T.Identifier);
          let value: Expr | null = null;
          this.OPTION(() => {
            value = this.SUBRULE(this.commaExpr);
          });
          this.OPTION2(() => this.CONSUME(T.Semi));
          return this.ACTION(() => ({ k: 'define', loc: this.loc(name), name: name.image, value: value ?? { k: 'num', loc: this.loc(t), value: 1n } }) as Stmt);
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Include);
          this.OPTION3(() => this.CONSUME2(T.Semi));
          return this.ACTION(() => ({ k: 'include', loc: this.loc(t), file: /[<"]([^>"]*)[>"]/.exec(t.image)?.[1] ?? '', local: /^#\s*include\s*"/.test(t.image) }) as Stmt);
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Pragma);
          this.OPTION4(() => this.CONSUME3(T.Semi));
          return this.ACTION(() => ({ k: 'pragma', loc: this.loc(t), words: t.image.replace(/^#\s*pragma\s*/, '').trim().split(/\s+/).filter(Boolean) }) as Stmt);
        },
      },
    ]);
  });

  private word = this.RULE('word', (): Word => {
    return this.OR([
      { ALT: () => this.tokWord(this.CONSUME(T.NumberLit)) },
      { ALT: () => this.tokWord(this.CONSUME(T.Identifier)) },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLit);
          return this.ACTION(() => ({ loc: this.loc(t), text: unescape(t.image.slice(1, -1)) }));
        },
      },
      {
        ALT: () => {
          const m = this.CONSUME(T.Minus);
          const n = this.CONSUME2(T.NumberLit);
          return this.ACTION(() => ({ loc: this.loc(m), text: `-${n.image}` }));
        },
      },
      {
        ALT: () => {
          const d = this.CONSUME(T.Dollar);
          return this.OR2([
            {
              ALT: () => {
                const id = this.CONSUME2(T.Identifier);
                return this.ACTION(() => ({ loc: this.loc(d), expr: { k: 'ident', loc: this.loc(id), name: id.image } as Expr }));
              },
            },
            {
              ALT: () => {
                this.CONSUME(T.LCurly);
                const e = this.SUBRULE(this.commaExpr);
                this.CONSUME(T.RCurly);
                return { loc: this.loc(d), expr: e };
              },
            },
          ]);
        },
      },
    ]);
  });

  private tokWord(t: IToken): Word {
    return { loc: this.loc(t), text: t.image };
  }

  private ksmctlStmt = this.RULE('ksmctlStmt', (): Stmt => {
    const t = this.CONSUME(T.Ksmctl);
    const words: Word[] = [];
    this.MANY(() => {
      const w = this.SUBRULE(this.word);
      this.ACTION(() => words.push(w));
    });
    this.OPTION(() => this.CONSUME(T.Semi));
    return { k: 'ksmctl', loc: this.loc(t), words };
  });

  private pathArg = this.RULE('pathArg', (): { path: string; loc: Loc } => {
    return this.OR([
      {
        ALT: () => {
          const p = this.CONSUME(T.Path);
          return this.ACTION(() => ({ path: p.image, loc: this.loc(p) }));
        },
      },
      {
        ALT: () => {
          const s = this.CONSUME(T.StringLit);
          return this.ACTION(() => ({ path: unescape(s.image.slice(1, -1)), loc: this.loc(s) }));
        },
      },
    ]);
  });

  private echoStmt = this.RULE('echoStmt', (): Stmt => {
    const t = this.CONSUME(T.Echo);
    const value = this.SUBRULE(this.word);
    this.CONSUME(T.Gt);
    const p = this.SUBRULE(this.pathArg);
    this.OPTION(() => this.CONSUME(T.Semi));
    return this.ACTION(() => ({ k: 'echo', loc: this.loc(t), value, path: p.path, pathLoc: p.loc }) as Stmt);
  });

  private catStmt = this.RULE('catStmt', (): Stmt => {
    const t = this.CONSUME(T.Cat);
    const p = this.SUBRULE(this.pathArg);
    this.OPTION(() => this.CONSUME(T.Semi));
    return this.ACTION(() => ({ k: 'cat', loc: this.loc(t), path: p.path }) as Stmt);
  });

  private printStmt = this.RULE('printStmt', (): Stmt => {
    const t = this.CONSUME(T.Print);
    const args: Expr[] = [];
    this.OPTION(() => {
      args.push(this.SUBRULE(this.ternary));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        args.push(this.SUBRULE2(this.ternary));
      });
    });
    this.OPTION2(() => this.CONSUME(T.Semi));
    return { k: 'print', loc: this.loc(t), args };
  });

  private expectStmt = this.RULE('expectStmt', (): Stmt => {
    const t = this.CONSUME(T.Expect);
    const start = this.ACTION(() => this.LA(1));
    const test = this.SUBRULE(this.commaExpr);
    const end = this.ACTION(() => this.LA(0));
    this.OPTION(() => this.CONSUME(T.Semi));
    return this.ACTION(() => ({ k: 'expect', loc: this.loc(t), test, text: this.source.slice(start.startOffset, (end.endOffset ?? end.startOffset) + 1).trim() }) as Stmt);
  });

  /** An expression statement or an assignment, without its `;` (also for-loop clauses). */
  private simpleStmt = this.RULE('simpleStmt', (): Stmt => {
    const first = this.ACTION(() => this.LA(1));
    const target = this.SUBRULE(this.commaExpr);
    let op: string | null = null;
    let value: Expr | null = null;
    this.OPTION(() => {
      op = this.CONSUME(T.AssignOp).image;
      value = this.SUBRULE2(this.commaExpr);
    });
    return this.ACTION(() => {
      const loc = this.loc(first);
      if (op === null) return { k: 'expr', loc, expr: target } as Stmt;
      checkLvalue(target);
      return { k: 'assign', loc, op, target, value: value! } as Stmt;
    });
  });

  private type = this.RULE('type', (): CType => {
    const words: string[] = [];
    let structName: string | null = null;
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Struct);
          structName = this.CONSUME(T.Identifier).image;
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Enum);
          this.CONSUME2(T.Identifier);
          words.push('int');
        },
      },
      {
        ALT: () => {
          this.AT_LEAST_ONE(() => {
            this.OR2([{ ALT: () => words.push(this.CONSUME(T.TypeKw).image) }, { ALT: () => words.push(this.CONSUME(T.TypeName).image) }]);
          });
        },
      },
    ]);
    return this.ACTION(() => typeFromWords(words, structName));
  });

  private stars = this.RULE('stars', (): number => {
    let n = 0;
    this.MANY(() => {
      this.CONSUME(T.Star);
      n++;
    });
    return n;
  });

  private declaration = this.RULE('declaration', (): Stmt => {
    const base = this.SUBRULE(this.type);
    const first = this.SUBRULE(this.declarator, { ARGS: [base] });
    const decls = [first];
    this.MANY(() => {
      this.CONSUME(T.Comma);
      decls.push(this.SUBRULE2(this.declarator, { ARGS: [base] }));
    });
    return this.ACTION(() => ({ k: 'decl', loc: first.loc, decls }) as Stmt);
  });

  /** `[n]` or `[]` after a declared name: an array of the type. */
  private arraySuffix = this.RULE('arraySuffix', (): { n: Expr | null } | null => {
    let r: { n: Expr | null } | null = null;
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      let n: Expr | null = null;
      this.OPTION2(() => {
        n = this.SUBRULE(this.commaExpr);
      });
      const close = this.CONSUME(T.RBracket);
      r = { n };
      this.ACTION(() => {
        if (this.LA(1).tokenType === T.LBracket) throw parseError('arrays of arrays are not supported in scripts: one dimension only', this.loc(this.LA(1)));
        void close;
      });
    });
    return r;
  });

  private declarator = this.RULE('declarator', (base: CType): Declarator => {
    const n = this.SUBRULE(this.stars);
    const name = this.CONSUME(T.Identifier);
    const arr = this.SUBRULE(this.arraySuffix);
    let init: Expr | null = null;
    this.OPTION(() => {
      this.CONSUME(T.Assign);
      init = this.SUBRULE(this.ternary);
    });
    return this.ACTION(() => ({ loc: this.loc(name), name: name.image, type: arrayOf(pointer(base, n), arr), init }));
  });

  /** A declaration, or at the top level a function definition (then null). */
  private declOrFunc = this.RULE('declOrFunc', (): Stmt | null => {
    const base = this.SUBRULE(this.type);
    const n = this.SUBRULE(this.stars);
    const name = this.CONSUME(T.Identifier);
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          const params = this.SUBRULE(this.params);
          this.CONSUME(T.RParen);
          const body = this.SUBRULE(this.block);
          return this.ACTION(() => {
            if (this.depth > 0) throw parseError('a function can only be defined at the top level', this.loc(name));
            if (this.funcs.has(name.image)) throw parseError(`function ${name.image} is defined twice`, this.loc(name));
            this.funcs.set(name.image, { loc: this.loc(name), name: name.image, ret: pointer(base, n), params, body });
            return null;
          });
        },
      },
      {
        ALT: () => {
          const arr = this.SUBRULE(this.arraySuffix);
          let init: Expr | null = null;
          this.OPTION(() => {
            this.CONSUME(T.Assign);
            init = this.SUBRULE(this.ternary);
          });
          const decls: Declarator[] = [];
          this.MANY(() => {
            this.CONSUME(T.Comma);
            decls.push(this.SUBRULE(this.declarator, { ARGS: [base] }));
          });
          this.OPTION2(() => this.CONSUME(T.Semi));
          return this.ACTION(() => {
            const first: Declarator = { loc: this.loc(name), name: name.image, type: arrayOf(pointer(base, n), arr), init };
            return { k: 'decl', loc: first.loc, decls: [first, ...decls] } as Stmt;
          });
        },
      },
    ]);
  });

  private params = this.RULE('params', (): FuncDef['params'] => {
    const out: FuncDef['params'] = [];
    this.OPTION(() => {
      const t = this.SUBRULE(this.type);
      this.OPTION2(() => {
        const n = this.SUBRULE(this.stars);
        const name = this.CONSUME(T.Identifier);
        const a = this.SUBRULE(this.arraySuffix);
        this.ACTION(() => out.push({ name: name.image, type: pointer(t, n + (a ? 1 : 0)), loc: this.loc(name) }));
        this.MANY(() => {
          this.CONSUME(T.Comma);
          const t2 = this.SUBRULE2(this.type);
          const n2 = this.SUBRULE2(this.stars);
          const name2 = this.CONSUME2(T.Identifier);
          const a2 = this.SUBRULE2(this.arraySuffix);
          this.ACTION(() => out.push({ name: name2.image, type: pointer(t2, n2 + (a2 ? 1 : 0)), loc: this.loc(name2) }));
        });
      });
    });
    return out;
  });

  // ------------------------------------------------------------ expressions

  public commaExpr = this.RULE('commaExpr', (): Expr => {
    const first = this.SUBRULE(this.ternary);
    const items = [first];
    this.MANY(() => {
      this.CONSUME(T.Comma);
      items.push(this.SUBRULE2(this.ternary));
    });
    return this.ACTION(() => (items.length === 1 ? first : ({ k: 'comma', loc: first.loc, items } as Expr)));
  });

  private ternary = this.RULE('ternary', (): Expr => {
    const test = this.SUBRULE(this.binaryRules[0]);
    let result = test;
    this.OPTION(() => {
      this.CONSUME(T.Question);
      const a = this.SUBRULE(this.commaExpr);
      this.CONSUME(T.Colon);
      const b = this.SUBRULE2(this.ternary);
      result = this.ACTION(() => ({ k: 'cond', loc: test.loc, test, then: a, else: b }) as Expr);
    });
    return result;
  });

  /** One rule per precedence level, loosest first; the last level's operands are unary expressions. */
  private binaryRules: Array<ParserMethod<[], Expr>> = BINARY_LEVELS.map((ops, level) =>
    this.RULE(`binary${level}`, (): Expr => {
      const next = (): ParserMethod<[], Expr> => (level + 1 < BINARY_LEVELS.length ? this.binaryRules[level + 1] : this.unary);
      let left = this.SUBRULE(next());
      this.MANY(() => {
        const op = this.OR(ops.map((tt) => ({ ALT: () => this.CONSUME(tt) })));
        const right = this.SUBRULE2(next());
        left = this.ACTION(() => ({ k: 'binary', loc: this.loc(op), op: op.image, left, right }) as Expr);
      });
      return left;
    }),
  );

  private unary = this.RULE('unary', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const op = this.OR2([
            { ALT: () => this.CONSUME(T.Minus) },
            { ALT: () => this.CONSUME(T.Plus) },
            { ALT: () => this.CONSUME(T.Bang) },
            { ALT: () => this.CONSUME(T.Tilde) },
          ]);
          const arg = this.SUBRULE(this.unary);
          return this.ACTION(() => ({ k: 'unary', loc: this.loc(op), op: op.image as '-', arg }) as Expr);
        },
      },
      {
        ALT: () => {
          const star = this.CONSUME(T.Star);
          const arg = this.SUBRULE2(this.unary);
          return this.ACTION(() => {
            if (arg.k !== 'cast' || arg.type.kind !== 'ptr') return { k: 'star', loc: this.loc(star), arg } as Expr;
            return { k: 'deref', loc: this.loc(star), type: arg.type.to, arg: arg.arg } as Expr;
          });
        },
      },
      {
        ALT: () => {
          const amp = this.CONSUME(T.Amp);
          const arg = this.SUBRULE3(this.unary);
          return this.ACTION(() => ({ k: 'addr', loc: this.loc(amp), arg }) as Expr);
        },
      },
      {
        ALT: () => {
          const op = this.OR3([{ ALT: () => this.CONSUME(T.PlusPlus) }, { ALT: () => this.CONSUME(T.MinusMinus) }]);
          const target = this.SUBRULE4(this.unary);
          return this.ACTION(() => {
            checkLvalue(target);
            return { k: 'update', loc: this.loc(op), op: op.image as '++', prefix: true, target } as Expr;
          });
        },
      },
      {
        GATE: () => this.LA(1).tokenType === T.LParen && TYPE_START.has(this.LA(2).tokenType),
        ALT: () => {
          const open = this.CONSUME(T.LParen);
          const t = this.SUBRULE(this.type);
          const n = this.SUBRULE(this.stars);
          this.CONSUME(T.RParen);
          const arg = this.SUBRULE5(this.unary);
          return this.ACTION(() => ({ k: 'cast', loc: this.loc(open), type: pointer(t, n), arg }) as Expr);
        },
      },
      {
        GATE: () => this.LA(1).tokenType === T.Sizeof && this.LA(2).tokenType === T.LParen && TYPE_START.has(this.LA(3).tokenType),
        ALT: () => {
          const s = this.CONSUME(T.Sizeof);
          this.CONSUME2(T.LParen);
          const t = this.SUBRULE2(this.type);
          const n = this.SUBRULE2(this.stars);
          this.CONSUME2(T.RParen);
          return this.ACTION(() => ({ k: 'sizeof', loc: this.loc(s), type: pointer(t, n) }) as Expr);
        },
      },
      {
        ALT: () => {
          const s = this.CONSUME2(T.Sizeof);
          const arg = this.SUBRULE6(this.unary);
          return { k: 'sizeofExpr', loc: this.loc(s), arg } as Expr;
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  private postfix = this.RULE('postfix', (): Expr => {
    let e = this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            const f = this.CONSUME(T.Identifier);
            const object = e;
            e = this.ACTION(() => ({ k: 'member', loc: object.loc, object, field: f.image, fieldLoc: this.loc(f) }) as Expr);
          },
        },
        {
          ALT: () => {
            const open = this.CONSUME(T.LBracket);
            const index = this.SUBRULE(this.commaExpr);
            this.CONSUME(T.RBracket);
            const object = e;
            e = this.ACTION(() => ({ k: 'index', loc: this.loc(open), object, index }) as Expr);
          },
        },
        {
          ALT: () => {
            const op = this.OR2([{ ALT: () => this.CONSUME(T.PlusPlus) }, { ALT: () => this.CONSUME(T.MinusMinus) }]);
            const target = e;
            e = this.ACTION(() => {
              checkLvalue(target);
              return { k: 'update', loc: target.loc, op: op.image as '++', prefix: false, target } as Expr;
            });
          },
        },
      ]);
    });
    return e;
  });

  private primary = this.RULE('primary', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(T.NumberLit);
          return this.ACTION(() => ({ k: 'num', loc: this.loc(t), value: numberValue(t.image, this.loc(t)) }) as Expr);
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLit);
          let value = this.ACTION(() => unescape(t.image.slice(1, -1)));
          // Adjacent string literals concatenate, as in C.
          this.MANY(() => {
            const u = this.CONSUME2(T.StringLit);
            this.ACTION(() => (value += unescape(u.image.slice(1, -1))));
          });
          return { k: 'str', loc: this.loc(t), value } as Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.CharLit);
          return this.ACTION(() => ({ k: 'num', loc: this.loc(t), value: charValue(t.image, this.loc(t)) }) as Expr);
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.HexBytes);
          return this.ACTION(() => {
            const hex = t.image.slice(2, -1).replace(/\s+/g, '');
            if (hex.length % 2 !== 0) throw parseError('x"..." needs an even number of hex digits', this.loc(t));
            return { k: 'bytes', loc: this.loc(t), value: Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)) } as Expr;
          });
        },
      },
      {
        ALT: () => {
          const id = this.CONSUME(T.Identifier);
          let call: { args: Expr[]; end: IToken } | null = null;
          this.OPTION(() => {
            this.CONSUME(T.LParen);
            const args: Expr[] = [];
            this.OPTION2(() => {
              args.push(this.SUBRULE(this.ternary));
              this.MANY2(() => {
                this.CONSUME(T.Comma);
                args.push(this.SUBRULE2(this.ternary));
              });
            });
            const end = this.CONSUME(T.RParen);
            call = { args, end };
          });
          return this.ACTION(() => {
            const c = call as { args: Expr[]; end: IToken } | null;
            if (c === null) return { k: 'ident', loc: this.loc(id), name: id.image } as Expr;
            return { k: 'call', loc: this.loc(id), name: id.image, args: c.args, end: this.loc(c.end) } as Expr;
          });
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME2(T.LParen);
          const e = this.SUBRULE(this.commaExpr);
          let result = e;
          // An assignment in parentheses is an expression, as in C: while ((opt = getopt(...)) != -1).
          this.OPTION6(() => {
            const op = this.CONSUME(T.AssignOp);
            const value = this.SUBRULE7(this.commaExpr);
            result = this.ACTION(() => {
              checkLvalue(e);
              return { k: 'assignExpr', loc: this.loc(open), op: op.image, target: e, value } as Expr;
            });
          });
          this.CONSUME2(T.RParen);
          return result;
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME(T.LCurly);
          const fields: Array<{ key: string; keyLoc: Loc; value: Expr }> = [];
          const plain: Expr[] = [];
          this.MANY3(() => {
            this.OR3([
              {
                // `key: v`, `key = v`, `"key": v`, `.key = v` (C's designated initializer)
                GATE: () => (this.LA(1).tokenType === T.Dot && this.LA(2).tokenType === T.Identifier) || ((this.LA(1).tokenType === T.Identifier || this.LA(1).tokenType === T.StringLit) && (this.LA(2).tokenType === T.Colon || this.LA(2).tokenType === T.Assign)),
                ALT: () => {
                  this.OPTION4(() => this.CONSUME(T.Dot));
                  const key = this.OR4([{ ALT: () => this.CONSUME3(T.Identifier) }, { ALT: () => this.CONSUME3(T.StringLit) }]);
                  this.OR5([{ ALT: () => this.CONSUME(T.Colon) }, { ALT: () => this.CONSUME(T.Assign) }]);
                  const value = this.SUBRULE3(this.ternary);
                  this.ACTION(() => fields.push({ key: key.tokenType === T.StringLit ? unescape(key.image.slice(1, -1)) : key.image, keyLoc: this.loc(key), value }));
                },
              },
              // A plain value: an array's initializer `{1, 2, 3}`.
              { ALT: () => plain.push(this.SUBRULE5(this.ternary)) },
            ]);
            this.OPTION5(() => this.CONSUME4(T.Comma));
          });
          this.CONSUME(T.RCurly);
          return this.ACTION(() => {
            if (plain.length > 0 && fields.length > 0) throw parseError('an initializer is either {field: value, ...} or {value, ...}, not both', this.loc(open));
            if (plain.length > 0) return { k: 'array', loc: this.loc(open), items: plain } as Expr;
            return { k: 'object', loc: this.loc(open), fields } as Expr;
          });
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME(T.LBracket);
          const items: Expr[] = [];
          this.MANY_SEP2({
            SEP: T.Comma,
            DEF: () => {
              items.push(this.SUBRULE4(this.ternary));
            },
          });
          this.CONSUME(T.RBracket);
          return { k: 'array', loc: this.loc(open), items } as Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Cat);
          const p = this.SUBRULE(this.pathArg);
          return this.ACTION(() => ({ k: 'cat', loc: this.loc(t), path: p.path }) as Expr);
        },
      },
    ]);
  });
}

function arrayOf(t: CType, a: { n: Expr | null } | null): CType {
  return a === null ? t : { kind: 'array', of: t, n: a.n };
}

function pointer(t: CType, n: number): CType {
  let r = t;
  for (let i = 0; i < n; i++) r = { kind: 'ptr', to: r };
  return r;
}

function checkLvalue(e: Expr): void {
  const ok = e.k === 'ident' || e.k === 'deref' || e.k === 'index' || e.k === 'star' || (e.k === 'member' && e.object.k === 'ident') || (e.k === 'call' && (e.name === 'page' || e.name === 'pages'));
  if (!ok) throw parseError('cannot assign to this expression (a variable, a struct field, *(T *)addr, page(addr) or pages(addr, n) can be assigned)', e.loc);
}

let parser: ScriptParser | null = null;

const FRIENDLY: Record<string, string> = {
  Semi: "';' or the end of the line",
  EOF: 'the end of the file',
};

function describeToken(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'the end of the file';
  if (t.tokenType === T.Semi && t.image === '') return 'the end of the line';
  return `'${t.image}'`;
}

/**
 * Parentheses, brackets and braces open at once, at most (C99 asks a
 * compiler for 63 levels of parenthesized expressions): the parser and the
 * interpreter recurse on them.
 */
export const MAX_NESTING = 100;

/** How deep a program's tree may be: statements in statements, operands of operators (a chain of 1,000 `+`). */
export const MAX_TREE_DEPTH = 1000;

/** The first bracket that opens more than MAX_NESTING levels, as a parse error. */
function checkNesting(tokens: IToken[]): void {
  let depth = 0;
  for (const t of tokens) {
    const type = t.tokenType;
    if (type === T.LParen || type === T.LBracket || type === T.LCurly) {
      if (++depth > MAX_NESTING) throw parseError(`more than ${MAX_NESTING} parentheses, brackets and braces open at once (nested too deeply)`, T.tokLoc(t));
    } else if ((type === T.RParen || type === T.RBracket || type === T.RCurly) && depth > 0) {
      depth--;
    }
  }
}

/** Keys of the tree that never hold a node. */
const NOT_NODES = new Set(['loc', 'end', 'type', 'ret', 'params']);

/** The first node deeper than MAX_TREE_DEPTH in the program's tree, as a parse error (walked without recursion). */
function checkDepth(roots: unknown[]): void {
  const stack: Array<[unknown, number]> = roots.map((r) => [r, 1]);
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const x of node) stack.push([x, depth]);
      continue;
    }
    if (ArrayBuffer.isView(node)) continue;
    // Nodes (statements and expressions) have a kind `k`; declarators, words, fields and functions hold nodes.
    const n = node as { k?: unknown; loc?: Loc };
    const isNode = typeof n.k === 'string';
    if (isNode && depth > MAX_TREE_DEPTH) throw parseError(`nested too deeply: more than ${MAX_TREE_DEPTH} levels of statements, operators and calls in one tree`, n.loc!);
    for (const [key, v] of Object.entries(n)) {
      if (v === null || typeof v !== 'object' || NOT_NODES.has(key) || key.endsWith('Loc')) continue;
      stack.push([v, isNode ? depth + 1 : depth]);
    }
  }
}

/** An expression alone (an `#if` condition), parsed with the script's grammar; errors are reported at `at`. */
function parseExpression(text: string, at: Loc): Expr {
  parser ??= new ScriptParser();
  const p = parser;
  try {
    const tokens = T.tokenize(text);
    p.source = text;
    p.input = tokens;
    const e = p.commaExpr();
    if (p.errors.length > 0) throw parseError(`#if: ${friendlyMessage(p.errors[0].name, p.errors[0].message, p.errors[0].token)}`, at);
    if (p.input.length > 0 && (p as unknown as { currIdx: number }).currIdx < tokens.length - 1) throw parseError(`#if: unexpected '${tokens[(p as unknown as { currIdx: number }).currIdx + 1].image}'`, at);
    return e;
  } catch (e) {
    if (e instanceof ScriptError && e.loc !== at) throw parseError(e.message.startsWith('#if') ? e.message : `#if: ${e.message}`, at);
    throw e;
  }
}

/** A constant a header of the script (or every era) defines, as the C headers' macros: for `#ifdef` and `#if`. */
function headerConstant(name: string, includes: readonly string[]): bigint | undefined {
  for (const f of includes) {
    const v = headerOfInclude(f)?.constants.get(name);
    if (v !== undefined) return v;
  }
  return COMMON.get(name);
}

export interface ParseOptions {
  /** `-D NAME=VALUE` of the command line, for the preprocessor's `#if` and `#ifdef`. */
  defines?: Readonly<Record<string, string>>;
}

/** Parses a script; throws a parse ScriptError (with its place) on the first error. */
export function parseScript(file: string, source: string, opts: ParseOptions = {}): Program {
  const pre = preprocess(source, { defines: opts.defines, constant: headerConstant, parseExpr: parseExpression });
  const tokens = T.tokenize(pre.text);
  checkNesting(tokens);
  parser ??= new ScriptParser();
  const p = parser;
  p.source = pre.text;
  p.funcs = new Map();
  p.input = tokens;
  let body: Stmt[];
  try {
    body = p.program();
  } catch (e) {
    if (!(e instanceof RangeError && /call stack/i.test(e.message))) throw e;
    // The parser's own stack (a long run of prefix operators, say): an error where it was, and a fresh parser next time.
    parser = null;
    const at = tokens[Math.min(tokens.length - 1, Math.max(0, (p as unknown as { currIdx: number }).currIdx))];
    throw parseError('nested too deeply here for the parser (operators, statements or brackets)', at ? T.tokLoc(at) : { line: 1, col: 1, offset: 0 });
  }
  if (p.errors.length > 0) {
    const e = p.errors[0];
    const tok = e.token;
    let loc: Loc;
    if (tok.tokenType.name === 'EOF' || Number.isNaN(tok.startOffset)) {
      const prev = (e as { previousToken?: IToken }).previousToken ?? tokens[tokens.length - 1];
      loc = prev ? { line: prev.endLine ?? 1, col: (prev.endColumn ?? 0) + 1, offset: (prev.endOffset ?? 0) + 1 } : { line: 1, col: 1, offset: 0 };
    } else {
      loc = T.tokLoc(tok);
    }
    throw parseError(friendlyMessage(e.name, e.message, tok), loc);
  }
  checkDepth([body, [...p.funcs.values()]]);
  return { file, source, body, funcs: p.funcs, warnings: pre.warnings };
}

function friendlyMessage(name: string, message: string, tok: IToken): string {
  const found = describeToken(tok);
  if (name === 'MismatchedTokenException') {
    const m = /Expecting token of type --> (\w+) <--/.exec(message) ?? /Expecting --> (.+?) <-- but found/.exec(message);
    const want = m ? (FRIENDLY[m[1]] ?? labelOf(m[1])) : 'something else';
    return `expected ${want}, found ${found}`;
  }
  if (name === 'NotAllInputParsedException' || name === 'NoViableAltException' || name === 'EarlyExitException') {
    return `unexpected ${found}`;
  }
  return message;
}

function labelOf(name: string): string {
  const t = T.ALL_TOKENS.find((x) => x.name === name);
  return t?.LABEL ?? name;
}
