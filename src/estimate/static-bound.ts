/**
 * What a snapshot could save at best, counted from its page tables alone:
 * present pages, zero pages, distinct contents, the pages a perfect
 * deduplicator would save, and of those what KSM can reach under a
 * registration policy, with every page it cannot reach counted once under
 * the reason it cannot.
 *
 * Pages are counted by physical frame where the capture knows it (pagemap's
 * PFN): pages already one frame (a library's text in every process, a
 * forked child's untouched pages) are no saving to be had. A content held
 * by n frames saves n - 1 pages at best; KSM saves e - 1 of them, e being
 * the frames it may merge (present, anonymous, in a registered range,
 * unchanged between captures). The frames it may not merge are the lost
 * pages, counted by reason (when e is 0, one of them would stay anyway and
 * is not counted). Within reach, max_page_sharing (6.x) caps the pages one
 * KSM page serves: e pages need ceil(e / max_page_sharing) KSM pages. With
 * use_zero_pages, zero pages merge into the kernel's zero page, all e of
 * them.
 *
 * Savings are attributed in scan order (the snapshot's processes in order,
 * each one's ranges by address): the first mergeable frame of a content
 * is kept, each later one is saved by its process and range, "within" when
 * the kept frame is in the same process, "across" otherwise.
 */
import { FIRST_CONTENT, type MappingRecord, PF_FILE, PF_PRESENT, type ProcessRecord, REF_ABSENT, REF_ZERO } from '../snapshot/format.js';
import { anonPage, type EffectivePolicy, registers } from '../snapshot/policy.js';
import type { SnapshotReader } from '../snapshot/reader.js';

export const LOSS_REASONS = ['not-registered', 'file-backed', 'shared', 'hugetlb', 'special', 'volatile', 'max-page-sharing'] as const;
export type LossReason = (typeof LOSS_REASONS)[number];

export const LOSS_LABELS: Record<LossReason, string> = {
  'not-registered': 'not in a mergeable range (the registration policy leaves it out)',
  'file-backed': 'file pages (page cache of a file mapping): KSM merges anonymous pages only',
  shared: 'in a shared mapping (MAP_SHARED, shmem, SysV): never mergeable',
  hugetlb: 'in a hugetlbfs mapping (huge pages): never mergeable',
  special: 'in a special mapping ([vdso] and the like)',
  volatile: 'volatile: changed between captures',
  'max-page-sharing': 'max_page_sharing: one KSM page serves at most that many mappings',
};

export interface Attribution {
  /** Mergeable pages (present, anonymous, registered, stable). */
  mergeable: number;
  saved: number;
  within: number;
  across: number;
}

export interface ProcessBound extends Attribution {
  name: string;
  pid: number;
  comm: string;
  present: number;
}

export interface MappingBound extends Attribution {
  proc: string;
  mapping: number;
  label: string;
  start: string;
  kind: MappingRecord['kind'];
  registered: boolean;
}

export interface StaticBound {
  processes: number;
  mappings: number;
  present: number;
  zero: number;
  /** Distinct contents among present pages (the zero page counts as one). */
  distinctContents: number;
  /** Distinct physical frames (pages whose frame is unknown count one each). */
  distinctFrames: number;
  /** Present pages that are a frame another page maps too: no saving to be had. */
  alreadyShared: number;
  /** distinctFrames - distinctContents. */
  perfectSaved: number;
  /** Pages KSM may merge under the policy (frames). */
  mergeable: number;
  /** What KSM could save of them at best. */
  mergeableSaved: number;
  lost: Record<LossReason, number>;
  byProcess: ProcessBound[];
  byMapping: MappingBound[];
}

export interface BoundOptions {
  policy: EffectivePolicy;
  /** 6.x's max_page_sharing, or null where the era had no such cap. */
  maxPageSharing: number | null;
  useZeroPages: boolean;
  /** Pages that changed in a later capture, by `seq:mapping` (1 = changed). */
  volatile?: ReadonlyMap<string, Uint8Array>;
  /** Count only these mappings (tests, and questions about some ranges only). */
  only?: (seq: number, mapping: number) => boolean;
}

type Loss = Exclude<LossReason, 'volatile' | 'max-page-sharing'> | null;

/** Why a present page of mapping m may not be merged, or null if it may (before volatility). */
function lossOf(policy: EffectivePolicy, m: MappingRecord, registered: boolean, flags: number, ref: number): Loss {
  if (m.kind === 'hugetlb') return 'hugetlb';
  if (m.kind === 'special') return 'special';
  if (m.perms[3] === 's' || m.kind === 'shmem') return 'shared';
  if (flags & PF_FILE) return 'file-backed';
  if (!registered || !anonPage(flags, ref)) return 'not-registered';
  return null;
}

function mappingLabel(m: MappingRecord): string {
  if (m.path !== null) return m.path;
  return m.kind === 'anon' ? '[anon]' : `[${m.kind}]`;
}

/** Grows-on-demand bitset over frame numbers. */
class Seen {
  bits = new Uint8Array(1 << 16);
  test(n: number): boolean {
    if (n >= this.bits.length) {
      const b = new Uint8Array(Math.max(n + 1, this.bits.length * 2));
      b.set(this.bits);
      this.bits = b;
    }
    if (this.bits[n]) return true;
    this.bits[n] = 1;
    return false;
  }
}

export function staticBound(r: SnapshotReader, procs: readonly ProcessRecord[], names: readonly string[], opts: BoundOptions): StaticBound {
  const nContents = FIRST_CONTENT + r.contentCount;
  const frameCount = new Int32Array(nContents);
  const mergeableCount = new Int32Array(nContents);
  /** The process (index + 1) whose frame of a content is kept. */
  const keeper = new Int32Array(nContents);
  const keptLost = new Uint8Array(nContents);
  const b: StaticBound = {
    processes: procs.length,
    mappings: 0,
    present: 0,
    zero: 0,
    distinctContents: 0,
    distinctFrames: 0,
    alreadyShared: 0,
    perfectSaved: 0,
    mergeable: 0,
    mergeableSaved: 0,
    lost: Object.fromEntries(LOSS_REASONS.map((k) => [k, 0])) as Record<LossReason, number>,
    byProcess: [],
    byMapping: [],
  };
  const empty = { refs: new Uint32Array(0), frames: new Uint32Array(0), flags: new Uint8Array(0) };
  const tables = procs.map((p) => p.mappings.map((_, mi) => (opts.only === undefined || opts.only(p.seq, mi) ? r.pageTable(p.seq, mi) : empty)));
  const mappingBounds = procs.map(() => [] as MappingBound[]);
  // Pass 1: frames per content, mergeable frames per content, attribution of the mergeable ones.
  let seen = new Seen();
  procs.forEach((p, pi) => {
    const pb: ProcessBound = { name: names[pi], pid: p.pid, comm: p.comm, present: 0, mergeable: 0, saved: 0, within: 0, across: 0 };
    b.byProcess.push(pb);
    p.mappings.forEach((m, mi) => {
      if (opts.only === undefined || opts.only(p.seq, mi)) b.mappings++;
      const t = tables[pi][mi];
      const registered = registers(opts.policy, m);
      const vol = opts.volatile?.get(`${p.seq}:${mi}`);
      const mb: MappingBound = { proc: names[pi], mapping: mi, label: mappingLabel(m), start: m.start, kind: m.kind, registered, mergeable: 0, saved: 0, within: 0, across: 0 };
      mappingBounds[pi][mi] = mb;
      for (let k = 0; k < t.refs.length; k++) {
        const ref = t.refs[k];
        if (!(t.flags[k] & PF_PRESENT) || ref === REF_ABSENT) continue;
        b.present++;
        pb.present++;
        if (ref === REF_ZERO) b.zero++;
        const f = t.frames[k];
        if (f !== 0 && seen.test(f)) {
          b.alreadyShared++;
          continue;
        }
        b.distinctFrames++;
        if (frameCount[ref]++ === 0) b.distinctContents++;
        if (lossOf(opts.policy, m, registered, t.flags[k], ref) !== null || vol?.[k]) continue;
        b.mergeable++;
        pb.mergeable++;
        mb.mergeable++;
        if (mergeableCount[ref]++ === 0) {
          keeper[ref] = pi + 1;
          continue;
        }
        if (ref === REF_ZERO && opts.useZeroPages) continue; // counted below: every zero page is saved
        mb.saved++;
        pb.saved++;
        if (keeper[ref] === pi + 1) {
          mb.within++;
          pb.within++;
        } else {
          mb.across++;
          pb.across++;
        }
      }
    });
  });
  b.perfectSaved = b.distinctFrames - b.distinctContents;
  // Pass 2: the frames KSM may not merge, by reason.
  seen = new Seen();
  procs.forEach((p, pi) => {
    p.mappings.forEach((m, mi) => {
      const t = tables[pi][mi];
      const registered = registers(opts.policy, m);
      const vol = opts.volatile?.get(`${p.seq}:${mi}`);
      for (let k = 0; k < t.refs.length; k++) {
        const ref = t.refs[k];
        if (!(t.flags[k] & PF_PRESENT) || ref === REF_ABSENT) continue;
        const f = t.frames[k];
        if (f !== 0 && seen.test(f)) continue;
        if (frameCount[ref] < 2) continue;
        const loss = lossOf(opts.policy, m, registered, t.flags[k], ref);
        const reason: LossReason | null = loss ?? (vol?.[k] ? 'volatile' : null);
        if (reason === null) continue;
        if (mergeableCount[ref] === 0 && !keptLost[ref]) {
          keptLost[ref] = 1;
          continue;
        }
        b.lost[reason]++;
      }
    });
  });
  // Within reach: e - 1 per content, capped by max_page_sharing; zero pages all of them with use_zero_pages.
  for (let c = REF_ZERO; c < nContents; c++) {
    const e = mergeableCount[c];
    if (e === 0) continue;
    if (c === REF_ZERO && opts.useZeroPages) {
      b.mergeableSaved += e;
      continue;
    }
    let s = e - 1;
    if (opts.maxPageSharing !== null && opts.maxPageSharing > 1) {
      const cap = Math.ceil(e / opts.maxPageSharing) - 1;
      b.lost['max-page-sharing'] += cap;
      s -= cap;
    }
    b.mergeableSaved += s;
  }
  if (opts.useZeroPages) {
    // Every mergeable zero page is saved: attribute them to their processes as "within" saves (the kernel's zero page is no process's).
    procs.forEach((p, pi) => {
      p.mappings.forEach((m, mi) => {
        const t = tables[pi][mi];
        const registered = registers(opts.policy, m);
        for (let k = 0; k < t.refs.length; k++) {
          if (t.refs[k] !== REF_ZERO || lossOf(opts.policy, m, registered, t.flags[k], REF_ZERO) !== null) continue;
          b.byProcess[pi].saved++;
          b.byProcess[pi].within++;
          mappingBounds[pi][mi].saved++;
          mappingBounds[pi][mi].within++;
        }
      });
    });
  }
  b.byMapping = mappingBounds.flat().filter((mb) => mb.mergeable > 0);
  b.byMapping.sort((x, y) => y.saved - x.saved || x.proc.localeCompare(y.proc) || x.mapping - y.mapping);
  return b;
}
