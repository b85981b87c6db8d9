/**
 * The writes between captures, for the replay: each later capture of the
 * snapshot's processes (`snapshot --every`, or later files) becomes, at its
 * time after the first, the writes that turn the first capture's pages of
 * the registered regions into that capture's (only pages present and
 * anonymous in both). The replay makes them as the processes did, between
 * ksmd's batches: a write to a merged page breaks its copy-on-write, a page
 * rewritten between two scans is volatile to ksmd.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import type { ProcessRecord } from '../snapshot/format.js';
import { REF_ZERO } from '../snapshot/format.js';
import { anonPage } from '../snapshot/policy.js';
import type { SnapshotWorkload } from '../snapshot/workload.js';
import type { CaptureRef } from './volatility.js';

export interface PageWrite {
  proc: string;
  region: number;
  page: number;
  /** 4096 bytes. */
  bytes: Uint8Array;
}

export interface ChangeSet {
  /** Virtual ms after the first capture. */
  atMs: number;
  writes: PageWrite[];
}

const ZERO = new Uint8Array(PAGE_SIZE);

function captureTime(c: CaptureRef): number {
  return Date.parse(c.reader.index.captures[c.capture]?.time ?? c.reader.index.created);
}

export function changeSets(sw: SnapshotWorkload, base: CaptureRef, later: readonly CaptureRef[]): ChangeSet[] {
  const t0 = captureTime(base);
  const out: ChangeSet[] = [];
  // The first capture's page tables of the registered mappings, by process name.
  const seqOf = new Map<string, ProcessRecord>(sw.processes);
  for (const l of later) {
    const procs = l.reader.processes.filter((p) => p.capture === l.capture);
    const byKey = new Map(procs.map((p) => [`${p.pid}:${p.comm}`, p]));
    const writes: PageWrite[] = [];
    for (const r of sw.regions) {
      const p = seqOf.get(r.proc)!;
      const q = byKey.get(`${p.pid}:${p.comm}`);
      if (q === undefined) continue;
      const m = p.mappings[r.mapping];
      const qi = q.mappings.findIndex((x) => x.start === m.start && x.end === m.end);
      if (qi < 0) continue;
      const a = base.reader.pageTable(p.seq, r.mapping);
      const b = l.reader.pageTable(q.seq, qi);
      for (let k = 0; k < r.pages; k++) {
        const i = r.firstPage + k;
        if (!anonPage(a.flags[i], a.refs[i]) || !anonPage(b.flags[i], b.refs[i])) continue;
        const same = l.reader === base.reader ? a.refs[i] === b.refs[i] : Buffer.compare(bytesOf(base, a.refs[i]), bytesOf(l, b.refs[i])) === 0;
        if (!same) writes.push({ proc: r.proc, region: r.region, page: k, bytes: bytesOf(l, b.refs[i]).slice() });
      }
    }
    out.push({ atMs: Math.max(0, captureTime(l) - t0), writes });
  }
  return out.sort((x, y) => x.atMs - y.atMs);
}

function bytesOf(c: CaptureRef, ref: number): Uint8Array {
  return ref === REF_ZERO ? ZERO : c.reader.content(ref);
}
