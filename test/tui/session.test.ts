/** The era sessions the TUI steers: the same workload under every era of the registry, through each era's own calls. */
import test from 'ava';
import { ERAS, type EraId, eraById } from '../../src/eras/registry.js';
import { AdapterSession } from '../../src/session/adapter-session.js';
import { PAGE_MERGED, PAGE_UNSCANNED, PAGE_UNSTABLE, type EraSession } from '../../src/session/session.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

function loaded(id: EraId): EraSession {
  const s = new AdapterSession(eraById(id));
  s.load(builtinWorkload('guests-live')!);
  return s;
}

function tally(states: Uint8Array): number[] {
  const n = [0, 0, 0, 0, 0];
  for (const x of states) n[x]++;
  return n;
}

test('a session\'s info is its registry entry\'s', (t) => {
  for (const era of ERAS) {
    const s = new AdapterSession(era);
    t.like(s.info, { id: era.id, family: era.family, label: era.label, title: era.title });
  }
});

for (const era of ERAS) {
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

for (const id of ['v3:2.6.32', 'v3:3.9', 'v3:6.18'] as const) {
  test(`${id}: the memory map counts what the sysfs counters count (merged = shared + sharing, unstable = pages_unshared)`, (t) => {
    const s = loaded(id);
    for (const ms of [600_000, 400_000, 1_000_000]) {
      s.advance(ms);
      const c = Object.fromEntries(s.counters().map((x) => [x.name, x.value]));
      const sum = [0, 0, 0, 0, 0];
      for (const p of s.processes()) tally(s.pageStates(p.pid)).forEach((n, i) => (sum[i] += n));
      t.is(sum[PAGE_MERGED], c.pages_shared + c.pages_sharing);
      t.is(sum[PAGE_UNSTABLE], c.pages_unshared);
    }
    t.true(c_(s).pages_sharing > 0 && c_(s).pages_unshared > 0, 'both states are on the map');
  });
}

const c_ = (s: EraSession) => Object.fromEntries(s.counters().map((x) => [x.name, x.value]));

test('3.9 and 6.18 boot with ksmd stopped: loading starts it through run, after the batch', (t) => {
  for (const id of ['v3:3.9', 'v3:6.18'] as const) {
    const s = new AdapterSession(eraById(id));
    const calls = s.load(builtinWorkload('guests-live')!).map((c) => c.text);
    t.deepEqual(calls.slice(0, 2), ['echo 100 > /sys/kernel/mm/ksm/pages_to_scan', 'echo 1 > /sys/kernel/mm/ksm/run'], id);
    t.is(s.ksmdState(), 'sleeping');
  }
  t.deepEqual(loaded('v3:2.6.32').files().map((f) => f.name), ['max_kernel_pages']);
  t.deepEqual(loaded('v3:3.9').files().map((f) => [f.name, f.value, f.writable]), [['merge_across_nodes', '1', true]]);
  t.deepEqual(loaded('v2').files(), []);
});

test('6.18: its files, /proc/PID/ksm_stat per process, and knobs written through sysfs', (t) => {
  const s = loaded('v3:6.18');
  const names = s.files().map((f) => f.name);
  for (const n of ['ksm_zero_pages', 'general_profit', 'stable_node_chains', 'stable_node_dups', 'pages_skipped', 'advisor_mode', 'use_zero_pages', 'smart_scan', 'max_page_sharing']) t.true(names.includes(n), n);
  t.deepEqual(s.writeFile('use_zero_pages', '1'), { text: 'echo 1 > /sys/kernel/mm/ksm/use_zero_pages', ok: true });
  t.is(s.files().find((f) => f.name === 'use_zero_pages')?.value, '1');
  s.advance(3_000_000);
  const profit = Number(s.files().find((f) => f.name === 'general_profit')?.value);
  t.true(profit > 0, `general_profit ${profit}`);
  const p = s.processes()[0];
  t.is(Number(p.stat?.ksm_merging_pages), p.mergedPages);
  t.true(Number(p.stat?.ksm_process_profit) > 0);
  t.is(p.stat?.ksm_merge_any, 'no');
  t.true(s.files().some((f) => f.name === 'ksm_zero_pages' && Number(f.value) > 0), 'the empty pages went to the zero page');
  const busy = s.writeFile('max_page_sharing', '8');
  t.false(busy.ok);
  t.regex(busy.text, /^echo 8 > \/sys\/kernel\/mm\/ksm\/max_page_sharing {2}\(write error: Device or resource busy\)$/);
  t.is(loaded('v2').processes()[0].stat, undefined, 'no ksm_stat before 6.18');
});

test('v1 2008 merges on first sight (no stability pass) and names its one tracking state after page_hash', (t) => {
  const v1 = loaded('v1:2008');
  const v3 = loaded('v3:2.6.32');
  v1.advance(700_000);
  v3.advance(700_000);
  t.true(v1.pagesSaved() > 1000, `v1 2008: ${v1.pagesSaved()}`);
  t.is(v3.pagesSaved(), 0, 'v3 needs a pass to see pages unchanged first');
  t.is(v1.stateLabels[PAGE_UNSTABLE].long, 'filed in page_hash');
});
