/**
 * Writing a workload's initial contents and page writes into a process: page
 * contents are interned by their spec, so a million copies of one image page
 * are generated once.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import { pageKey, type SinglePage, writePageBytes } from '../engine/pages.js';
import { type Region, regionPage } from './schema.js';

/** The content id of a page spec, with one reference for the caller. */
export function internPage(memory: Memory, page: SinglePage): number {
  return memory.contents.internSpec(pageKey(page), (out) => writePageBytes(page, out, 0));
}

/** Writes every page of a region mapped at addr (the pages fault in as they are written). */
export function fillRegion(memory: Memory, mm: Mm, addr: number, region: Region): void {
  for (let i = 0; i < region.pages; i++) {
    const r = memory.writePage(mm, addr + i * PAGE_SIZE, internPage(memory, regionPage(region, i)));
    if (r < 0) throw new Error(`cannot fill page ${i} at 0x${addr.toString(16)}: ${r}`);
  }
}
