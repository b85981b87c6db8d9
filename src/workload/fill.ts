/**
 * Writing a workload's initial contents and page writes into a process.
 *
 * A region is filled run by run, in bulk and without an object per page:
 *   - a run of one content (zero, fill, seed, tail) interns it once and
 *     maps it on every page;
 *   - a cycle interns each of its items once;
 *   - seedFrom and tailFrom runs remember the content id of each of their
 *     pages under the run's spec (ContentStore.specRun), so that the next
 *     process filled from the same spec (every guest booted from one image)
 *     finds them without generating a page; seeded pages are interned as
 *     their seeds, not generated (ContentStore.internSeed), and tail pages,
 *     zero but for their last 8 bytes, from those 8 bytes alone
 *     (ContentStore.internShort).
 * Pages are faulted in in address order and contents interned in page
 * order, as a page-by-page fill would: the frame and content ids are the
 * same.
 */
import { WORDS_PER_PAGE } from '../engine/constants.js';
import type { ContentStore } from '../engine/memory/content-store.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Mm, Vma } from '../engine/memory/mm.js';
import type { RunContent, SinglePage } from '../engine/pages.js';
import type { Region } from './schema.js';

/** The content id of a page spec, with one reference for the caller. */
export function internPage(memory: Memory, page: SinglePage): number {
  const contents = memory.contents;
  switch (page.kind) {
    case 'zero':
      contents.ref(memory.zero);
      return memory.zero;
    case 'fill':
      oneWord[0] = Math.imul(page.value & 0xff, 0x01010101);
      return contents.internShort(oneWord[0], WORDS_PER_PAGE, oneWord, 0);
    case 'tail':
      return internTail(contents, Number(page.n & 0xffffffffn), Number((page.n >> 32n) & 0xffffffffn));
    case 'seed':
      return contents.internSeed(page.seed);
  }
}

/**
 * Writes every page of a region mapped at addr, as the process's first
 * writes would: each page faults in with its content.
 */
export function fillRegion(memory: Memory, mm: Mm, addr: number, region: Region): void {
  const vma = mm.vmaAt(addr);
  if (vma === null || vma.start !== addr || vma.pages < region.pages) throw new Error(`no mapping of ${region.pages} pages at 0x${addr.toString(16)}`);
  let i = 0;
  for (const run of region.runs) {
    fillRun(memory, vma, i, run.content, run.pages);
    i += run.pages;
  }
}

/** Pages at..at+n-1 of vma get the pages of a run whose content is c. */
function fillRun(memory: Memory, vma: Vma, at: number, c: RunContent, n: number): void {
  const contents = memory.contents;
  switch (c.kind) {
    case 'seedFrom': {
      const r = contents.specRun(`seedFrom:${c.seed}`, n);
      for (let j = 0; j < n; j++) {
        let id = contents.takeSpecRun(r, j);
        if (id === 0) {
          // Seeds are 32-bit (SCHEMA.md): page j of a run wraps as the bytes do.
          id = contents.internSeed((c.seed + j) >>> 0);
          contents.keepSpecRun(r, j, id);
        }
        memory.faultIn(vma, at + j, id);
      }
      return;
    }
    case 'tailFrom': {
      const r = contents.specRun(`tailFrom:${c.n}`, n);
      let lo = Number(c.n & 0xffffffffn);
      let hi = Number((c.n >> 32n) & 0xffffffffn);
      for (let j = 0; j < n; j++) {
        let id = contents.takeSpecRun(r, j);
        if (id === 0) {
          id = internTail(contents, lo, hi);
          contents.keepSpecRun(r, j, id);
        }
        memory.faultIn(vma, at + j, id);
        // Page j + 1 holds n + j + 1, mod 2^64 as the bytes have it.
        if (++lo === 4294967296) {
          lo = 0;
          hi = (hi + 1) >>> 0;
        }
      }
      return;
    }
    case 'cycle': {
      const ids = c.items.map((item) => internPage(memory, item));
      for (let j = 0; j < n; j++) {
        const id = ids[j % ids.length];
        contents.ref(id);
        memory.faultIn(vma, at + j, id);
      }
      for (const id of ids) contents.unref(id);
      return;
    }
    default: {
      if (n === 0) return;
      const id = internPage(memory, c);
      memory.faultIn(vma, at, id);
      for (let j = 1; j < n; j++) {
        contents.ref(id);
        memory.faultIn(vma, at + j, id);
      }
    }
  }
}

const oneWord = new Uint32Array(1);
const tailWords = new Uint32Array(2);
/** The page of a `tail` content n = hi * 2^32 + lo: zero but for its last two words. */
function internTail(contents: ContentStore, lo: number, hi: number): number {
  tailWords[0] = lo;
  tailWords[1] = hi;
  if (lo !== 0) return contents.internShort(0, WORDS_PER_PAGE - 2, tailWords, 0);
  // A zero low word lengthens the run of zeros by one (by two for the zero page).
  return hi !== 0 ? contents.internShort(0, WORDS_PER_PAGE - 1, tailWords, 1) : contents.internShort(0, WORDS_PER_PAGE, tailWords, 0);
}
