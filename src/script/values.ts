/**
 * Runtime values of scripts: integers are exact (bigint, no overflow except
 * where a C conversion truncates: casts, declared types, struct fields);
 * strings; raw bytes (`x"..."`); structs of a header's layout; and the
 * `{...}` / `[...]` literals that describe page contents and struct fields.
 */
import type { StructLayout } from '../kernel/cstruct.js';
import type { CType, Loc } from './ast.js';

export interface StructVal {
  t: 'struct';
  layout: StructLayout;
  v: Record<string, bigint>;
}
export interface ObjVal {
  t: 'obj';
  loc: Loc;
  fields: Array<{ key: string; keyLoc: Loc; value: Value }>;
}
export interface ArrVal {
  t: 'arr';
  loc: Loc;
  items: Value[];
}
/** `&var`: a struct variable passed by address. */
export interface RefVal {
  t: 'ref';
  target: Var;
  name: string;
}
export type Value = bigint | string | Uint8Array | StructVal | ObjVal | ArrVal | RefVal;

export interface Var {
  value: Value;
  /** The declared C type, or null for a variable made by assignment. */
  type: CType | null;
}
export type Scope = Map<string, Var>;

export function isInt(v: Value): v is bigint {
  return typeof v === 'bigint';
}

export function truthy(v: Value): boolean {
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  return true;
}

/** C conversion of an integer to a type (casts, assignments to declared variables). */
export function convert(v: bigint, t: CType): bigint {
  switch (t.kind) {
    case 'int':
      // C99 6.3.1.2: any nonzero value converted to _Bool is 1.
      if (t.name === 'bool' || t.name === '_Bool') return v !== 0n ? 1n : 0n;
      return t.signed ? BigInt.asIntN(t.bits, v) : BigInt.asUintN(t.bits, v);
    case 'ptr':
      return BigInt.asUintN(64, v);
    default:
      return v;
  }
}

/** An integer type as the usual arithmetic conversions see it: its width and signedness. */
export interface IntType {
  bits: number;
  signed: boolean;
}

/** C's integer promotions: what is narrower than int becomes int. */
export function promote(t: IntType): IntType {
  return t.bits < 32 ? { bits: 32, signed: true } : t;
}

/**
 * C's usual arithmetic conversions (C99 6.3.1.8) of two integer operands:
 * the wider type, and between a signed and an unsigned type of the same
 * width the unsigned one; a signed type wider than the unsigned one wins.
 */
export function commonType(a: IntType, b: IntType): IntType {
  const x = promote(a);
  const y = promote(b);
  if (x.signed === y.signed) return x.bits >= y.bits ? x : y;
  const [u, s] = x.signed ? [y, x] : [x, y];
  return u.bits >= s.bits ? u : s;
}

export function newStruct(layout: StructLayout): StructVal {
  const v: Record<string, bigint> = {};
  for (const f of layout.fields) v[f.name] = 0n;
  return { t: 'struct', layout, v };
}

export function cloneValue(v: Value): Value {
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && v.t === 'struct') return { t: 'struct', layout: v.layout, v: { ...v.v } };
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && v.t === 'arr') return { t: 'arr', loc: v.loc, items: v.items.map(cloneValue) };
  return v;
}

export function cloneScope(s: Scope): Scope {
  const m: Scope = new Map();
  for (const [k, x] of s) m.set(k, { value: cloneValue(x.value), type: x.type });
  return m;
}

/** How `print` shows a value. */
export function show(v: Value): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return `x"${[...v].map((b) => b.toString(16).padStart(2, '0')).join('')}"`;
  switch (v.t) {
    case 'struct':
      return `{${v.layout.fields.map((f) => `${f.name}=${f.name === 'addr' ? `0x${v.v[f.name].toString(16)}` : v.v[f.name]}`).join(', ')}}`;
    case 'obj':
      return `{${v.fields.map((f) => `${f.key}: ${showInner(f.value)}`).join(', ')}}`;
    case 'arr':
      return `[${v.items.map(showInner).join(', ')}]`;
    case 'ref':
      return `&${v.name}`;
  }
}

function showInner(v: Value): string {
  return typeof v === 'string' ? JSON.stringify(v) : show(v);
}

/** A value as an expect message or a type error names it. */
export function describe(v: Value): string {
  if (typeof v === 'bigint') return v < 0n || v < 1024n ? v.toString() : `${v} (0x${v.toString(16)})`;
  if (typeof v === 'string') return JSON.stringify(v);
  return show(v);
}
