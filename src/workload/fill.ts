/**
 * Writing a workload's initial contents and page writes into a process: page
 * contents are interned by their spec, so a million copies of one image page
 * are generated once.
 */
import type { Memory } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import { pageInRun, pageKey, type SinglePage, writePageBytes } from '../engine/pages.js';
import type { Region } from './schema.js';

/** The content id of a page spec, with one reference for the caller. */
export function internPage(memory: Memory, page: SinglePage): number {
  // Seeds are keyed by number: the spec cache of a big workload holds one per page.
  const key = page.kind === 'seed' ? page.seed : pageKey(page);
  return memory.contents.internSpec(key, (out) => writePageBytes(page, out, 0));
}

/**
 * Writes every page of a region mapped at addr, as the process's first
 * writes would: each page faults in with its content.
 */
export function fillRegion(memory: Memory, mm: Mm, addr: number, region: Region): void {
  const vma = mm.vmaAt(addr);
  if (vma === null || vma.start !== addr || vma.pages < region.pages) throw new Error(`no mapping of ${region.pages} pages at 0x${addr.toString(16)}`);
  const contents = memory.contents;
  let i = 0;
  for (const run of region.runs) {
    const c = run.content;
    if (c.kind === 'seedFrom') {
      // The common case of big workloads, without an object per page.
      for (let j = 0; j < run.pages; j++, i++) {
        const seed = c.seed + j;
        let id = contents.lookupSpec(seed);
        if (id === 0) {
          writeSeedPage(seed, contents.scratch);
          id = contents.internScratchAs(seed);
        }
        memory.faultIn(vma, i, id);
      }
    } else {
      for (let j = 0; j < run.pages; j++, i++) memory.faultIn(vma, i, internPage(memory, pageInRun(c, j)));
    }
  }
}

function writeSeedPage(seed: number, out: Uint8Array): void {
  writePageBytes({ kind: 'seed', seed }, out, 0);
}
