/**
 * The workload format's structure, checked against the JSON Schema that
 * defines it (schema/workload.schema.json, shipped for editors too), with
 * ajv; its first error becomes one line with the place in the document, in
 * the reference validator's style (`processes.a[1].runs[0]`, `steps[3]
 * (write)`, `top level`).
 *
 * ajv sees the document as plain JSON values, made from the file's own
 * tokens so that the schema's integer rules mean what the format means:
 * a number written with a fraction or exponent (`1.0`, `1e3`) is not an
 * integer, whatever its value, so it reaches ajv as NaN (never an integer);
 * integers beyond 2^64 - 1 reach it as 2^65 (past every bound; a double
 * cannot tell 2^64 - 1 from 2^64). Messages quote the value as written.
 *
 * What a schema cannot say stays in schema.ts: steps naming processes,
 * regions and pages that exist, steps after an exit, runs whose seeds run
 * past their maximum, regions larger than the machine.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import workloadSchema from '../../schema/workload.schema.json' with { type: 'json' };
import { dump, dumpString, JsonNumber, JsonObject, type JsonValue } from './json.js';

const U64 = 0xffffffffffffffffn;
const STEP_KINDS = ['register', 'unregister', 'scan', 'fullScans', 'write', 'exit', 'snapshot'];
/** The content forms, as the schema lists them. */
const CONTENT_FORMS = ['zero', ...Object.keys(workloadSchema.definitions.content.else.properties)];
const SINGLE_FORMS = ['zero', ...Object.keys(workloadSchema.definitions.singlePage.else.properties)];

/** The JSON Schema of workload files (schema/workload.schema.json). */
export const WORKLOAD_SCHEMA: object = workloadSchema;

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  // strictTypes, strictRequired off: the "if" of a region or a step names a key its branch defines.
  compiled ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false }).compile(workloadSchema);
  return compiled;
}

/** What ajv validates: plain JSON, objects as null-prototype records (keys like "__proto__" stay keys). */
function plain(v: JsonValue): unknown {
  if (v instanceof JsonNumber) {
    const n = v.integer();
    if (n === null) return Number.NaN;
    return n > U64 ? 2 ** 65 : n < -U64 ? -(2 ** 65) : Number(n);
  }
  if (v instanceof JsonObject) {
    const o: Record<string, unknown> = Object.create(null);
    for (const [k, x] of v.entries) o[k] = plain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** A place and what is wrong there. */
export interface Problem {
  place: string;
  detail: string;
}

/** The document's first departure from the schema, or null when it follows it. */
export function schemaProblem(doc: JsonValue): Problem | null {
  const validate = validator();
  if (validate(plain(doc))) return null;
  const errors = (validate.errors ?? []).filter(real);
  // The first in the document, as a reader (and the reference validator) meets them.
  const order = errors.map((e) => ({ e, key: documentOrder(doc, segments(e.instancePath)), rank: RANK.indexOf(e.keyword) }));
  order.sort((a, b) => compareKeys(a.key, b.key) || a.rank - b.rank);
  const e = order[0]?.e ?? validate.errors![0];
  return describe(e, doc);
}

/**
 * Errors ajv reports only to explain another: a failed oneOf (a step's
 * kind) lists each branch's missing key, a failed propertyNames the name's
 * own error, a failed if/then the "if" after its branch's errors.
 */
function real(e: ErrorObject): boolean {
  if (e.keyword === 'if') return false;
  if (e.schemaPath.includes('/oneOf/')) return false;
  if (e.schemaPath.includes('/propertyNames/')) return false;
  return true;
}

/** At one place, which problem is told first: the shape before the keys, unknown keys before missing ones (a typo). */
const RANK = ['type', 'oneOf', 'propertyNames', 'additionalProperties', 'required', 'minProperties', 'maxProperties', 'const', 'enum', 'minItems', 'minimum', 'maximum'];

/** The top level is read in this order (the reference validator's), whatever the file's. */
const TOP_ORDER = ['hashTables', 'pagesToScan', 'name', 'description', 'processes', 'steps', 'kernel', 'sysfs'];

/** Where a path is in the document: the position of each key in its object, each index in its list. */
function documentOrder(doc: JsonValue, path: readonly string[]): number[] {
  const key: number[] = [];
  let v: JsonValue | undefined = doc;
  for (const s of path) {
    if (v instanceof JsonObject) {
      key.push(v === doc ? TOP_ORDER.indexOf(s) : v.keys().indexOf(s));
      v = v.get(s);
    } else if (Array.isArray(v)) {
      key.push(Number(s));
      v = v[Number(s)];
    } else break;
  }
  return key;
}

/** Document order; an object's own problems before those inside it. */
function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function segments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function at(doc: JsonValue, path: readonly string[]): JsonValue | undefined {
  let v: JsonValue | undefined = doc;
  for (const s of path) {
    if (v instanceof JsonObject) v = v.get(s);
    else if (Array.isArray(v)) v = v[Number(s)];
    else return undefined;
  }
  return v;
}

/** The kind of a step that names exactly one. */
function stepKind(step: JsonValue | undefined): string | undefined {
  if (!(step instanceof JsonObject)) return undefined;
  const kinds = step.keys().filter((k) => STEP_KINDS.includes(k));
  return kinds.length === 1 ? kinds[0] : undefined;
}

/** The reference validator's name of a place: `processes.a[1].runs[0].content`, `steps[3] (write).content`, `top level`. */
function placeOf(doc: JsonValue, path: readonly string[]): string {
  if (path.length === 0) return 'top level';
  let s = path[0];
  let i = 1;
  if (path[0] === 'processes' && path.length > 1) {
    s += `.${path[1]}`;
    i = 2;
  } else if (path[0] === 'sysfs' && path.length > 1) {
    s += `.${path[1]}`;
    i = 2;
  } else if (path[0] === 'steps' && path.length > 1) {
    const kind = stepKind(at(doc, path.slice(0, 2)));
    s += `[${path[1]}]${kind ? ` (${kind})` : ''}`;
    i = path[2] === kind ? 3 : 2;
  }
  for (; i < path.length; i++) s += /^[0-9]+$/.test(path[i]) ? `[${path[i]}]` : `.${path[i]}`;
  return s;
}

/** The keywords about an object's keys: told at the object itself. */
const OBJECT_KEYWORDS = new Set(['additionalProperties', 'required', 'minProperties', 'maxProperties', 'propertyNames', 'oneOf']);

/**
 * Where a value's problem is told: at the value itself for an element of a
 * list, an entry of a map (a process, a sysfs file) and a page content;
 * at the object that holds it for a field.
 */
function ownPlace(path: readonly string[]): boolean {
  const last = path[path.length - 1];
  if (last === undefined) return true;
  if (/^[0-9]+$/.test(last)) return true;
  if (path.length === 2 && (path[0] === 'processes' || path[0] === 'sysfs')) return true;
  return last === 'content';
}

const bound = (n: number): string => (n >= 2 ** 64 ? U64.toString() : String(n));

function contentShape(single: boolean, got: JsonValue | undefined): string {
  const forms = (single ? SINGLE_FORMS : CONTENT_FORMS).filter((f) => f !== 'zero');
  return `content must be "zero" or an object with exactly one of ${forms.join(', ')}, got ${dump(got)}`;
}

function describe(e: ErrorObject, doc: JsonValue): Problem {
  const path = segments(e.instancePath);
  const value = at(doc, path);
  const key = path[path.length - 1] ?? '';
  const parent = path.slice(0, -1);
  const place = placeOf(doc, OBJECT_KEYWORDS.has(e.keyword) || ownPlace(path) ? path : parent);
  const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  // A content's own schema lists the forms: all of them, or the single-page ones.
  const isContent = 'fill' in props;
  const single = isContent && !('cycle' in props);
  const inStep = path[0] === 'steps';
  switch (e.keyword) {
    case 'oneOf': {
      const keys = value instanceof JsonObject ? value.keys().join(', ') : '';
      return { place, detail: `a step needs exactly one of ${STEP_KINDS.join(', ')}, got keys ${keys || 'none'}` };
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      if (path.length === 0) return { place, detail: missing === 'steps' ? '"steps" must be a list' : '"processes" must be an object mapping names to region lists' };
      if (inStep) return { place, detail: `${key} is missing "${missing}"` };
      return { place, detail: `missing "${missing}"` };
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      if (isContent) {
        if (single && CONTENT_FORMS.includes(extra)) return { place, detail: `${extra} is not allowed here (only a single-page content: ${SINGLE_FORMS.map((f) => (f === 'zero' ? '"zero"' : f)).join(', ')})` };
        return { place, detail: `unknown content form ${dumpString(extra)}` };
      }
      const allowed = Object.keys(props).filter((k) => k !== '$schema');
      return { place, detail: `unknown key ${dumpString(extra)} (allowed: ${allowed.join(', ')})` };
    }
    case 'propertyNames': {
      const name = (e.params as { propertyName: string }).propertyName;
      if (path[0] === 'sysfs') return { place: 'sysfs', detail: `not a /sys/kernel/mm/ksm file name: ${dumpString(name)}` };
      return { place: placeOf(doc, path), detail: 'a process name must not be empty' };
    }
    case 'minProperties':
    case 'maxProperties':
      return { place, detail: contentShape(single, value) };
    case 'const':
      return { place, detail: `unknown content ${dump(value)} (the only string form is "zero")` };
    case 'enum':
      return { place, detail: `${key} must be one of ${(e.params as { allowedValues: string[] }).allowedValues.map((v) => `"${v}"`).join(', ')}, got ${dump(value)}` };
    case 'minItems':
      return { place, detail: key === 'cycle' ? 'cycle must be a non-empty list of single-page contents' : `${key} must be a non-empty list` };
    case 'minimum':
    case 'maximum': {
      const s = e.parentSchema as { minimum: number; maximum: number };
      return { place, detail: `${key} must be in ${bound(s.minimum)}..${bound(s.maximum)}, got ${dump(value)}` };
    }
    case 'type':
      return { place, detail: typeDetail(path, key, value, single) };
    default:
      return { place, detail: `${key || 'the document'}: ${e.message ?? 'does not follow the schema'}` };
  }
}

/** What a value of the wrong type should have been. */
function typeDetail(path: readonly string[], key: string, value: JsonValue | undefined, single: boolean): string {
  const depth = path.length;
  const got = dump(value);
  if (depth === 0) return 'a workload must be a JSON object';
  const top = path[0];
  if (depth === 1) {
    if (top === 'processes') return '"processes" must be an object mapping names to region lists';
    if (top === 'steps') return '"steps" must be a list';
    if (top === 'sysfs') return 'sysfs must be an object mapping /sys/kernel/mm/ksm file names to values';
    if (top === 'hashTables') return 'hashTables must be an object';
    if (top === 'name' || top === 'description' || top === '$schema') return `${top} must be a string`;
  }
  if (top === 'sysfs') return `the value must be an integer or a string, got ${got}`;
  if (top === 'processes' && depth === 2) return 'must be a list of regions';
  if (top === 'processes' && depth === 3) return 'a region must be an object';
  if (top === 'steps' && depth === 2) return `a step must be an object, got ${got}`;
  if (key === 'content' || /^[0-9]+$/.test(key)) {
    if (path[depth - 2] === 'runs') return 'a run must be an object {"pages": N, "content": C}';
    return contentShape(single, value);
  }
  if (key === 'runs') return 'runs must be a non-empty list';
  if (key === 'cycle') return 'cycle must be a non-empty list of single-page contents';
  if (top === 'steps') {
    if (key === 'write') return 'write needs an object {proc, region, page, content}';
    if (key === 'snapshot') return `snapshot needs a label (string), got ${got}`;
    if (key === 'region' || key === 'page') return `${key} must be an integer index, got ${got}`;
    if (key === 'proc') return `write needs a process name (string), got ${got}`;
    if (STEP_KINDS.includes(key) && key !== 'scan' && key !== 'fullScans') return `${key} needs a process name (string), got ${got}`;
  }
  return `${key} must be an integer, got ${got}`;
}
