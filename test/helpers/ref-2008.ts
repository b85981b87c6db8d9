/**
 * A second, deliberately plain model of the November 2008 merger (seed 001),
 * written straight from the seed's mm/ksm.c for cross-checking the engine:
 * no typed arrays, no memory model, no references or page tables; a page is
 * an object with its bytes, a bucket a JS array (newest first), the scan
 * cursor a (slot, index) pair. It runs workload files with the runner's step
 * semantics and the v1 2008 driver's calls (KSM_SCAN with no merge limit
 * through one SCAN fd; one SMA per process; exit releases the SMA), and
 * reports the schema's derived counters.
 */
import { jhash } from '../../src/engine/hash/jhash-lookup2.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { regionPage, type Workload } from '../../src/workload/schema.js';
import type { Snapshot } from '../../src/workload/runner.js';
import { pageBytes, type SinglePageContent } from './page-bytes.js';

interface Frame {
  bytes: Uint8Array;
  /** Allocated by KSM (not PageAnon). */
  ksm: boolean;
}

interface Proc {
  name: string;
  /** regions[r][i]: the frame mapped at page i of region r, null once the process is gone. */
  regions: Array<Array<Frame | null>>;
  alive: boolean;
  /** The SMA's slots, in order; null until the process first registers. */
  sma: Slot[] | null;
}

interface Slot {
  proc: Proc;
  region: number;
  npages: number;
}

interface Entry {
  proc: Proc;
  region: number;
  page: number;
  /** rmap_item.oldindex */
  oldindex: number;
}

function toLocal(p: SinglePage): SinglePageContent {
  switch (p.kind) {
    case 'zero':
      return 'zero';
    case 'fill':
      return { fill: p.value };
    case 'seed':
      return { seed: p.seed };
    case 'tail':
      return { tail: Number(p.n) };
  }
}

const bytesCache = new Map<string, Uint8Array>();
function bytesOf(p: SinglePage): Uint8Array {
  const key = JSON.stringify(p, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  let b = bytesCache.get(key);
  if (b === undefined) bytesCache.set(key, (b = pageBytes(toLocal(p))));
  return b;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Ref2008 {
  readonly procs = new Map<string, Proc>();
  readonly slots: Slot[] = [];
  readonly buckets = new Map<number, Entry[]>();
  readonly cursor: { slot: Slot | null; index: number; wraps: number } = { slot: null, index: 0, wraps: 0 };
  private readonly hashCache = new WeakMap<Uint8Array, number>();

  constructor(readonly w: Workload) {
    for (const p of w.processes) {
      this.procs.set(p.name, {
        name: p.name,
        alive: true,
        sma: null,
        regions: p.regions.map((r) => Array.from({ length: r.pages }, (_, i) => ({ bytes: bytesOf(regionPage(r, i)), ksm: false }))),
      });
    }
  }

  private index(f: Frame): number {
    let h = this.hashCache.get(f.bytes);
    if (h === undefined) this.hashCache.set(f.bytes, (h = jhash(f.bytes, 0, 4096, 17)));
    return h % this.w.hashTables.pageHash;
  }

  private frameAt(e: { proc: Proc; region: number; page: number }): Frame | null {
    return e.proc.regions[e.region][e.page];
  }

  private entryOf(proc: Proc, region: number, page: number): Entry | undefined {
    for (const list of this.buckets.values()) {
      const e = list.find((x) => x.proc === proc && x.region === region && x.page === page);
      if (e) return e;
    }
    return undefined;
  }

  private deleteEntry(e: Entry): void {
    const list = this.buckets.get(e.oldindex)!;
    list.splice(list.indexOf(e), 1);
  }

  // -------------------------------------------------------------- the calls

  register(name: string, region: number): void {
    const p = this.procs.get(name)!;
    p.sma ??= [];
    const s: Slot = { proc: p, region, npages: p.regions[region].length };
    this.slots.push(s);
    p.sma.push(s);
  }

  unregister(name: string): number {
    const p = this.procs.get(name)!;
    if (p.sma === null) return -9;
    for (const s of [...p.sma]) {
      const f = this.slots.find((x) => x.proc === s.proc)!;
      for (let i = 0; i < f.npages; i++) {
        const e = this.entryOf(f.proc, f.region, i);
        if (e) this.deleteEntry(e);
      }
      this.slots.splice(this.slots.indexOf(f), 1);
      p.sma.splice(p.sma.indexOf(s), 1);
    }
    return 0;
  }

  write(name: string, region: number, page: number, content: SinglePage): void {
    // A write always ends in a private anonymous page with the new bytes.
    this.procs.get(name)!.regions[region][page] = { bytes: bytesOf(content), ksm: false };
  }

  exit(name: string): void {
    const p = this.procs.get(name)!;
    this.unregister(name);
    p.alive = false;
    p.regions = p.regions.map((r) => r.map(() => null));
  }

  /** KSM_SCAN {pages, INT_MAX, run}: ksm_scan_start on the one cursor. */
  scan(pages: number): void {
    const c = this.cursor;
    if (this.slots.length && (c.slot === null || !this.slots.includes(c.slot))) {
      c.slot = this.slots[0];
      c.index = 0;
    }
    let n = pages;
    while (n > 0) {
      if (!this.advance()) return;
      const f = this.frameAt({ proc: c.slot!.proc, region: c.slot!.region, page: c.index });
      if (f !== null && !f.ksm) this.cmpAndMerge(c.slot!, c.index, f);
      n--;
    }
    this.advance();
  }

  private advance(): boolean {
    const c = this.cursor;
    if (!this.slots.length) return false;
    if (c.index + 1 !== c.slot!.npages) {
      c.index++;
      return true;
    }
    const i = this.slots.indexOf(c.slot!);
    c.index = 0;
    if (i + 1 < this.slots.length) c.slot = this.slots[i + 1];
    else {
      c.slot = this.slots[0];
      c.wraps++;
    }
    return true;
  }

  private cmpAndMerge(slot: Slot, page: number, p: Frame): void {
    const me = { proc: slot.proc, region: slot.region, page };
    const h = this.index(p);
    const own = this.entryOf(me.proc, me.region, me.page);
    if (own && own.oldindex !== h) this.deleteEntry(own);
    let used = false;
    const list = this.buckets.get(h) ?? [];
    for (const e of [...list]) {
      if (e.proc === me.proc && e.region === me.region && e.page === me.page) {
        used = true;
        continue;
      }
      const q = this.frameAt(e);
      if (q === null) continue; // not present
      if (this.index(q) !== h) continue;
      if (this.tryToMergeTwoPages(me, p, e, q)) return;
    }
    if (!used) {
      const e: Entry = { ...me, oldindex: h };
      this.buckets.set(h, [e, ...(this.buckets.get(h) ?? [])]);
    }
  }

  /** try_to_merge_two_pages: true on success. `p` must still be mapped at `me` for anything to happen. */
  private tryToMergeTwoPages(me: { proc: Proc; region: number; page: number }, p: Frame, them: Entry, q: Frame): boolean {
    const mapped = () => this.frameAt(me) === p;
    if (q.ksm) {
      if (!mapped() || !equal(p.bytes, q.bytes)) return false;
      me.proc.regions[me.region][me.page] = q;
      return true;
    }
    const k: Frame = { bytes: p.bytes, ksm: true };
    if (!mapped()) return false;
    me.proc.regions[me.region][me.page] = k; // identical by construction
    if (this.frameAt(them) !== q || !equal(q.bytes, k.bytes)) return false; // no undo
    them.proc.regions[them.region][them.page] = k;
    return true;
  }

  // -------------------------------------------------------------- counters

  counters(): { pages_shared: number; pages_sharing: number; full_scans: number } {
    const seen = new Set<string>();
    const frames = new Set<Frame>();
    let maps = 0;
    for (const s of this.slots) {
      for (let i = 0; i < s.npages; i++) {
        const key = `${s.proc.name}/${s.region}/${i}`;
        const f = s.proc.regions[s.region][i];
        if (f === null || !f.ksm || seen.has(key)) continue;
        seen.add(key);
        frames.add(f);
        maps++;
      }
    }
    return { pages_shared: frames.size, pages_sharing: maps - frames.size, full_scans: this.cursor.wraps };
  }

  /** The runner's pages_saved over the regions registered through accepted calls, in live processes. */
  pagesSaved(registered: Map<string, Set<number>>): number {
    let present = 0;
    const distinct = new Set<Frame>();
    for (const [name, set] of registered) {
      const p = this.procs.get(name)!;
      if (!p.alive) continue;
      for (const r of set)
        for (const f of p.regions[r]) {
          if (f === null) continue;
          present++;
          distinct.add(f);
        }
    }
    return present - distinct.size;
  }
}

/** Runs a workload on the reference model with the runner's step semantics. */
export function runRef2008(w: Workload): { snapshots: Snapshot[]; errors?: Array<{ step: number; errno: string }> } {
  const m = new Ref2008(w);
  const snapshots: Snapshot[] = [];
  const errors: Array<{ step: number; errno: string }> = [];
  const registered = new Map<string, Set<number>>();
  const snap = (label: string, step: number) => {
    const c = m.counters();
    snapshots.push({ label, step, pages_shared: c.pages_shared, pages_sharing: c.pages_sharing, pages_unshared: 0, pages_volatile: 0, full_scans: c.full_scans, pages_saved: m.pagesSaved(registered) });
  };
  for (const s of w.steps) {
    switch (s.kind) {
      case 'register': {
        const n = w.processes.find((p) => p.name === s.proc)!.regions.length;
        for (const r of s.region !== undefined ? [s.region] : Array.from({ length: n }, (_, i) => i)) {
          m.register(s.proc, r);
          const set = registered.get(s.proc) ?? new Set<number>();
          set.add(r);
          registered.set(s.proc, set);
        }
        break;
      }
      case 'unregister':
        if (m.unregister(s.proc) < 0) errors.push({ step: s.index, errno: 'EBADF' });
        else registered.delete(s.proc);
        break;
      case 'scan':
        m.scan(s.pages);
        break;
      case 'fullScans': {
        let done = 0;
        while (done < s.count) {
          const before = m.cursor.wraps;
          m.scan(w.pagesToScan);
          for (let k = before; k < m.cursor.wraps; k++) snap(`${s.index}.pass${++done}`, s.index);
        }
        break;
      }
      case 'write':
        m.write(s.proc, s.region, s.page, s.content);
        break;
      case 'exit':
        m.exit(s.proc);
        registered.delete(s.proc);
        break;
      case 'snapshot':
        snap(s.label, s.index);
        break;
    }
  }
  return errors.length ? { snapshots, errors } : { snapshots };
}
