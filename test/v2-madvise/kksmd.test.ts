/**
 * kksmd (kthread_ksm_scan_thread of seed 000) on the virtual clock: it
 * scans while bit 0 of `run` is set, one batch of pages_to_scan pages, then
 * sleeps `sleep` microseconds; otherwise it waits until a write to `run`
 * wakes it.
 */
import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { V2Kernel } from '../../src/v2-madvise/kernel.js';
import { problems, seed, state, world } from '../helpers/v2.js';

test('at module load kksmd waits: run is 0, nothing is scanned however long we wait', (t) => {
  const { k } = world([[seed(7), seed(7)]]);
  k.sleep(1000);
  t.is(k.ksmd.state, 'waiting');
  t.is(k.ksm.positions, 0);
});

test('run = 1 wakes kksmd: a batch at once, then one every `sleep` microseconds', (t) => {
  const { k } = world([[seed(1), seed(2), seed(3), seed(4)]]);
  k.writeSysfs('pages_to_scan', '1\n');
  k.writeSysfs('sleep', '250\n');
  t.is(k.writeSysfs('run', '1\n'), 2);
  k.usleep(1000); // batches at 0, 250, 500, 750 and 1000 µs
  t.is(k.ksmd.batches, 5);
  // Each batch of 1 page visits one position and steps over the next.
  t.is(k.ksm.positions, 5);
  t.is(k.ksm.wraps, 2);
});

test('a sleep of 0: the next batch comes when the last one\'s pages are scanned, 2 µs a page (issue 21; it was one batch a microsecond)', (t) => {
  const { k } = world([[seed(1), seed(2)]]);
  k.writeSysfs('pages_to_scan', '1\n');
  k.writeSysfs('run', '1\n');
  k.usleep(9);
  // Batches of one page at 0, 2, 4, 6 and 8 µs.
  t.is(k.ksmd.batches, 5);
});

test('run = 2 wakes kksmd, which finds bit 0 clear and goes back to waiting; run reads back 2', (t) => {
  const { k } = world([[seed(7), seed(7)]]);
  k.writeSysfs('pages_to_scan', '100\n');
  t.is(k.writeSysfs('run', '2\n'), 2);
  k.sleep(100);
  t.is(k.readSysfs('run'), '2\n');
  t.is(k.ksm.positions, 0);
  t.is(k.ksmd.state, 'waiting');
  // Any odd value runs it.
  k.writeSysfs('run', '3\n');
  k.sleep(1);
  t.true(k.ksm.positions > 0);
});

test('run = 0 stops kksmd after its current batch and sleep', (t) => {
  const { k } = world([[seed(7), seed(7)]]);
  k.writeSysfs('pages_to_scan', '1\n');
  k.writeSysfs('sleep', '1000\n');
  k.writeSysfs('run', '1\n');
  k.usleep(10); // the batch at 0; asleep until 1000
  t.is(k.ksmd.batches, 1);
  k.writeSysfs('run', '0\n');
  k.usleep(5000);
  t.is(k.ksmd.batches, 1);
  t.is(k.ksmd.state, 'waiting');
});

test('writing sleep or pages_to_scan wakes nothing; a running kksmd picks the new values up at its next batch', (t) => {
  const { k } = world([[seed(1), seed(2), seed(3), seed(4), seed(5), seed(6)]]);
  k.writeSysfs('pages_to_scan', '1\n');
  k.writeSysfs('sleep', '1000\n');
  k.writeSysfs('run', '1\n');
  k.usleep(1);
  k.writeSysfs('sleep', '10\n');
  k.writeSysfs('pages_to_scan', '2\n');
  // Still asleep until 1000 µs (the old sleep), then every 10 µs.
  k.usleep(998);
  t.is(k.ksmd.batches, 1);
  k.usleep(21); // batches at 1000, 1010, 1020
  t.is(k.ksmd.batches, 4);
  t.is(k.ksm.positions, 1 + 3 * 2);
});

test('pages_to_scan = 0 with run = 1: each batch scans nothing and moves the cursor one position, wrapping and flushing', (t) => {
  const { k } = world([[seed(7), seed(7)], [seed(7), seed(7)]]);
  k.writeSysfs('sleep', '1\n');
  k.writeSysfs('run', '1\n');
  k.usleep(7);
  t.is(k.ksmd.batches, 8);
  t.is(k.ksm.stats.pagesScanned, 0);
  t.is(k.ksm.wraps, 2);
});

test('a pages_to_scan of 2^31 or more is a negative int, passed on as a huge unsigned budget', (t) => {
  const { k } = world([[seed(1), seed(7), seed(7)], [seed(2), seed(7), seed(7)]]);
  k.writeSysfs('pages_to_scan', '4294967295\n'); // -1: 2^32 - 1 pages per batch
  k.writeSysfs('sleep', '1000000\n');
  k.writeSysfs('run', '1\n');
  k.usleep(1);
  t.is(k.ksmd.batches, 1);
  // (2^32 - 1) visits of 6 positions, the first pass short of one.
  t.is(k.ksm.positions, 4294967295);
  // B visits and the trailing advance: B + 1 moves of the cursor over 6 positions.
  t.is(k.ksm.wraps, Math.floor((4294967295 + 1) / 6));
  // Four Z pages, three merge events: the first makes two mappings.
  t.like(state(k), { shared: 3, ksmPages: 1, ksmMappings: 4 });
  t.deepEqual(problems(k), []);
});

test('an exited registered process does not stop kksmd: its pinned pages are scanned on', (t) => {
  const { k, procs } = world([[seed(7)], [seed(7)]]);
  k.exit(procs[0].p);
  k.exit(procs[1].p);
  k.writeSysfs('pages_to_scan', '10\n');
  k.writeSysfs('run', '1\n');
  k.usleep(5);
  t.like(state(k), { shared: 1, ksmPages: 1, ksmMappings: 2 });
  t.is(k.memory.readPage(procs[0].p.mm, procs[0].addr), k.memory.readPage(procs[1].p.mm, procs[1].addr));
  t.is(procs[0].addr % PAGE_SIZE, 0);
});

test('a kernel with no registered memory: kksmd runs empty batches (-EAGAIN) while run is 1', (t) => {
  const k = new V2Kernel();
  k.writeSysfs('pages_to_scan', '5\n');
  k.writeSysfs('sleep', '100\n');
  k.writeSysfs('run', '1\n');
  k.usleep(1000);
  t.is(k.ksmd.batches, 11);
  t.is(k.ksm.positions, 0);
});
