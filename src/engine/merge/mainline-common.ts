/**
 * What the mainline mergers (2.6.32, 3.9, 6.18) share to the letter: the
 * page-flag tests, memcmp_pages, calc_checksum and the counters behind
 * /sys/kernel/mm/ksm. Small functions of what they need (the frames, the
 * memory, the stats), so each merger keeps its own function-for-function
 * port of mm/ksm.c and calls these where the C calls the same helper.
 *
 * The data structures they touch are the simulated machine's: the frame
 * table (struct page: flags, content, owner = page->mapping of a KSM page)
 * and the per-merger MergeStats; no tree or rmap_item lives here.
 */
import { PAGE_SIZE } from '../constants.js';
import type { ChecksumCache } from '../memory/checksum-cache.js';
import { FRAME_ANON, FRAME_KSM, type Frames } from '../memory/frames.js';
import type { Memory } from '../memory/memory.js';
import type { MergeStats } from './stats.js';

/** The five counters of /sys/kernel/mm/ksm every mainline era has, plus the rmap_item count behind pages_volatile. */
export interface MainlineCounters {
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  pagesVolatile: number;
  fullScans: number;
  rmapItems: number;
}

/** The counting fields of a mainline merger that pages_volatile and the common counters read. */
export interface MainlineCounts {
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  rmapItems: number;
  readonly scan: { seqnr: number };
}

/** pages_volatile_show: the rmap_items in neither tree, clamped at 0 (the counters are read without a lock). */
export function pagesVolatile(m: MainlineCounts): number {
  return Math.max(0, m.rmapItems - m.pagesShared - m.pagesSharing - m.pagesUnshared);
}

/** The common counters as sysfs shows them (full_scans is the scan's seqnr). */
export function mainlineCounters(m: MainlineCounts): MainlineCounters {
  return {
    pagesShared: m.pagesShared,
    pagesSharing: m.pagesSharing,
    pagesUnshared: m.pagesUnshared,
    pagesVolatile: pagesVolatile(m),
    fullScans: m.scan.seqnr,
    rmapItems: m.rmapItems,
  };
}

/** PageAnon / folio_test_anon: KSM pages are anonymous too (PAGE_MAPPING_ANON|PAGE_MAPPING_KSM). */
export function pageAnon(frames: Frames, f: number): boolean {
  return (frames.flags[f] & (FRAME_ANON | FRAME_KSM)) !== 0;
}

/** PageKsm / folio_test_ksm */
export function pageKsm(frames: Frames, f: number): boolean {
  return (frames.flags[f] & FRAME_KSM) !== 0;
}

/** memcmp_pages: shared contents compare equal without reading them, as the C's memcmp of one page with itself would. */
export function memcmpPages(memory: Memory, stats: MergeStats, f1: number, f2: number): number {
  const c = memory.contents;
  const a = memory.frames.content[f1];
  const b = memory.frames.content[f2];
  stats.comparisons++;
  if (a === b) {
    stats.bytesCompared += PAGE_SIZE;
    return 0;
  }
  const r = c.compare(a, b);
  stats.bytesCompared += c.lastCompareBytes;
  return r;
}

/** calc_checksum: each era's hash of the whole page, through the cache of contents already hashed. */
export function calcChecksum(memory: Memory, checksums: ChecksumCache, stats: MergeStats, f: number): number {
  stats.checksums++;
  stats.bytesHashed += PAGE_SIZE;
  return checksums.of(memory.frames.content[f]);
}
