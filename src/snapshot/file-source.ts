/**
 * Pages read from a file into a snapshot (ELF cores and raw images): the
 * bytes of one segment of the file become the present pages of a mapping,
 * a last partial page padded with zeros; pages of the mapping past the
 * segment (a core's memsz beyond its filesz) are absent.
 */
import { readSync } from 'node:fs';
import { PAGES_PER_RECORD, PF_FILE, PF_PRESENT, SNAPSHOT_PAGE_SIZE } from './format.js';
import type { SnapshotWriter } from './writer.js';

const PAGE = SNAPSHOT_PAGE_SIZE;
const READ_PAGES = 256;

export interface Segment {
  /** Where its bytes start in the file. */
  offset: number;
  /** Bytes of it in the file. */
  bytes: number;
  /** Pages of the mapping (>= the pages the bytes fill). */
  pages: number;
  /** Its pages are file pages (page cache), which KSM never merges. */
  file: boolean;
}

/** Writes the page table and contents of one mapping read from `fd`; onBytes hears of each chunk. */
export async function captureSegment(fd: number, seg: Segment, writer: SnapshotWriter, seq: number, mapping: number, onBytes?: (n: number) => void): Promise<void> {
  const data = Buffer.alloc(READ_PAGES * PAGE);
  const filled = Math.ceil(seg.bytes / PAGE);
  const flag = PF_PRESENT | (seg.file ? PF_FILE : 0);
  for (let first = 0; first < filled; first += PAGES_PER_RECORD) {
    const count = Math.min(PAGES_PER_RECORD, seg.pages - first);
    const refs = new Uint32Array(count);
    const frames = new Uint32Array(count);
    const flags = new Uint8Array(count);
    const present = Math.min(count, filled - first);
    for (let i = 0; i < present; i += READ_PAGES) {
      const n = Math.min(READ_PAGES, present - i);
      const at = (first + i) * PAGE;
      const want = Math.min(n * PAGE, seg.bytes - at);
      let done = 0;
      while (done < want) {
        const r = readSync(fd, data, done, want - done, seg.offset + at + done);
        if (r === 0) throw new Error(`the file ends inside a segment (at byte ${seg.offset + at + done})`);
        done += r;
      }
      if (want < n * PAGE) data.fill(0, want, n * PAGE);
      await writer.addPages(data, 0, n, refs, i);
      flags.fill(flag, i, i + n);
      onBytes?.(n * PAGE);
    }
    writer.writePages(seq, mapping, first, refs, frames, flags);
  }
}
