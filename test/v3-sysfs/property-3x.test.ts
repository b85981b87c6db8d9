/**
 * Merging stays invisible under 3.9 and 6.18: random register / unregister /
 * write / scan / fork / exit / run sequences on small worlds spread over two
 * NUMA nodes, with the later kernels' own knobs switched meanwhile
 * (merge_across_nodes, max_page_sharing down to 2, use_zero_pages,
 * smart_scan, chain pruning, prctl). After every step every page of every
 * live process reads back what was last written to it, and every invariant
 * of the memory model and of the merger holds (counters, hlists, chains,
 * per-process counts).
 */
import test from 'ava';
import fc from 'fast-check';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import type { Process } from '../../src/engine/machine.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE, PR_SET_MEMORY_MERGE } from '../../src/v3-sysfs/constants.js';
import { internPage } from '../../src/workload/fill.js';
import { problems, type Later, world } from '../helpers/v3x.js';

type Op =
  | { op: 'register'; proc: number }
  | { op: 'unregister'; proc: number }
  | { op: 'write'; proc: number; page: number; content: number }
  | { op: 'scan'; pages: number }
  | { op: 'fork'; proc: number }
  | { op: 'exit'; proc: number }
  | { op: 'run'; value: 0 | 1 | 2 }
  | { op: 'knob'; file: string; value: string }
  | { op: 'prctl'; proc: number; on: 0 | 1 };

/** Content 0 is the empty page (use_zero_pages), the others a few fills: duplicates everywhere. */
const page = (c: number): SinglePage => (c === 0 ? { kind: 'zero' } : { kind: 'fill', value: c });
const contentArb = fc.integer({ min: 0, max: 3 });
const knobArb = fc.oneof(
  fc.record({ op: fc.constant('knob' as const), file: fc.constant('merge_across_nodes'), value: fc.constantFrom('0', '1') }),
  fc.record({ op: fc.constant('knob' as const), file: fc.constant('max_page_sharing'), value: fc.constantFrom('2', '3', '256') }),
  fc.record({ op: fc.constant('knob' as const), file: fc.constant('use_zero_pages'), value: fc.constantFrom('0', '1') }),
  fc.record({ op: fc.constant('knob' as const), file: fc.constant('smart_scan'), value: fc.constantFrom('0', '1') }),
  fc.record({ op: fc.constant('knob' as const), file: fc.constant('stable_node_chains_prune_millisecs'), value: fc.constantFrom('0', '2000') }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unregister' as const), proc: fc.nat(5) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('write' as const), proc: fc.nat(5), page: fc.nat(7), content: contentArb }) },
  { weight: 7, arbitrary: fc.record({ op: fc.constant('scan' as const), pages: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('run' as const), value: fc.constantFrom(0 as const, 1 as const, 2 as const) }) },
  { weight: 2, arbitrary: knobArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('prctl' as const), proc: fc.nat(5), on: fc.constantFrom(0 as const, 1 as const) }) },
);
const layoutArb = fc.array(fc.array(contentArb, { minLength: 1, maxLength: 8, size: 'max' }), { minLength: 1, maxLength: 3, size: 'max' });

const invisible = test.macro({
  exec(t, kernel: Later) {
    let merges = 0;
    fc.assert(
      fc.property(layoutArb, fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), (layout, ops) => {
        const { k, procs } = world(kernel, layout.map((pages) => pages.map(page)), { numaNodes: 2, nodes: layout.map((_, i) => i % 2) });
        interface Live { p: Process; addr: number; pages: number; shadow: number[] }
        const live: Live[] = procs.map((x, i) => ({ ...x, shadow: [...layout[i]] }));
        const expectId = (c: number) => {
          const id = internPage(k.memory, page(c));
          k.memory.contents.unref(id);
          return id;
        };
        for (const o of ops) {
          const target = live.length ? live['proc' in o ? o.proc % live.length : 0] : undefined;
          switch (o.op) {
            case 'register':
            case 'unregister':
              if (target && k.madvise(target.p, target.addr, target.pages * PAGE_SIZE, o.op === 'register' ? MADV_MERGEABLE : MADV_UNMERGEABLE) !== 0) return false;
              break;
            case 'write':
              if (target) {
                const j = o.page % target.pages;
                if (k.memory.writePage(target.p.mm, target.addr + j * PAGE_SIZE, internPage(k.memory, page(o.content))) !== 0) return false;
                target.shadow[j] = o.content;
              }
              break;
            case 'scan':
              k.ksm.ksmDoScan(o.pages);
              break;
            case 'fork':
              if (target) {
                const child = k.fork(target.p);
                if (typeof child === 'number') return false;
                live.push({ p: child, addr: target.addr, pages: target.pages, shadow: [...target.shadow] });
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
            case 'knob':
              // Refusals (EBUSY while KSM pages exist, files 3.9 lacks) are part of the game.
              k.writeSysfs(o.file, `${o.value}\n`);
              break;
            case 'prctl':
              if (target && kernel === '6.18' && k.prctl(target.p, PR_SET_MEMORY_MERGE, o.on) !== 0) return false;
              break;
          }
          for (const l of live) {
            for (let i = 0; i < l.pages; i++) {
              if (k.memory.readPage(l.p.mm, l.addr + i * PAGE_SIZE) !== expectId(l.shadow[i])) {
                throw new Error(`after ${JSON.stringify(o)}: pid ${l.p.pid} page ${i} does not read back content ${l.shadow[i]}`);
              }
            }
          }
          const bad = problems(k);
          if (bad.length) throw new Error(`after ${JSON.stringify(o)}: ${bad.join('; ')}`);
        }
        merges += k.ksm.stats.merges;
        return true;
      }),
      { numRuns: 250, seed: 20251124 },
    );
    // The property is only worth something if pages really merged meanwhile.
    t.true(merges > 1000, `only ${merges} merges in all runs`);
    t.log(`${merges} merges`);
  },
  title: (_p, kernel) => `${kernel}: every page reads back its last write and every invariant holds, whatever the knobs`,
});

test(invisible, '3.9');
test(invisible, '6.18');
