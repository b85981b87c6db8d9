/**
 * Differential test: the engine's 2.6.32 merger (src/engine/merge/
 * mainline-2632.ts, behind V3Kernel) against a plain, literal model of seed
 * 003 (test/helpers/ref-2632.ts) on random small worlds: 1-4 processes with
 * 1-3 regions each (some shared, some with untouched or zero-filled pages),
 * few distinct contents, and random sequences of madvise (MERGEABLE,
 * UNMERGEABLE, DONTNEED, of whole regions or sub-ranges), whole-page and
 * one-byte writes, ksmd batches of random sizes, fork, exit, munmap, mmap
 * MAP_FIXED over a region, run = 0/1/2 and max_kernel_pages changes.
 *
 * After every step both sides agree on: the sysfs counters and rmap_items;
 * the mm_slot list and the scan cursor; every rmap_item (address, state,
 * unstable tag, checksum); the shape and colours of both trees and each
 * stable node's list; every page of every region (mapped, VM_MERGEABLE,
 * content, KSM or not, writable, mapcount, references beyond the mappings)
 * and which pages share frames; and the number of frames in use.
 *
 * KSM_MODEL_RUNS and KSM_MODEL_SEED override the run count and seed (the
 * long run by hand).
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, VM_MERGEABLE } from '../../src/engine/constants.js';
import { jhash2 } from '../../src/engine/hash/jhash-lookup2.js';
import type { Process } from '../../src/engine/machine.js';
import { Memory, type MergeWindow } from '../../src/engine/memory/memory.js';
import { MMF_VM_MERGEABLE, PTE_WRITE, type Mm } from '../../src/engine/memory/mm.js';
import { type Mainline2632, STABLE_FLAG } from '../../src/engine/merge/mainline-2632.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE } from '../../src/v3-sysfs/constants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { internPage } from '../../src/workload/fill.js';
import { Ref2632, type RmapItem } from '../helpers/ref-2632.js';
import { seed, zero } from '../helpers/v3.js';

// ------------------------------------------------------------ worlds and operations

/** The size of the worlds a property draws. */
interface Shape {
  procs: number;
  regions: number;
  /** Pages per region, at most. */
  pages: number;
  /** Distinct seed contents (besides the zero page). */
  seeds: number;
  /** ksmd budgets, at most (and half of them at most 12, unless smallBudgets is false). */
  budget: number;
  smallBudgets?: boolean;
  /** Operations per run: at least minOps (default 10), at most ops. */
  ops: number;
  minOps?: number;
  /** Weights of the operations that differ from the defaults (0 leaves one out). */
  weights?: Partial<Record<Op['op'], number>>;
}

interface RegionSpec {
  shared: boolean;
  /** Initial content per page: 0 untouched (never faulted), 1 zero-filled, 2.. a seed. */
  pages: number[];
}

type Op =
  | { op: 'madvise'; proc: number; region: number; from: number; len: number; whole: boolean; advice: number }
  | { op: 'write'; proc: number; region: number; page: number; content: number }
  | { op: 'poke'; proc: number; region: number; page: number; offset: number; value: number }
  | { op: 'scan'; pages: number }
  | { op: 'do-scan'; pages: number }
  | { op: 'race'; pages: number; window: MergeWindow; nth: number; content: number; self: boolean; page: number }
  | { op: 'fork'; proc: number }
  | { op: 'exit'; proc: number }
  | { op: 'munmap'; proc: number; region: number; from: number; len: number }
  | { op: 'remap'; proc: number; region: number; from: number; len: number }
  | { op: 'run'; value: number }
  | { op: 'unmerge-all' }
  | { op: 'max_kernel_pages'; value: number };

function arbitraries(shape: Shape) {
  /** A written page: 1 zeros, 2.. the seeds. */
  const contentArb = fc.integer({ min: 1, max: 1 + shape.seeds });
  const regionArb: fc.Arbitrary<RegionSpec> = fc.record({
    shared: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    pages: fc.array(fc.integer({ min: 0, max: 1 + shape.seeds }), { minLength: 1, maxLength: shape.pages, size: 'max' }),
  });
  const layoutArb = fc.array(fc.array(regionArb, { minLength: 1, maxLength: shape.regions, size: 'max' }), { minLength: 1, maxLength: shape.procs, size: 'max' });
  const proc = fc.nat(MAX_PROCS - 1);
  const region = fc.nat(shape.regions - 1);
  const page = fc.nat(shape.pages - 1);
  const len = fc.integer({ min: 1, max: shape.pages + 1 });
  const budget = shape.smallBudgets === false ? fc.integer({ min: 0, max: shape.budget }) : fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: shape.budget }));
  const w = (op: Op['op'], weight: number) => shape.weights?.[op] ?? weight;
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: w('madvise', 5),
      arbitrary: fc.record({
        op: fc.constant('madvise' as const), proc, region, from: page, len, whole: fc.boolean(),
        advice: fc.oneof(
          { weight: 8, arbitrary: fc.constant(MADV_MERGEABLE) },
          { weight: 2, arbitrary: fc.constant(MADV_UNMERGEABLE) },
          { weight: 2, arbitrary: fc.constant(MADV_DONTNEED) },
          { weight: 1, arbitrary: fc.constantFrom(MADV_DONTFORK, MADV_DOFORK) },
        ),
      }),
    },
    { weight: w('write', 5), arbitrary: fc.record({ op: fc.constant('write' as const), proc, region, page, content: contentArb }) },
    {
      weight: w('poke', 2),
      arbitrary: fc.record({ op: fc.constant('poke' as const), proc, region, page, offset: fc.constantFrom(0, 1, 3, 2048, 2049, 4092, 4095), value: fc.constantFrom(0, 1, 128, 255) }),
    },
    { weight: w('scan', 7), arbitrary: fc.record({ op: fc.constant('scan' as const), pages: budget }) },
    { weight: w('do-scan', 2), arbitrary: fc.record({ op: fc.constant('do-scan' as const), pages: budget }) },
    {
      weight: w('race', 2),
      arbitrary: fc.record({
        op: fc.constant('race' as const), pages: budget, window: fc.constantFrom<MergeWindow>('write-protected', 'compared'), nth: fc.nat(3), content: contentArb,
        self: fc.boolean(), page: fc.nat(63),
      }),
    },
    { weight: w('fork', 1), arbitrary: fc.record({ op: fc.constant('fork' as const), proc }) },
    { weight: w('exit', 1), arbitrary: fc.record({ op: fc.constant('exit' as const), proc }) },
    { weight: w('munmap', 1), arbitrary: fc.record({ op: fc.constant('munmap' as const), proc, region, from: page, len }) },
    { weight: w('remap', 1), arbitrary: fc.record({ op: fc.constant('remap' as const), proc, region, from: page, len }) },
    { weight: w('run', 1), arbitrary: fc.record({ op: fc.constant('run' as const), value: fc.constantFrom(0, 1, 1, 2) }) },
    { weight: w('unmerge-all', 1), arbitrary: fc.record({ op: fc.constant('unmerge-all' as const) }) },
    { weight: w('max_kernel_pages', 1), arbitrary: fc.record({ op: fc.constant('max_kernel_pages' as const), value: fc.constantFrom(0, 1, 2, 3, 8, 2000) }) },
  );
  return { layoutArb, opsArb: fc.array(opArb, { minLength: shape.minOps ?? 10, maxLength: shape.ops, size: 'max' }) };
}

const MAX_PROCS = 8;

interface Region {
  addr: number;
  pages: number;
}

interface Proc {
  /** The engine's process and the model's mm. */
  ep: Process;
  mm: Mm;
  regions: Region[];
  alive: boolean;
}

interface Pair {
  k: V3Kernel;
  mem: Memory;
  ref: Ref2632;
  procs: Proc[];
}

function pageSpec(code: number): SinglePage {
  return code === 1 ? zero : seed(code - 1);
}

function build(layout: RegionSpec[][]): Pair {
  const k = new V3Kernel();
  const mem = new Memory();
  const ref = new Ref2632(mem);
  const procs = layout.map((regions, i) => {
    const ep = k.spawn(`p${i}`);
    const mm = mem.createMm();
    const rs = regions.map((r) => {
      const flags = (r.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
      const addr = k.mmap(ep, 0, r.pages.length * PAGE_SIZE, PROT_READ | PROT_WRITE, flags);
      const maddr = mem.mmap(mm, 0, r.pages.length * PAGE_SIZE, PROT_READ | PROT_WRITE, flags);
      if (addr !== maddr || addr < 0) throw new Error(`mmap: ${addr} vs ${maddr}`);
      r.pages.forEach((code, j) => {
        if (code === 0) return;
        k.memory.writePage(ep.mm, addr + j * PAGE_SIZE, internPage(k.memory, pageSpec(code)));
        mem.writePage(mm, addr + j * PAGE_SIZE, internPage(mem, pageSpec(code)));
      });
      return { addr, pages: r.pages.length };
    });
    return { ep, mm, regions: rs, alive: true };
  });
  return { k, mem, ref, procs };
}

/** Applies one operation to both sides; returns what each returned. */
function apply(w: Pair, o: Op): [unknown, unknown] {
  const { k, mem, ref } = w;
  const live = w.procs.filter((p) => p.alive);
  const target = 'proc' in o && live.length ? live[o.proc % live.length] : undefined;
  const reg = target && 'region' in o ? target.regions[o.region % target.regions.length] : undefined;
  switch (o.op) {
    case 'madvise': {
      if (!target || !reg) return [0, 0];
      const from = o.whole ? 0 : o.from % reg.pages;
      const len = (o.whole ? reg.pages : o.len) * PAGE_SIZE;
      const addr = reg.addr + from * PAGE_SIZE;
      return [k.madvise(target.ep, addr, len, o.advice), ref.madvise(target.mm, addr, len, o.advice)];
    }
    case 'write': {
      if (!target || !reg) return [0, 0];
      const addr = reg.addr + (o.page % reg.pages) * PAGE_SIZE;
      return [
        k.memory.writePage(target.ep.mm, addr, internPage(k.memory, pageSpec(o.content))),
        mem.writePage(target.mm, addr, internPage(mem, pageSpec(o.content))),
      ];
    }
    case 'poke': {
      if (!target || !reg) return [0, 0];
      const addr = reg.addr + (o.page % reg.pages) * PAGE_SIZE + o.offset;
      const data = Uint8Array.of(o.value);
      return [k.memory.writeBytes(target.ep.mm, addr, data), mem.writeBytes(target.mm, addr, data)];
    }
    case 'scan': {
      // One turn of ksmd with pages_to_scan = o.pages.
      const a = k.writeSysfs('pages_to_scan', `${o.pages}\n`);
      const b = ref.pagesToScanStore(o.pages);
      k.ksmd.stepBatch();
      ref.ksmScanThreadBatch();
      return [a < 0 ? a : 0, b];
    }
    case 'do-scan':
      // ksm_do_scan called directly, whatever run says (as the workload driver's scan step does).
      k.ksm.ksmDoScan(o.pages);
      ref.ksmDoScan(o.pages);
      return [0, 0];
    case 'race': {
      // A ksm_do_scan during which, in one of try_to_merge_one_page's gaps,
      // the owner of the page being merged writes it (self), or a process
      // writes one of its pages that maps a KSM page (so a stable tree item
      // goes stale between stable_tree_search and stable_tree_insert).
      const arm = (memory: Memory, mmOf: (p: Proc) => Mm) => {
        let n = 0;
        memory.mergeWindow = (e) => {
          if (e.window !== o.window || n++ !== o.nth) return;
          if (o.self) {
            memory.writePage(e.vma.mm, e.addr, internPage(memory, pageSpec(o.content)));
            return;
          }
          const ksmPages: Array<[Mm, number]> = [];
          for (const p of w.procs) {
            if (!p.alive) continue;
            for (const r of p.regions) {
              for (let i = 0; i < r.pages; i++) {
                const vma = mmOf(p).vmaAt(r.addr + i * PAGE_SIZE);
                const f = vma === null ? 0 : vma.frames[vma.index(r.addr + i * PAGE_SIZE)];
                if (f !== 0 && memory.frames.isKsm(f)) ksmPages.push([mmOf(p), r.addr + i * PAGE_SIZE]);
              }
            }
          }
          if (ksmPages.length === 0) return;
          const [mm, addr] = ksmPages[o.page % ksmPages.length];
          memory.writePage(mm, addr, internPage(memory, pageSpec(o.content)));
        };
      };
      arm(k.memory, (p) => p.ep.mm);
      arm(mem, (p) => p.mm);
      k.ksm.ksmDoScan(o.pages);
      ref.ksmDoScan(o.pages);
      k.memory.mergeWindow = null;
      mem.mergeWindow = null;
      return [0, 0];
    }
    case 'fork': {
      if (!target || w.procs.length >= MAX_PROCS) return [0, 0];
      const child = k.fork(target.ep);
      const cmm = mem.fork(target.mm);
      if (typeof child === 'number' || typeof cmm === 'number') return [child, cmm];
      w.procs.push({ ep: child, mm: cmm, regions: target.regions.map((r) => ({ ...r })), alive: true });
      return [0, 0];
    }
    case 'exit':
      if (!target) return [0, 0];
      target.alive = false;
      k.exit(target.ep);
      mem.mmput(target.mm);
      return [0, 0];
    case 'munmap': {
      if (!target || !reg) return [0, 0];
      const from = o.from % reg.pages;
      const addr = reg.addr + from * PAGE_SIZE;
      const len = Math.min(o.len, reg.pages - from) * PAGE_SIZE;
      return [k.munmap(target.ep, addr, len), mem.munmap(target.mm, addr, len)];
    }
    case 'remap': {
      if (!target || !reg) return [0, 0];
      const from = o.from % reg.pages;
      const addr = reg.addr + from * PAGE_SIZE;
      const len = Math.min(o.len, reg.pages - from) * PAGE_SIZE;
      const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
      return [k.mmap(target.ep, addr, len, PROT_READ | PROT_WRITE, flags), mem.mmap(target.mm, addr, len, PROT_READ | PROT_WRITE, flags)];
    }
    case 'run': {
      const a = k.writeSysfs('run', `${o.value}\n`);
      return [a < 0 ? a : 0, ref.runStore(o.value)];
    }
    case 'unmerge-all': {
      const a = k.writeSysfs('run', '2\n');
      const b = k.writeSysfs('run', '1\n');
      return [[a < 0 ? a : 0, b < 0 ? b : 0], [ref.runStore(2), ref.runStore(1)]];
    }
    case 'max_kernel_pages': {
      const a = k.writeSysfs('max_kernel_pages', `${o.value}\n`);
      return [a < 0 ? a : 0, ref.maxKernelPagesStore(BigInt(o.value))];
    }
  }
}

// ------------------------------------------------------------ what both sides must agree on

/**
 * Both sides are walked by the same kind of traversal, which emits tagged
 * numbers into a sink: a cheap one that only collects the numbers (compared
 * after every step), and a printing one used to explain a difference.
 */
type Tag =
  | 'pages_shared' | 'pages_sharing' | 'pages_unshared' | 'pages_volatile' | 'full_scans' | 'rmap_items' | 'run' | 'max_kernel_pages' | 'pages_to_scan'
  | 'slot' | 'item' | 'addr' | 'flags' | 'checksum'
  | 'cursor' | 'cursor-address' | 'cursor-item' | 'seqnr'
  | 'stable' | 'unstable' | 'node' | 'black' | 'member' | 'nil' | 'end'
  | 'proc' | 'mmf-mergeable' | 'page' | 'unmapped' | 'vm-mergeable' | 'anon-vma' | 'frame' | 'content' | 'ksm' | 'writable' | 'mapcount' | 'refs-beyond-mappings'
  | 'frames-in-use';

interface Sink {
  put(tag: Tag, v: number): void;
}

class Numbers implements Sink {
  readonly v: number[] = [];
  put(_tag: Tag, v: number): void {
    this.v.push(v);
  }
}

/** Tags that start a new line in the printed form. */
const LINE_TAGS = new Set<Tag>(['pages_shared', 'slot', 'item', 'cursor', 'stable', 'unstable', 'node', 'proc', 'page', 'frames-in-use']);
const HEX_TAGS = new Set<Tag>(['addr', 'flags', 'checksum', 'cursor-address', 'cursor-item', 'content']);
const NAMED_TAGS = new Set<Tag>(['slot', 'item', 'cursor', 'node', 'member', 'proc']);

class Printer implements Sink {
  readonly lines: string[] = [];
  put(tag: Tag, v: number): void {
    const text = NAMED_TAGS.has(tag) ? `${tag} ${v < 0 ? 'head' : `p${v}`}` : HEX_TAGS.has(tag) ? `${tag} 0x${v.toString(16)}` : `${tag} ${v}`;
    if (LINE_TAGS.has(tag) || this.lines.length === 0) this.lines.push(text);
    else this.lines[this.lines.length - 1] += `, ${text}`;
  }
}

/** Content labels that mean the same across two memories: a hash of the bytes, cached per live content id. */
const labelCaches = new WeakMap<Memory, Map<number, number>>();
function labels(memory: Memory): Map<number, number> {
  let cache = labelCaches.get(memory);
  if (cache === undefined) {
    const c = new Map<number, number>();
    memory.contents.onContentFreed((freed) => c.delete(freed));
    labelCaches.set(memory, c);
    cache = c;
  }
  return cache;
}

function label(memory: Memory, cache: Map<number, number>, id: number): number {
  let l = cache.get(id);
  if (l === undefined) {
    const words = memory.contents.wordsOf(id);
    const base = memory.contents.offsetOf(id) / 4;
    // 52 bits: a jhash2 of the page (not the checksum's initval) and 20 bits of its first word.
    l = (jhash2(words, base, PAGE_SIZE / 4, 0x9e3779b9) >>> 0) * 2 ** 20 + (words[base] & 0xfffff);
    cache.set(id, l);
  }
  return l;
}

/** Every page of every region of every live process, and which of them share frames (frames renamed by first appearance). */
function walkPages(s: Sink, memory: Memory, procs: Proc[], mmOf: (p: Proc) => Mm): void {
  const names = new Map<number, number>();
  const fr = memory.frames;
  const cache = labels(memory);
  procs.forEach((p, pi) => {
    if (!p.alive) return;
    const mm = mmOf(p);
    s.put('proc', pi);
    s.put('mmf-mergeable', mm.flags & MMF_VM_MERGEABLE ? 1 : 0);
    for (const r of p.regions) {
      for (let i = 0; i < r.pages; i++) {
        const addr = r.addr + i * PAGE_SIZE;
        s.put('page', pi);
        s.put('addr', addr);
        const vma = mm.vmaAt(addr);
        if (vma === null) {
          s.put('unmapped', 1);
          continue;
        }
        s.put('vm-mergeable', vma.flags & VM_MERGEABLE ? 1 : 0);
        s.put('anon-vma', vma.anonVma ? 1 : 0);
        const f = vma.frames[vma.index(addr)];
        if (f === 0) {
          s.put('frame', 0);
          continue;
        }
        let n = names.get(f);
        if (n === undefined) names.set(f, (n = names.size + 1));
        s.put('frame', n);
        s.put('content', label(memory, cache, fr.content[f]));
        s.put('ksm', fr.isKsm(f) ? 1 : 0);
        s.put('writable', vma.pte[vma.index(addr)] & PTE_WRITE ? 1 : 0);
        s.put('mapcount', fr.mapcount[f]);
        s.put('refs-beyond-mappings', fr.refcount[f] - fr.mapcount[f]);
      }
    }
  });
  s.put('frames-in-use', fr.used);
}

/** The checksum of an item that is not in the stable tree; the next pointer's storage otherwise. */
function walkItem(s: Sink, proc: number, addr: number, flags: number, checksum: () => number): void {
  s.put('item', proc);
  s.put('addr', addr);
  s.put('flags', flags);
  if (!(flags & STABLE_FLAG)) s.put('checksum', checksum());
}

function walkEngine(s: Sink, w: Pair): void {
  const ksm: Mainline2632 = w.k.ksm;
  const it = ksm.items;
  const procOf = new Map(w.procs.map((p, i) => [p.ep.mm.id, i]));
  const name = (item: number) => procOf.get(it.mmId(item)) ?? 1000 + it.mmId(item);
  for (const f of ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'] as const) {
    // The show functions themselves (readSysfs adds only the VFS permission checks).
    const a = w.k.sysfs.lookup(f);
    if (typeof a === 'number') throw new Error(`no sysfs file ${f}`);
    s.put(f, Number(a.show()));
  }
  s.put('rmap_items', ksm.rmapItems);
  s.put('run', ksm.run);
  s.put('max_kernel_pages', Number(ksm.maxKernelPages));
  s.put('pages_to_scan', ksm.pagesToScan);
  for (const slot of ksm.slotList()) {
    s.put('slot', procOf.get(slot.mm!.id) ?? 1000 + slot.mm!.id);
    for (let i = it.lnext[slot.rmapList]; i !== slot.rmapList; i = it.lnext[i]) walkItem(s, name(i), it.addr(i), it.flagsOf(i), () => it.word[i]);
  }
  const scan = ksm.scan;
  const atHead = scan.mmSlot === ksm.mmHead;
  s.put('cursor', atHead ? -1 : procOf.get(scan.mmSlot.mm!.id) ?? 1000 + scan.mmSlot.mm!.id);
  s.put('cursor-address', scan.address);
  if (!atHead) s.put('cursor-item', scan.rmapItem === scan.mmSlot.rmapList ? -1 : it.addr(scan.rmapItem));
  s.put('seqnr', scan.seqnr);
  const tree = (n: number, stable: boolean): void => {
    if (!n) {
      s.put('nil', 0);
      return;
    }
    s.put('node', name(n));
    s.put('addr', it.addr(n));
    s.put('black', it.color[n]);
    if (stable) {
      for (let m = it.word[n]; m; m = it.word[m]) {
        s.put('member', name(m));
        s.put('addr', it.addr(m));
      }
    }
    tree(it.left[n], stable);
    tree(it.right[n], stable);
    s.put('end', 0);
  };
  s.put('stable', 0);
  tree(ksm.stableRoot.node, true);
  // Between full scans the unstable root still holds the last scan's tree,
  // whose items may have been freed since: the seed resets it before looking.
  s.put('unstable', atHead ? 0 : 1);
  if (!atHead) tree(ksm.unstableRoot.node, false);
  walkPages(s, w.k.memory, w.procs, (p) => p.ep.mm);
}

function walkModel(s: Sink, w: Pair): void {
  const { ref } = w;
  const procOf = new Map(w.procs.map((p, i) => [p.mm, i]));
  const name = (r: RmapItem) => procOf.get(r.mm!) ?? 1000 + (r.mm?.id ?? 0);
  const c = ref.counters();
  s.put('pages_shared', c.pagesShared);
  s.put('pages_sharing', c.pagesSharing);
  s.put('pages_unshared', c.pagesUnshared);
  s.put('pages_volatile', c.pagesVolatile);
  s.put('full_scans', c.fullScans);
  s.put('rmap_items', c.rmapItems);
  s.put('run', ref.ksmRun);
  s.put('max_kernel_pages', Number(ref.ksmMaxKernelPages));
  s.put('pages_to_scan', ref.ksmThreadPagesToScan);
  for (const slot of ref.slots()) {
    s.put('slot', procOf.get(slot.mm!) ?? 1000 + slot.mm!.id);
    for (const r of ref.rmapItems(slot)) walkItem(s, name(r), r.address, r.flags, () => r.oldchecksum);
  }
  const scan = ref.ksmScan;
  const atHead = scan.mmSlot === ref.ksmMmHead;
  s.put('cursor', atHead ? -1 : procOf.get(scan.mmSlot.mm!) ?? 1000 + scan.mmSlot.mm!.id);
  s.put('cursor-address', scan.address);
  if (!atHead) s.put('cursor-item', scan.rmapItem === scan.mmSlot.rmapList ? -1 : scan.rmapItem.entry!.address);
  s.put('seqnr', scan.seqnr);
  const nodes = ref.nodes;
  const tree = (n: number, stable: boolean): void => {
    if (!n) {
      s.put('nil', 0);
      return;
    }
    const r = nodes.item(n);
    s.put('node', name(r));
    s.put('addr', r.address);
    s.put('black', nodes.color[n]);
    if (stable) {
      for (let m = r.next; m; m = m.next) {
        s.put('member', name(m));
        s.put('addr', m.address);
      }
    }
    tree(nodes.left[n], stable);
    tree(nodes.right[n], stable);
    s.put('end', 0);
  };
  s.put('stable', 0);
  tree(ref.rootStableTree.node, true);
  s.put('unstable', atHead ? 0 : 1);
  if (!atHead) tree(ref.rootUnstableTree.node, false);
  walkPages(s, w.mem, w.procs, (p) => p.mm);
}

/** Compares everything; returns null or the first differing line of the printed forms, with the line before it. */
function compare(w: Pair): string | null {
  const e = new Numbers();
  const m = new Numbers();
  walkEngine(e, w);
  walkModel(m, w);
  if (e.v.length === m.v.length && e.v.every((x, i) => x === m.v[i])) return null;
  const ep = new Printer();
  const mp = new Printer();
  walkEngine(ep, w);
  walkModel(mp, w);
  for (let i = 0; i < Math.max(ep.lines.length, mp.lines.length); i++) {
    if (ep.lines[i] !== mp.lines[i]) {
      return `${i > 0 ? `after ${ep.lines[i - 1]}\n  ` : ''}engine: ${ep.lines[i] ?? '(nothing)'}\n  model:  ${mp.lines[i] ?? '(nothing)'}`;
    }
  }
  return 'the sides differ only in the order of their numbers';
}

// ------------------------------------------------------------ the test

const SEED = Number(process.env.KSM_MODEL_SEED ?? 2632);
const RUNS = process.env.KSM_MODEL_RUNS === undefined ? undefined : Number(process.env.KSM_MODEL_RUNS);
/** The coverage checks hold for the default seed and run count. */
const DEFAULTS = RUNS === undefined && process.env.KSM_MODEL_SEED === undefined;

/**
 * Builds the world, registers every region if asked, applies the operations
 * to both sides and compares them before the first and after every step;
 * throws at the first difference. Returns the world and the steps taken.
 */
function runScenario(layout: RegionSpec[][], registerAll: boolean, ops: Op[], onStep?: (w: Pair) => void): Pair {
  const w = build(layout);
  const all: Op[] = registerAll
    ? w.procs.flatMap((_, p) => layout[p].map((_r, region) => ({ op: 'madvise' as const, proc: p, region, from: 0, len: 1, whole: true, advice: MADV_MERGEABLE })))
    : [];
  const initial = compare(w);
  if (initial !== null) throw new Error(`before any step: ${initial}`);
  for (const [i, o] of [...all, ...ops].entries()) {
    const [a, b] = apply(w, o);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`step ${i} ${JSON.stringify(o)}: engine returned ${JSON.stringify(a)}, model ${JSON.stringify(b)}`);
    const diff = compare(w);
    if (diff !== null) throw new Error(`step ${i} ${JSON.stringify(o)}: ${diff}`);
    onStep?.(w);
  }
  return w;
}

/** Runs the property; returns what the model's branch counters saw, or fails the test. */
function differential(t: ExecutionContext, shape: Shape, runs: number): Map<string, number> | null {
  const { layoutArb, opsArb } = arbitraries(shape);
  const events = new Map<string, number>();
  let steps = 0;
  let maxShared = 0;
  let maxSharing = 0;
  let maxFullScans = 0;
  const started = performance.now();
  const details = fc.check(
    fc.property(layoutArb, fc.boolean(), opsArb, (layout, registerAll, ops) => {
      const w = runScenario(layout, registerAll, ops, (x) => {
        steps++;
        maxShared = Math.max(maxShared, x.ref.ksmPagesShared);
        maxSharing = Math.max(maxSharing, x.ref.ksmPagesSharing);
        maxFullScans = Math.max(maxFullScans, x.ref.ksmScan.seqnr);
      });
      for (const [k, v] of w.ref.events) events.set(k, (events.get(k) ?? 0) + v);
      return true;
    }),
    { numRuns: runs, seed: SEED },
  );
  if (details.failed) {
    const err = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    t.fail(`seed ${SEED}, path ${details.counterexamplePath}\ncounterexample ${JSON.stringify(details.counterexample)}\n${err}`);
    return null;
  }
  t.pass(`${runs} runs agree`);
  const ms = performance.now() - started;
  t.log(`${runs} runs, ${steps} steps in ${(ms / 1000).toFixed(1)} s; max pages_shared ${maxShared}, max pages_sharing ${maxSharing}, max full_scans ${maxFullScans}`);
  events.set('(max full_scans)', maxFullScans);
  for (const [k, v] of [...events].sort()) t.log(`  ${k}: ${v}`);
  return events;
}

test('small worlds: the engine and a literal model of seed 003 agree after every step', (t) => {
  const events = differential(t, { procs: 4, regions: 3, pages: 6, seeds: 3, budget: 80, ops: 60 }, RUNS ?? 1000);
  if (events === null || !DEFAULTS) return;
  // With the default seed and runs, the branches that make the trees interesting are all taken.
  for (const e of [
    'stable match: merged', 'stable match: forked', 'unstable match: merged', 'stable node replaced by its next item', 'stable node erased',
    'stale item pruned by stable_tree_search', 'stable_tree_search aborted on a stale node', 'unstable node of this scan erased',
    'unshared KSM page replaced', 'unmatched KSM page broken', 'mm_slot dropped by the scan', '__ksm_exit moved the slot after the cursor',
    'max_kernel_pages refused a merge', 'rmap_item passed over', 'trailing rmap_item removed', 'unstable search met its own page',
    'unstable search stopped at a node without a page', 'unstable match: merge failed', 'stable match: merge failed',
  ]) t.true((events.get(e) ?? 0) > 0, `never: ${e}`);
});

test('larger worlds (hundreds of pages, deeper trees, growing tables)', (t) => {
  const events = differential(t, { procs: 3, regions: 2, pages: 160, seeds: 24, budget: 700, ops: 40 }, RUNS === undefined ? 40 : Math.ceil(RUNS / 25));
  if (events === null || !DEFAULTS) return;
  t.true((events.get('unstable match: merged') ?? 0) > 0);
});

test('past 256 full scans (the unstable tag is seqnr & 0xff)', (t) => {
  const shape = { procs: 3, regions: 2, pages: 5, seeds: 3, budget: 60, smallBudgets: false, ops: 900, minOps: 700, weights: { scan: 40, run: 0, 'unmerge-all': 0, exit: 0 } };
  const events = differential(t, shape, RUNS === undefined ? 6 : Math.ceil(RUNS / 150));
  if (events === null) return;
  t.true((events.get('(max full_scans)') ?? 0) > 300);
});

test('directed: stable_tree_insert meets a node whose pages went stale after stable_tree_search, and breaks both pages', (t) => {
  // One process, pages [s1, s2, A, A] (codes: 2.. are seeds). Pass 1 records
  // checksums; pass 2 makes A's KSM page S (node page 2, member page 3).
  // Pages 0 and 1 are rewritten to X, pass 3 records their checksums, then
  // page 3 is rewritten (S keeps one mapping, page 2, until ksmd revisits it).
  // Pass 4: page 0 goes into the unstable tree; page 1 passes S in
  // stable_tree_search (live, A != X), matches page 0 in the unstable tree,
  // and while try_to_merge_one_page has page 1 write-protected, page 2 (S's
  // last mapping) is written. stable_tree_insert then finds S's node item and
  // its member both stale: the node item is replaced by its member
  // (rb_replace_node), the member erased, and the insert returns NULL, so
  // cmp_and_merge_page breaks COW on both pages [003 stable_tree_insert,
  // cmp_and_merge_page].
  const layout: RegionSpec[][] = [[{ shared: false, pages: [2, 3, 4, 4] }]];
  const X = 6;
  const ops: Op[] = [
    { op: 'do-scan', pages: 10 },
    { op: 'do-scan', pages: 10 },
    { op: 'write', proc: 0, region: 0, page: 0, content: X },
    { op: 'write', proc: 0, region: 0, page: 1, content: X },
    { op: 'do-scan', pages: 10 },
    { op: 'write', proc: 0, region: 0, page: 3, content: 7 },
    { op: 'race', pages: 10, window: 'write-protected', nth: 0, content: 8, self: false, page: 0 },
  ];
  const w = runScenario(layout, true, ops);
  t.is(w.ref.events.get('stale item pruned by stable_tree_insert'), 2);
  t.is(w.ref.events.get('stable_tree_insert aborted on a stale node'), 1);
  t.is(w.ref.events.get('stable_tree_insert failed: both broken'), 1);
  const c = w.k.ksm.counters();
  // S is gone, no new node was kept, pages 0 and 1 are private again: four volatile items.
  t.deepEqual([c.pagesShared, c.pagesSharing, c.pagesUnshared, c.rmapItems, c.fullScans], [0, 0, 0, 4, 4]);
});

test('directed: stable_tree_search aborts on stale nodes above an equal node, so stable_tree_insert finds it and breaks both pages', (t) => {
  // Four seed contents in memcmp order E < S2 < S1 < O make the stable tree
  // S1 [S2 [E], O] when their pairs merge in the order S1, O, S2, E. Q and R
  // (region 0, scanned first) hold E's content; they are registered after
  // pass 1, so pass 2 only records their checksums. In pass 3 both find E
  // through the stable tree, and each merge is made to fail (the owner
  // rewrites the page, same bytes, after write_protect_page: replace_page's
  // pte_same fails), so both keep their checksum and stay out of the trees.
  // Then every page of S1 and S2 is rewritten. Pass 4: Q's stable_tree_search
  // meets S1 with both items stale, erases it and returns NULL (the tree is
  // now S2 [E, O]); Q goes into the unstable tree. R's search meets S2, stale:
  // NULL again; R matches Q in the unstable tree, the two merge, and
  // stable_tree_insert walks O -> E, finds E equal and returns NULL, so both
  // pages are broken again [003 stable_tree_search, stable_tree_insert,
  // cmp_and_merge_page].
  const bytesOf = (code: number) => {
    const m = new Memory();
    return m.contents.bytes(internPage(m, pageSpec(code)));
  };
  const memcmp = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < PAGE_SIZE; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  };
  const [E, S2, S1, O] = [2, 3, 4, 5].sort((a, b) => memcmp(bytesOf(a), bytesOf(b)));
  const layout: RegionSpec[][] = [[{ shared: false, pages: [E, E] }, { shared: false, pages: [S1, S1, O, O, S2, S2, E, E] }]];
  const region = (r: number, advice: number): Op => ({ op: 'madvise', proc: 0, region: r, from: 0, len: 1, whole: true, advice });
  const failOwnMerge: Op = { op: 'race', pages: 1, window: 'write-protected', nth: 0, content: E, self: true, page: 0 };
  const rewrite = (page: number, content: number): Op => ({ op: 'write', proc: 0, region: 1, page, content });
  const ops: Op[] = [
    region(1, MADV_MERGEABLE),
    { op: 'do-scan', pages: 30 },
    region(0, MADV_MERGEABLE),
    { op: 'do-scan', pages: 30 },
    failOwnMerge,
    failOwnMerge,
    { op: 'do-scan', pages: 30 },
    rewrite(0, 10), rewrite(1, 11), rewrite(4, 12), rewrite(5, 13),
    { op: 'do-scan', pages: 30 },
  ];
  const w = runScenario(layout, false, ops);
  t.is(w.ref.ksmScan.seqnr, 4);
  t.is(w.ref.events.get('stable match: merge failed'), 2);
  t.is(w.ref.events.get('stable_tree_search aborted on a stale node'), 2);
  t.is(w.ref.events.get('stable_tree_insert found an equal node'), 1);
  t.is(w.ref.events.get('stable_tree_insert failed: both broken'), 1);
});
