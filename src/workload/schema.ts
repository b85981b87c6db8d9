/**
 * Workload files (docs/workload-format.md): parsing and validation.
 *
 * The rules and the messages follow the Python reference validator
 * (shared/tools/kernel-oracle/workload.py) check for check, so a file is
 * accepted or refused, and the place named, the same way by every tool.
 *
 * JSON is read with jsonc-parser (strict mode: no comments, no trailing
 * commas), which keeps object keys in file order (process order is file
 * order, even for names like "10" and "2" that a JS object would reorder)
 * and gives the offset of every value, so integers are read from their own
 * digits: exact up to 2^64-1 and beyond. As in workload.py, an integer is
 * a JSON number written without fraction or exponent (`1.0`, `1e3` are not
 * integers) and true/false are not integers. Unlike Python's json module,
 * NaN/Infinity are not JSON, and a key repeated in one object is refused
 * (Python would silently keep the last value).
 *
 * Numbers in the result: `tail`/`tailFrom` values are bigint (0..2^64-1);
 * everything else is a number (all other ranges are below 2^53).
 */

import { FileError, MAX_WORKLOAD_BYTES, readRegularFile } from '../io/files.js';
import { RAM_PAGES } from '../engine/memory/memory.js';
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { pageInRun, type RunContent, type SinglePage } from '../engine/pages.js';
import { WorkloadError } from './errors.js';

export { WorkloadError } from './errors.js';
export type { WorkloadErrorInfo } from './errors.js';
export type { RunContent, SinglePage } from '../engine/pages.js';

export interface Run {
  pages: number;
  content: RunContent;
}
/** One anonymous private mapping: its runs laid end to end; pages = sum of the runs' pages. */
export interface Region {
  pages: number;
  runs: Run[];
  /** The NUMA node its pages are allocated on (an extension of this repository; absent: node 0). */
  node?: number;
}
export type Step =
  | { index: number; kind: 'register'; proc: string; region?: number }
  | { index: number; kind: 'unregister'; proc: string }
  | { index: number; kind: 'scan'; pages: number }
  | { index: number; kind: 'fullScans'; count: number }
  | { index: number; kind: 'write'; proc: string; region: number; page: number; content: SinglePage }
  | { index: number; kind: 'exit'; proc: string }
  | { index: number; kind: 'snapshot'; label: string };
export type StepKind = Step['kind'];
export interface HashTables {
  pageHash: number;
  rmapHash: number;
  sha1Cache: number;
}
export interface Workload {
  name: string;
  description: string;
  pagesToScan: number;
  hashTables: HashTables;
  /** In file order. */
  processes: Array<{ name: string; regions: Region[] }>;
  steps: Step[];
  /**
   * Extensions of this repository (docs/workload-extensions.md): the kernel
   * version the v3 era should run ("2.6.32", "3.9", "6.18"), and
   * /sys/kernel/mm/ksm files to write before the first step, in file order.
   */
  kernel?: string;
  sysfs?: Array<[name: string, value: string]>;
  /** The file it was read from, if any. */
  source?: string;
}

export const STEP_KINDS: readonly StepKind[] = [
  'register',
  'unregister',
  'scan',
  'fullScans',
  'write',
  'exit',
  'snapshot',
];
export const DEFAULT_PAGES_TO_SCAN = 100;
/** The kernel versions a workload may name (v3-sysfs/kernels.ts). */
export const WORKLOAD_KERNELS: readonly string[] = ['2.6.32', '3.9', '6.18'];
/** NUMA node numbers a region may name (CONFIG_NODES_SHIFT 10). */
const MAX_NODE = 1023n;
export const DEFAULT_HASH_TABLES: Readonly<HashTables> = Object.freeze({
  pageHash: 4099,
  rmapHash: 4099,
  sha1Cache: 1031,
});

const U32 = 0xffffffffn;
const U64 = 0xffffffffffffffffn;
const INT31_MAX = 0x7fffffffn;
const MAX_PAGES = 1n << 40n;
const MAX_SCAN = 1n << 40n;
const MAX_FULL_SCANS = 1n << 20n;
/** Nesting deeper than this is refused as invalid JSON (a workload needs about 6). */
const MAX_DEPTH = 256;

const SINGLE_FORMS = ['zero', 'fill', 'seed', 'tail'] as const;
const MULTI_FORMS = ['seedFrom', 'tailFrom', 'cycle'] as const;

// ------------------------------------------------------------------ JSON

/** A JSON number, kept as written. */
class JsonNumber {
  constructor(readonly raw: string) {}
  /** The exact value if it is written as an integer (no fraction, no exponent), else null. */
  integer(): bigint | null {
    return /^-?(?:0|[1-9][0-9]*)$/.test(this.raw) ? BigInt(this.raw) : null;
  }
}
/** A JSON object with its keys in file order. */
class JsonObject {
  constructor(readonly entries: Map<string, JsonValue>) {}
  has(k: string): boolean {
    return this.entries.has(k);
  }
  get(k: string): JsonValue | undefined {
    return this.entries.get(k);
  }
  keys(): string[] {
    return [...this.entries.keys()];
  }
  get size(): number {
    return this.entries.size;
  }
}
type JsonValue = null | boolean | string | JsonNumber | JsonObject | JsonValue[];

const JSON_ERRORS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'expected the end of the input',
  InvalidCommentToken: 'comments are not allowed',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'incomplete number',
  InvalidUnicode: 'invalid \\u escape in string',
  InvalidEscapeCharacter: 'invalid escape in string',
  InvalidCharacter: 'control character in string',
};

/** Line and column (from 1; columns count characters, as Python's json does) of an offset. */
function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  let column = 1;
  for (let i = lineStart; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff || i === lineStart) column++; // a surrogate pair is one character
  }
  return { line, column };
}

function jsonError(text: string, offset: number, detail: string): WorkloadError {
  const { line, column } = lineCol(text, Math.min(Math.max(offset, 0), text.length));
  return new WorkloadError({ kind: 'json', line, column, detail });
}

/** The offset of the first bad character inside the string token starting at `start`. */
function badStringCharOffset(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return start;
    if (c < 0x20) return i;
    if (c === 0x5c) {
      const e = text[i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return i;
        i += 5;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        i++;
      } else {
        return i;
      }
    }
  }
  return start;
}

function describeSyntaxError(text: string, err: ParseError): WorkloadError {
  const code = printParseErrorCode(err.error);
  let offset = err.offset;
  let detail = JSON_ERRORS[code] ?? code;
  if (code === 'InvalidSymbol' || code === 'CommaExpected' || code === 'ColonExpected' || code === 'EndOfFileExpected' || code === 'PropertyNameExpected') {
    if (offset === 0 && text.charCodeAt(0) === 0xfeff) {
      detail = 'unexpected byte order mark (U+FEFF): save the file as UTF-8 without BOM';
    } else {
      const word = /^[A-Za-z0-9_$+.-]+/.exec(text.slice(offset, offset + 40));
      const got = word && word[0].length > 1 ? word[0] : String.fromCodePoint(text.codePointAt(offset) ?? 0);
      if (offset < text.length) detail += ` (got ${dumpString(got)})`;
    }
  }
  if (offset >= text.length && code !== 'UnexpectedEndOfString' && code !== 'UnexpectedEndOfComment') {
    detail += ' (got the end of the input)';
  } else if (code === 'InvalidCharacter' || code === 'InvalidEscapeCharacter' || code === 'InvalidUnicode') {
    offset = badStringCharOffset(text, offset);
  }
  return jsonError(text, offset, detail);
}

/** Where nesting first goes deeper than MAX_DEPTH, or -1 (strings are skipped). */
function tooDeepOffset(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c) i++;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return -1;
}

function toValue(text: string, node: JsonNode, depth: number): JsonValue {
  switch (node.type) {
    case 'null':
      return null;
    case 'boolean':
    case 'string':
      return node.value as boolean | string;
    case 'number':
      return new JsonNumber(text.slice(node.offset, node.offset + node.length));
    case 'array':
    case 'object': {
      if (depth >= MAX_DEPTH) throw jsonError(text, node.offset, `nested deeper than ${MAX_DEPTH} levels`);
      if (node.type === 'array') return (node.children ?? []).map((c) => toValue(text, c, depth + 1));
      const entries = new Map<string, JsonValue>();
      for (const prop of node.children ?? []) {
        const [keyNode, valueNode] = prop.children ?? [];
        if (keyNode === undefined || valueNode === undefined) throw jsonError(text, prop.offset, 'expected a value');
        const key = keyNode.value as string;
        if (entries.has(key)) throw jsonError(text, keyNode.offset, `duplicate key ${dumpString(key)}`);
        entries.set(key, toValue(text, valueNode, depth + 1));
      }
      return new JsonObject(entries);
    }
    default:
      throw jsonError(text, node.offset, 'unexpected value');
  }
}

/** Strict JSON to JsonValue; syntax errors as WorkloadError (kind 'json') with line and column. */
function parseJson(text: string): JsonValue {
  const errors: ParseError[] = [];
  let root: JsonNode | undefined;
  try {
    root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  } catch (e) {
    if (e instanceof RangeError) {
      const at = tooDeepOffset(text);
      throw jsonError(text, at < 0 ? 0 : at, `nested deeper than ${MAX_DEPTH} levels`);
    }
    throw e;
  }
  if (errors.length > 0) {
    const first = errors.reduce((a, b) => (b.offset < a.offset ? b : a));
    throw describeSyntaxError(text, first);
  }
  if (root === undefined) throw jsonError(text, text.length, 'expected a value');
  return toValue(text, root, 0);
}

// ------------------------------------------------------ messages (json.dumps style)

function dumpString(s: string): string {
  // Python's json.dumps escapes every non-ASCII character (ensure_ascii).
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function dumpFull(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return dumpString(v);
  if (v instanceof JsonNumber) return v.raw;
  if (Array.isArray(v)) return '[' + v.map(dumpFull).join(', ') + ']';
  return '{' + [...v.entries].map(([k, x]) => `${dumpString(k)}: ${dumpFull(x)}`).join(', ') + '}';
}

/** A value in a message: as json.dumps writes it, cut short if long. */
function dump(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  const s = dumpFull(v);
  return s.length > 100 ? s.slice(0, 96) + ' ...' : s;
}

// ------------------------------------------------------------ validation

function fail(place: string, detail: string): never {
  throw new WorkloadError({ kind: 'schema', place, detail });
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof JsonObject;
}

function intIn(v: JsonValue | undefined, lo: bigint, hi: bigint, where: string, what: string): bigint {
  const n = v instanceof JsonNumber ? v.integer() : null;
  if (n === null) fail(where, `${what} must be an integer, got ${dump(v)}`);
  if (n < lo || n > hi) fail(where, `${what} must be in ${lo}..${hi}, got ${n}`);
  return n;
}

/**
 * Refuses keys outside `allowed` and `extensions` (this repository's
 * additions: "kernel", "sysfs", a region's "node"); the message lists both,
 * so that a user who mistyped an extension learns its spelling.
 */
function onlyKeys(obj: JsonObject, allowed: readonly string[], where: string, extensions: readonly string[] = []): void {
  for (const k of obj.keys()) {
    if (!allowed.includes(k) && !extensions.includes(k)) fail(where, `unknown key ${dumpString(k)} (allowed: ${[...allowed, ...extensions].join(', ')})`);
  }
}

/**
 * A content value. pages: the pages of the run it fills (seedFrom/tailFrom
 * must not run past their maximum); singleOnly: only the single-page forms
 * (inside a cycle, in a write step).
 */
function parseContent(obj: JsonValue | undefined, where: string, pages: number | null, singleOnly: boolean): RunContent {
  if (obj === 'zero') return { kind: 'zero' };
  if (typeof obj === 'string') fail(where, `unknown content ${dumpString(obj)} (the only string form is "zero")`);
  if (!isObject(obj) || obj.size !== 1) {
    const forms = (singleOnly ? [...SINGLE_FORMS] : [...SINGLE_FORMS, ...MULTI_FORMS]).filter((f) => f !== 'zero');
    fail(where, `content must be "zero" or an object with exactly one of ${forms.join(', ')}, got ${dump(obj)}`);
  }
  const [[kind, val]] = obj.entries;
  if (singleOnly && (MULTI_FORMS as readonly string[]).includes(kind)) {
    fail(where, `${kind} is not allowed here (only a single-page content: "zero", fill, seed, tail)`);
  }
  const extra = pages !== null ? BigInt(Math.max(pages, 1) - 1) : 0n;
  switch (kind) {
    case 'fill':
      return { kind: 'fill', value: Number(intIn(val, 0n, 255n, where, 'fill')) };
    case 'seed':
      return { kind: 'seed', seed: Number(intIn(val, 0n, U32, where, 'seed')) };
    case 'tail':
      return { kind: 'tail', n: intIn(val, 0n, U64, where, 'tail') };
    case 'seedFrom': {
      const s = intIn(val, 0n, U32, where, 'seedFrom');
      if (s > U32 - extra) fail(where, `seedFrom ${s} with ${pages} pages goes past seed 2^32-1`);
      return { kind: 'seedFrom', seed: Number(s) };
    }
    case 'tailFrom': {
      const n = intIn(val, 0n, U64, where, 'tailFrom');
      if (n > U64 - extra) fail(where, `tailFrom ${n} with ${pages} pages goes past 2^64-1`);
      return { kind: 'tailFrom', n };
    }
    case 'cycle': {
      if (!Array.isArray(val) || val.length === 0) {
        fail(where, 'cycle must be a non-empty list of single-page contents');
      }
      return {
        kind: 'cycle',
        items: val.map((c, k) => parseContent(c, `${where}.cycle[${k}]`, null, true) as SinglePage),
      };
    }
    default:
      return fail(where, `unknown content form ${dumpString(kind)}`);
  }
}

function parseRun(obj: JsonValue, where: string, extensions: readonly string[] = []): Run {
  if (!isObject(obj)) fail(where, 'a run must be an object {"pages": N, "content": C}');
  onlyKeys(obj, ['pages', 'content'], where, extensions);
  if (!obj.has('pages')) fail(where, 'missing "pages"');
  if (!obj.has('content')) fail(where, 'missing "content"');
  const pages = Number(intIn(obj.get('pages'), 1n, MAX_PAGES, where, 'pages'));
  return { pages, content: parseContent(obj.get('content'), `${where}.content`, pages, false) };
}

/**
 * The largest region: one mapping, and the engine maps at most its RAM at
 * once (2^26 pages, 256 GiB: the overcommit check of 2.6.x refuses more
 * with ENOMEM), so a larger region is refused here, at its place.
 */
export const MAX_REGION_PAGES = RAM_PAGES;

function makeRegion(runs: Run[], where: string, node?: number): Region {
  const r: Region = { pages: runs.reduce((s, r) => s + r.pages, 0), runs };
  if (r.pages > MAX_REGION_PAGES) {
    fail(where, `a region of ${r.pages} pages is more than one mapping of the simulated machine may hold (${MAX_REGION_PAGES} pages, 256 GiB: its RAM)`);
  }
  if (node !== undefined) r.node = node;
  return r;
}

function parseRegion(obj: JsonValue, where: string): Region {
  if (!isObject(obj)) fail(where, 'a region must be an object');
  // "node" (an extension): the NUMA node of the region's pages.
  const node = obj.has('node') ? Number(intIn(obj.get('node'), 0n, MAX_NODE, where, 'node')) : undefined;
  if (obj.has('runs')) {
    onlyKeys(obj, ['runs'], where, ['node']);
    const runs = obj.get('runs');
    if (!Array.isArray(runs) || runs.length === 0) fail(where, 'runs must be a non-empty list');
    return makeRegion(runs.map((r, k) => parseRun(r, `${where}.runs[${k}]`)), where, node);
  }
  // A region of one run: its keys, and the region's own "node".
  if (node === undefined) return makeRegion([parseRun(obj, where, ['node'])], where);
  const run = new JsonObject(new Map([...obj.entries].filter(([k]) => k !== 'node')));
  return makeRegion([parseRun(run, where)], where, node);
}

interface StepContext {
  processes: Map<string, Region[]>;
  /** Process name -> index of its exit step. */
  exited: Map<string, number>;
}

function procArg(v: JsonValue | undefined, ctx: StepContext, where: string, kind: string): string {
  if (typeof v !== 'string') fail(where, `${kind} needs a process name (string), got ${dump(v)}`);
  if (!ctx.processes.has(v)) {
    const known = [...ctx.processes.keys()].join(', ') || 'none';
    fail(where, `unknown process ${dumpProc(v)} (known: ${known})`);
  }
  const at = ctx.exited.get(v);
  if (at !== undefined) fail(where, `process ${dumpProc(v)} already exited at step ${at}`);
  return v;
}

/** workload.py writes process names as "%s" in double quotes, unescaped. */
function dumpProc(name: string): string {
  return `"${name}"`;
}

function regionArg(v: JsonValue | undefined, proc: string, ctx: StepContext, where: string): number {
  const n = ctx.processes.get(proc)!.length;
  const r = v instanceof JsonNumber ? v.integer() : null;
  if (r === null) fail(where, `region must be an integer index, got ${dump(v)}`);
  if (r < 0n || r >= BigInt(n)) {
    fail(where, `unknown region ${r} of process ${dumpProc(proc)} (it has ${n} region${n === 1 ? '' : 's'})`);
  }
  return Number(r);
}

function parseStep(i: number, obj: JsonValue, ctx: StepContext): Step {
  let where = `steps[${i}]`;
  if (!isObject(obj)) fail(where, `a step must be an object, got ${dump(obj)}`);
  const kinds = obj.keys().filter((k) => (STEP_KINDS as readonly string[]).includes(k));
  if (kinds.length !== 1) {
    fail(where, `a step needs exactly one of ${STEP_KINDS.join(', ')}, got keys ${obj.keys().join(', ') || 'none'}`);
  }
  const kind = kinds[0] as StepKind;
  where = `steps[${i}] (${kind})`;
  const v = obj.get(kind);
  switch (kind) {
    case 'register': {
      onlyKeys(obj, ['register', 'region'], where);
      const proc = procArg(v, ctx, where, kind);
      if (obj.has('region')) {
        return { index: i, kind, proc, region: regionArg(obj.get('region'), proc, ctx, where) };
      }
      return { index: i, kind, proc };
    }
    case 'unregister':
      onlyKeys(obj, [kind], where);
      return { index: i, kind, proc: procArg(v, ctx, where, kind) };
    case 'exit': {
      onlyKeys(obj, [kind], where);
      const proc = procArg(v, ctx, where, kind);
      ctx.exited.set(proc, i);
      return { index: i, kind, proc };
    }
    case 'scan':
      onlyKeys(obj, [kind], where);
      return { index: i, kind, pages: Number(intIn(v, 1n, MAX_SCAN, where, 'scan')) };
    case 'fullScans':
      onlyKeys(obj, [kind], where);
      return { index: i, kind, count: Number(intIn(v, 1n, MAX_FULL_SCANS, where, 'fullScans')) };
    case 'snapshot':
      onlyKeys(obj, [kind], where);
      if (typeof v !== 'string') fail(where, `snapshot needs a label (string), got ${dump(v)}`);
      return { index: i, kind, label: v };
    case 'write': {
      onlyKeys(obj, [kind], where);
      if (!isObject(v)) fail(where, 'write needs an object {proc, region, page, content}');
      const fields = ['proc', 'region', 'page', 'content'];
      onlyKeys(v, fields, where);
      for (const k of fields) if (!v.has(k)) fail(where, `write is missing "${k}"`);
      const proc = procArg(v.get('proc'), ctx, where, kind);
      const region = regionArg(v.get('region'), proc, ctx, where);
      const npages = ctx.processes.get(proc)![region].pages;
      const pv = v.get('page');
      const page = pv instanceof JsonNumber ? pv.integer() : null;
      if (page === null) fail(where, `page must be an integer index, got ${dump(pv)}`);
      if (page < 0n || page >= BigInt(npages)) {
        fail(where, `unknown page ${page} of region ${region} of process ${dumpProc(proc)} (it has ${npages} pages)`);
      }
      const content = parseContent(v.get('content'), `${where}.content`, null, true) as SinglePage;
      return { index: i, kind, proc, region, page: Number(page), content };
    }
  }
}

/** "sysfs" (an extension): file name -> value (an integer or a string), written in file order. */
function parseSysfs(v: JsonValue | undefined): Array<[string, string]> {
  if (!isObject(v)) fail('top level', 'sysfs must be an object mapping /sys/kernel/mm/ksm file names to values');
  return [...v.entries].map(([name, value]) => {
    if (!/^[a-z_]+$/.test(name)) fail('sysfs', `not a /sys/kernel/mm/ksm file name: ${dumpString(name)}`);
    if (typeof value === 'string') return [name, value];
    const n = value instanceof JsonNumber ? value.integer() : null;
    if (n === null) fail(`sysfs.${name}`, `the value must be an integer or a string, got ${dump(value)}`);
    return [name, n.toString()];
  });
}

/** "dir/two-guests.json" -> "two-guests" (os.path.splitext(os.path.basename(p))[0]). */
function baseName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const lead = /^\.*/.exec(base)![0].length;
  const dot = base.lastIndexOf('.');
  return dot > lead ? base.slice(0, dot) : base;
}

function parseDocument(doc: JsonValue, source: string | undefined): Workload {
  if (!isObject(doc)) fail('top level', 'a workload must be a JSON object');
  onlyKeys(doc, ['name', 'description', 'pagesToScan', 'hashTables', 'processes', 'steps'], 'top level', ['kernel', 'sysfs']);
  const ht = doc.has('hashTables') ? doc.get('hashTables') : new JsonObject(new Map());
  if (!isObject(ht)) fail('top level', 'hashTables must be an object');
  onlyKeys(ht, ['pageHash', 'rmapHash', 'sha1Cache'], 'hashTables');
  const table = (k: keyof HashTables): number =>
    ht.has(k) ? Number(intIn(ht.get(k), 1n, INT31_MAX, 'hashTables', k)) : DEFAULT_HASH_TABLES[k];
  const hashTables: HashTables = { pageHash: table('pageHash'), rmapHash: table('rmapHash'), sha1Cache: table('sha1Cache') };
  const pagesToScan = doc.has('pagesToScan')
    ? Number(intIn(doc.get('pagesToScan'), 1n, INT31_MAX, 'top level', 'pagesToScan'))
    : DEFAULT_PAGES_TO_SCAN;
  const nameValue = doc.get('name');
  let name: string;
  if (nameValue === undefined || nameValue === null) {
    name = source !== undefined ? baseName(source) : 'workload';
  } else if (typeof nameValue !== 'string') {
    fail('top level', 'name must be a string');
  } else {
    name = nameValue;
  }
  const description = doc.has('description') ? doc.get('description') : '';
  if (typeof description !== 'string') fail('top level', 'description must be a string');
  const procs = doc.get('processes');
  if (!isObject(procs)) fail('top level', '"processes" must be an object mapping names to region lists');
  const processes: Workload['processes'] = [];
  const byName = new Map<string, Region[]>();
  for (const [pname, regs] of procs.entries) {
    const where = `processes.${pname}`;
    if (pname === '') fail('processes', 'a process name must not be empty');
    if (!Array.isArray(regs)) fail(where, 'must be a list of regions');
    const regions = regs.map((r, k) => parseRegion(r, `${where}[${k}]`));
    processes.push({ name: pname, regions });
    byName.set(pname, regions);
  }
  const steps = doc.get('steps');
  if (!Array.isArray(steps)) fail('top level', '"steps" must be a list');
  const ctx: StepContext = { processes: byName, exited: new Map() };
  const parsed = steps.map((s, i) => parseStep(i, s, ctx));
  const w: Workload = { name, description, pagesToScan, hashTables, processes, steps: parsed };
  if (doc.has('kernel')) {
    const k = doc.get('kernel');
    if (typeof k !== 'string' || !WORKLOAD_KERNELS.includes(k)) fail('top level', `kernel must be one of ${WORKLOAD_KERNELS.map((v) => `"${v}"`).join(', ')}, got ${dump(k)}`);
    w.kernel = k;
  }
  if (doc.has('sysfs')) w.sysfs = parseSysfs(doc.get('sysfs'));
  if (source !== undefined) w.source = source;
  return w;
}

/** Parse and validate the text of a workload file; `source` names the file in errors and gives the default name. */
export function parseWorkloadText(text: string, source?: string): Workload {
  try {
    return parseDocument(parseJson(text), source);
  } catch (e) {
    if (e instanceof WorkloadError) throw e.withFile(source);
    throw e;
  }
}

/** Read, parse and validate a workload file (UTF-8; errors name the file). */
export function loadWorkload(path: string): Workload {
  let text: string;
  try {
    // A regular file of at most MAX_WORKLOAD_BYTES: /dev/zero or a FIFO is refused, not read without end.
    const bytes = readRegularFile(path, MAX_WORKLOAD_BYTES, 'workload file');
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new WorkloadError({ kind: 'read', file: path, detail: e instanceof FileError ? capitalize(e.reason) : readErrorReason(e) });
  }
  return parseWorkloadText(text, path);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "ENOENT: no such file or directory, open 'x'" -> "No such file or directory" (like Python's strerror). */
function readErrorReason(e: unknown): string {
  if (e instanceof TypeError) return 'not valid UTF-8';
  const err = e as NodeJS.ErrnoException;
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(err?.message ?? '');
  if (m) return m[1].charAt(0).toUpperCase() + m[1].slice(1);
  return err?.code ?? String(e);
}

// ------------------------------------------------------------ helpers

/** The single-page content of page i (0-based) of a region, as laid out at the start. */
export function regionPage(region: Region, i: number): SinglePage {
  if (!Number.isInteger(i) || i < 0 || i >= region.pages) {
    throw new RangeError(`page ${i} is not in a region of ${region.pages} pages`);
  }
  let k = i;
  for (const run of region.runs) {
    if (k < run.pages) return pageInRun(run.content, k);
    k -= run.pages;
  }
  throw new RangeError(`page ${i} is not in a region of ${region.pages} pages`);
}

/** Total pages of all processes. */
export function totalPages(w: Workload): number {
  return w.processes.reduce((s, p) => s + p.regions.reduce((t, r) => t + r.pages, 0), 0);
}

// ------------------------------------------------------------ back to JSON

/** tail/tailFrom values: a number when it is exact as one, else a bigint (see stringifyWorkloadJson). */
function bigToJson(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

export function contentToJson(c: RunContent): unknown {
  switch (c.kind) {
    case 'zero':
      return 'zero';
    case 'fill':
      return { fill: c.value };
    case 'seed':
      return { seed: c.seed };
    case 'tail':
      return { tail: bigToJson(c.n) };
    case 'seedFrom':
      return { seedFrom: c.seed };
    case 'tailFrom':
      return { tailFrom: bigToJson(c.n) };
    case 'cycle':
      return { cycle: c.items.map(contentToJson) };
  }
}

function stepToJson(s: Step): unknown {
  switch (s.kind) {
    case 'register':
      return s.region === undefined ? { register: s.proc } : { register: s.proc, region: s.region };
    case 'unregister':
      return { unregister: s.proc };
    case 'scan':
      return { scan: s.pages };
    case 'fullScans':
      return { fullScans: s.count };
    case 'write':
      return { write: { proc: s.proc, region: s.region, page: s.page, content: contentToJson(s.content) } };
    case 'exit':
      return { exit: s.proc };
    case 'snapshot':
      return { snapshot: s.label };
  }
}

/**
 * The JSON document of a workload (parseWorkloadText of its text gives the
 * workload back). Plain objects, arrays, strings and numbers, except that a
 * tail/tailFrom value above 2^53-1 is a bigint: write it with
 * stringifyWorkloadJson (JSON.stringify cannot). hashTables is left out when
 * it has the default sizes; a one-run region is written as {pages, content}.
 * processes is a plain object, except when a process name looks like an
 * array index ("2", "10"): a JS object would put those first, so then it is
 * an OrderedJson (entries in file order; JSON.stringify goes through its
 * toJSON and loses that order, stringifyWorkloadJson keeps it).
 */
export function workloadToJson(w: Workload): unknown {
  const doc: Record<string, unknown> = { name: w.name, description: w.description, pagesToScan: w.pagesToScan };
  const ht = w.hashTables;
  if (
    ht.pageHash !== DEFAULT_HASH_TABLES.pageHash ||
    ht.rmapHash !== DEFAULT_HASH_TABLES.rmapHash ||
    ht.sha1Cache !== DEFAULT_HASH_TABLES.sha1Cache
  ) {
    doc.hashTables = { pageHash: ht.pageHash, rmapHash: ht.rmapHash, sha1Cache: ht.sha1Cache };
  }
  const procs: Array<[string, unknown]> = w.processes.map((p) => [
    p.name,
    p.regions.map((r) => {
      const region: Record<string, unknown> = r.runs.length === 1
        ? { pages: r.runs[0].pages, content: contentToJson(r.runs[0].content) }
        : { runs: r.runs.map((run) => ({ pages: run.pages, content: contentToJson(run.content) })) };
      if (r.node !== undefined) region.node = r.node;
      return region;
    }),
  ]);
  // A plain object, unless a name looks like an array index: a JS object would move it first.
  const ordered = new OrderedJson(procs);
  doc.processes = procs.some(([k]) => /^(?:0|[1-9][0-9]{0,9})$/.test(k) && Number(k) < 2 ** 32 - 1) ? ordered : ordered.toJSON();
  doc.steps = w.steps.map(stepToJson);
  if (w.kernel !== undefined) doc.kernel = w.kernel;
  if (w.sysfs !== undefined) doc.sysfs = new OrderedJson(w.sysfs.map(([k, v]) => [k, /^(?:0|[1-9][0-9]{0,14})$/.test(v) ? Number(v) : v]));
  return doc;
}

/**
 * An object whose keys must stay in this order. JSON.stringify writes it
 * through toJSON as a plain object; stringifyWorkloadJson keeps the order.
 */
export class OrderedJson {
  constructor(readonly entries: Array<[string, unknown]>) {}
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const [k, v] of this.entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  }
}

/**
 * JSON text of workloadToJson's result (or any JSON-like value): bigints are
 * written as exact integers, OrderedJson keeps its key order. `indent` as
 * for JSON.stringify; arrays of scalars and small objects stay on one line.
 */
export function stringifyWorkloadJson(value: unknown, indent = 2): string {
  const pad = ' '.repeat(indent);
  const flat = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'string') return JSON.stringify(v);
    if (Array.isArray(v)) return '[' + v.map(flat).join(', ') + ']';
    const entries = v instanceof OrderedJson ? v.entries : Object.entries(v as Record<string, unknown>);
    return entries.length === 0 ? '{}' : '{ ' + entries.map(([k, x]) => `${JSON.stringify(k)}: ${flat(x)}`).join(', ') + ' }';
  };
  const out = (v: unknown, level: number): string => {
    const one = flat(v);
    if (indent <= 0 || one.length + level * indent <= 100 || v === null || typeof v !== 'object') return one;
    const inner = pad.repeat(level + 1);
    const close = pad.repeat(level);
    if (Array.isArray(v)) return '[\n' + v.map((x) => inner + out(x, level + 1)).join(',\n') + '\n' + close + ']';
    const entries = v instanceof OrderedJson ? v.entries : Object.entries(v as Record<string, unknown>);
    return '{\n' + entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${out(x, level + 1)}`).join(',\n') + '\n' + close + '}';
  };
  return out(value, 0) + '\n';
}
