/**
 * Workload files as JSON: read strictly with jsonc-parser (no comments, no
 * trailing commas), keys in file order, every number kept as written, and
 * syntax errors as WorkloadError with line and column; and values written
 * back into messages as Python's json.dumps writes them (the reference
 * validator's style).
 */
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { WorkloadError } from './errors.js';

/** Nesting deeper than this is refused as invalid JSON (a workload needs about 6). */
const MAX_DEPTH = 256;

// ------------------------------------------------------------------ JSON

/** A JSON number, kept as written. */
export class JsonNumber {
  constructor(readonly raw: string) {}
  /** The exact value if it is written as an integer (no fraction, no exponent), else null. */
  integer(): bigint | null {
    return /^-?(?:0|[1-9][0-9]*)$/.test(this.raw) ? BigInt(this.raw) : null;
  }
}
/** A JSON object with its keys in file order. */
export class JsonObject {
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
export type JsonValue = null | boolean | string | JsonNumber | JsonObject | JsonValue[];

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
export function parseJson(text: string): JsonValue {
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

export function dumpString(s: string): string {
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
export function dump(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  const s = dumpFull(v);
  return s.length > 100 ? s.slice(0, 96) + ' ...' : s;
}
