/**
 * The permission example (examples/permissions/dev-ksm-flaw.ts): seed 002's
 * review thread's flaw under the March 2009 /dev/ksm, and 2.6.32's answer.
 */
import test from 'ava';
import { ERRNO } from '../../src/engine/errno.js';
import { devKsmFlaw } from '../../examples/permissions/dev-ksm-flaw.js';

test('v1 2009: a member of the device group stops kksmd for everyone; v3: the same user gets EACCES and merging goes on', (t) => {
  const r = devKsmFlaw();
  t.log(r.lines.join('\n'));
  // v1: the stop succeeds and the guests' new identical pages never merge.
  t.is(r.v1StopResult, 0);
  t.true(r.v1SavedBefore > 0);
  t.is(r.v1SavedAfter, r.v1SavedBefore);
  t.true(r.lines.some((l) => l.includes('[eve uid=1003] open("/dev/ksm", O_RDWR) = -1 EACCES')));
  // v3: refused, and the new pages merge too.
  t.is(r.v3StopResult, -ERRNO.EACCES);
  t.true(r.v3SavedAfter > r.v3SavedBefore);
  t.true(r.lines.includes('  [mallory uid=1002] read("/sys/kernel/mm/ksm/run") = "1\\n"'));
});
