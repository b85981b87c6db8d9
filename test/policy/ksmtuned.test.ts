import test from 'ava';
import { KSMTUNED } from '../../src/policy/ksmtuned.js';
import { runTimeline } from '../../src/timeline/run.js';
import { parseWorkloadText } from '../../src/workload/schema.js';

/**
 * Guests of `pages` pages each on a host of `ram` pages; `content` picks
 * their memory: private random pages (nothing to merge: the pressure stays)
 * or one image (merging relieves it).
 */
function workload(opts: { guests: number; pages: number; ram: number; shared: boolean; until: number; exits?: Array<[string, number]> }) {
  const names = Array.from({ length: opts.guests }, (_, i) => `g${i}`);
  return parseWorkloadText(
    JSON.stringify({
      name: 'ksmtuned-test',
      pagesToScan: 100,
      host: { ramPages: opts.ram },
      processes: Object.fromEntries(names.map((g, i) => [g, [{ pages: opts.pages, content: { seedFrom: opts.shared ? 1000 : 100000 + i * opts.pages } }]])),
      steps: [{ register: 'g0' }],
      timeline: { until: opts.until, events: [...names.map((g) => ({ at: 0, start: g })), ...(opts.exits ?? []).map(([g, at]) => ({ at, exit: g }))] },
    }),
    'test',
  );
}

/** The policy's writes, as `t file=value` (v3: `echo V > /sys/kernel/mm/ksm/F`). */
function writes(r: ReturnType<typeof runTimeline>): string[] {
  return r.trace.filter((e) => e.by === 'ksmtuned').map((e) => `${e.t / 1000}s ${e.text.replace(/^echo (\S+) > \/sys\/kernel\/mm\/ksm\/(\S+)$/, '$2=$1')}`);
}

test('under pressure ksmtuned raises pages_to_scan by 300 a minute up to 1250, with sleep = 10 ms x 16 GiB / RAM', (t) => {
  // 4 x 1800 private pages on 8192 pages of RAM: free 992 pages = 12 % < 20 %, nothing to merge.
  const w = workload({ guests: 4, pages: 1800, ram: 8192, shared: false, until: 330_000 });
  const r = runTimeline(w, { era: 'v3:3.9', policy: KSMTUNED, knobs: [] });
  // MemTotal 32768 kB: sleep = 10 * 16777216 / 32768 = 5120 ms; the first adjust after 60 s.
  t.deepEqual(writes(r), [
    '60s pages_to_scan=300', '60s sleep_millisecs=5120', '60s run=1',
    '120s pages_to_scan=600', '120s sleep_millisecs=5120', '120s run=1',
    '180s pages_to_scan=900', '180s sleep_millisecs=5120', '180s run=1',
    '240s pages_to_scan=1200', '240s sleep_millisecs=5120', '240s run=1',
    '300s pages_to_scan=1250', '300s sleep_millisecs=5120', '300s run=1',
  ]);
  // The kernel holds what was written last.
  const last = r.samples[r.samples.length - 1];
  t.is(last.pagesToScan, 1250);
  t.true(last.run);
});

test('once merging frees memory ksmtuned lowers pages_to_scan by 50 down to 64, and writes run=0 when memory is ample', (t) => {
  // 4 x 1800 pages of one image on 8192 pages: pressure until they merge; then two guests exit.
  const w = workload({ guests: 4, pages: 1800, ram: 8192, shared: true, until: 600_000, exits: [['g2', 400_000], ['g3', 400_000]] });
  const r = runTimeline(w, { era: 'v3:3.9', policy: KSMTUNED, knobs: [] });
  const ws = writes(r);
  const pts = ws.filter((x) => x.includes('pages_to_scan=')).map((x) => Number(x.split('=')[1]));
  t.is(pts[0], 300, 'the first decision is under pressure: 0 + 300');
  // Every step is +300 or -50, within 64..1250.
  for (let i = 1; i < pts.length; i++) {
    const d = pts[i] - pts[i - 1];
    t.true(d === 300 || d === -50 || (pts[i] === 64 && d > -50 && d <= 0) || (pts[i] === 1250 && d >= 0 && d < 300), `step ${pts[i - 1]} -> ${pts[i]}`);
  }
  t.true(pts.some((p, i) => i > 0 && p - pts[i - 1] === -50), 'decays by 50 once free memory is above the threshold');
  // With two guests gone, committed + threshold < total and free > threshold: KSMCTL stop.
  const stops = ws.filter((x) => x.endsWith('run=0'));
  t.true(stops.length > 0);
  t.true(Number(stops[0].split('s ')[0]) >= 420, `run=0 after the exits (${stops[0]})`);
  t.false(r.samples[r.samples.length - 1].run);
  t.true(r.end.saved > 0);
});

test('on the /dev/ksm era each adjust() is one KSM_START_STOP_KTHREAD from ksmctl (sleep in µs)', (t) => {
  const w = workload({ guests: 4, pages: 1800, ram: 8192, shared: false, until: 130_000 });
  const r = runTimeline(w, { era: 'v1:2009', policy: KSMTUNED, knobs: [] });
  const calls = r.trace.filter((e) => e.by === 'ksmtuned');
  t.deepEqual(
    calls.map((e) => [e.t, e.text]),
    [
      [60_000, 'ioctl(3, KSM_START_STOP_KTHREAD, {sleep=5120000, pages_to_scan=300, flags=1, pad=0, reserved_bits=0}) = 0'],
      [120_000, 'ioctl(3, KSM_START_STOP_KTHREAD, {sleep=5120000, pages_to_scan=600, flags=1, pad=0, reserved_bits=0}) = 0'],
    ],
  );
});

test('with memory ample (committed + 20 % < total and free > 20 %) ksmtuned writes run=0', (t) => {
  // 64 GiB of RAM: memory is ample, the first adjust() stops ksmd before any sleep is written.
  const w = workload({ guests: 1, pages: 64, ram: 64 * 262144, shared: false, until: 61_000 });
  const r = runTimeline(w, { era: 'v3:2.6.32', policy: KSMTUNED, knobs: [] });
  // Memory is ample (committed + 20 % < total, free > 20 %): the first adjust stops ksmd.
  t.deepEqual(writes(r), ['60s run=0']);
});
