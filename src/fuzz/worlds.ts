/**
 * One small simulated machine of an era, driven through the era's adapter
 * (src/eras: the calls a program of the time made), with a shadow of what
 * every page of every live process must read: the soak and the fault tests
 * run random or scripted operations on it and ask `problems()` after each
 * one.
 *
 * `problems()` recomputes everything from scratch: every page of every live
 * process reads what was last written to it (the shadow holds a reference
 * to each expected content, so content ids stay meaningful), the memory
 * model's invariants and the merger's own bookkeeping against its counters
 * (invariants.ts, chosen by the merger's algorithm).
 *
 * The machine is booted as a site that lets its users register memory: on
 * v1, /dev/ksm is 0666 and every program's C library has its stack mapped
 * from the start (the soak unmaps pieces of regions; no munmap may take the
 * page the program passes its ioctl structs on).
 */
import { PAGE_SIZE } from '../engine/constants.js';
import type { Process } from '../engine/machine.js';
import type { Memory, MergeWindowEvent } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import type { EraAdapter } from '../eras/adapter.js';
import { ERAS, type EraEntry, type EraId, eraById } from '../eras/registry.js';
import { internPage } from '../workload/fill.js';
import { eraProblems, hasMergeWindow } from '../eras/invariants.js';

/** The eras whose merges stop at Memory.mergeWindow: the seeds' (3.9 and later hold the page lock across the gaps: no hook). */
export const WINDOW_ERAS: readonly EraEntry[] = ERAS.filter((e) => hasMergeWindow(e.algorithm));

/** /dev/ksm as a site that lets its users register memory would set it. */
const OPEN_KSM_DEVICE = { uid: 0, gid: 0, mode: 0o666 };

export interface Region {
  addr: number;
  pages: number;
}

/** A live simulated process and what the world knows of it. */
export interface WorldProc {
  p: Process;
  regions: Region[];
  /** Expected content id of every mapped page (by page address); each holds one content reference. */
  shadow: Map<number, number>;
}

export interface WorldOptions {
  /** The 2008 merger's page_hash buckets (a module parameter; the seed's default when absent). */
  pageHashSize?: number;
}

export class World {
  readonly adapter: EraAdapter;
  /** Live processes, in creation order. */
  readonly procs: WorldProc[] = [];
  /** Called at every merge window of every merge attempt (a write may land there), in eras whose merges have one. */
  onMergeWindow: ((e: MergeWindowEvent, w: World) => void) | null = null;
  private readonly byMm = new Map<number, WorldProc>();

  constructor(readonly era: EraEntry, opts: WorldOptions = {}) {
    this.adapter = era.boot({ hashTables: { pageHash: opts.pageHashSize }, ksmDevice: OPEN_KSM_DEVICE, stackAtStart: true });
    if (hasMergeWindow(era.algorithm)) this.memory.mergeWindow = (e) => this.onMergeWindow?.(e, this);
  }

  get memory(): Memory {
    return this.adapter.memory;
  }

  spawn(name: string, uid = 0): WorldProc {
    const wp: WorldProc = { p: this.adapter.spawn(name, uid), regions: [], shadow: new Map() };
    this.procs.push(wp);
    this.byMm.set(wp.p.mm.id, wp);
    return wp;
  }

  /** The live process whose address space is mm, if any. */
  owner(mm: Mm): WorldProc | undefined {
    return this.byMm.get(mm.id);
  }

  /** mmap of `pages` anonymous private pages; every page reads zeros. Returns the address or -errno. */
  mmap(wp: WorldProc, pages: number): number {
    const addr = this.adapter.mmap(wp.p, pages);
    if (addr < 0) return addr;
    wp.regions.push({ addr, pages });
    const zero = this.memory.zero;
    for (let i = 0; i < pages; i++) this.setShadow(wp, addr + i * PAGE_SIZE, zero);
    return addr;
  }

  /** munmap of part of a region (page-aligned): 0 or -errno. */
  munmap(wp: WorldProc, addr: number, pages: number): number {
    const r = this.adapter.munmap(wp.p, addr, pages);
    if (r < 0) return r;
    for (let i = 0; i < pages; i++) this.dropShadow(wp, addr + i * PAGE_SIZE);
    return 0;
  }

  /** The process writes a whole page: `content` (the caller keeps its own reference) becomes what addr reads. */
  writePage(wp: WorldProc, addr: number, content: number): number {
    this.memory.contents.ref(content); // the page's reference
    const r = this.memory.writePage(wp.p.mm, addr, content);
    if (r === 0) this.setShadow(wp, addr, content);
    return r;
  }

  /**
   * The process stores `data` at addr (inside one page). The expected page
   * is computed here from the shadow, independently of the write path.
   */
  writeBytes(wp: WorldProc, addr: number, data: Uint8Array): number {
    const base = addr - (addr % PAGE_SIZE);
    const old = wp.shadow.get(base);
    if (old === undefined) return this.memory.writeBytes(wp.p.mm, addr, data);
    const c = this.memory.contents;
    const scratch = c.scratch;
    scratch.set(c.slabOf(old).subarray(c.offsetOf(old), c.offsetOf(old) + PAGE_SIZE));
    scratch.set(data, addr - base);
    const expected = c.internScratch();
    const r = this.memory.writeBytes(wp.p.mm, addr, data);
    if (r === 0) this.setShadow(wp, base, expected);
    c.unref(expected);
    return r;
  }

  /**
   * The era's registration of [addr, addr + len) of the process: 0 or
   * -errno (or a seed's positive oddity). `len` is rounded up to whole
   * pages, as sys_madvise and the /dev/ksm driver's npages both do.
   */
  register(wp: WorldProc, addr: number, len: number): number {
    return this.adapter.register(wp.p, addr, Math.ceil(len / PAGE_SIZE));
  }

  /** The era's unregistration of [addr, addr + len) (v1: every region of the process's SMA at once): 0 or -errno. */
  unregister(wp: WorldProc, addr: number, len: number): number {
    return this.adapter.unregister(wp.p, [{ addr, pages: Math.ceil(len / PAGE_SIZE) }]);
  }

  fork(wp: WorldProc): WorldProc | number {
    const c = this.adapter.fork(wp.p);
    if (typeof c === 'number') return c;
    const child: WorldProc = { p: c, regions: wp.regions.map((x) => ({ ...x })), shadow: new Map() };
    for (const [a, content] of wp.shadow) this.setShadow(child, a, content);
    this.procs.push(child);
    this.byMm.set(child.p.mm.id, child);
    return child;
  }

  exit(wp: WorldProc): void {
    const i = this.procs.indexOf(wp);
    if (i < 0) return;
    this.procs.splice(i, 1);
    this.byMm.delete(wp.p.mm.id);
    for (const c of wp.shadow.values()) this.memory.contents.unref(c);
    wp.shadow.clear();
    this.adapter.exit(wp.p);
  }

  /** One call of the era's scan routine with a budget of `pages`. */
  scan(pages: number): void {
    this.adapter.scan(pages);
  }

  /** Lets virtual time pass: the era's scanner thread runs as its knobs say. */
  sleep(ms: number): void {
    this.adapter.sleep(ms);
  }

  /** Passes of the scanner the scan step drives. */
  passes(): number {
    return this.adapter.passes();
  }

  /** The address space under that scanner's cursor, or null. */
  cursorMm(): Mm | null {
    return this.adapter.cursorMm();
  }

  /** Successful merges so far. */
  merges(): number {
    return this.adapter.merger.stats.merges;
  }

  private setShadow(wp: WorldProc, addr: number, content: number): void {
    this.memory.contents.ref(content);
    const old = wp.shadow.get(addr);
    wp.shadow.set(addr, content);
    if (old !== undefined) this.memory.contents.unref(old);
  }

  private dropShadow(wp: WorldProc, addr: number): void {
    const old = wp.shadow.get(addr);
    if (old === undefined) return;
    wp.shadow.delete(addr);
    this.memory.contents.unref(old);
  }

  /** Pages whose read differs from the shadow (merging made visible). */
  shadowProblems(): string[] {
    const out: string[] = [];
    for (const wp of this.procs) {
      for (const [addr, c] of wp.shadow) {
        const got = this.memory.readPage(wp.p.mm, addr);
        if (got !== c) out.push(`pid ${wp.p.pid} (${wp.p.name}) at 0x${addr.toString(16)} reads content ${got}, last written ${c}`);
      }
    }
    return out;
  }

  /** Content references the shadows hold (for checkMemory). */
  private contentPins(): Map<number, number> {
    const pins = new Map<number, number>();
    for (const wp of this.procs) for (const c of wp.shadow.values()) pins.set(c, (pins.get(c) ?? 0) + 1);
    for (const [c, n] of this.extraContentPins) pins.set(c, (pins.get(c) ?? 0) + n);
    return pins;
  }

  /** Contents the caller keeps referenced (a pool of page images). */
  readonly extraContentPins = new Map<number, number>();

  /** A page image the world keeps alive for its whole life (one reference held), by spec. */
  poolContent(seed: number): number {
    const id = internPage(this.memory, seed === 0 ? { kind: 'zero' } : { kind: 'seed', seed });
    const n = this.extraContentPins.get(id) ?? 0;
    if (n > 0) this.memory.contents.unref(id);
    else this.extraContentPins.set(id, 1);
    return id;
  }

  /** Every violation, recomputed from scratch: reads, memory model, merger bookkeeping. */
  problems(): string[] {
    return [...this.shadowProblems(), ...eraProblems(this.adapter, this.contentPins())];
  }

  /** A process by pid among the live ones. */
  proc(pid: number): WorldProc | undefined {
    return this.procs.find((w) => w.p.pid === pid);
  }
}

/** A fresh world of the era `id`. */
export function makeWorld(id: EraId, opts: WorldOptions = {}): World {
  return new World(eraById(id), opts);
}
