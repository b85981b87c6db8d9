/**
 * kksmd on the virtual clock (kthread_ksm_scan_thread of 001 and 002): a
 * batch of kthread_pages_to_scan (and, in 2008, at most kthread_max_npages
 * merges) whenever the run flag is set, then a sleep of
 * usecs_to_jiffies(kthread_sleep) ticks (HZ = 250: 4 ms a tick).
 */
import test from 'ava';
import { usecsToJiffies } from '../../src/engine/jiffies.js';
import { h2008, h2009, seed, world, zero } from '../helpers/v1.js';

test('usecs_to_jiffies rounds up to whole 4 ms ticks', (t) => {
  t.is(usecsToJiffies(0), 0);
  t.is(usecsToJiffies(1), 1);
  t.is(usecsToJiffies(4000), 1);
  t.is(usecsToJiffies(4001), 2);
  t.is(usecsToJiffies(0xffffffff), 1073742);
});

test('2008: START_STOP with the run flag wakes kksmd; batches follow every sleep', (t) => {
  const { k, procs } = world([[zero, zero, zero, zero, seed(1), seed(1)]]);
  const c = procs[0].c;
  const kksmd = k.kksmd2008!;
  t.is(kksmd.state, 'waiting');
  k.sleep(50);
  t.is(kksmd.batches, 0, 'the thread waits while the run flag is clear');
  t.is(c.ioctl(procs[0].dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: 10_000, pages_to_scan: 2, max_pages_to_merge: 100, flags: 1 })), 0);
  t.is(kksmd.state, 'sleeping');
  const t0 = k.clock.now;
  k.sleep(20); // batches at t0, t0 + 12 ms (10 ms is 3 ticks)
  t.is(kksmd.batches, 2);
  t.is(kksmd.wakeAt, t0 + 24_000);
  // Batch 1 scans positions 1 and 2 (they merge), batch 2 positions 4 and 5 (3 was skipped).
  t.deepEqual(k.ksm2008!.derivedCounters(), { pagesShared: 2, pagesSharing: 2 });
  // Clearing the run flag: the sleep in progress ends, then the thread waits.
  c.ioctl(procs[0].dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ flags: 0 }));
  k.sleep(100);
  t.is(kksmd.batches, 2);
  t.is(kksmd.state, 'waiting');
});

test('2008: kthread_max_npages ends a kksmd batch after that many merges', (t) => {
  const { k, procs } = world([[seed(9), zero, zero, zero, zero, zero]]);
  procs[0].c.ioctl(procs[0].dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: 1_000_000, pages_to_scan: 100, max_pages_to_merge: 1, flags: 1 }));
  k.sleep(1);
  t.is(k.kksmd2008!.batches, 1);
  t.is(k.ksm2008!.stats.merges, 1);
  t.is(k.ksm2008!.kthreadKsmScan.pageIndex, 3); // 1 files, 2 merges: stop; the trailing advance
});

test('2008: a negative kthread_pages_to_scan scans nothing, but each batch still moves the cursor by one', (t) => {
  const { k, procs } = world([[zero, zero, zero]]);
  procs[0].c.ioctl(procs[0].dev, h2008.KSM_START_STOP_KTHREAD, new h2008.ksm_kthread_info({ sleep: 4000, pages_to_scan: 0x80000000, max_pages_to_merge: 1, flags: 1 }));
  k.sleep(4); // two batches: now and one tick later
  t.is(k.kksmd2008!.batches, 2);
  t.is(k.ksm2008!.stats.pagesScanned, 0);
  t.is(k.ksm2008!.kthreadKsmScan.pageIndex, 2);
});

test('2009: kksmd runs ksm_scan_start(&kthread_ksm_scan, kthread_pages_to_scan) on the tree merger', (t) => {
  const { k, procs } = world([[zero, zero, seed(1)], [zero, seed(1)]], '2009');
  const c = procs[0].c;
  t.is(c.ioctl(procs[0].dev, h2009.KSM_START_STOP_KTHREAD, new h2009.ksm_kthread_info({ sleep: 0, pages_to_scan: 5, flags: 1 })), 0);
  // Sleep 0 is a busy loop: a batch as soon as the last one's pages are scanned
  // (2 µs each, KSMD_SCAN_COST_NS): 5 positions, 10 µs a batch, 100 in a millisecond.
  k.sleep(1);
  t.is(k.kksmd2009!.batches, 101);
  const c9 = k.ksm2009!.tree.counters();
  t.is(c9.pagesSharing, 3); // zero: 3 mappings on one KSM page; seed 1: 2 on another
  t.is(c9.pagesShared, 3);
});
