/** The era sessions the TUI steers: the same workload under every era, through each era's own calls. */
import test from 'ava';
import { SESSION_ERAS, findSessionEra } from '../../src/session/eras.js';
import { PAGE_MERGED, PAGE_UNSCANNED, PAGE_UNSTABLE, type EraSession } from '../../src/session/session.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

function loaded(id: string): EraSession {
  const s = SESSION_ERAS.find((e) => e.id === id)!.create();
  s.load(builtinWorkload('guests-live')!);
  return s;
}

function tally(states: Uint8Array): number[] {
  const n = [0, 0, 0, 0, 0];
  for (const x of states) n[x]++;
  return n;
}

test('the era switch offers v1 2008, v1 2009, v2 and v3, oldest first; --era v1 alone is the 2008 ABI', (t) => {
  t.deepEqual(SESSION_ERAS.map((e) => e.id), ['v1-2008', 'v1-2009', 'v2', 'v3']);
  t.is(findSessionEra('v1')?.id, 'v1-2008');
  t.is(findSessionEra('v1', '2009')?.id, 'v1-2009');
  t.is(findSessionEra('v2', '2008'), undefined);
});

for (const era of SESSION_ERAS) {
  test(`${era.id}: guests-live loads, merges as virtual time passes, and the memory map agrees with the processes`, (t) => {
    const s = loaded(era.id);
    t.deepEqual(s.counters().map((c) => c.name), [...s.counterNames]);
    const procs = s.processes();
    t.deepEqual(procs.map((p) => [p.name, p.registeredPages, p.mergedPages]), ['guest-a', 'guest-b', 'guest-c', 'guest-d'].map((n) => [n, 1024, 0]));
    t.deepEqual(tally(s.pageStates(procs[0].pid)), [0, 1024, 0, 0, 0], 'nothing scanned at time 0');
    s.advance(4_000_000);
    t.true(s.pagesSaved() > 1500, `pages saved ${s.pagesSaved()}`);
    for (const p of s.processes()) t.is(tally(s.pageStates(p.pid))[PAGE_MERGED], p.mergedPages, p.name);
    t.true(s.work().merges > 0);
    t.is(s.ksmdState(), 'sleeping');
  });

  test(`${era.id}: controls return the era's own call, and a stopped ksmd runs no step`, (t) => {
    const s = loaded(era.id);
    const call = s.setPagesToScan(200);
    t.true(call.ok, call.text);
    t.is(s.knobs().pagesToScan, 200);
    t.true(s.stop().ok);
    t.is(s.ksmdState(), 'stopped');
    const now = s.now();
    t.is(s.step(), 0);
    t.is(s.now(), now);
    t.true(s.start().ok);
    t.is(s.step(), 1);
    t.is(s.work().pagesScanned, 200);
  });

  test(`${era.id}: churn breaks copy-on-write of merged pages; exit and a new guest`, (t) => {
    const s = loaded(era.id);
    s.advance(4_000_000);
    const a = s.processes()[0];
    const c = s.churn(a.pid, 64);
    t.regex(c.text, /writes 64 random registered pages/);
    t.true(s.processes()[0].cowBreaks > 0);
    const { pid, calls } = s.spawnGuest();
    t.true(calls.every((x) => x.ok), calls.map((x) => x.text).join('\n'));
    const e = s.processes().find((p) => p.pid === pid)!;
    t.is(e.name, 'guest-e');
    t.is(e.registeredPages, 1024);
    t.deepEqual(tally(s.pageStates(pid)).slice(PAGE_UNSCANNED, PAGE_UNSCANNED + 1), [1024]);
    t.regex(s.exit(a.pid).text, /exit_group\(0\)/);
    t.deepEqual(s.processes().map((p) => p.name), ['guest-b', 'guest-c', 'guest-d', 'guest-e']);
    t.is(s.pageStates(a.pid).length, 0);
  });
}

test('v3: the memory map counts what the sysfs counters count (merged = shared + sharing, unstable = pages_unshared)', (t) => {
  const s = loaded('v3');
  for (const ms of [600_000, 400_000, 1_000_000]) {
    s.advance(ms);
    const c = Object.fromEntries(s.counters().map((x) => [x.name, x.value]));
    const sum = [0, 0, 0, 0, 0];
    for (const p of s.processes()) tally(s.pageStates(p.pid)).forEach((n, i) => (sum[i] += n));
    t.is(sum[PAGE_MERGED], c.pages_shared + c.pages_sharing);
    t.is(sum[PAGE_UNSTABLE], c.pages_unshared);
  }
});

test('v1 2008 merges on first sight (no stability pass) and names its one tracking state after page_hash', (t) => {
  const v1 = loaded('v1-2008');
  const v3 = loaded('v3');
  v1.advance(700_000);
  v3.advance(700_000);
  t.true(v1.pagesSaved() > 1000, `v1 2008: ${v1.pagesSaved()}`);
  t.is(v3.pagesSaved(), 0, 'v3 needs a pass to see pages unchanged first');
  t.is(v1.stateLabels[PAGE_UNSTABLE].long, 'filed in page_hash');
});
