/**
 * Checks a parsed script before it runs, so that a misspelt constant, a
 * call with the wrong number of arguments or a field a struct does not have
 * is reported at once with its place, not after minutes of simulation:
 *
 * - every name is a variable (assigned, declared, a parameter, a #define)
 *   or a constant of the included header and the eras' modules;
 * - every call names a builtin or a function of the script, with an
 *   argument count it takes;
 * - struct types exist in the header; a field of a declared struct variable,
 *   or of a `{...}` literal passed to a request whose struct is known,
 *   exists;
 * - break and continue are inside loops; yielding calls are statements.
 */
import type { CType, Expr, FuncDef, Loc, Program, Stmt } from './ast.js';
import { arityText, BUILTINS } from './builtins.js';
import { COMMON, type Header, HEADERS, suggest } from './constants.js';
import { parseError } from './errors.js';
import { requestLayout } from './strace.js';

export interface CheckContext {
  header: Header;
  /** Names defined on the command line (-D). */
  defined?: Iterable<string>;
}

export function checkProgram(prog: Program, ctx: CheckContext): void {
  const vars = new Set<string>(['errno', 'argc', 'argv', 'environ', 'stdin', 'stdout', 'stderr', 'optarg', 'optind', 'opterr', 'optopt', ...(ctx.defined ?? [])]);
  const structVars = new Map<string, string>();
  const collectStmt = (s: Stmt): void => {
    switch (s.k) {
      case 'assign':
        if (s.target.k === 'ident') vars.add(s.target.name);
        collectExpr(s.target);
        break;
      case 'decl':
        for (const d of s.decls) {
          vars.add(d.name);
          if (d.type.kind === 'struct') structVars.set(d.name, d.type.name);
        }
        break;
      case 'define':
        vars.add(s.name);
        break;
      case 'enum':
        for (const it of s.items) vars.add(it.name);
        break;
      case 'block':
        s.body.forEach(collectStmt);
        break;
      case 'switch':
        s.body.body.forEach(collectStmt);
        break;
      case 'dowhile':
        collectStmt(s.body);
        break;
      case 'if':
        collectStmt(s.then);
        if (s.else) collectStmt(s.else);
        break;
      case 'for':
        if (s.init) collectStmt(s.init);
        if (s.step) collectStmt(s.step);
        collectStmt(s.body);
        break;
      case 'while':
        collectStmt(s.body);
        break;
      case 'expr':
        collectExpr(s.expr);
        break;
    }
  };
  const collectExpr = (e: Expr): void => {
    if ((e.k === 'update' || e.k === 'assignExpr') && e.target.k === 'ident') vars.add(e.target.name);
    if (e.k === 'comma') e.items.forEach(collectExpr);
  };
  prog.body.forEach(collectStmt);
  for (const f of prog.funcs.values()) {
    f.params.forEach((p) => {
      vars.add(p.name);
      if (p.type.kind === 'struct') structVars.set(p.name, p.type.name);
    });
    collectStmt(f.body);
  }

  const header = ctx.header;
  const other = Object.values(HEADERS).find((h) => h !== header)!;

  const checkType = (t: CType, loc: Loc): void => {
    if (t.kind === 'ptr') return checkType(t.to, loc);
    if (t.kind === 'array') {
      if (t.n !== null) expr(t.n);
      return checkType(t.of, loc);
    }
    if (t.kind === 'struct' && !header.structs.has(t.name)) {
      const hint = other.structs.has(t.name) ? ` (it is in ${other.title})` : '';
      throw parseError(`unknown struct ${t.name} in ${header.title}${hint}`, loc);
    }
  };

  const checkName = (name: string, loc: Loc): void => {
    if (vars.has(name) || header.constants.has(name) || COMMON.has(name) || prog.funcs.has(name)) return;
    if (other.constants.has(name)) {
      throw parseError(`${name} is not in ${header.title}; it is in ${other.title} (#include "${other.files[0]}")`, loc);
    }
    const s = suggest(name, [...vars, ...header.constants.keys(), ...COMMON.keys()]);
    const what = /^[A-Z_][A-Z0-9_]*$/.test(name) ? 'unknown constant' : 'unknown name';
    throw parseError(`${what} ${name}${s ? ` (did you mean ${s}?)` : ''}`, loc);
  };

  const fieldsOf = (structName: string) => header.structs.get(structName)?.fields.map((f) => f.name) ?? [];
  const checkField = (structName: string, field: string, loc: Loc): void => {
    const fields = fieldsOf(structName);
    if (!fields.includes(field)) throw parseError(`struct ${structName} has no field '${field}' (fields: ${fields.join(', ')})`, loc);
  };

  const constValue = (e: Expr): bigint | undefined => {
    if (e.k === 'num') return e.value;
    if (e.k === 'ident' && !vars.has(e.name)) return header.constants.get(e.name) ?? COMMON.get(e.name);
    return undefined;
  };

  const expr = (e: Expr, stmtCall = false): void => {
    switch (e.k) {
      case 'num':
      case 'str':
      case 'bytes':
      case 'cat':
        return;
      case 'ident':
        return checkName(e.name, e.loc);
      case 'unary':
      case 'addr':
        return expr(e.arg);
      case 'deref':
        checkType(e.type, e.loc);
        return expr(e.arg);
      case 'cast':
        checkType(e.type, e.loc);
        return expr(e.arg);
      case 'sizeof':
        return checkType(e.type, e.loc);
      case 'binary':
        expr(e.left);
        return expr(e.right);
      case 'cond':
        expr(e.test);
        expr(e.then);
        return expr(e.else);
      case 'comma':
        e.items.forEach((x, i) => expr(x, stmtCall && i === e.items.length - 1));
        return;
      case 'member': {
        expr(e.object);
        if (e.object.k === 'ident' && structVars.has(e.object.name)) checkField(structVars.get(e.object.name)!, e.field, e.fieldLoc);
        return;
      }
      case 'object':
        e.fields.forEach((f) => expr(f.value));
        return;
      case 'array':
        e.items.forEach((x) => expr(x));
        return;
      case 'update':
        return expr(e.target);
      case 'index':
        expr(e.object);
        return expr(e.index);
      case 'star':
      case 'sizeofExpr':
        return expr(e.arg);
      case 'assignExpr':
        expr(e.target);
        return expr(e.value);
      case 'call': {
        const f: FuncDef | undefined = prog.funcs.get(e.name);
        if (f !== undefined) {
          if (e.args.length !== f.params.length) {
            throw parseError(`${e.name}() takes ${f.params.length} argument${f.params.length === 1 ? '' : 's'}, got ${e.args.length}`, e.loc);
          }
        } else {
          const b = BUILTINS[e.name];
          if (b === undefined) {
            const s = suggest(e.name, [...Object.keys(BUILTINS), ...prog.funcs.keys()]);
            throw parseError(`unknown function ${e.name}()${s ? ` (did you mean ${s}()?)` : ''}`, e.loc);
          }
          if (e.args.length < b.min || e.args.length > b.max) throw parseError(`${arityText(e.name, b)}, got ${e.args.length}`, e.loc);
          if (b.statement && !stmtCall) throw parseError(`${e.name}() must be a statement of its own (${e.name}(...) or v = ${e.name}(...))`, e.loc);
          if (e.name === 'ioctl' && e.args.length === 3 && e.args[2].k === 'object') {
            const req = constValue(e.args[1]);
            const layout = req === undefined ? null : requestLayout(Number(BigInt.asUintN(32, req)));
            if (layout !== null) {
              const name = layout.name.replace(/^struct /, '');
              for (const fl of e.args[2].fields) checkField(name, fl.key, fl.keyLoc);
            }
          }
        }
        e.args.forEach((x) => expr(x));
        return;
      }
    }
  };

  /** Labels of the body being checked (a function's, or the top level's), for its gotos. */
  let labels = new Set<string>();
  const collectLabels = (stmts: Stmt[]): Set<string> => {
    const out = new Set<string>();
    const walk = (x: Stmt): void => {
      switch (x.k) {
        case 'label':
          if (out.has(x.name)) throw parseError(`label ${x.name} is defined twice`, x.loc);
          out.add(x.name);
          return;
        case 'block':
          x.body.forEach(walk);
          return;
        case 'if':
          walk(x.then);
          if (x.else) walk(x.else);
          return;
        case 'for':
        case 'while':
        case 'dowhile':
          walk(x.body);
          return;
        case 'switch':
          x.body.body.forEach(walk);
          return;
      }
    };
    stmts.forEach(walk);
    return out;
  };
  /** Whether the statement list is a switch's body: `case` goes only there. */
  let caseOk = false;

  const stmt = (s: Stmt, inLoop: boolean, inSwitch = false): void => {
    const wasCaseOk = caseOk;
    caseOk = false;
    try {
      stmtInner(s, inLoop, inSwitch, wasCaseOk);
    } finally {
      caseOk = wasCaseOk;
    }
  };
  const stmtInner = (s: Stmt, inLoop: boolean, inSwitch: boolean, directlyInSwitch: boolean): void => {
    switch (s.k) {
      case 'expr':
        return expr(s.expr, true);
      case 'assign':
        expr(s.target);
        return expr(s.value, s.op === '=');
      case 'decl':
        for (const d of s.decls) {
          checkType(d.type, d.loc);
          if (d.init) expr(d.init, s.decls.length === 1);
        }
        return;
      case 'define':
        return expr(s.value);
      case 'block':
        s.body.forEach((x) => stmt(x, inLoop, inSwitch));
        return;
      case 'if':
        expr(s.test);
        stmt(s.then, inLoop, inSwitch);
        if (s.else) stmt(s.else, inLoop, inSwitch);
        return;
      case 'for':
        if (s.init) stmt(s.init, false);
        if (s.test) expr(s.test);
        if (s.step) stmt(s.step, false);
        return stmt(s.body, true, false);
      case 'while':
        expr(s.test);
        return stmt(s.body, true, false);
      case 'dowhile':
        expr(s.test);
        return stmt(s.body, true, false);
      case 'switch':
        expr(s.test);
        for (const x of s.body.body) {
          caseOk = true;
          stmt(x, inLoop, true);
        }
        caseOk = false;
        return;
      case 'case':
        if (!directlyInSwitch) throw parseError(`${s.value === null ? 'default' : 'case'} outside a switch (or not directly in its block)`, s.loc);
        if (s.value) expr(s.value);
        return;
      case 'enum':
        s.items.forEach((it) => it.value && expr(it.value));
        return;
      case 'goto':
        if (!labels.has(s.label)) {
          const hint = suggest(s.label, labels);
          throw parseError(`goto ${s.label}: no label ${s.label} in this function${hint ? ` (did you mean ${hint}?)` : ''}`, s.loc);
        }
        return;
      case 'break':
        if (!inLoop && !inSwitch) throw parseError('break outside a loop or a switch', s.loc);
        return;
      case 'continue':
        if (!inLoop) throw parseError('continue outside a loop', s.loc);
        return;
      case 'return':
        if (s.value) expr(s.value);
        return;
      case 'ksmctl':
        s.words.forEach((w) => 'expr' in w && expr(w.expr));
        return;
      case 'echo':
        if ('expr' in s.value) expr(s.value.expr);
        return;
      case 'print':
        s.args.forEach((x) => expr(x));
        return;
      case 'expect':
        return expr(s.test);
      default:
        return;
    }
  };
  labels = collectLabels(prog.body);
  prog.body.forEach((s) => stmt(s, false));
  for (const f of prog.funcs.values()) {
    f.params.forEach((p) => checkType(p.type, p.loc));
    labels = collectLabels(f.body.body);
    stmt(f.body, false);
  }
  const main = prog.funcs.get('main');
  if (main !== undefined && main.params.length > 3) throw parseError(`main takes (void), (int argc, char **argv) or (int argc, char **argv, char **envp), not ${main.params.length} parameters`, main.loc);
}
