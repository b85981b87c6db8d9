/**
 * The syntax tree of ksmctl scripts (grammar in parser.ts). Every node
 * carries the place it starts at, so errors point at the source.
 */

/** 1-based line and column, and the offset in the source. */
export interface Loc {
  line: number;
  col: number;
  offset: number;
}

/** A C type as far as scripts need one: an integer of some width, a pointer, or a struct. */
export type CType =
  | { kind: 'int'; name: string; bits: 8 | 16 | 32 | 64; signed: boolean }
  | { kind: 'void'; name: 'void' }
  | { kind: 'ptr'; to: CType }
  | { kind: 'struct'; name: string }
  /** `T name[n]` (n null: sized by its initializer, or a parameter `char *argv[]`). */
  | { kind: 'array'; of: CType; n: Expr | null };

export type Expr =
  | { k: 'num'; loc: Loc; value: bigint }
  | { k: 'str'; loc: Loc; value: string }
  | { k: 'bytes'; loc: Loc; value: Uint8Array }
  | { k: 'ident'; loc: Loc; name: string }
  | { k: 'unary'; loc: Loc; op: '-' | '+' | '!' | '~'; arg: Expr }
  | { k: 'addr'; loc: Loc; arg: Expr }
  | { k: 'deref'; loc: Loc; type: CType; arg: Expr }
  | { k: 'cast'; loc: Loc; type: CType; arg: Expr }
  | { k: 'sizeof'; loc: Loc; type: CType }
  | { k: 'binary'; loc: Loc; op: string; left: Expr; right: Expr }
  | { k: 'cond'; loc: Loc; test: Expr; then: Expr; else: Expr }
  | { k: 'comma'; loc: Loc; items: Expr[] }
  | { k: 'call'; loc: Loc; name: string; args: Expr[]; end: Loc }
  | { k: 'member'; loc: Loc; object: Expr; field: string; fieldLoc: Loc }
  | { k: 'object'; loc: Loc; fields: Array<{ key: string; keyLoc: Loc; value: Expr }> }
  | { k: 'array'; loc: Loc; items: Expr[] }
  | { k: 'cat'; loc: Loc; path: string }
  | { k: 'update'; loc: Loc; op: '++' | '--'; prefix: boolean; target: Expr }
  /** `a[i]`: an element of an array variable, a character of a string, or memory at a typed pointer. */
  | { k: 'index'; loc: Loc; object: Expr; index: Expr }
  /** `*p` without a cast: the variable `p` points to (`&x`), or the first character of a string. */
  | { k: 'star'; loc: Loc; arg: Expr }
  /** `sizeof x`, `sizeof(buf)`: the size of a variable's declared type. */
  | { k: 'sizeofExpr'; loc: Loc; arg: Expr }
  /** `(x = f())` inside parentheses: the assignment, then x's new value (`while ((n = read(...)) > 0)`). */
  | { k: 'assignExpr'; loc: Loc; op: string; target: Expr; value: Expr };

/** A word of a shell-like command (`ksmctl start 100 $n`, `echo 1 > FILE`). */
export type Word = { loc: Loc; text: string } | { loc: Loc; expr: Expr };

export interface Declarator {
  loc: Loc;
  name: string;
  type: CType;
  init: Expr | null;
}

/** One name of an `enum { A, B = 5 }`. */
export interface Enumerator {
  loc: Loc;
  name: string;
  value: Expr | null;
}

export type Stmt =
  | { k: 'expr'; loc: Loc; expr: Expr }
  | { k: 'assign'; loc: Loc; op: string; target: Expr; value: Expr }
  | { k: 'decl'; loc: Loc; decls: Declarator[]; static?: boolean }
  | { k: 'enum'; loc: Loc; items: Enumerator[] }
  | { k: 'label'; loc: Loc; name: string }
  | { k: 'goto'; loc: Loc; label: string }
  | { k: 'switch'; loc: Loc; test: Expr; body: Stmt & { k: 'block' } }
  /** `case V:` (value) or `default:` (null), directly in a switch's block. */
  | { k: 'case'; loc: Loc; value: Expr | null }
  | { k: 'dowhile'; loc: Loc; body: Stmt; test: Expr }
  | { k: 'define'; loc: Loc; name: string; value: Expr }
  | { k: 'include'; loc: Loc; file: string; /** `#include "file"`: a header of the program's own, not the system's. */ local: boolean }
  | { k: 'pragma'; loc: Loc; words: string[] }
  | { k: 'block'; loc: Loc; body: Stmt[] }
  | { k: 'if'; loc: Loc; test: Expr; then: Stmt; else: Stmt | null }
  | { k: 'for'; loc: Loc; init: Stmt | null; test: Expr | null; step: Stmt | null; body: Stmt }
  | { k: 'while'; loc: Loc; test: Expr; body: Stmt }
  | { k: 'break'; loc: Loc }
  | { k: 'continue'; loc: Loc }
  | { k: 'return'; loc: Loc; value: Expr | null }
  | { k: 'ksmctl'; loc: Loc; words: Word[] }
  | { k: 'echo'; loc: Loc; value: Word; path: string; pathLoc: Loc }
  | { k: 'cat'; loc: Loc; path: string }
  | { k: 'print'; loc: Loc; args: Expr[] }
  | { k: 'expect'; loc: Loc; test: Expr; text: string }
  | { k: 'empty'; loc: Loc };

export interface FuncDef {
  loc: Loc;
  name: string;
  ret: CType;
  params: Array<{ name: string; type: CType; loc: Loc }>;
  body: Stmt & { k: 'block' };
}

export interface Program {
  file: string;
  source: string;
  body: Stmt[];
  funcs: Map<string, FuncDef>;
  /** The preprocessor's `#warning` messages. */
  warnings?: Array<{ loc: Loc; message: string }>;
}
