/**
 * Merging is invisible: random register / unregister / write / scan / fork /
 * exit / run=2 sequences on small worlds, and after every step every page of
 * every live process reads back what was last written to it, pages_saved
 * equals registered present pages minus the distinct frames behind them, and
 * every invariant of the memory model and of the 2.6.32 merger holds.
 */
import test from 'ava';
import fc from 'fast-check';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE } from '../../src/v3-sysfs/constants.js';
import { internPage } from '../../src/workload/fill.js';
import { problems, seed, world } from '../helpers/v3.js';

type Op =
  | { op: 'register'; proc: number }
  | { op: 'unregister'; proc: number }
  | { op: 'write'; proc: number; page: number; content: number }
  | { op: 'scan'; pages: number }
  | { op: 'fork'; proc: number }
  | { op: 'exit'; proc: number }
  | { op: 'run'; value: 0 | 1 | 2 };

const contentArb = fc.integer({ min: 0, max: 4 }); // few contents: duplicates everywhere
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unregister' as const), proc: fc.nat(5) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), proc: fc.nat(5), page: fc.nat(5), content: contentArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('scan' as const), pages: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('run' as const), value: fc.constantFrom(0 as const, 1 as const, 2 as const) }) },
);

const layoutArb = fc.array(fc.array(contentArb, { minLength: 1, maxLength: 6, size: 'max' }), { minLength: 1, maxLength: 3, size: 'max' });

test('every page reads back its last write, and pages_saved is what memory says', (t) => {
  let merges = 0;
  fc.assert(
    fc.property(layoutArb, fc.boolean(), fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), (layout, registered, ops) => {
      const { k, procs } = world(layout.map((pages) => pages.map(seed)), registered);
      interface Live { p: Process; addr: number; pages: number; shadow: number[]; registered: boolean }
      const live: Live[] = procs.map((x, i) => ({ ...x, shadow: [...layout[i]], registered }));
      const expectId = (s: number) => {
        const id = internPage(k.memory, seed(s));
        k.memory.contents.unref(id);
        return id;
      };
      for (const o of ops) {
        const target = live.length ? live['proc' in o ? o.proc % live.length : 0] : undefined;
        switch (o.op) {
          case 'register':
            if (target) {
              if (k.madvise(target.p, target.addr, target.pages * PAGE_SIZE, MADV_MERGEABLE) !== 0) return false;
              target.registered = true;
            }
            break;
          case 'unregister':
            if (target) {
              if (k.madvise(target.p, target.addr, target.pages * PAGE_SIZE, MADV_UNMERGEABLE) !== 0) return false;
              target.registered = false;
            }
            break;
          case 'write':
            if (target) {
              const page = o.page % target.pages;
              if (k.memory.writePage(target.p.mm, target.addr + page * PAGE_SIZE, internPage(k.memory, seed(o.content))) !== 0) return false;
              target.shadow[page] = o.content;
            }
            break;
          case 'scan':
            k.ksm.ksmDoScan(o.pages);
            break;
          case 'fork':
            if (target) {
              const child = k.fork(target.p);
              if (typeof child === 'number') return false;
              live.push({ p: child, addr: target.addr, pages: target.pages, shadow: [...target.shadow], registered: target.registered });
            }
            break;
          case 'exit':
            if (target) {
              k.exit(target.p);
              live.splice(live.indexOf(target), 1);
            }
            break;
          case 'run':
            if (k.writeSysfs('run', `${o.value}\n`) < 0) return false;
            break;
        }
        for (const l of live) {
          for (let i = 0; i < l.pages; i++) {
            if (k.memory.readPage(l.p.mm, l.addr + i * PAGE_SIZE) !== expectId(l.shadow[i])) {
              throw new Error(`after ${JSON.stringify(o)}: pid ${l.p.pid} page ${i} does not read back seed ${l.shadow[i]}`);
            }
          }
        }
        const bad = problems(k);
        if (bad.length) throw new Error(`after ${JSON.stringify(o)}: ${bad.join('; ')}`);
        // pages_saved, recomputed here from the page tables with a Set.
        const regs = live.filter((l) => l.registered);
        const frames = new Set<number>();
        let present = 0;
        for (const l of regs) {
          for (let i = 0; i < l.pages; i++) {
            const a = l.addr + i * PAGE_SIZE;
            const v = l.p.mm.vmaAt(a)!;
            const f = v.frames[(a - v.start) / PAGE_SIZE];
            if (f) {
              present++;
              frames.add(f);
            }
          }
        }
        const measured = k.memory.pagesSaved(regs.map((l) => ({ mm: l.p.mm, start: l.addr, end: l.addr + l.pages * PAGE_SIZE }))).saved;
        if (measured !== present - frames.size) throw new Error(`pages_saved ${measured}, recomputed ${present - frames.size}`);
      }
      merges += k.ksm.stats.merges;
      return true;
    }),
    { numRuns: 300, seed: 20091124 },
  );
  // The property is only worth something if pages really merged meanwhile.
  t.true(merges > 1000, `only ${merges} merges in all runs`);
  t.log(`${merges} merges`);
});
