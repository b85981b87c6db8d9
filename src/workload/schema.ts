/**
 * Workload files (docs/workload-format.md): parsing and validation.
 *
 * The format is defined once, by its JSON Schema (schema/workload.schema.json,
 * checked in validate.ts); this file builds the Workload from a document
 * that follows it and checks what a schema cannot say (a process, region or
 * page that does not exist, a step after an exit, seeds running past their
 * maximum, a region larger than the machine). Messages and places are those
 * of the kernel oracle's reference validator (workload.py), so a file is
 * accepted or refused, and the place named, the same way by every tool.
 *
 * JSON is read (json.ts) with jsonc-parser (strict mode: no comments, no trailing
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
import { pageInRun, type RunContent, type SinglePage } from '../engine/pages.js';
import { contentToJson } from './content-json.js';
import { WorkloadError } from './errors.js';
import { JsonNumber, JsonObject, type JsonValue, parseJson } from './json.js';
import { schemaProblem } from './validate.js';
import { type Host, parseHost, parseTimeline, type Timeline, timelineToJson } from './timeline.js';

export { WorkloadError } from './errors.js';
export { contentToJson } from './content-json.js';
export type { WorkloadErrorInfo } from './errors.js';
export type { RunContent, SinglePage } from '../engine/pages.js';

/** Pages of one content, laid one after the other in a region. */
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
/** One step of a workload (docs/workload-format.md, "Steps"), with its index in the file. */
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
/** A workload, validated (docs/workload-format.md): processes, their regions and contents, and the steps. */
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
  /** The machine's RAM and what happens when (timeline.ts): the timeline tools play it instead of the steps. */
  host?: Host;
  timeline?: Timeline;
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
export const DEFAULT_HASH_TABLES: Readonly<HashTables> = Object.freeze({
  pageHash: 4099,
  rmapHash: 4099,
  sha1Cache: 1031,
});

const U32 = 0xffffffffn;
const U64 = 0xffffffffffffffffn;

// ------------------------------------------------------------ validation

function fail(place: string, detail: string): never {
  throw new WorkloadError({ kind: 'schema', place, detail });
}

/** The exact value of an integer the schema has let through (JSON numbers stay exact here, past 2^53). */
function int(v: JsonValue | undefined): bigint {
  return (v as JsonNumber).integer()!;
}

/**
 * A content the schema has checked. pages: the pages of the run it fills
 * (seedFrom/tailFrom must not run past their maximum, which the schema
 * cannot say).
 */
function content(v: JsonValue | undefined, where: string, pages: number | null): RunContent {
  if (v === 'zero') return { kind: 'zero' };
  const [[kind, val]] = (v as JsonObject).entries;
  const extra = pages !== null ? BigInt(Math.max(pages, 1) - 1) : 0n;
  switch (kind) {
    case 'fill':
      return { kind: 'fill', value: Number(int(val)) };
    case 'seed':
      return { kind: 'seed', seed: Number(int(val)) };
    case 'tail':
      return { kind: 'tail', n: int(val) };
    case 'seedFrom': {
      const s = int(val);
      if (s > U32 - extra) fail(where, `seedFrom ${s} with ${pages} pages goes past seed 2^32-1`);
      return { kind: 'seedFrom', seed: Number(s) };
    }
    case 'tailFrom': {
      const n = int(val);
      if (n > U64 - extra) fail(where, `tailFrom ${n} with ${pages} pages goes past 2^64-1`);
      return { kind: 'tailFrom', n };
    }
    default:
      return { kind: 'cycle', items: (val as JsonValue[]).map((c, k) => content(c, `${where}.cycle[${k}]`, null) as SinglePage) };
  }
}

function run(obj: JsonObject, where: string): Run {
  const pages = Number(int(obj.get('pages')));
  return { pages, content: content(obj.get('content'), `${where}.content`, pages) };
}

/**
 * The largest region: one mapping, and the engine maps at most its RAM at
 * once (2^26 pages, 256 GiB: the overcommit check of 2.6.x refuses more
 * with ENOMEM), so a larger region is refused here, at its place.
 */
export const MAX_REGION_PAGES = RAM_PAGES;

function region(obj: JsonObject, where: string): Region {
  const runs = obj.has('runs') ? (obj.get('runs') as JsonObject[]).map((r, k) => run(r, `${where}.runs[${k}]`)) : [run(obj, where)];
  const r: Region = { pages: runs.reduce((s, x) => s + x.pages, 0), runs };
  if (r.pages > MAX_REGION_PAGES) {
    fail(where, `a region of ${r.pages} pages is more than one mapping of the simulated machine may hold (${MAX_REGION_PAGES} pages, 256 GiB: its RAM)`);
  }
  // "node" (an extension): the NUMA node of the region's pages.
  if (obj.has('node')) r.node = Number(int(obj.get('node')));
  return r;
}

interface StepContext {
  processes: Map<string, Region[]>;
  /** Process name -> index of its exit step. */
  exited: Map<string, number>;
}

/** A step's process: one the workload has, that has not exited yet. */
function procArg(name: string, ctx: StepContext, where: string): string {
  if (!ctx.processes.has(name)) {
    const known = [...ctx.processes.keys()].join(', ') || 'none';
    fail(where, `unknown process ${dumpProc(name)} (known: ${known})`);
  }
  const at = ctx.exited.get(name);
  if (at !== undefined) fail(where, `process ${dumpProc(name)} already exited at step ${at}`);
  return name;
}

/** workload.py writes process names as "%s" in double quotes, unescaped. */
function dumpProc(name: string): string {
  return `"${name}"`;
}

function regionArg(v: JsonValue | undefined, proc: string, ctx: StepContext, where: string): number {
  const n = ctx.processes.get(proc)!.length;
  const r = int(v);
  if (r < 0n || r >= BigInt(n)) {
    fail(where, `unknown region ${r} of process ${dumpProc(proc)} (it has ${n} region${n === 1 ? '' : 's'})`);
  }
  return Number(r);
}

function step(i: number, obj: JsonObject, ctx: StepContext): Step {
  const kind = obj.keys().find((k) => (STEP_KINDS as readonly string[]).includes(k)) as StepKind;
  const where = `steps[${i}] (${kind})`;
  const v = obj.get(kind);
  switch (kind) {
    case 'register': {
      const proc = procArg(v as string, ctx, where);
      if (obj.has('region')) return { index: i, kind, proc, region: regionArg(obj.get('region'), proc, ctx, where) };
      return { index: i, kind, proc };
    }
    case 'unregister':
      return { index: i, kind, proc: procArg(v as string, ctx, where) };
    case 'exit': {
      const proc = procArg(v as string, ctx, where);
      ctx.exited.set(proc, i);
      return { index: i, kind, proc };
    }
    case 'scan':
      return { index: i, kind, pages: Number(int(v)) };
    case 'fullScans':
      return { index: i, kind, count: Number(int(v)) };
    case 'snapshot':
      return { index: i, kind, label: v as string };
    case 'write': {
      const w = v as JsonObject;
      const proc = procArg(w.get('proc') as string, ctx, where);
      const region = regionArg(w.get('region'), proc, ctx, where);
      const npages = ctx.processes.get(proc)![region].pages;
      const page = int(w.get('page'));
      if (page < 0n || page >= BigInt(npages)) {
        fail(where, `unknown page ${page} of region ${region} of process ${dumpProc(proc)} (it has ${npages} pages)`);
      }
      return { index: i, kind, proc, region, page: Number(page), content: content(w.get('content'), `${where}.content`, null) as SinglePage };
    }
  }
}

/** A value as plain JSON for the extensions' own checks (timeline.ts): integers as numbers, other numbers kept as written. */
function plain(v: JsonValue | undefined): unknown {
  if (v instanceof JsonNumber) {
    const n = v.integer();
    return n !== null && n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : { $number: v.raw };
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof JsonObject) return Object.fromEntries([...v.entries].map(([k, x]) => [k, plain(x)]));
  return v;
}

/** "dir/two-guests.json" -> "two-guests" (os.path.splitext(os.path.basename(p))[0]). */
function baseName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const lead = /^\.*/.exec(base)![0].length;
  const dot = base.lastIndexOf('.');
  return dot > lead ? base.slice(0, dot) : base;
}

/**
 * A document as a Workload: first the schema (validate.ts: types, keys,
 * ranges, the forms of contents and steps), then what it cannot say.
 */
function parseDocument(doc: JsonValue, source: string | undefined): Workload {
  const problem = schemaProblem(doc);
  if (problem !== null) fail(problem.place, problem.detail);
  const d = doc as JsonObject;
  const ht = (d.get('hashTables') as JsonObject | undefined) ?? new JsonObject(new Map());
  const table = (k: keyof HashTables): number => (ht.has(k) ? Number(int(ht.get(k))) : DEFAULT_HASH_TABLES[k]);
  const hashTables: HashTables = { pageHash: table('pageHash'), rmapHash: table('rmapHash'), sha1Cache: table('sha1Cache') };
  const pagesToScan = d.has('pagesToScan') ? Number(int(d.get('pagesToScan'))) : DEFAULT_PAGES_TO_SCAN;
  const nameValue = d.get('name');
  const name = typeof nameValue === 'string' ? nameValue : source !== undefined ? baseName(source) : 'workload';
  const description = (d.get('description') as string | undefined) ?? '';
  const processes: Workload['processes'] = [];
  const byName = new Map<string, Region[]>();
  for (const [pname, regs] of (d.get('processes') as JsonObject).entries) {
    const regions = (regs as JsonObject[]).map((r, k) => region(r, `processes.${pname}[${k}]`));
    processes.push({ name: pname, regions });
    byName.set(pname, regions);
  }
  const ctx: StepContext = { processes: byName, exited: new Map() };
  const steps = (d.get('steps') as JsonObject[]).map((s, i) => step(i, s, ctx));
  const w: Workload = { name, description, pagesToScan, hashTables, processes, steps };
  if (d.has('kernel')) w.kernel = d.get('kernel') as string;
  // "sysfs" (an extension): file name -> value, written in file order; integers as their decimal text.
  if (d.has('sysfs')) w.sysfs = [...(d.get('sysfs') as JsonObject).entries].map(([k, v]) => [k, typeof v === 'string' ? v : int(v).toString()]);
  if (d.has('host')) w.host = parseHost(plain(d.get('host')));
  if (d.has('timeline')) w.timeline = parseTimeline(plain(d.get('timeline')), new Map(processes.map((p) => [p.name, p.regions.map((r) => r.pages)])));
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
  if (w.host !== undefined) doc.host = { ramPages: w.host.ramPages };
  if (w.timeline !== undefined) doc.timeline = timelineToJson(w.timeline);
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
