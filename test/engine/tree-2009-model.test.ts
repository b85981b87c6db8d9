/**
 * Differential test: the engine's struct-of-arrays merger against a plain,
 * literal object model of seed 000's code (test/helpers/tree-2009-model.ts)
 * on random small worlds: registrations (whole regions, parts, repeats),
 * writes, scans of any budget (0 included), exits, forks and MADV_DONTNEED.
 * After every step both agree on ksm_pages_shared, the wraps, every
 * address's item (state and checksum) and which pages share which frames.
 */
import test from 'ava';
import fc from 'fast-check';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { Memory } from '../../src/engine/memory/memory.js';
import type { Mm } from '../../src/engine/memory/mm.js';
import { Tree2009 } from '../../src/engine/merge/tree-2009.js';
import { internPage } from '../../src/workload/fill.js';
import { seed } from '../helpers/v2.js';
import { Model2009 } from '../helpers/tree-2009-model.js';

type Op =
  | { op: 'register'; proc: number; from: number; len: number }
  | { op: 'write'; proc: number; page: number; content: number }
  | { op: 'scan'; pages: number }
  | { op: 'fork'; proc: number }
  | { op: 'exit'; proc: number }
  | { op: 'dontneed'; proc: number; page: number };

const contentArb = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), proc: fc.nat(5), from: fc.nat(5), len: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), proc: fc.nat(5), page: fc.nat(5), content: contentArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('scan' as const), pages: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dontneed' as const), proc: fc.nat(5), page: fc.nat(5) }) },
);
const layoutArb = fc.array(fc.array(contentArb, { minLength: 1, maxLength: 6, size: 'max' }), { minLength: 1, maxLength: 3, size: 'max' });

interface Side {
  memory: Memory;
  spaces: Array<{ mm: Mm; addr: number; pages: number; alive: boolean; pinned: boolean }>;
}

function build(layout: number[][]): Side {
  const memory = new Memory();
  const spaces = layout.map((pages) => {
    const mm = memory.createMm();
    const addr = memory.mmap(mm, 0, pages.length * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    pages.forEach((c, j) => memory.writePage(mm, addr + j * PAGE_SIZE, internPage(memory, seed(c))));
    return { mm, addr, pages: pages.length, alive: true, pinned: false };
  });
  return { memory, spaces };
}

/** Which pages share frames, KSM or not: frame ids renamed by first appearance. */
function partition(side: Side): string {
  const names = new Map<number, number>();
  const out: string[] = [];
  for (const s of side.spaces) {
    if (!s.alive && !s.pinned) continue;
    const v = s.mm.vmaAt(s.addr)!;
    for (let i = 0; i < s.pages; i++) {
      const f = v.frames[i];
      if (!f) {
        out.push('0');
        continue;
      }
      if (!names.has(f)) names.set(f, names.size + 1);
      out.push(`${names.get(f)}${side.memory.frames.isKsm(f) ? 'k' : ''}`);
    }
  }
  return out.join(',');
}

function engineState(ksm: Tree2009, mm: Mm, addr: number): string {
  const it = ksm.getRmapItem(mm, addr);
  if (!it) return '-';
  const ri = ksm.items;
  if (ri.stableTree[it]) return 'S';
  const t = ri.treeItem[it];
  if (!t) return `H${ri.oldchecksum[it]}`;
  return ksm.trees.gen[t] === ksm.unstableGen ? 'U*' : 'U';
}

test('the engine and a literal object model of seed 000 agree step by step', (t) => {
  let merges = 0;
  fc.assert(
    fc.property(layoutArb, fc.array(opArb, { minLength: 10, maxLength: 100, size: 'max' }), (layout, ops) => {
      const e = build(layout);
      const m = build(layout);
      const ksm = new Tree2009(e.memory, '000');
      const model = new Model2009(m.memory);
      for (const o of ops) {
        const liveIdx = e.spaces.map((s, i) => (s.alive ? i : -1)).filter((i) => i >= 0);
        const ti = liveIdx.length && 'proc' in o ? liveIdx[o.proc % liveIdx.length] : -1;
        for (const side of [e, m]) {
          const s = ti >= 0 ? side.spaces[ti] : undefined;
          switch (o.op) {
            case 'register':
              if (s) {
                const from = o.from % s.pages;
                const len = Math.min(o.len, s.pages - from);
                side.memory.mmget(s.mm);
                if (side === e) ksm.addSlot(s.mm, s.addr + from * PAGE_SIZE, len);
                else model.slots.push({ mm: s.mm, addr: s.addr + from * PAGE_SIZE, npages: len });
                s.pinned = true;
              }
              break;
            case 'write':
              if (s) side.memory.writePage(s.mm, s.addr + (o.page % s.pages) * PAGE_SIZE, internPage(side.memory, seed(o.content)));
              break;
            case 'scan':
              if (side === e) ksm.ksmScanStart(o.pages);
              else model.ksmScanStart(o.pages);
              break;
            case 'fork':
              if (s) {
                const child = side.memory.fork(s.mm);
                if (typeof child === 'number') throw new Error('fork failed');
                side.spaces.push({ mm: child, addr: s.addr, pages: s.pages, alive: true, pinned: false });
              }
              break;
            case 'exit':
              if (s) {
                s.alive = false;
                side.memory.mmput(s.mm);
              }
              break;
            case 'dontneed':
              if (s) {
                const v = s.mm.vmaAt(s.addr)!;
                side.memory.zapPage(v, o.page % s.pages);
              }
              break;
          }
        }
        const where = () => `after ${JSON.stringify(o)}`;
        if (ksm.ksmPagesShared !== model.ksmPagesShared) throw new Error(`${where()}: pages_shared ${ksm.ksmPagesShared} vs model ${model.ksmPagesShared}`);
        if (ksm.wraps !== model.wraps) throw new Error(`${where()}: wraps ${ksm.wraps} vs model ${model.wraps}`);
        for (let i = 0; i < e.spaces.length; i++) {
          const es = e.spaces[i];
          const ms = m.spaces[i];
          for (let p = 0; p < es.pages; p++) {
            const a = engineState(ksm, es.mm, es.addr + p * PAGE_SIZE);
            const b = model.stateOf(ms.mm, ms.addr + p * PAGE_SIZE);
            if (a !== b) throw new Error(`${where()}: space ${i} page ${p}: engine ${a}, model ${b}`);
          }
        }
        const pe = partition(e);
        const pm = partition(m);
        if (pe !== pm) throw new Error(`${where()}: frames ${pe} vs model ${pm}`);
      }
      merges += ksm.ksmPagesShared;
      return true;
    }),
    { numRuns: 400, seed: 2009 },
  );
  t.true(merges > 300, `only ${merges} merges`);
  t.log(`${merges} merges`);
});
