import test from 'ava';
import { ADVISOR } from '../../src/policy/advisor.js';
import { FIXED } from '../../src/policy/fixed.js';
import { ZERO_PAGES } from '../../src/policy/zero-pages.js';
import { runTimeline } from '../../src/timeline/run.js';
import { guestsWorkload, writesBy } from '../helpers/timeline.js';
import { parseWorkloadText } from '../../src/workload/schema.js';

test('the advisor policy switches 6.18\'s in-kernel scan-time advisor on once, and the kernel retunes pages_to_scan itself', (t) => {
  const w = guestsWorkload({ guests: 4, pages: 2000, ram: 16384, shared: true, until: 120_000 });
  const r = runTimeline(w, { era: 'v3:6.18', policy: ADVISOR, knobs: [] });
  t.deepEqual(writesBy(r, 'advisor'), ['0s advisor_mode=scan-time', '0s advisor_target_scan_time=200', '0s run=1']);
  // set_advisor_defaults: pages_to_scan = advisor_min_pages_to_scan (500) at the switch; scan_time_advisor moves it after full scans.
  t.is(r.samples[0].pagesToScan, 500);
  const later = new Set(r.samples.map((s) => s.pagesToScan));
  t.true(later.size > 1, `pages_to_scan moved: ${[...later].join(' ')}`);
  t.true(r.end.saved > 0);
});

test('the advisor is refused before Linux 6.7, in one line', (t) => {
  const w = guestsWorkload({ guests: 1, pages: 10, ram: 100, shared: true, until: 1000 });
  t.is(runTimeline(w, { era: 'v3:3.9', policy: ADVISOR, knobs: [] }).refused, 'policy advisor needs advisor_mode, advisor_target_scan_time (the scan-time advisor appeared in Linux 6.7); era v3:3.9 has no /sys/kernel/mm/ksm/advisor_mode, advisor_target_scan_time');
});

function zeroHeavy() {
  return parseWorkloadText(
    JSON.stringify({
      name: 'zeros',
      pagesToScan: 500,
      host: { ramPages: 8192 },
      processes: { a: [{ runs: [{ pages: 1000, content: 'zero' }, { pages: 200, content: { seedFrom: 5 } }] }], b: [{ runs: [{ pages: 1000, content: 'zero' }, { pages: 200, content: { seedFrom: 5 } }] }] },
      steps: [{ register: 'a' }],
      timeline: { until: 30_000, events: [] },
    }),
    'zeros',
  );
}

test('zero-pages writes use_zero_pages=1 then run=1; empty pages map the zero page (ksm_zero_pages) and the others still merge', (t) => {
  const r = runTimeline(zeroHeavy(), { era: 'v3:6.18', policy: ZERO_PAGES, knobs: [] });
  t.deepEqual(writesBy(r, 'zero-pages'), ['0s use_zero_pages=1', '0s run=1']);
  t.is(r.end.zeroPages, 2000);
  // 200 image pages merged into 200 KSM pages: pages_sharing 200.
  t.is(r.end.pagesSharing, 200);
  const fixed = runTimeline(zeroHeavy(), { era: 'v3:6.18', policy: FIXED, knobs: [] });
  t.is(fixed.end.zeroPages, 0);
  t.true(fixed.end.pagesSharing > 2000, 'without it the empty pages merge into KSM pages');
});

test('zero-pages is refused where use_zero_pages does not exist', (t) => {
  t.regex(runTimeline(zeroHeavy(), { era: 'v3:2.6.32', policy: ZERO_PAGES, knobs: [] }).refused ?? '', /^policy zero-pages needs use_zero_pages .*era v3:2\.6\.32 has no \/sys\/kernel\/mm\/ksm\/use_zero_pages$/);
});

test('fixed starts ksmd once with the boot and sweep knobs, and a knob the era lacks refuses the configuration in one line', (t) => {
  const w = guestsWorkload({ guests: 2, pages: 500, ram: 4096, shared: true, until: 20_000 });
  const r = runTimeline(w, { era: 'v3:2.6.32', policy: FIXED, knobs: [['pages_to_scan', '250']] });
  t.deepEqual(writesBy(r, 'boot'), ['0s pages_to_scan=100', '0s sleep_millisecs=20', '0s pages_to_scan=250']);
  t.deepEqual(writesBy(r, 'fixed'), ['0s run=1']);
  t.true(r.samples.every((s) => s.pagesToScan === 250));
  const v1 = runTimeline(w, { era: 'v1:2009', policy: FIXED, knobs: [['pages_to_scan', '250']] });
  t.deepEqual(
    v1.trace.filter((e) => e.by === 'fixed').map((e) => e.text),
    ['ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20000, pages_to_scan=250, flags=1, pad=0, reserved_bits=0}) = 0'],
  );
  t.is(runTimeline(w, { era: 'v3:2.6.32', policy: FIXED, knobs: [['use_zero_pages', '1']] }).refused, 'knob use_zero_pages=1: echo 1 > /sys/kernel/mm/ksm/use_zero_pages  (write error: No such file or directory) under v3:2.6.32');
});
