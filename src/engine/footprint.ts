/**
 * What the engine's own data structures occupy, for the benchmark's "bytes
 * per tracked page": typed-array capacity of page tables, frames, content
 * metadata and a merger's tracking items, apart from the page contents.
 */
import type { Memory } from './memory/memory.js';

export interface Footprint {
  /** Page tables, frame table, content-store metadata: the simulated memory system. */
  memoryMetadata: number;
  /** The slabs holding distinct page contents. */
  contentBytes: number;
}

export function memoryFootprint(memory: Memory): Footprint {
  let pageTables = 0;
  for (const mm of memory.mms.values()) for (const v of mm.vmas) pageTables += v.frames.byteLength + v.pte.byteLength;
  const contentMeta = memory.contents.memoryBytes() - memory.contents.slabBytes();
  return { memoryMetadata: pageTables + memory.frames.memoryBytes() + contentMeta, contentBytes: memory.contents.slabBytes() };
}
