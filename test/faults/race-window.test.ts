/**
 * Fault: a write lands between the write-protect and the replace of a merge.
 *
 * Every era's try_to_merge_one_page write-protects the page (2.6.32's
 * write_protect_page, 2008/2009's page_wrprotect), drops the page lock, and
 * only then compares (pages_identical) and replaces (replace_page, which
 * takes the page-table lock and checks pte_same against the write-protected
 * entry it recorded). The owner's write fault can land in either gap: the
 * fault reuses the page in place when it is mapped only there (do_wp_page:
 * reuse_swap_page looks at the mapcount, not at KSM's extra reference) or
 * copies it when a fork shares it. Either way the seed answers the same:
 * pages_identical fails, or pte_same fails; -EFAULT (2.6.32) / 1 (2008,
 * 2009), no merge, and every address reads its last write.
 *
 * The merge-window hook (Memory.mergeWindow) stops each merge attempt at the
 * two gaps; the test makes the page's owner write there, at the first or at
 * the second page of a two-page merge (the second makes the seeds undo the
 * first mapping: break_cow in 2.6.32, get_user_pages(write) in 2009, none in
 * 2008, whose lone KSM page stays mapped read-only).
 */
import test from 'ava';
import { FRAME_KSM } from '../../src/engine/memory/frames.js';
import type { MergeWindow } from '../../src/engine/memory/memory.js';
import type { EraId } from '../../src/eras/registry.js';
import { makeWorld, WINDOW_ERAS, type World, type WorldProc } from '../../src/fuzz/worlds.js';

const SEED_FN: Partial<Record<EraId, string>> = {
  'v3:2.6.32': '003 try_to_merge_one_page: write_protect_page, pages_identical, replace_page (pte_same)',
  v2: '000 try_to_merge_one_page: page_wrprotect, pages_identical, replace_page',
  'v1:2009': '002 try_to_merge_one_page: page_wrprotect, pages_identical, replace_page',
  'v1:2008': '001 try_to_merge_one_page: page_wrprotect, pages_identical (HMAC-SHA1 + memcmp), replace_page',
};

/** The eras whose merges have the window: the seeds' four (3.9 and later hold the page lock across it). */
const ERA_IDS = WINDOW_ERAS.map((e) => e.id);

function frameAt(w: World, wp: WorldProc, addr: number): number {
  const v = wp.p.mm.vmaAt(addr)!;
  return v.frames[v.index(addr)];
}

function assertClean(t: import('ava').ExecutionContext, w: World, when: string): void {
  const bad = w.problems();
  t.deepEqual(bad, [], `${when}: ${bad.join('; ')}`);
}

for (const era of ERA_IDS) {
  for (const window of ['write-protected', 'compared'] as MergeWindow[]) {
    for (const nth of [1, 2]) {
      for (const forked of [false, true]) {
        const where = window === 'write-protected' ? 'after the write-protect, before pages_identical' : 'after pages_identical, before replace_page';
        const which = nth === 1 ? 'first page of the pair' : 'second page (the first is already on the new KSM page)';
        test(`${era}: ${SEED_FN[era]}: a write ${where}, to the ${which}${forked ? ', the page shared with a forked child' : ''}: no merge, contents intact`, (t) => {
          const w = makeWorld(era);
          const X = w.poolContent(7);
          const Y = w.poolContent(8);
          const a = w.spawn('a');
          const b = w.spawn('b');
          const A = w.mmap(a, 1);
          const B = w.mmap(b, 1);
          t.is(w.writePage(a, A, X), 0);
          t.is(w.writePage(b, B, X), 0);
          // A child forked before registration shares a's page copy-on-write and is never registered.
          const child = forked ? w.fork(a) : null;
          if (typeof child === 'number') return t.fail('fork');
          t.is(w.register(a, A, 4096), 0);
          t.is(w.register(b, B, 4096), 0);

          let seen = 0;
          let hit: { pid: number; addr: number; frame: number } | null = null;
          w.onMergeWindow = (e, world) => {
            if (e.window !== window || ++seen !== nth) return;
            const o = world.owner(e.vma.mm)!;
            t.truthy(o, 'the page being merged belongs to a live process');
            t.is(world.writePage(o, e.addr, Y), 0);
            hit = { pid: o.p.pid, addr: e.addr, frame: e.oldpage };
            // do_wp_page reused the page mapped only here (same frame, entry writable again: pte_same
            // fails), or copied the one the child shares (another frame).
            t.is(frameAt(world, o, e.addr) === e.oldpage, !(forked && o === a), 'reused in place unless shared');
          };
          for (let i = 0; i < 12; i++) {
            w.scan(3);
            assertClean(t, w, `scan ${i}`);
          }
          t.truthy(hit, 'the merge reached the window');
          t.is(w.merges(), 0, 'the merge failed: no address was counted as merged');
          const writer = w.proc(hit!.pid)!;
          t.is(w.memory.readPage(writer.p.mm, hit!.addr), Y, 'the write is what the writer reads');
          t.false((w.memory.frames.flags[frameAt(w, writer, hit!.addr)] & FRAME_KSM) !== 0, 'the writer is not left on a KSM page');
          if (child !== null) t.is(w.memory.readPage(child.p.mm, A), X, 'the child still reads the shared original');
          // The other process of the pair reads X: on its own page again, or (2008) on the lone KSM page.
          const other = writer === a ? b : a;
          t.is(w.memory.readPage(other.p.mm, other === a ? A : B), X);
          w.onMergeWindow = null;
          for (let i = 0; i < 6; i++) w.scan(3);
          assertClean(t, w, 'after more scans');
        });
      }
    }
  }
}

test('the merge window is the seeds\' eras: 3.9 and 6.18 have none', (t) => {
  t.deepEqual(ERA_IDS, ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32']);
});

test('the hook costs nothing when unused: a merge with no hook set merges', (t) => {
  for (const era of ERA_IDS) {
    const w = makeWorld(era);
    const X = w.poolContent(7);
    const a = w.spawn('a');
    const b = w.spawn('b');
    const A = w.mmap(a, 1);
    const B = w.mmap(b, 1);
    w.writePage(a, A, X);
    w.writePage(b, B, X);
    w.register(a, A, 4096);
    w.register(b, B, 4096);
    let windows = 0;
    w.onMergeWindow = () => windows++;
    for (let i = 0; i < 12; i++) w.scan(3);
    t.true(w.merges() >= 1, era);
    t.true(windows >= 2, `${era}: ${windows} windows`);
    t.deepEqual(w.problems(), [], era);
  }
});
