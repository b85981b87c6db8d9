/**
 * Merging is invisible, under both /dev/ksm ABIs: random register / remove /
 * write / scan / fork / exit / close sequences on small worlds, and after
 * every step every page of every live process reads back what was last
 * written to it, pages_saved equals registered present pages minus the
 * distinct frames behind them, the memory model's invariants hold, and the
 * 2008 hash table is consistent. Small page_hash sizes force bucket
 * collisions (the lone KSM pages of seed 001).
 *
 * And the 2008 engine against a second, plain model of seed 001
 * (test/helpers/ref-2008.ts) on random workload files: the same snapshots.
 */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import fc from 'fast-check';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import { checkHash2008 } from '../../src/engine/merge/hash-2008-invariants.js';
import type { KsmAbi } from '../../src/v1-ioctl/device.js';
import type { V1Kernel } from '../../src/v1-ioctl/kernel.js';
import type { Libc } from '../../src/v1-ioctl/libc.js';
import { internPage } from '../../src/workload/fill.js';
import { resultJson, runWorkload } from '../../src/workload/runner.js';
import { parseWorkloadText } from '../../src/workload/schema.js';
import { h2008, h2009, ksmScan, proc, register, scanner, seed } from '../helpers/v1.js';
import { runRef2008 } from '../helpers/ref-2008.js';
import { V1Kernel as Kernel } from '../../src/v1-ioctl/kernel.js';

type Op =
  | { op: 'register'; proc: number }
  | { op: 'remove'; proc: number }
  | { op: 'write'; proc: number; page: number; content: number }
  | { op: 'scan'; pages: number }
  | { op: 'fork'; proc: number }
  | { op: 'exit'; proc: number }
  | { op: 'closeSma'; proc: number };

const contentArb = fc.integer({ min: 0, max: 4 }); // few contents: duplicates everywhere
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), proc: fc.nat(5) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), proc: fc.nat(5), page: fc.nat(5), content: contentArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('scan' as const), pages: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), proc: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('closeSma' as const), proc: fc.nat(5) }) },
);
const layoutArb = fc.array(fc.array(contentArb, { minLength: 1, maxLength: 6, size: 'max' }), { minLength: 1, maxLength: 3, size: 'max' });

interface Live {
  c: Libc;
  addr: number;
  pages: number;
  shadow: number[];
  sma: number;
  dev: number;
  /** Whether this process's region is registered through an SMA this process still holds. */
  registered: boolean;
}

/** The 2008 hash table, recomputed (engine/merge/hash-2008-invariants.ts). */
function hashProblems(k: V1Kernel): string[] {
  return k.ksm2008 === null ? [] : checkHash2008(k.ksm2008);
}

function property(abi: KsmAbi, pageHashSizes: number[]) {
  return (t: import('ava').ExecutionContext) => {
    let merges = 0;
    fc.assert(
      fc.property(layoutArb, fc.constantFrom(...pageHashSizes), fc.boolean(), fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }), (layout, pageHashSize, registered, ops) => {
        const k = new Kernel({ abi, pageHashSize, rmapHashSize: 3, sha1HashSize: 2 });
        const live: Live[] = layout.map((pages, i) => {
          const p = proc(k, `p${i}`, pages.map(seed), abi);
          if (registered && register(p, abi) !== 0) throw new Error('register failed');
          return { ...p, shadow: [...pages], registered };
        });
        const s = abi === '2008' ? scanner(k) : null;
        let forked = false;
        const expectId = (x: number) => {
          const id = internPage(k.memory, seed(x));
          k.memory.contents.unref(id);
          return id;
        };
        for (const o of ops) {
          const target = live.length ? live['proc' in o ? o.proc % live.length : 0] : undefined;
          switch (o.op) {
            case 'register':
              if (target && target.sma >= 0 && !target.registered) {
                if (register({ ...target, pages: target.pages }, abi) !== 0) return false;
                target.registered = true;
              }
              break;
            case 'remove':
              if (target && target.sma >= 0) {
                if (target.c.ioctl(target.sma, abi === '2008' ? h2008.KSM_REMOVE_MEMORY_REGION : h2009.KSM_REMOVE_MEMORY_REGION) !== 0) return false;
                target.registered = false;
              }
              break;
            case 'write':
              if (target) {
                const page = o.page % target.pages;
                if (k.memory.writePage(target.c.proc.mm, target.addr + page * PAGE_SIZE, internPage(k.memory, seed(o.content))) !== 0) return false;
                target.shadow[page] = o.content;
              }
              break;
            case 'scan':
              if (s) ksmScan(s, o.pages);
              else k.ksm2009!.tree.ksmScanStart(o.pages);
              break;
            case 'fork':
              if (target) {
                const child = target.c.fork();
                if (child === null) return false;
                forked = true;
                // The child shares the SMA file: its copy of the fd keeps the parent's slots alive.
                live.push({ c: child, addr: target.addr, pages: target.pages, shadow: [...target.shadow], sma: target.sma, dev: target.dev, registered: false });
              }
              break;
            case 'exit':
              if (target) {
                target.c.exit(0);
                live.splice(live.indexOf(target), 1);
              }
              break;
            case 'closeSma':
              if (target && target.sma >= 0) {
                if (target.c.close(target.sma) !== 0) return false;
                target.sma = -1;
                target.registered = false;
              }
              break;
          }
          for (const l of live) {
            for (let i = 0; i < l.pages; i++) {
              if (k.memory.readPage(l.c.proc.mm, l.addr + i * PAGE_SIZE) !== expectId(l.shadow[i])) {
                throw new Error(`after ${JSON.stringify(o)}: pid ${l.c.pid} page ${i} does not read back seed ${l.shadow[i]}`);
              }
            }
          }
          const bad = [...checkMemory(k.memory, abi === '2009' ? k.ksm2009!.tree.leakedRefs : undefined), ...hashProblems(k)];
          if (bad.length) throw new Error(`after ${JSON.stringify(o)}: ${bad.join('; ')}`);
          // pages_saved over the regions registered by live processes, recomputed with a Set.
          const regs = live.filter((l) => l.registered);
          const frames = new Set<number>();
          let present = 0;
          for (const l of regs) {
            for (let i = 0; i < l.pages; i++) {
              const a = l.addr + i * PAGE_SIZE;
              const v = l.c.proc.mm.vmaAt(a)!;
              const f = v.frames[(a - v.start) / PAGE_SIZE];
              if (f) {
                present++;
                frames.add(f);
              }
            }
          }
          const measured = k.memory.pagesSaved(regs.map((l) => ({ mm: l.c.proc.mm, start: l.addr, end: l.addr + l.pages * PAGE_SIZE }))).saved;
          if (measured !== present - frames.size) throw new Error(`pages_saved ${measured}, recomputed ${present - frames.size}`);
          // Without fork every shared frame is a KSM page, and every slot belongs to a live process's
          // registration: the derived pages_sharing is exactly what memory saves.
          if (abi === '2008' && !forked) {
            const d = k.ksm2008!.derivedCounters();
            if (d.pagesSharing !== measured) throw new Error(`after ${JSON.stringify(o)}: pages_sharing ${d.pagesSharing}, pages_saved ${measured}`);
          }
        }
        merges += abi === '2008' ? k.ksm2008!.stats.merges : k.ksm2009!.tree.stats.merges;
        return true;
      }),
      { numRuns: 300, seed: 20081116 },
    );
    t.true(merges > 500, `only ${merges} merges in all runs`);
    t.log(`${merges} merges`);
  };
}

test('2008 (hash-table merger): every page reads back its last write, pages_saved is what memory says, the hash table is consistent', property('2008', [1, 2, 3, 4099]));

test('2009 (tree merger): every page reads back its last write and pages_saved is what memory says', property('2009', [4099]));

// ---------------------------------------------------------------- engine against the plain model

const pageSpec = fc.oneof(
  fc.constant('zero' as const),
  fc.record({ fill: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ seed: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ tail: fc.integer({ min: 0, max: 3 }) }),
);
const regionArb = fc.oneof(
  fc.record({ pages: fc.integer({ min: 1, max: 6 }), content: pageSpec }),
  fc.record({ pages: fc.integer({ min: 1, max: 8 }), content: fc.record({ cycle: fc.array(pageSpec, { minLength: 1, maxLength: 4 }) }) }),
);

const workloadArb = fc
  .record({
    procs: fc.array(fc.array(regionArb, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }),
    pagesToScan: fc.integer({ min: 1, max: 40 }),
    pageHash: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(31, 4099)),
    steps: fc.array(
      fc.oneof(
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('register'), p: fc.nat(2), r: fc.option(fc.nat(1), { nil: undefined }) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('unregister'), p: fc.nat(2) }) },
        { weight: 5, arbitrary: fc.record({ kind: fc.constant('scan'), n: fc.integer({ min: 1, max: 50 }) }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('fullScans'), n: fc.integer({ min: 1, max: 2 }) }) },
        { weight: 3, arbitrary: fc.record({ kind: fc.constant('write'), p: fc.nat(2), r: fc.nat(1), i: fc.nat(7), c: pageSpec }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('exit'), p: fc.nat(2) }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('snapshot') }) },
      ),
      { minLength: 1, maxLength: 30 },
    ),
  })
  .map(({ procs, pagesToScan, pageHash, steps }) => {
    const names = procs.map((_, i) => `p${i}`);
    const processes = Object.fromEntries(procs.map((regions, i) => [names[i], regions]));
    const alive = new Set(names);
    const registered = new Set<string>();
    const out: unknown[] = [];
    for (const s of steps) {
      const name = 'p' in s ? names[s.p % names.length] : '';
      if ('p' in s && !alive.has(name)) continue; // steps naming an exited process are file errors
      const regions = 'p' in s ? procs[s.p % names.length] : [];
      switch (s.kind) {
        case 'register':
          out.push(s.r !== undefined ? { register: name, region: s.r % regions.length } : { register: name });
          registered.add(name);
          break;
        case 'unregister':
          out.push({ unregister: name });
          registered.delete(name);
          break;
        case 'scan':
        case 'fullScans':
          // The runner refuses scans with nothing registered in a live process (preflight).
          if (![...registered].some((n) => alive.has(n))) break;
          out.push(s.kind === 'scan' ? { scan: s.n } : { fullScans: s.n });
          break;
        case 'write': {
          const r = s.r % regions.length;
          out.push({ write: { proc: name, region: r, page: s.i % regions[r].pages, content: s.c } });
          break;
        }
        case 'exit':
          out.push({ exit: name });
          alive.delete(name);
          registered.delete(name);
          break;
        case 'snapshot':
          out.push({ snapshot: `s${out.length}` });
          break;
      }
    }
    return { name: 'random', pagesToScan, hashTables: { pageHash, rmapHash: 5, sha1Cache: 3 }, processes, steps: out };
  });

test('the 2008 engine and a plain model of seed 001 give the same snapshots on random workloads', (t) => {
  let compared = 0;
  fc.assert(
    fc.property(workloadArb, (doc) => {
      // A step that names a region or page the process does not have is a file error: skip those.
      let w;
      try {
        w = parseWorkloadText(JSON.stringify(doc), 'random');
      } catch {
        return true;
      }
      const engine = resultJson(runWorkload(w, createDriver('v1:2008')));
      const model = runRef2008(w);
      t.deepEqual(engine, model, JSON.stringify(doc));
      compared += engine.snapshots.length;
      return true;
    }),
    { numRuns: 500, seed: 1116 },
  );
  t.true(compared > 300, `only ${compared} snapshots compared`);
});
