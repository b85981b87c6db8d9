/**
 * Which pages change between captures of the same processes (`snapshot
 * --every`, or several snapshot files of them given to estimate): a page
 * of the first capture is volatile when a later capture finds the same
 * process (pid and command name) with the same mapping (same range) and a
 * different content at that page. ksmd would find such a page changed
 * between two scans and leave it out of its trees (pages_volatile).
 */
import type { ProcessRecord } from '../snapshot/format.js';
import { PF_PRESENT, REF_ABSENT } from '../snapshot/format.js';
import type { SnapshotReader } from '../snapshot/reader.js';

export interface CaptureRef {
  reader: SnapshotReader;
  capture: number;
}

export interface Volatility {
  /** `seq:mapping` of the first capture -> 1 per page that changed. */
  pages: Map<string, Uint8Array>;
  /** Pages that changed, in total. */
  changed: number;
  /** Later captures compared. */
  captures: number;
}

/**
 * Content numbers are the writer's own per file: two files are compared by
 * bytes, one file's captures by number.
 */
export function volatility(base: CaptureRef, later: readonly CaptureRef[]): Volatility {
  const out: Volatility = { pages: new Map(), changed: 0, captures: later.length };
  const baseProcs = base.reader.processes.filter((p) => p.capture === base.capture);
  for (const l of later) {
    const procs = l.reader.processes.filter((p) => p.capture === l.capture);
    const byKey = new Map<string, ProcessRecord>(procs.map((p) => [`${p.pid}:${p.comm}`, p]));
    for (const p of baseProcs) {
      const q = byKey.get(`${p.pid}:${p.comm}`);
      if (q === undefined) continue;
      p.mappings.forEach((m, mi) => {
        const qi = q.mappings.findIndex((x) => x.start === m.start && x.end === m.end);
        if (qi < 0) return;
        const a = base.reader.pageTable(p.seq, mi);
        const b = l.reader.pageTable(q.seq, qi);
        let marks = out.pages.get(`${p.seq}:${mi}`);
        for (let k = 0; k < a.refs.length; k++) {
          const ra = a.refs[k];
          const rb = b.refs[k];
          if (ra === REF_ABSENT || rb === REF_ABSENT || !(a.flags[k] & PF_PRESENT) || !(b.flags[k] & PF_PRESENT)) continue;
          const same = l.reader === base.reader ? ra === rb : sameContent(base.reader, ra, l.reader, rb);
          if (same) continue;
          if (marks === undefined) out.pages.set(`${p.seq}:${mi}`, (marks = new Uint8Array(a.refs.length)));
          if (!marks[k]) {
            marks[k] = 1;
            out.changed++;
          }
        }
      });
    }
  }
  return out;
}

function sameContent(ra: SnapshotReader, a: number, rb: SnapshotReader, b: number): boolean {
  if (a < 2 || b < 2) return a === b;
  return Buffer.compare(ra.content(a), rb.content(b)) === 0;
}
