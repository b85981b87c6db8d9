/**
 * Merging is invisible, under the 2009 tree merger too: random register /
 * write / scan / exit / fork / MADV_DONTNEED sequences on small worlds. After
 * every step every page of every address space still alive (live processes,
 * and exited ones pinned by a registration) reads back what was last written
 * to it; pages_saved equals registered present pages minus the distinct
 * frames behind them; the derived pages_sharing is what the page tables say;
 * ksm_pages_shared never goes down; and every invariant of the memory model
 * and of the merger holds.
 */
import test from 'ava';
import fc from 'fast-check';
import { FRAME_KSM } from '../../src/engine/memory/frames.js';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import { MADV_DONTNEED, MADV_SHAREABLE } from '../../src/v2-madvise/constants.js';
import { internPage } from '../../src/workload/fill.js';
import { problems, seed, world } from '../helpers/v2.js';

type Op =
  | { op: 'register'; proc: number; from: number; len: number }
  | { op: 'write'; proc: number; page: number; content: number }
  | { op: 'scan'; pages: number }
  | { op: 'fork'; proc: number }
  | { op: 'exit'; proc: number }
  | { op: 'dontneed'; proc: number; page: number };

const contentArb = fc.integer({ min: 0, max: 4 }); // few contents: duplicates everywhere
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), proc: fc.nat(5), from: fc.nat(5), len: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('write' as const), proc: fc.nat(5), page: fc.nat(5), content: contentArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('scan' as const), pages: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dontneed' as const), proc: fc.nat(5), page: fc.nat(5) }) },
);

const layoutArb = fc.array(fc.array(contentArb, { minLength: 1, maxLength: 6, size: 'max' }), { minLength: 1, maxLength: 3, size: 'max' });

interface Space {
  p: Process;
  addr: number;
  pages: number;
  /** Seed last written to each page; -1 after MADV_DONTNEED (reads zero). */
  shadow: number[];
  /** Page indexes inside some registered range. */
  registered: Set<number>;
  alive: boolean;
}

test('every page reads back its last write, and the counters are what the page tables say', (t) => {
  let merges = 0;
  fc.assert(
    fc.property(layoutArb, fc.boolean(), fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), (layout, registered, ops) => {
      const { k, procs } = world(layout.map((pages) => pages.map(seed)), registered);
      const spaces: Space[] = procs.map((x, i) => ({
        ...x,
        shadow: [...layout[i]],
        registered: new Set(registered ? layout[i].map((_, j) => j) : []),
        alive: true,
      }));
      const expectId = (s: number) => {
        if (s < 0) return k.memory.zero;
        const id = internPage(k.memory, seed(s));
        k.memory.contents.unref(id);
        return id;
      };
      let lastShared = 0;
      for (const o of ops) {
        const live = spaces.filter((s) => s.alive);
        const target = live.length && 'proc' in o ? live[o.proc % live.length] : undefined;
        switch (o.op) {
          case 'register':
            if (target) {
              const from = o.from % target.pages;
              const len = Math.min(o.len, target.pages - from);
              if (k.madvise(target.p, target.addr + from * PAGE_SIZE, len * PAGE_SIZE, MADV_SHAREABLE) !== 0) return false;
              for (let i = from; i < from + len; i++) target.registered.add(i);
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
            k.ksm.ksmScanStart(o.pages);
            break;
          case 'fork':
            if (target) {
              const child = k.fork(target.p);
              if (typeof child === 'number') return false;
              // The child is not registered by its parent's slots.
              spaces.push({ p: child, addr: target.addr, pages: target.pages, shadow: [...target.shadow], registered: new Set(), alive: true });
            }
            break;
          case 'exit':
            if (target) {
              k.exit(target.p);
              target.alive = false;
            }
            break;
          case 'dontneed':
            if (target) {
              const page = o.page % target.pages;
              if (k.madvise(target.p, target.addr + page * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED) !== 0) return false;
              target.shadow[page] = -1;
            }
            break;
        }
        // Live address spaces, and exited ones a slot pins.
        const kept = spaces.filter((s) => s.alive || s.registered.size > 0);
        for (const s of kept) {
          for (let i = 0; i < s.pages; i++) {
            if (k.memory.readPage(s.p.mm, s.addr + i * PAGE_SIZE) !== expectId(s.shadow[i])) {
              throw new Error(`after ${JSON.stringify(o)}: pid ${s.p.pid} page ${i} does not read back ${s.shadow[i]}`);
            }
          }
        }
        const bad = problems(k);
        if (bad.length) throw new Error(`after ${JSON.stringify(o)}: ${bad.join('; ')}`);
        // pages_saved over the registered pages (of live processes, and of
        // exited ones: the registration pins them), recomputed with a Set.
        const ranges = [];
        const frames = new Set<number>();
        let present = 0;
        const ksmFrames = new Set<number>();
        let ksmAddresses = 0;
        for (const s of kept) {
          const v = s.p.mm.vmas[0];
          for (const i of s.registered) {
            const f = v.frames[i];
            if (f && k.memory.frames.flags[f] & FRAME_KSM) {
              ksmAddresses++;
              ksmFrames.add(f);
            }
            ranges.push({ mm: s.p.mm, start: s.addr + i * PAGE_SIZE, end: s.addr + (i + 1) * PAGE_SIZE });
            if (f) {
              present++;
              frames.add(f);
            }
          }
        }
        const measured = k.memory.pagesSaved(ranges).saved;
        if (measured !== present - frames.size) throw new Error(`pages_saved ${measured}, recomputed ${present - frames.size}`);
        const c = k.ksm.counters();
        if (c.pagesSharing !== ksmAddresses - ksmFrames.size) throw new Error(`after ${JSON.stringify(o)}: pages_sharing ${c.pagesSharing}, recomputed ${ksmAddresses - ksmFrames.size}`);
        if (c.pagesShared < lastShared) throw new Error(`pages_shared went down from ${lastShared} to ${c.pagesShared}`);
        lastShared = c.pagesShared;
      }
      merges += k.ksm.stats.merges;
      return true;
    }),
    { numRuns: 300, seed: 20090414 },
  );
  // The property is only worth something if pages really merged meanwhile.
  t.true(merges > 500, `only ${merges} merges in all runs`);
  t.log(`${merges} merges`);
});
