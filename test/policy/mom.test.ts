import test from 'ava';
import { MOM } from '../../src/policy/mom.js';
import { runTimeline } from '../../src/timeline/run.js';
import { guestsWorkload, writesBy } from '../helpers/timeline.js';

test('MOM turns KSM on under pressure every 10 s, sleep max(10, 10 x 16 GiB / RAM), pages_to_scan read back and raised by 300 up to 1250; only changed values are written', (t) => {
  // 4 x 1800 private pages on 8192: mean free 12 % < 20 %, committed + 20 % > RAM.
  const w = guestsWorkload({ guests: 4, pages: 1800, ram: 8192, shared: false, until: 61_000 });
  const r = runTimeline(w, { era: 'v3:3.9', policy: MOM, knobs: [] });
  // 3.9 boots with run 0, pages_to_scan 100 (the boot write), sleep 20: the first rule at 10 s.
  t.deepEqual(writesBy(r, 'mom'), [
    '10s run=1', '10s pages_to_scan=400', '10s sleep_millisecs=5120',
    '20s pages_to_scan=700',
    '30s pages_to_scan=1000',
    '40s pages_to_scan=1250',
    // 50 s and 60 s: the rule's values equal the host's: the controller writes nothing.
  ]);
});

test('MOM lowers pages_to_scan by 50 once the mean of free memory is above 20 %, down to 64, and stops KSM when committed memory leaves room', (t) => {
  const w = guestsWorkload({ guests: 4, pages: 1800, ram: 8192, shared: true, until: 400_000, exits: [['g2', 200_000], ['g3', 200_000]] });
  const r = runTimeline(w, { era: 'v3:3.9', policy: MOM, knobs: [] });
  const ws = writesBy(r, 'mom');
  const pts = ws.filter((x) => x.includes('pages_to_scan=')).map((x) => Number(x.split('=')[1]));
  t.true(pts.some((p, i) => i > 0 && p - pts[i - 1] === -50), pts.join(' '));
  t.true(pts.every((p) => p >= 64 && p <= 1250));
  const stop = ws.find((x) => x.endsWith('run=0'));
  t.truthy(stop, 'run=0 once the guests are gone');
  t.true(Number(stop!.split('s ')[0]) >= 200);
  t.false(r.samples[r.samples.length - 1].run);
});
