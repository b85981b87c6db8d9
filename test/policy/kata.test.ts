import test from 'ava';
import { KATA } from '../../src/policy/kata.js';
import { runTimeline } from '../../src/timeline/run.js';
import { guestsWorkload, writesBy } from '../helpers/timeline.js';

test('the Kata throttler goes aggressive at a new VM, standard after 30 s, slow after 2 min, and restores the initial settings after 2 more', (t) => {
  const w = guestsWorkload({ guests: 1, pages: 2000, ram: 8192, shared: false, until: 400_000, starts: [10_000] });
  const r = runTimeline(w, { era: 'v3:3.9', policy: KATA, knobs: [] });
  const ws = writesBy(r, 'kata');
  const anon = Number(ws[1].split('=')[1]) * 10; // AnonPages at the kick
  t.true(anon >= 2000 && anon <= 2010, `AnonPages ${anon}`);
  t.deepEqual(ws, [
    '10s run=0', `10s pages_to_scan=${Math.trunc(anon / 10)}`, '10s sleep_millisecs=1', '10s run=1',
    '40s run=0', `40s pages_to_scan=${Math.trunc(anon / 100)}`, '40s sleep_millisecs=10', '40s run=1',
    '160s run=0', `160s pages_to_scan=${Math.trunc(anon / 500)}`, '160s sleep_millisecs=100', '160s run=1',
    // restoreSysFS: what it read at start (3.9 boots with run 0; the boot wrote 100 and 20).
    '280s pages_to_scan=100', '280s sleep_millisecs=20', '280s run=0',
  ]);
});

test('a new VM while the throttler slows down brings it back to aggressive for 30 s', (t) => {
  const w = guestsWorkload({ guests: 2, pages: 500, ram: 8192, shared: true, until: 100_000, starts: [0, 50_000] });
  const r = runTimeline(w, { era: 'v3:6.18', policy: KATA, knobs: [] });
  const times = writesBy(r, 'kata').filter((x) => x.endsWith('sleep_millisecs=1') || x.endsWith('sleep_millisecs=10')).map((x) => x.replace(' sleep_millisecs=', ':'));
  t.deepEqual(times, ['0s:1', '30s:10', '50s:1', '80s:10']);
});

test('the throttler needs sysfs: refused on the /dev/ksm era and on v2 (no sleep_millisecs), in one line', (t) => {
  const refusal = (era: 'v1:2008' | 'v2') => {
    const w = guestsWorkload({ guests: 1, pages: 10, ram: 100, shared: true, until: 1000 });
    return runTimeline(w, { era, policy: KATA, knobs: [] }).refused;
  };
  t.is(refusal('v1:2008'), 'policy kata needs run, pages_to_scan, sleep_millisecs (the throttler writes these sysfs files); era v1:2008 has no /sys/kernel/mm/ksm (/dev/ksm ioctls only)');
  t.is(refusal('v2'), 'policy kata needs run, pages_to_scan, sleep_millisecs (the throttler writes these sysfs files); era v2 has no /sys/kernel/mm/ksm/sleep_millisecs');
});
