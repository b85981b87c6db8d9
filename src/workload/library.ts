/**
 * The parameterized built-in workloads: named generators of ordinary
 * workload documents (`identical-guests:n=8,pages=4096`), parsed and
 * validated like any file, so every era and every tool runs them the same
 * way. builtin.ts resolves their names next to the fixed built-ins, and
 * `ksmctl workloads` lists them with their parameters.
 *
 * A spec is `NAME` or `NAME:key=value,key=value`; a parameter left out takes
 * its default. `from-files` fills guest memory from real files, which no
 * content form of the schema can describe: its document holds zero pages,
 * and a Preload (builtinPreload) writes the files' bytes into them once the
 * processes exist, before the first step, as the guests would read their
 * images in. Every tool that runs built-ins applies it (the runner's
 * afterSetup), so the shared schema stays as it is.
 */
import { readdirSync, statSync } from 'node:fs';
import { readRegularFile } from '../io/files.js';
import { join } from 'node:path';
import { PAGE_SIZE } from '../engine/constants.js';
import type { EraDriver } from './driver.js';
import { parseWorkloadText, type Workload, WorkloadError } from './schema.js';

export interface ParamSpec {
  name: string;
  /** The default; a number for integer parameters, a string (list: comma-free items) otherwise. */
  default: number | string;
  min?: number;
  max?: number;
  /** May be given several times (`path=/a,path=/b`). */
  repeat?: boolean;
  doc: string;
}

export type Params = Record<string, number | string | string[]>;

/** A parameterized built-in workload: its name, parameters and what it builds. */
export interface Generator {
  name: string;
  summary: string;
  params: ParamSpec[];
  build(p: Params, spec: string): Generated;
}

/** Bytes written into process memory before the first step (what no schema content form describes). */
export interface Preload {
  /** Page contents, 4096 bytes each, end to end. */
  data: Uint8Array;
  /** For each filled region: the page of `data` each of its pages gets. */
  fills: Array<{ proc: string; region: number; pages: Int32Array }>;
  /** Where the bytes came from (for reports). */
  sources: string[];
}

interface Generated {
  doc: Record<string, unknown>;
  preload?: Preload;
}

const MAX_GUESTS = 1024;
const MAX_PAGES = 1 << 22;

const common = {
  batch: { name: 'batch', default: 0, min: 0, max: 1 << 30, doc: 'pagesToScan: pages per scanner batch (0: 1000, or all the pages if fewer, so no batch spans two passes)' } as ParamSpec,
  passes: { name: 'passes', default: 3, min: 1, max: 1 << 20, doc: 'full passes of the final fullScans step' } as ParamSpec,
};

/** The batch parameter: as given, or 1000 pages, or all the pages if fewer (the 2008/2009 scanners run on past a pass's end within a batch). */
const batchOf = (p: Params, pages: number) => (p.batch as number) || Math.max(1, Math.min(1000, pages));
const guestNames = (n: number) => Array.from({ length: n }, (_, g) => `guest-${g}`);
const registerAll = (n: number) => guestNames(n).map((g) => ({ register: g }));
const pct = (pages: number, percent: number) => Math.round((pages * percent) / 100);
/** Seeds for page contents: one range per use, far apart, below 2^32 for any allowed size. */
const SEED = { image: 100_000, private: 10_000_000, churn: 1_000_000_000, sharer: 7 };

/** The parameterized built-in workloads (`ksmctl workloads` lists them). */
export const GENERATORS: readonly Generator[] = [
  {
    name: 'identical-guests',
    summary: 'n guests booted from one image: each has zero pages, the same image pages, and private pages of its own',
    params: [
      { name: 'n', default: 4, min: 1, max: MAX_GUESTS, doc: 'guests' },
      { name: 'pages', default: 4096, min: 1, max: MAX_PAGES, doc: 'pages per guest' },
      { name: 'zero', default: 10, min: 0, max: 100, doc: 'percent of each guest that is zero pages' },
      { name: 'private', default: 10, min: 0, max: 100, doc: 'percent of each guest that is private (random, its own)' },
      common.batch,
      common.passes,
    ],
    build: (p, spec) => {
      const n = p.n as number;
      const pages = p.pages as number;
      const zero = pct(pages, p.zero as number);
      const priv = Math.min(pct(pages, p.private as number), pages - zero);
      const image = pages - zero - priv;
      const processes = Object.fromEntries(
        guestNames(n).map((g, i) => [
          g,
          [
            {
              runs: [
                ...(zero ? [{ pages: zero, content: 'zero' }] : []),
                ...(image ? [{ pages: image, content: { seedFrom: SEED.image } }] : []),
                ...(priv ? [{ pages: priv, content: { seedFrom: SEED.private + i * priv } }] : []),
              ],
            },
          ],
        ]),
      );
      return {
        doc: {
          name: spec,
          description: `${n} guests of ${pages} pages booted from one image: ${zero} zero pages, ${image} image pages shared by all, ${priv} private pages each.`,
          pagesToScan: batchOf(p, n * pages),
          processes,
          steps: [...registerAll(n), { fullScans: p.passes }],
        },
      };
    },
  },
  {
    name: 'ksmpages-worst',
    summary: "the seeds' ksmpages worst case: every page is zero but for its last 8 bytes (its index), so comparisons read almost whole pages",
    params: [
      { name: 'n', default: 2, min: 1, max: MAX_GUESTS, doc: 'processes, each with the same pages' },
      { name: 'pages', default: 4096, min: 1, max: MAX_PAGES, doc: 'pages per process' },
      common.batch,
      common.passes,
    ],
    build: (p, spec) => {
      const n = p.n as number;
      return {
        doc: {
          name: spec,
          description: `The worst case of the ksmpages.c program (March 2009 review thread) at ${n} x ${p.pages} pages: page i of every process is zero except its last 8 bytes, which hold i.`,
          pagesToScan: batchOf(p, n * (p.pages as number)),
          processes: Object.fromEntries(guestNames(n).map((g) => [g, [{ pages: p.pages, content: { tailFrom: 0 } }]])),
          steps: [...registerAll(n), { fullScans: p.passes }],
        },
      };
    },
  },
  {
    name: 'zero-heavy',
    summary: 'guests whose memory is mostly zero pages (freshly booted, ballooned), the rest random and private',
    params: [
      { name: 'n', default: 4, min: 1, max: MAX_GUESTS, doc: 'guests' },
      { name: 'pages', default: 4096, min: 1, max: MAX_PAGES, doc: 'pages per guest' },
      { name: 'zero', default: 90, min: 0, max: 100, doc: 'percent of each guest that is zero pages' },
      common.batch,
      common.passes,
    ],
    build: (p, spec) => {
      const n = p.n as number;
      const pages = p.pages as number;
      const zero = pct(pages, p.zero as number);
      const rest = pages - zero;
      return {
        doc: {
          name: spec,
          description: `${n} guests of ${pages} pages: ${zero} zero pages and ${rest} private random pages each.`,
          pagesToScan: batchOf(p, n * pages),
          processes: Object.fromEntries(
            guestNames(n).map((g, i) => [
              g,
              [{ runs: [...(zero ? [{ pages: zero, content: 'zero' }] : []), ...(rest ? [{ pages: rest, content: { seedFrom: SEED.private + i * rest } }] : [])] }],
            ]),
          ),
          steps: [...registerAll(n), { fullScans: p.passes }],
        },
      };
    },
  },
  {
    name: 'volatile-churn',
    summary: 'guests sharing an image while a hot set of pages is rewritten between passes (equal in every guest, so mergeable, but never for long)',
    params: [
      { name: 'n', default: 4, min: 1, max: MAX_GUESTS, doc: 'guests' },
      { name: 'pages', default: 2048, min: 1, max: MAX_PAGES, doc: 'pages per guest' },
      { name: 'hot', default: 25, min: 0, max: 100, doc: 'percent of each guest rewritten every round' },
      { name: 'rounds', default: 6, min: 0, max: 1000, doc: 'rounds of rewrites, one full pass after each' },
      common.batch,
    ],
    build: (p, spec) => {
      const n = p.n as number;
      const pages = p.pages as number;
      const hot = pct(pages, p.hot as number);
      const stable = pages - hot;
      const rounds = p.rounds as number;
      const guests = guestNames(n);
      const regions = [
        ...(stable ? [{ pages: stable, content: { seedFrom: SEED.image } }] : []),
        ...(hot ? [{ pages: hot, content: { seedFrom: SEED.churn } }] : []),
      ];
      const hotRegion = stable ? 1 : 0;
      const steps: unknown[] = [...registerAll(n), { fullScans: 1 }];
      for (let r = 1; r <= rounds; r++) {
        for (const g of guests) {
          for (let i = 0; i < hot; i++) steps.push({ write: { proc: g, region: hotRegion, page: i, content: { seed: SEED.churn + r * hot + i } } });
        }
        steps.push({ fullScans: 1 });
      }
      return {
        doc: {
          name: spec,
          description: `${n} guests of ${pages} pages: ${stable} image pages shared by all, ${hot} hot pages rewritten ${rounds} times (after each pass), each time with contents equal across guests.`,
          pagesToScan: batchOf(p, n * pages),
          processes: Object.fromEntries(guests.map((g) => [g, regions])),
          steps,
        },
      };
    },
  },
  {
    name: 'many-sharers',
    summary: 'many processes whose pages all hold one of a few contents: long stable-node lists, one crowded hash bucket',
    params: [
      { name: 'n', default: 32, min: 1, max: MAX_GUESTS, doc: 'processes' },
      { name: 'pages', default: 128, min: 1, max: MAX_PAGES, doc: 'pages per process' },
      { name: 'distinct', default: 1, min: 1, max: 4096, doc: 'distinct contents, laid out in a cycle' },
      common.batch,
      common.passes,
    ],
    build: (p, spec) => {
      const n = p.n as number;
      const distinct = p.distinct as number;
      const cycle = Array.from({ length: distinct }, (_, k) => ({ seed: SEED.sharer + k }));
      return {
        doc: {
          name: spec,
          description: `${n} processes of ${p.pages} pages, every page one of ${distinct} content${distinct === 1 ? '' : 's'}: ${n * (p.pages as number)} mappings of ${distinct} page${distinct === 1 ? '' : 's'}.`,
          pagesToScan: batchOf(p, n * (p.pages as number)),
          processes: Object.fromEntries(guestNames(n).map((g) => [g, [{ pages: p.pages, content: distinct === 1 ? cycle[0] : { cycle } }]])),
          steps: [...registerAll(n), { fullScans: p.passes }],
        },
      };
    },
  },
  {
    name: 'from-files',
    summary: 'guest memory filled from real files on disk (a directory of binaries, a disk image): comparisons on real data',
    params: [
      { name: 'path', default: '/usr/bin', repeat: true, doc: 'a file, or a directory whose regular files are read in name order (not recursive); repeat for more' },
      { name: 'n', default: 2, min: 1, max: MAX_GUESTS, doc: 'guests' },
      { name: 'pages', default: 4096, min: 1, max: MAX_PAGES, doc: 'pages per guest' },
      { name: 'overlap', default: 50, min: 0, max: 100, doc: 'percent of each guest loaded from the files every guest loads; the rest from files of its own' },
      common.batch,
      common.passes,
    ],
    build: (p, spec) => buildFromFiles(p, spec),
  },
];

// ---------------------------------------------------------------- from-files

/**
 * Each file starts on a page boundary and its last page is zero-padded, as
 * a loader maps it. The pages read form one stream; every guest loads its
 * first `overlap` percent (the common part), then guest g loads its own
 * slice of what follows. A stream too short for all of them wraps around.
 */
function buildFromFiles(p: Params, spec: string): Generated {
  const n = p.n as number;
  const pages = p.pages as number;
  const common = pct(pages, p.overlap as number);
  const own = pages - common;
  const want = common + n * own;
  const paths = p.path as string[];
  const { data, count, sources } = readPages(paths, want, spec);
  if (count === 0) fail(spec, `no data in ${paths.join(', ')}: nothing to load`);
  const fills: Preload['fills'] = [];
  const processes: Record<string, unknown> = {};
  guestNames(n).forEach((g, i) => {
    const map = new Int32Array(pages);
    for (let k = 0; k < pages; k++) map[k] = (k < common ? k : common + i * own + (k - common)) % count;
    fills.push({ proc: g, region: 0, pages: map });
    processes[g] = [{ pages, content: 'zero' }];
  });
  const files = sources.length === 1 ? sources[0] : `${sources.length} files (${sources[0]} ... ${sources[sources.length - 1]})`;
  return {
    doc: {
      name: spec,
      description: `${n} guests of ${pages} pages loaded from ${files}: ${common} pages common to all, ${own} of each guest's own${count < want ? ` (the ${count} pages read wrap around)` : ''}.`,
      pagesToScan: batchOf(p, n * pages),
      processes,
      steps: [...registerAll(n), { fullScans: p.passes }],
    },
    preload: { data: data.subarray(0, count * PAGE_SIZE), fills, sources },
  };
}

/** Up to `want` pages from the files under `paths`, each file page-aligned. */
function readPages(paths: string[], want: number, spec: string): { data: Uint8Array; count: number; sources: string[] } {
  const data = new Uint8Array(want * PAGE_SIZE);
  const sources: string[] = [];
  let count = 0;
  const files: string[] = [];
  for (const path of paths) {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      fail(spec, `cannot read ${path}: ${reason(e)}`);
    }
    if (!st.isDirectory() && !st.isFile()) fail(spec, `cannot read ${path}: not a regular file or a directory (a device or a FIFO would be read without end)`);
    if (st.isDirectory()) {
      const names = readdirSync(path).sort();
      for (const name of names) {
        const f = join(path, name);
        try {
          if (statSync(f).isFile()) files.push(f);
        } catch {
          // dangling link or no permission: not a file we can load
        }
      }
    } else {
      files.push(path);
    }
  }
  for (const f of files) {
    if (count >= want) break;
    let bytes: Buffer;
    try {
      // Only the pages still wanted, of a regular file (it may have been swapped for a device since the stat).
      bytes = readRegularFile(f, (want - count) * PAGE_SIZE, 'file', true);
    } catch {
      continue; // unreadable: skipped, as a loader would fail on it
    }
    if (bytes.length === 0) continue;
    const np = Math.min(Math.ceil(bytes.length / PAGE_SIZE), want - count);
    data.set(bytes.subarray(0, np * PAGE_SIZE), count * PAGE_SIZE);
    count += np;
    sources.push(f);
  }
  return { data, count, sources };
}

function reason(e: unknown): string {
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec((e as Error)?.message ?? '');
  return m ? m[1] : String(e);
}

/**
 * Writes a preload into the processes (each page a process write, before
 * anything is registered); a page index of -1 leaves the page unmapped, as
 * a page the process never touched (a snapshot's absent pages). Each page
 * of `data` is interned once, however many pages get it.
 */
export function applyPreload(target: Pick<EraDriver, 'memory' | 'regionRange'>, preload: Preload): void {
  const memory = target.memory;
  const ids = new Int32Array(Math.floor(preload.data.length / PAGE_SIZE));
  for (const { proc, region, pages } of preload.fills) {
    const r = target.regionRange(proc, region);
    for (let k = 0; k < pages.length; k++) {
      const d = pages[k];
      const addr = r.start + k * PAGE_SIZE;
      if (d < 0) {
        const vma = r.mm.vmaAt(addr);
        if (vma !== null) memory.zapPage(vma, vma.index(addr));
        continue;
      }
      let id = ids[d];
      if (id === 0) ids[d] = id = memory.contents.intern(preload.data, d * PAGE_SIZE);
      else memory.contents.ref(id);
      const err = memory.writePage(r.mm, addr, id);
      if (err < 0) throw new Error(`preload of ${proc} region ${region} page ${k} failed: ${err}`);
    }
  }
}

// ---------------------------------------------------------------- specs

function fail(spec: string, detail: string): never {
  throw new WorkloadError({ kind: 'schema', place: `builtin:${spec}`, detail });
}

export function findGenerator(name: string): Generator | undefined {
  return GENERATORS.find((g) => g.name === name);
}

/** `NAME:k=v,k=v` -> the generator's parameters, defaults filled in; throws WorkloadError on a bad one. */
export function parseParams(g: Generator, text: string, spec: string): Params {
  const p: Params = {};
  for (const s of g.params) if (!s.repeat) p[s.name] = s.default;
  const given = new Set<string>();
  const lists: Record<string, string[]> = {};
  for (const item of text === '' ? [] : text.split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    const s = g.params.find((x) => x.name === key);
    if (s === undefined) fail(spec, `unknown parameter "${key}" (${g.name} takes ${g.params.map((x) => x.name).join(', ')})`);
    if (eq < 0 || value === '') fail(spec, `parameter ${key} needs a value (${key}=...)`);
    if (s.repeat) {
      (lists[key] ??= []).push(value);
      continue;
    }
    if (given.has(key)) fail(spec, `parameter ${key} given twice`);
    given.add(key);
    if (typeof s.default === 'number') {
      if (!/^[0-9]+$/.test(value)) fail(spec, `${key} must be a non-negative integer, got "${value}"`);
      const v = Number(value);
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) fail(spec, `${key} must be in ${s.min}..${s.max}, got ${v}`);
      p[key] = v;
    } else {
      p[key] = value;
    }
  }
  for (const s of g.params) if (s.repeat) p[s.name] = lists[s.name] ?? [String(s.default)];
  return p;
}

const preloads = new WeakMap<Workload, Preload>();

/** Gives a workload built elsewhere (a snapshot's) the bytes to preload, so every tool that applies builtinPreload applies them. */
export function attachPreload(w: Workload, preload: Preload): void {
  preloads.set(w, preload);
}

/**
 * The workload a generator spec names (`identical-guests:n=8`), or undefined
 * when no generator has that name. Throws WorkloadError for bad parameters.
 */
export function generatedWorkload(spec: string): Workload | undefined {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const g = findGenerator(name);
  if (g === undefined) return undefined;
  const params = parseParams(g, colon < 0 ? '' : spec.slice(colon + 1), spec);
  const { doc, preload } = g.build(params, spec);
  const w = parseWorkloadText(JSON.stringify(doc), `builtin:${spec}`);
  if (preload !== undefined) preloads.set(w, preload);
  return w;
}

/** The bytes a generated workload (or a snapshot's, attachPreload) writes into its processes before the first step, if any. */
export function builtinPreload(w: Workload): Preload | undefined {
  return preloads.get(w);
}
