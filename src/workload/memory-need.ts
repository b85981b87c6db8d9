/**
 * How much of this machine's memory simulating a workload takes, known
 * before anything is allocated, so that a workload larger than the machine
 * is refused in one line instead of swapping for minutes or dying of an
 * allocation failure (ksmctl's memory guard, src/cli/memory-guard.ts).
 *
 * The engine's memory is, per page of the workload, its page-table entry
 * (a frame id and flags), its frame, and the era's tracking item (an
 * rmap_item, a tree_item, a hash entry) in typed arrays; and per distinct
 * content, 4096 bytes for a page of arbitrary bytes (a `seed` page: the
 * content store's slab) or a few dozen for a page it stores short (zero,
 * `fill`, `tail`: head, run and tail words). Contents are interned, so a
 * content shared by many pages (every guest booted from one image) is
 * counted once: the distinct contents are counted from the content specs,
 * exactly for seeds and tails (unions of their ranges).
 *
 * The per-page and per-content costs were measured as peak RSS of
 * `ksmctl workload run FILE --era ERA --json` over one region of 65,536 and
 * 262,144 pages of one content (fill), of distinct short contents
 * (tailFrom) and of distinct full contents (seedFrom), registered and
 * scanned (the differences between the two sizes, so Node's own ~70 MB
 * cancel out), then rounded up: the figures are at each constant below.
 */
import type { SinglePage } from '../engine/pages.js';
import type { Workload } from './schema.js';

/**
 * Bytes per page of the workload, for the memory system and the era's
 * tracking items. Measured (peak RSS over 196,608 pages, one content):
 * v1:2008 136, v1:2009 160, v2 137, v3:2.6.32 53, v3:3.9 46, v3:6.18 57;
 * rounded up by a quarter or more, for the garbage collector's slack.
 * v1:2008 with distinct pages costs more (its hash merger keeps a digest
 * per page): 4,517 bytes a page all told over 524,288 seeded pages, 4,471
 * over tailFrom pages, so its per-page cost is set to cover those.
 */
const PER_PAGE: Readonly<Record<string, number>> = {
  'v1:2008': 320,
  'v1:2009': 208,
  v2: 176,
  'v3:2.6.32': 80,
  'v3:3.9': 80,
  'v3:6.18': 80,
};
/** Any era not in the table (the real kernel's runs keep a simulated mirror): the largest. */
export const PER_PAGE_MAX = Math.max(...Object.values(PER_PAGE));
/** Bytes per distinct content stored whole (a slab page and its metadata; measured 4,130 to 4,160). */
export const PER_FULL_CONTENT = 4096 + 128;
/** Bytes per distinct content stored short (metadata, tail words, checksum cache; measured 60 to 115). */
export const PER_SHORT_CONTENT = 128;
/**
 * Bytes per distinct seeded (random) content: the content store keeps such a
 * page as its generator's start until its bytes are read, and the mergers
 * other than 2008's generate them for a checksum or a comparison without
 * keeping them. Measured after that change: 1,048,576 seeded pages under
 * 2.6.32 peak at 227 MB, 262,144 under v1:2009 at 179 MB (Node included),
 * some 100-300 bytes a content beyond the per-page cost.
 */
export const PER_SEEDED_CONTENT = 512;
/**
 * The eras whose merger reads every page's bytes in place (the 2008 hash
 * merger's HMAC-SHA1 and memcmp), so that a short content gets its whole
 * page written in the slab: measured 4.5 KB per tailFrom page under v1:2008.
 */
const WHOLE_PAGES = new Set(['v1:2008']);

export interface MemoryNeed {
  /** Bytes the run is expected to add to the process (beyond Node itself). */
  bytes: number;
  /** Pages of all processes. */
  pages: number;
  /** Distinct contents stored whole (seeded pages, a preload's pages). */
  fullContents: number;
  /** Distinct contents stored short (zero, fill, tail pages). */
  shortContents: number;
}

/** Counts the integers in a union of half-open ranges [from, to). */
function unionSize(ranges: Array<[number, number]>): number {
  ranges.sort((a, b) => a[0] - b[0]);
  let n = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [a, b] of ranges) {
    if (b <= end) continue;
    n += b - Math.max(a, end);
    end = b;
  }
  return n;
}

/**
 * The memory simulating `w` under `era` (a registry id) takes; `preloadBytes`
 * counts contents a built-in or a snapshot loads besides the specs (their
 * bytes are held once as loaded and once interned).
 */
export function workloadMemoryNeed(w: Workload, era: string, preloadBytes = 0): MemoryNeed {
  const seeds: Array<[number, number]> = [];
  const tails: Array<[number, number]> = [];
  const fills = new Set<number>();
  let zero = false;
  const single = (p: SinglePage) => {
    switch (p.kind) {
      case 'seed':
        seeds.push([p.seed, p.seed + 1]);
        break;
      case 'tail': {
        const n = Number(p.n);
        tails.push([n, n + 1]);
        break;
      }
      case 'fill':
        fills.add(p.value);
        break;
      default:
        zero = true;
    }
  };
  let pages = 0;
  for (const proc of w.processes) {
    for (const region of proc.regions) {
      pages += region.pages;
      for (const run of region.runs) {
        const c = run.content;
        if (c.kind === 'seedFrom') seeds.push([c.seed, c.seed + run.pages]);
        else if (c.kind === 'tailFrom') tails.push([Number(c.n), Number(c.n) + run.pages]);
        else if (c.kind === 'cycle') c.items.forEach(single);
        else single(c);
      }
    }
  }
  let writes = 0;
  for (const s of w.steps) if (s.kind === 'write') writes++;
  const seeded = unionSize(seeds);
  const fullContents = seeded + writes + Math.ceil(preloadBytes / 4096);
  const shortContents = unionSize(tails) + fills.size + (zero ? 1 : 0);
  const perPage = PER_PAGE[era] ?? PER_PAGE_MAX;
  const whole = WHOLE_PAGES.has(era);
  const perShort = whole ? PER_FULL_CONTENT : PER_SHORT_CONTENT;
  // Seeded pages stay seeds unless the 2008 merger reads them in place.
  const perSeeded = whole ? PER_FULL_CONTENT : PER_SEEDED_CONTENT;
  const bytes = pages * perPage + seeded * perSeeded + (fullContents - seeded) * PER_FULL_CONTENT + shortContents * perShort + preloadBytes;
  return { bytes, pages, fullContents, shortContents };
}
