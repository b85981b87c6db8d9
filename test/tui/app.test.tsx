/** The TUI with ink-testing-library: key presses and the frames they produce. */
import test from 'ava';
import { ERAS } from '../../src/eras/registry.js';
import { KEY_TABLE, showKey } from '../../src/tui/keys.js';
import { KEY, lines, mapRows, openTui } from './render.js';

const COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'];

/** The value a counter row shows. */
function counter(frame: string, name: string): number {
  const m = new RegExp(`^│${name}\\*?\\s+(\\d+) `, 'm').exec(frame);
  if (!m) throw new Error(`no ${name} row in\n${frame}`);
  return Number(m[1]);
}

test.serial('it opens on the default workload under v3: counters, processes, memory map and the registration calls', async (t) => {
  const tui = await openTui();
  const f = tui.frame();
  t.regex(f, /^ ksmctl · v3 2\.6\.32 · guests-live · t 0\.000s · ×1 · churn on/m);
  for (const c of COUNTERS) t.is(counter(f, c), 0, c);
  t.regex(f, /ksmd sleeping · 100 pages every 20 ms/);
  for (const [pid, name] of [[100, 'guest-a'], [101, 'guest-b'], [102, 'guest-c'], [103, 'guest-d']]) {
    t.regex(f, new RegExp(`${pid} ${name}\\s+1024\\s+0\\s+0`));
  }
  t.regex(f, /▶\s+100 guest-a/);
  t.regex(f, /Memory map · guest-a · 5 pages\/cell/);
  t.deepEqual(mapRows(f).slice(0, 5), Array(5).fill('·'.repeat(38)), 'nothing scanned yet');
  t.regex(f, /·unscanned ░volatile ▒unstable █merged/);
  t.regex(f, /\[pid 103\] madvise\(0x2aaaaae2d000, 524288, MADV_MERGEABLE\) = 0/);
  t.regex(f, /\? all keys {2}q quit {2}s start\/stop {2}\+\/- pages/, 'the footer: whole entries, and ? for all keys');
  tui.unmount();
});

test.serial('+ and - write pages_to_scan through sysfs, and the log shows the echo', async (t) => {
  const tui = await openTui();
  let f = await tui.press('+');
  t.regex(f, /│echo 200 > \/sys\/kernel\/mm\/ksm\/pages_to_scan\s+│/);
  t.regex(f, /200 pages every 20 ms/);
  f = await tui.press('-', '-');
  t.regex(f, /│echo 100 > \/sys\/kernel\/mm\/ksm\/pages_to_scan\s+│\n│echo 50 > \/sys\/kernel\/mm\/ksm\/pages_to_scan\s+│/);
  t.regex(f, /50 pages every 20 ms/);
  tui.unmount();
});

test.serial('n runs one batch at a time: the counters and the memory map move', async (t) => {
  const tui = await openTui();
  let f = await tui.press('n');
  t.is(counter(f, 'pages_volatile'), 100);
  t.regex(f, /t 0\.000s/);
  f = await tui.press('n', '.');
  t.is(counter(f, 'pages_volatile'), 300);
  t.regex(f, /t 0\.040s/);
  t.deepEqual(mapRows(f).slice(0, 3), ['░'.repeat(38), '░'.repeat(22) + '·'.repeat(16), '·'.repeat(38)], '300 of guest-a\'s pages met, 5 pages a cell');
  tui.unmount();
});

test.serial('s stops and starts ksmd with echo to run; a stopped ksmd runs no batch', async (t) => {
  const tui = await openTui();
  let f = await tui.press('s');
  t.regex(f, /│echo 0 > \/sys\/kernel\/mm\/ksm\/run\s+│/);
  t.regex(f, /ksmd stopped/);
  t.regex(f, / stopped\s*$/m);
  f = await tui.press('n');
  t.regex(f, /ksmd is stopped: no batch to run/);
  t.is(counter(f, 'pages_volatile'), 0);
  f = await tui.press('s', 'n');
  t.regex(f, /│echo 1 > \/sys\/kernel\/mm\/ksm\/run\s+│/);
  t.is(counter(f, 'pages_volatile'), 100);
  tui.unmount();
});

test.serial('u unmerges through run = 2 in v3; [ and ] set sleep_millisecs', async (t) => {
  const tui = await openTui({ before: (p) => p.session.advance(3_000_000) });
  t.true(counter(tui.frame(), 'pages_sharing') > 1000);
  let f = await tui.press('u');
  t.regex(f, /│echo 2 > \/sys\/kernel\/mm\/ksm\/run\s+│/);
  t.is(counter(f, 'pages_sharing'), 0);
  t.regex(f, /ksmd stopped/);
  f = await tui.press('[');
  t.regex(f, /│echo 10 > \/sys\/kernel\/mm\/ksm\/sleep_millisecs\s+│/);
  f = await tui.press(']', ']');
  t.regex(f, /│echo 50 > \/sys\/kernel\/mm\/ksm\/sleep_millisecs\s+│/);
  t.regex(f, /pages every 50 ms/);
  tui.unmount();
});

test.serial('the memory map shows merged, unstable and volatile pages once ksmd has run', async (t) => {
  const tui = await openTui({ before: (p) => p.session.advance(3_000_000) });
  const f = tui.frame();
  const map = mapRows(f);
  t.true(map.join('').includes('█'), f);
  t.true(map.join('').includes('▒'), 'the private heap sits in the unstable tree');
  t.regex(f, /100 guest-a\s+1024\s+7\d\d\s+\d+/);
  tui.unmount();
});

test.serial('processes: select with j/k, churn breaks copy-on-write, exit and a new guest', async (t) => {
  const tui = await openTui({ before: (p) => p.session.advance(3_000_000) });
  let f = await tui.press('j');
  t.regex(f, /▶\s+101 guest-b/);
  t.regex(f, /Memory map · guest-b/);
  f = await tui.press('c');
  t.regex(f, /\[pid 101\] guest-b writes 32 random registered pages/);
  const cow = Number(/101 guest-b\s+1024\s+\d+\s+(\d+)/.exec(f)?.[1]);
  t.true(cow > 0, 'writes to merged pages broke copy-on-write');
  f = await tui.press('x');
  t.regex(f, /\[pid 101\] exit_group\(0\) = \?/);
  t.regex(f, /Processes · 3 live/);
  t.notRegex(f, /101 guest-b/);
  t.regex(f, /▶\s+102 guest-c/);
  f = await tui.press('g');
  t.regex(f, /\[pid 104\] madvise\(0x2aaaaae2d000, 524288, MADV_MERGEABLE\) = 0/);
  t.regex(f, /▶\s+104 guest-e\s+1024\s+0\s+0/);
  f = await tui.press(KEY.up);
  t.regex(f, /▶\s+103 guest-d/);
  f = await tui.press('kk');
  t.regex(f, /▶\s+100 guest-a/, 'keys that arrive together each count');
  tui.unmount();
});

test.serial('the era switch restarts the workload under v2 and back under v3', async (t) => {
  const tui = await openTui({ before: (p) => p.session.advance(1_000_000) });
  let f = await tui.press('e');
  t.regex(f, /Restart guests-live under another era/);
  t.regex(f, /1 {2}v1 2008 +\/dev\/ksm ioctls \(Nov 2008 ABI\)/);
  t.regex(f, /2 {2}v1 2009 +\/dev\/ksm ioctls \(Mar 2009 ABI\)/);
  t.regex(f, /3 {2}v2 2009 +madvise\(MADV_SHAREABLE\)/);
  t.regex(f, /4 {2}v3 2\.6\.32 +\(running\)/);
  t.regex(f, /5 {2}v3 3\.9 +madvise\(MADV_MERGEABLE\) \+ \/sys\/kernel\/mm\/ksm with NUMA/);
  t.regex(f, /6 {2}v3 6\.18 +madvise\(MADV_MERGEABLE\) or prctl/);
  f = await tui.press('3');
  t.regex(f, /^ ksmctl · v2 2009 · guests-live · t 0\.000s/m);
  t.regex(f, /Counters · v2 2009/);
  t.is(counter(f, 'pages_shared'), 0);
  t.regex(f, /^│pages_sharing\*/m, 'v2 exposed only pages_shared');
  t.regex(f, /\[pid 103\] madvise\(0x2aaaaae2d000, 524288, MADV_SHAREABLE\) = 0/);
  f = await tui.press('+');
  t.regex(f, /│echo 200 > \/sys\/kernel\/mm\/ksm\/pages_to_scan\s+│/);
  f = await tui.press('u');
  t.regex(f, /v2 2009 has no unmerge control/);
  f = await tui.press('[');
  t.regex(f, /│echo 10000 > \/sys\/kernel\/mm\/ksm\/sleep\s+│/, 'v2 sleeps in microseconds');
  f = await tui.press('e', KEY.down, KEY.enter);
  t.regex(f, /^ ksmctl · v3 2\.6\.32/m, 'down from v2 is v3');
  t.regex(f, /MADV_MERGEABLE\) = 0/);
  f = await tui.press('e', KEY.escape);
  t.regex(f, /^ ksmctl · v3 2\.6\.32/m);
  t.regex(f, /Counters · v3/);
  f = await tui.press('e', '6');
  t.regex(f, /^ ksmctl · v3 6\.18 · guests-live · t 0\.000s/m);
  t.regex(f, /│echo 1 > \/sys\/kernel\/mm\/ksm\/run\s+│/.test(f) || /MADV_MERGEABLE\) = 0/.test(f) ? /./ : /never/, 'loaded through its calls');
  t.regex(f, /│general_profit\s+/);
  tui.unmount();
});

test.serial('under v1 the controls are KSM_START_STOP_KTHREAD ioctls on ksmctl\'s fd 3, one line each (cut with … before the result at 80 columns, whole at 160)', async (t) => {
  const tui = await openTui();
  let f = await tui.press('e', '1');
  t.regex(f, /^ ksmctl · v1 2008 · guests-live/m);
  t.regex(f, /│\[pid 104\] ioctl\(4, KSM_REGISTER_MEMORY_REGION, \{npages=128, pad=0, addr=0x?\w*… = 0│/, 'a long call: one line, its result kept');
  f = await tui.press('+');
  t.regex(f, /│ioctl\(3, KSM_START_STOP_KTHREAD, \{sleep=20000, pages_to_scan=200, [^│\n]*… = 0│/);
  f = await tui.resize(160, 48);
  t.regex(f, / ioctl\(3, KSM_START_STOP_KTHREAD, \{sleep=20000, pages_to_scan=200, max_pages_to_merge=200, flags=1\}\) = 0\s+│/, 'whole where it fits');
  f = await tui.resize(80, 24);
  t.regex(f, /200 pages every 20 ms/);
  f = await tui.press('e', '2', 's');
  t.regex(f, /^ ksmctl · v1 2009/m);
  t.regex(f, /│ioctl\(3, KSM_START_STOP_KTHREAD, \{sleep=20000, pages_to_scan=100, flags=0… = 0│/);
  t.regex(f, /ksmd stopped/);
  f = await tui.press('n');
  t.regex(f, /ksmd is stopped: no batch to run/);
  tui.unmount();
});

test.serial('? shows every key of the key table, and ? closes it; the keys of files the era lacks are left out', async (t) => {
  const tui = await openTui();
  const f = await tui.press('?');
  t.regex(f, /Keys · \? or esc closes this help/);
  for (const b of KEY_TABLE) t.is(f.includes(`${b.keys.map(showKey).join(' ').padEnd(12)}${b.help}`), b.file === undefined, b.command);
  t.notRegex(f, /Counters/);
  const g = await tui.press('?');
  t.regex(g, /Counters/);
  tui.unmount();
  // 6.18 has every file a key writes; at 160×48 the table is one column, whole.
  const t618 = await openTui({ era: 'v3:6.18', columns: 160, rows: 48 });
  const h = await t618.press('?');
  for (const b of KEY_TABLE) t.true(h.includes(`${b.keys.map(showKey).join(' ').padEnd(12)}${b.help}`), b.command);
  // At 80×24 it takes two columns, the texts cut to fit.
  const small = await t618.resize(80, 24);
  t.is(lines(small).length, 23);
  for (const k of ['z', 'm', 'i', 'a', 'o', 'e', 'q']) t.regex(small, new RegExp(`[│ ]${k} {5,}\\w`), k);
  t618.unmount();
});

test.serial('every era of the registry opens in the TUI: its label, its counters, its registrations, at 80×24 and 160×48', async (t) => {
  for (const era of ERAS) {
    const tui = await openTui({ era: era.id, before: (p) => p.session.advance(2_000_000) });
    let f = tui.frame();
    const label = era.label.replace(/\./g, '\\.');
    t.regex(f, new RegExp(`^ ksmctl · ${label} · guests-live · t 2\\.000s`, 'm'), era.id);
    t.regex(f, new RegExp(`Counters · ${label}`), era.id);
    for (const c of COUNTERS) counter(f, c);
    t.true(counter(f, 'pages_sharing') > 0, `${era.id}: pages merged`);
    t.regex(f, /▶\s+\d+ guest-a\s+1024\s+[1-9]\d+/);
    t.is(lines(f).length, 23);
    t.true(lines(f).every((l) => l.length <= 80), era.id);
    f = await tui.resize(160, 48);
    t.is(lines(f).length, 47);
    t.true(lines(f).every((l) => l.length <= 160), era.id);
    t.regex(f, /\[pid 10[34]\] (madvise\(0x2aaaaae2d000, 524288, MADV_(MERGEABLE|SHAREABLE)\) = 0|ioctl\(4, KSM_REGISTER_MEMORY_REGION)/, era.id);
    tui.unmount();
  }
});

test.serial('v3:6.18: general_profit and its other files, /proc/PID/ksm_stat per process, and its knobs written through sysfs', async (t) => {
  const tui = await openTui({ era: 'v3:6.18', before: (p) => p.session.advance(3_000_000) });
  let f = tui.frame();
  t.regex(f, /│general_profit\s+\d+(\.\d)?M /, 'in bytes');
  t.regex(f, /│ksm_zero_pages\s+0 /);
  t.regex(f, /│stable_node_chains\s+\d+ /);
  t.regex(f, /│stable_node_dups\s+\d+ /);
  t.regex(f, /│pages_skipped\s+\d+ /);
  t.regex(f, /Counters · v3 6\.18 · \d+ more files/, 'what does not fit at 80×24 is counted');
  t.regex(f, /│ksm_stat profit \d+(\.\d)?M · zero 0 · any no/, 'the selected process\'s ksm_stat on a line of its own');
  const map = mapRows(f).join('');
  t.true(map.includes('█') && map.includes('▒'), 'merged pages and pages in the unstable tree (3.x flags)');
  f = await tui.press('z');
  t.regex(f, /│echo 1 > \/sys\/kernel\/mm\/ksm\/use_zero_pages\s+│/);
  f = await tui.press('i');
  t.regex(f, /│echo 0 > \/sys\/kernel\/mm\/ksm\/smart_scan\s+│/);
  f = await tui.press('a');
  t.regex(f, /│echo scan-time > \/sys\/kernel\/mm\/ksm\/advisor_mode\s+│/);
  f = await tui.press('m');
  t.regex(f, /│echo 1024 > \/sys\/kernel\/mm\/ksm\/max_pa[a-z_]*… {2}\(write error: Device or resource busy\)\s*│/, 'refused while KSM pages exist, as the kernel does');
  f = await tui.resize(160, 48);
  t.regex(f, /pid name\s+pages merged {3}cow merging {2}profit {2}zero any│/, 'ksm_stat as columns where they fit');
  t.regex(f, /▶ {3}100 guest-a\s+1024\s+(\d+)\s+\d+\s+\1\s+\d+(\.\d)?M\s+0\s+no│/, 'ksm_merging_pages is the merged pages');
  t.regex(f, /│use_zero_pages\s+1 z: change/);
  t.regex(f, /│smart_scan\s+0 i: change/);
  t.regex(f, /│advisor_mode\s+scan-time a: change/);
  t.regex(f, /│max_page_sharing\s+256 m: change/);
  t.regex(f, /│node 0\s+\d+ KSM pages on the node/);
  t.regex(f, /Pages saved over virtual time/, 'the chart is back at 160×48');
  tui.unmount();
});

test.serial('v3:3.9: merge_across_nodes and the nodes; o toggles it through sysfs; 6.18\'s keys say the era has no such file', async (t) => {
  const tui = await openTui({ era: 'v3:3.9' });
  let f = tui.frame();
  t.regex(f, /│merge_across_nodes\s+1 o: change/);
  t.regex(f, /│node 0\s+0 KSM pages/);
  t.regex(f, /Pages saved · now 0/, 'the chart stays at 80×24');
  f = await tui.press('o');
  t.regex(f, /│echo 0 > \/sys\/kernel\/mm\/ksm\/merge_across_nodes\s+│/);
  t.regex(f, /│merge_across_nodes\s+0 o: change/);
  f = await tui.press('z');
  t.regex(f, /│v3 3\.9 has no use_zero_pages\s+│/);
  f = await tui.press('?');
  t.regex(f, /[│ ]o {5,}merge_across_nodes on\/off/);
  t.false(f.includes('use_zero_pages'));
  tui.unmount();
});

test.serial('speed, pause and the real-time timer: virtual time runs only while not paused', async (t) => {
  const tui = await openTui({ props: { tickMs: 10 } });
  let f = await tui.press('>', '>');
  t.regex(f, /· ×5 ·/);
  f = await tui.press('<');
  t.regex(f, /· ×2 ·/);
  await new Promise((r) => setTimeout(r, 200));
  f = tui.frame();
  t.true(counter(f, 'pages_volatile') > 0, 'ksmd ran');
  f = await tui.press(' ');
  t.regex(f, / PAUSED\s*$/m);
  const at = /t (\d+\.\d+)s/.exec(f)![1];
  await new Promise((r) => setTimeout(r, 100));
  t.is(/t (\d+\.\d+)s/.exec(tui.frame())![1], at);
  tui.unmount();
});

test.serial('the screen fits 80×24 and 160×48 exactly, one line short of the terminal, and follows a resize', async (t) => {
  const tui = await openTui({ before: (p) => p.session.advance(2_000_000) });
  let f = tui.frame();
  t.is(lines(f).length, 23);
  t.true(lines(f).every((l) => l.length <= 80));
  f = await tui.resize(160, 48);
  t.is(lines(f).length, 47);
  t.true(lines(f).every((l) => l.length <= 160));
  t.true(lines(f).some((l) => l.length === 160 && l.endsWith('┐')), 'panels span the width');
  t.regex(f, /Pages saved over virtual time/);
  t.regex(f, /not yet scanned ░ volatile ▒ in the unstable tree █ merged into a KSM page/);
  t.regex(f, /│\s+2\.000s {2}\[pid 103\] madvise/, 'wide logs show the virtual time of each call');
  f = await tui.resize(80, 24);
  t.is(lines(f).length, 23);
  f = await tui.resize(50, 12);
  t.regex(f, /^terminal too small: need 80×24 \(this\s+one\s+is\s+50×12\);\s+q quits/);
  f = await tui.resize(79, 24);
  t.is(f, 'terminal too small: need 80×24 (this one is 79×24); q quits', 'one line, below the stated minimum in either direction');
  f = await tui.resize(80, 23);
  t.is(f, 'terminal too small: need 80×24 (this one is 80×23); q quits');
  f = await tui.resize(80, 24);
  t.is(lines(f).length, 23);
  tui.unmount();
});

test.serial('q quits: the app stops reading keys', async (t) => {
  const tui = await openTui();
  await tui.press('q');
  const f = await tui.press('+');
  t.notRegex(f, /echo 200/);
  tui.unmount();
});
