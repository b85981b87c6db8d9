/**
 * The host and the timeline of a workload (extensions of this repository,
 * docs/workload-extensions.md): how much RAM the machine has, and what its
 * guests do at which moment of virtual time, so that free memory exists and
 * changes, and a tuning policy (src/policy) has something to react to.
 *
 *   "host": { "ramPages": 24576 }
 *   "timeline": { "until": 600000, "events": [
 *     { "at": 0, "start": "guest-0" },
 *     { "at": 20000, "grow": "guest-0", "region": 2 },
 *     { "at": 20000, "churn": "guest-0", "region": 1, "pagesPerSecond": 16, "revert": 50 },
 *     { "at": 30000, "write": { "proc": "guest-0", "region": 1, "page": 3, "content": { "seed": 9 } } },
 *     { "at": 300000, "exit": "guest-0" } ] }
 *
 * Times are milliseconds of virtual time. Tools that know only the base
 * format run the steps and ignore both keys; the timeline tools
 * (`ksmctl compare --policies/--sweep`) play the timeline instead of the
 * steps. Validation is here, on the plain values the schema hands over, with
 * the schema's one-line errors (`timeline.events[3] (exit): ...`).
 */
import { contentToJson } from './content-json.js';
import { WorkloadError } from './errors.js';
import type { SinglePage } from '../engine/pages.js';

/** The machine: its RAM in 4 KiB pages. */
export interface Host {
  ramPages: number;
}

export type TimelineEvent =
  /** The process is created (its regions not named by a grow event mapped and filled) and registers them, as qemu does at start. */
  | { index: number; at: number; kind: 'start'; proc: string }
  /** Region `region` of a started process is mapped, filled and registered (the guest grows). */
  | { index: number; at: number; kind: 'grow'; proc: string; region: number }
  /** From now on the process rewrites `pagesPerSecond` random pages of the region (0 stops it); `revert` percent of the writes restore the page's first content. */
  | { index: number; at: number; kind: 'churn'; proc: string; region: number; pagesPerSecond: number; revert: number }
  /** One write, as the schema's write step. */
  | { index: number; at: number; kind: 'write'; proc: string; region: number; page: number; content: SinglePage }
  | { index: number; at: number; kind: 'exit'; proc: string };

export interface Timeline {
  /** The end of the run, ms of virtual time. */
  until: number;
  /** In time order (events at the same time in file order). */
  events: TimelineEvent[];
}

/** What the schema's parser knows of the processes (name -> regions' page counts). */
export type ProcessPages = ReadonlyMap<string, readonly number[]>;

/** A JSON number not written as an integer, as the schema hands it over. */
export interface NotInteger {
  $number: string;
}

/** The timeline's longest run: a day of virtual time. */
export const MAX_UNTIL_MS = 24 * 3600 * 1000;
/** Large enough for any host the engine maps (2^26 pages = 256 GiB). */
const MAX_RAM_PAGES = 1 << 26;
const MAX_RATE = 1 << 20;

function fail(place: string, detail: string): never {
  throw new WorkloadError({ kind: 'schema', place, detail });
}

function show(v: unknown): string {
  if (v !== null && typeof v === 'object' && '$number' in (v as object)) return (v as NotInteger).$number;
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 100 ? s.slice(0, 96) + ' ...' : s;
}

function int(v: unknown, lo: number, hi: number, where: string, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(where, `${what} must be an integer, got ${show(v)}`);
  if (v < lo || v > hi) fail(where, `${what} must be in ${lo}..${hi}, got ${v}`);
  return v;
}

function obj(v: unknown, where: string, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || '$number' in (v as object)) fail(where, `${what} must be an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

function only(o: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(where, `unknown key ${JSON.stringify(k)} (allowed: ${keys.join(', ')})`);
}

export function parseHost(v: unknown): Host {
  const o = obj(v, 'host', 'host');
  only(o, ['ramPages'], 'host');
  if (!('ramPages' in o)) fail('host', 'missing "ramPages" (the RAM of the machine in 4 KiB pages)');
  return { ramPages: int(o.ramPages, 1, MAX_RAM_PAGES, 'host', 'ramPages') };
}

const KINDS = ['start', 'grow', 'churn', 'write', 'exit'] as const;

function singlePage(v: unknown, where: string): SinglePage {
  if (v === 'zero') return { kind: 'zero' };
  const o = obj(v, where, 'content');
  const keys = Object.keys(o);
  if (keys.length !== 1) fail(where, `content must be "zero" or an object with exactly one of fill, seed, tail, got ${show(v)}`);
  const [k] = keys;
  if (k === 'fill') return { kind: 'fill', value: int(o.fill, 0, 255, where, 'fill') };
  if (k === 'seed') return { kind: 'seed', seed: int(o.seed, 0, 0xffffffff, where, 'seed') };
  if (k === 'tail') return { kind: 'tail', n: BigInt(int(o.tail, 0, Number.MAX_SAFE_INTEGER, where, 'tail')) };
  return fail(where, `${k} is not allowed here (only a single-page content: "zero", fill, seed, tail)`);
}

/**
 * Checks the timeline against the processes: every event names a known
 * process and region; a process starts at most once and does nothing before
 * it starts or after it exits; a region grows at most once, after its
 * process started; times are within 0..until.
 */
export function parseTimeline(v: unknown, processes: ProcessPages): Timeline {
  const o = obj(v, 'timeline', 'timeline');
  only(o, ['until', 'events'], 'timeline');
  if (!('until' in o)) fail('timeline', 'missing "until" (the end of the run, ms of virtual time)');
  const until = int(o.until, 1, MAX_UNTIL_MS, 'timeline', 'until');
  if (!Array.isArray(o.events)) fail('timeline', '"events" must be a list');
  const raw = o.events as unknown[];
  const events: TimelineEvent[] = raw.map((e, i) => {
    let where = `timeline.events[${i}]`;
    const eo = obj(e, where, 'an event');
    const kinds = Object.keys(eo).filter((k) => (KINDS as readonly string[]).includes(k));
    if (kinds.length !== 1) fail(where, `an event needs exactly one of ${KINDS.join(', ')}, got keys ${Object.keys(eo).join(', ') || 'none'}`);
    const kind = kinds[0] as (typeof KINDS)[number];
    where = `${where} (${kind})`;
    if (!('at' in eo)) fail(where, 'missing "at" (ms of virtual time)');
    const at = int(eo.at, 0, until, where, 'at');
    const procOf = (x: unknown): string => {
      if (typeof x !== 'string') fail(where, `${kind} needs a process name (string), got ${show(x)}`);
      if (!processes.has(x)) fail(where, `unknown process "${x}" (known: ${[...processes.keys()].join(', ') || 'none'})`);
      return x;
    };
    const regionOf = (proc: string, x: unknown): number => {
      const n = processes.get(proc)!.length;
      if (typeof x !== 'number' || !Number.isInteger(x)) fail(where, `region must be an integer index, got ${show(x)}`);
      if (x < 0 || x >= n) fail(where, `unknown region ${x} of process "${proc}" (it has ${n} region${n === 1 ? '' : 's'})`);
      return x;
    };
    switch (kind) {
      case 'start':
      case 'exit':
        only(eo, ['at', kind], where);
        return { index: i, at, kind, proc: procOf(eo[kind]) };
      case 'grow': {
        only(eo, ['at', 'grow', 'region'], where);
        const proc = procOf(eo.grow);
        return { index: i, at, kind, proc, region: regionOf(proc, eo.region) };
      }
      case 'churn': {
        only(eo, ['at', 'churn', 'region', 'pagesPerSecond', 'revert'], where);
        const proc = procOf(eo.churn);
        const region = regionOf(proc, eo.region);
        const pagesPerSecond = int(eo.pagesPerSecond, 0, MAX_RATE, where, 'pagesPerSecond');
        const revert = 'revert' in eo ? int(eo.revert, 0, 100, where, 'revert') : 0;
        return { index: i, at, kind, proc, region, pagesPerSecond, revert };
      }
      case 'write': {
        only(eo, ['at', 'write'], where);
        const w = obj(eo.write, where, 'write');
        only(w, ['proc', 'region', 'page', 'content'], where);
        for (const k of ['proc', 'region', 'page', 'content']) if (!(k in w)) fail(where, `write is missing "${k}"`);
        const proc = procOf(w.proc);
        const region = regionOf(proc, w.region);
        const pages = processes.get(proc)![region];
        const page = w.page;
        if (typeof page !== 'number' || !Number.isInteger(page)) fail(where, `page must be an integer index, got ${show(page)}`);
        if (page < 0 || page >= pages) fail(where, `unknown page ${page} of region ${region} of process "${proc}" (it has ${pages} pages)`);
        return { index: i, at, kind, proc, region, page, content: singlePage(w.content, `${where}.content`) };
      }
    }
  });
  // Time order; a stable sort keeps file order among events at the same time.
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const started = new Map<string, number>();
  const exited = new Map<string, number>();
  const grown = new Set<string>();
  const grows = new Set(events.filter((e) => e.kind === 'grow').map((e) => `${e.proc}:${(e as { region: number }).region}`));
  for (const e of sorted) {
    const where = `timeline.events[${e.index}] (${e.kind})`;
    const gone = exited.get(e.proc);
    if (gone !== undefined) fail(where, `process "${e.proc}" has exited at ${events[gone].at} ms (events[${gone}])`);
    if (e.kind === 'start') {
      if (started.has(e.proc)) fail(where, `process "${e.proc}" already started (events[${started.get(e.proc)}])`);
      if (processes.get(e.proc)!.every((_, r) => grows.has(`${e.proc}:${r}`))) fail(where, `every region of "${e.proc}" is grown later: it would start with no memory`);
      started.set(e.proc, e.index);
      continue;
    }
    // A process with no start event exists from time 0 (see run.ts): it may act at any time.
    const hasStart = events.some((x) => x.kind === 'start' && x.proc === e.proc);
    if (hasStart && !started.has(e.proc)) fail(where, `process "${e.proc}" has not started yet at ${e.at} ms`);
    if (e.kind === 'grow') {
      const key = `${e.proc}:${e.region}`;
      if (grown.has(key)) fail(where, `region ${e.region} of "${e.proc}" already grew`);
      grown.add(key);
    } else if (e.kind === 'churn' || e.kind === 'write') {
      if (grows.has(`${e.proc}:${e.region}`) && !grown.has(`${e.proc}:${e.region}`)) fail(where, `region ${e.region} of "${e.proc}" is not mapped yet at ${e.at} ms (it grows later)`);
    } else if (e.kind === 'exit') {
      exited.set(e.proc, e.index);
    }
  }
  return { until, events: sorted };
}

/** The JSON form of a timeline (parseTimeline of it gives it back). */
export function timelineToJson(t: Timeline): unknown {
  const ev = [...t.events]
    .sort((a, b) => a.index - b.index)
    .map((e) => {
      switch (e.kind) {
        case 'start':
          return { at: e.at, start: e.proc };
        case 'exit':
          return { at: e.at, exit: e.proc };
        case 'grow':
          return { at: e.at, grow: e.proc, region: e.region };
        case 'churn':
          return { at: e.at, churn: e.proc, region: e.region, pagesPerSecond: e.pagesPerSecond, revert: e.revert };
        case 'write':
          return { at: e.at, write: { proc: e.proc, region: e.region, page: e.page, content: contentToJson(e.content) } };
      }
    });
  return { until: t.until, events: ev };
}
