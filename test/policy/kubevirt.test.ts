import test from 'ava';
import { KUBEVIRT } from '../../src/policy/kubevirt.js';
import { runTimeline } from '../../src/timeline/run.js';
import { guestsWorkload, writesBy } from '../helpers/timeline.js';

test('KubeVirt keeps KSM off while free memory is above 20 %: run=0 on every heartbeat', (t) => {
  const w = guestsWorkload({ guests: 1, pages: 1000, ram: 8192, shared: false, until: 130_000 });
  const r = runTimeline(w, { era: 'v3:2.6.32', policy: KUBEVIRT, knobs: [] });
  t.deepEqual(writesBy(r, 'kubevirt'), ['0s run=0', '60s run=0', '120s run=0']);
});

test('below 20 % free KubeVirt starts KSM at 100 pages, then +300 a heartbeat up to 1250, with sleep = 100 ms x 16 GiB / used memory', (t) => {
  // 4 x 1800 private pages on 8192: MemAvailable 992 pages, used 7200 pages = 28800 kB.
  const w = guestsWorkload({ guests: 4, pages: 1800, ram: 8192, shared: false, until: 250_000, starts: [0, 0, 0, 0] });
  const r = runTimeline(w, { era: 'v3:3.9', policy: KUBEVIRT, knobs: [] });
  // The first heartbeat at 0 s sees the guests of time 0 (events run first at an instant).
  const sleep = Math.trunc((100 * 16 * 1024 * 1024) / (7200 * 4 + 4)); // frames in use: the guests' and the zero page's
  const ws = writesBy(r, 'kubevirt');
  t.is(ws[0].replace(/=\d+$/, ''), '0s sleep_millisecs');
  t.true(Math.abs(Number(ws[0].split('=')[1]) - sleep) <= 60, `${ws[0]} vs ${sleep}`);
  t.deepEqual(
    ws.filter((x) => !x.includes('sleep_millisecs')),
    ['0s pages_to_scan=100', '0s run=1', '60s pages_to_scan=400', '60s run=1', '120s pages_to_scan=700', '120s run=1', '180s pages_to_scan=1000', '180s run=1', '240s pages_to_scan=1250', '240s run=1'],
  );
});

test('after the pressure goes KubeVirt decays by 50 and stops KSM once it would go below 64', (t) => {
  const w = guestsWorkload({ guests: 4, pages: 1800, ram: 8192, shared: true, until: 2_700_000 });
  const r = runTimeline(w, { era: 'v3:3.9', policy: KUBEVIRT, knobs: [] });
  const ws = writesBy(r, 'kubevirt');
  const pts = ws.filter((x) => x.includes('pages_to_scan=')).map((x) => Number(x.split('=')[1]));
  t.is(pts[0], 100);
  t.true(pts.some((p, i) => i > 0 && p - pts[i - 1] === -50));
  // Decayed to 64 and stopped: the last writes are run=0 alone.
  t.is(ws[ws.length - 1].split(' ')[1], 'run=0');
  t.false(r.samples[r.samples.length - 1].run);
});
