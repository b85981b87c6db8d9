/**
 * pids and mm ids are reused as the kernel reuses them, so a machine can
 * create any number of processes over its life: pids count up to pid_max
 * and wrap to RESERVED_PIDS (alloc_pidmap), mm ids count up to their
 * maximum and then go to mms that were freed, and an mm that KSM still
 * holds (an mm_slot's mm_count reference) keeps its id until ksmd lets go.
 */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { Machine, RESERVED_PIDS } from '../../src/engine/machine.js';
import { checkMemory } from '../../src/engine/memory/invariants.js';
import { checkMainline2632 } from '../../src/engine/merge/mainline-2632-invariants.js';
import { checkMainline3x } from '../../src/engine/merge/mainline-3x-invariants.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { MADV_MERGEABLE } from '../../src/v3-sysfs/constants.js';

test('pids count up from 100 to pid_max, then wrap to the first free one from RESERVED_PIDS', (t) => {
  const m = new Machine();
  m.pidMax = RESERVED_PIDS + 10;
  const init = m.spawn('init');
  t.is(init.pid, 100);
  const pids: number[] = [];
  for (let i = 0; i < 215; i++) {
    const p = m.spawn('p');
    pids.push(p.pid);
    if (p.pid !== 305) m.exit(p);
  }
  t.deepEqual(pids.slice(0, 3), [101, 102, 103]);
  t.is(pids[208], 309);
  // After 309 (pid_max - 1), the next is RESERVED_PIDS; 305 stays alive and is skipped.
  t.deepEqual(pids.slice(209), [300, 301, 302, 303, 304, 306]);
  t.is(m.processes.get(305)?.exited, false);
});

test('fork answers EAGAIN when every pid is taken, and works again once one at or above RESERVED_PIDS exits', (t) => {
  const m = new Machine();
  m.pidMax = RESERVED_PIDS + 4;
  const init = m.spawn('init');
  const kids = [];
  for (;;) {
    const c = m.fork(init);
    if (typeof c === 'number') {
      t.is(c, -ERRNO.EAGAIN);
      break;
    }
    kids.push(c);
  }
  t.is(kids.length, RESERVED_PIDS + 4 - 101);
  // Below RESERVED_PIDS a freed pid is not taken again; above it, it is.
  m.exit(kids[7]);
  t.is(m.fork(init), -ERRNO.EAGAIN);
  const k301 = kids.find((k) => k.pid === 301)!;
  m.exit(k301);
  const again = m.fork(init);
  t.false(typeof again === 'number');
  t.is((again as { pid: number }).pid, 301);
  t.throws(() => m.spawn('one more'), { instanceOf: RangeError, message: /no free pid/ });
});

test('mm ids count up, then go to freed mms: a fork-then-exit loop runs past the id maximum', (t) => {
  const m = new Machine();
  m.memory.mmIdMax = 16;
  const init = m.spawn('init');
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const c = m.fork(init);
    if (typeof c === 'number') return t.fail(`fork ${i} failed: ${c}`);
    seen.add(c.mm.id);
    m.exit(c);
  }
  t.is(seen.size, 15);
  t.is(m.memory.mmCount, 1);
  t.deepEqual(checkMemory(m.memory), []);
});

function registeredGuest(k: V3Kernel<'2.6.32' | '6.18'>, pages: number) {
  const p = k.spawn('guest');
  const a = k.mmap(p, 0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  for (let i = 0; i < pages; i++) k.memory.writeBytes(p.mm, a + i * PAGE_SIZE, new Uint8Array([i % 3]));
  t0(k.madvise(p, a, pages * PAGE_SIZE, MADV_MERGEABLE));
  return p;
}

function t0(r: number): void {
  if (r !== 0) throw new Error(`call failed: ${r}`);
}

for (const kernel of ['2.6.32', '6.18'] as const) {
  test(`${kernel}: an exited mm that KSM still holds keeps its id until ksmd drops the slot; ids are reused after that`, (t) => {
    const k = new V3Kernel({ kernel }) as V3Kernel<'2.6.32' | '6.18'>;
    k.memory.mmIdMax = 6;
    k.writeSysfs('/sys/kernel/mm/ksm/pages_to_scan', '1000\n');
    k.writeSysfs('/sys/kernel/mm/ksm/run', '1\n');
    const check = () => [...checkMemory(k.memory), ...(kernel === '2.6.32' ? checkMainline2632(k.ksm as never) : checkMainline3x(k.ksm as never))];
    const keep = registeredGuest(k, 8);
    for (let round = 0; round < 200; round++) {
      const g = registeredGuest(k, 8);
      k.sleep(40);
      const id = g.mm.id;
      k.exit(g);
      // Scanned, so it has rmap_items: __ksm_exit leaves the slot to ksmd, which still holds the mm.
      if (k.memory.mmById[id] === g.mm) {
        const other = k.spawn('other');
        t.not(other.mm.id, id, 'a held id is not handed out');
        k.exit(other);
      }
      k.sleep(200);
      t.is(k.memory.mmById[id] === g.mm, false, `round ${round}: ksmd let go of mm ${id}`);
      const bad = check();
      if (bad.length) return t.fail(`round ${round}: ${bad.slice(0, 3).join('; ')}`);
    }
    t.false(keep.exited);
    t.true(k.memory.mmCount <= 6);
  });
}
