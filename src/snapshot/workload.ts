/**
 * A snapshot as a workload (`snapshot:FILE` wherever a workload is taken):
 * its processes, one region per registered range, steps that register them
 * and run full scans, and a Preload with the captured bytes.
 *
 * Each region spans a range's mergeable pages, from the first to the last
 * (the range's other pages are left out at both ends): present anonymous
 * pages get their captured bytes, every other page in between stays
 * unmapped, as a page never touched, which ksmd passes over as it does an
 * absent page. Processes follow the snapshot's order, ranges their
 * addresses, so ksmd meets them in the order it would have on the host.
 *
 * The Preload's bytes are each distinct content once (a SharedArrayBuffer,
 * which compare's worker threads share instead of copying).
 */
import { basename } from 'node:path';
import { PAGE_SIZE } from '../engine/constants.js';
import { attachPreload, type Preload } from '../workload/library.js';
import { parseWorkloadText, type Workload } from '../workload/schema.js';
import { FIRST_CONTENT, type ProcessRecord, REF_ZERO } from './format.js';
import { anonPage, type EffectivePolicy, effectivePolicy, type RegisterPolicy, registers } from './policy.js';
import { SnapshotError, SnapshotReader } from './reader.js';

/** How a snapshot becomes a workload: the registration policy, the capture. */
export interface SnapshotWorkloadOptions {
  register?: RegisterPolicy;
  /** Which capture of a multi-capture file (default 0, the first). */
  capture?: number;
  /** The workload's pagesToScan (default 100, the kernel's default pages_to_scan). */
  pagesToScan?: number;
  /** Full scans of the final step (default 3). */
  passes?: number;
}

/** Where a region of the workload came from. */
export interface RegionOrigin {
  proc: string;
  region: number;
  seq: number;
  mapping: number;
  /** Page of the mapping the region's first page is. */
  firstPage: number;
  pages: number;
}

/** A snapshot as a workload, and the page contents to load into it. */
export interface SnapshotWorkload {
  workload: Workload;
  preload: Preload;
  policy: EffectivePolicy;
  regions: RegionOrigin[];
  /** The processes of the capture, by workload name. */
  processes: Map<string, ProcessRecord>;
}

export const DEFAULT_SNAPSHOT_PAGES_TO_SCAN = 100;

/** Unique, readable workload names for the processes: `comm-pid`. */
export function processNames(procs: readonly ProcessRecord[]): string[] {
  const seen = new Set<string>();
  return procs.map((p) => {
    let name = `${p.comm.replace(/\s+/g, '_') || 'process'}-${p.pid || p.seq}`;
    if (seen.has(name)) name = `${name}.${p.seq}`;
    seen.add(name);
    return name;
  });
}

/** The processes of one capture. */
export function captureProcesses(r: SnapshotReader, capture: number): ProcessRecord[] {
  const procs = r.processes.filter((p) => p.capture === capture);
  if (procs.length === 0) throw new SnapshotError(r.path, `no capture ${capture} (it has ${r.index.captures.length})`);
  return procs;
}

/** A snapshot's processes as a workload (`snapshot:FILE`), registered as the policy says. */
export function snapshotWorkload(path: string, opts: SnapshotWorkloadOptions = {}): SnapshotWorkload {
  const r = SnapshotReader.open(path);
  try {
    return build(r, opts);
  } finally {
    r.close();
  }
}

function build(r: SnapshotReader, opts: SnapshotWorkloadOptions): SnapshotWorkload {
  const procs = captureProcesses(r, opts.capture ?? 0);
  const policy = effectivePolicy(opts.register ?? 'auto', procs.flatMap((p) => p.mappings));
  const names = processNames(procs);
  /** Snapshot content number -> page of the preload's data (0 is the zero page), -1 unused. */
  const dataOf = new Int32Array(FIRST_CONTENT + r.contentCount).fill(-1);
  dataOf[REF_ZERO] = 0;
  let used = 1;
  const fills: Preload['fills'] = [];
  const regions: RegionOrigin[] = [];
  const doc: Record<string, unknown> = {};
  const processes = new Map<string, ProcessRecord>();
  const steps: unknown[] = [];
  let total = 0;
  procs.forEach((p, i) => {
    const name = names[i];
    const regs: unknown[] = [];
    p.mappings.forEach((m, mi) => {
      if (!registers(policy, m)) return;
      const t = r.pageTable(p.seq, mi);
      let lo = -1;
      let hi = -1;
      for (let k = 0; k < t.refs.length; k++) {
        if (!anonPage(t.flags[k], t.refs[k])) continue;
        if (lo < 0) lo = k;
        hi = k;
      }
      if (lo < 0) return;
      const pages = hi - lo + 1;
      const map = new Int32Array(pages);
      for (let k = 0; k < pages; k++) {
        const ref = t.refs[lo + k];
        if (!anonPage(t.flags[lo + k], ref)) {
          map[k] = -1;
          continue;
        }
        if (dataOf[ref] < 0) dataOf[ref] = used++;
        map[k] = dataOf[ref];
      }
      fills.push({ proc: name, region: regs.length, pages: map });
      regions.push({ proc: name, region: regs.length, seq: p.seq, mapping: mi, firstPage: lo, pages });
      regs.push({ pages, content: 'zero' });
      total += pages;
    });
    if (regs.length === 0) return;
    doc[name] = regs;
    processes.set(name, p);
    for (let k = 0; k < regs.length; k++) steps.push({ register: name, region: k });
  });
  if (processes.size === 0) {
    const hint = policy === 'captured' ? ' (no range was MADV_MERGEABLE when captured: --register anon registers every private anonymous range)' : '';
    throw new SnapshotError(r.path, `nothing to register under --register ${policy}: no present anonymous page in a range it registers${hint}`);
  }
  steps.push({ fullScans: opts.passes ?? 3 });
  const data = new Uint8Array(new SharedArrayBuffer(used * PAGE_SIZE));
  r.forEachBlock((first, bytes) => {
    for (let k = 0, n = bytes.length / PAGE_SIZE; k < n; k++) {
      const d = dataOf[first + k];
      if (d > 0) data.set(bytes.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE), d * PAGE_SIZE);
    }
  });
  const file = basename(r.path);
  const when = r.index.captures[opts.capture ?? 0]?.time ?? r.index.created;
  const workload = parseWorkloadText(
    JSON.stringify({
      name: `snapshot:${file}`,
      description: `${processes.size} process${processes.size === 1 ? '' : 'es'} captured ${when}: ${total} pages in ${regions.length} range${regions.length === 1 ? '' : 's'} registered as --register ${policy}.`,
      pagesToScan: opts.pagesToScan ?? DEFAULT_SNAPSHOT_PAGES_TO_SCAN,
      processes: doc,
      steps,
    }),
    `snapshot:${r.path}`,
  );
  const preload: Preload = { data, fills, sources: [r.path] };
  attachPreload(workload, preload);
  return { workload, preload, policy, regions, processes };
}
