/** /sys/kernel/mm/ksm of 2.6.32 (seed 003): read formats, store parsing and errno, modes. */
import test from 'ava';
import { ERRNO } from '../../src/engine/errno.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { counters, pass, seed, world } from '../helpers/v3.js';

test('the nine files in the order of ksm_attrs, with the seed defaults', (t) => {
  const k = new V3Kernel();
  t.deepEqual(k.sysfs.names(), ['sleep_millisecs', 'pages_to_scan', 'run', 'max_kernel_pages', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans']);
  const read = (n: string) => k.readSysfs(`/sys/kernel/mm/ksm/${n}`);
  t.is(read('sleep_millisecs'), '20\n');
  t.is(read('pages_to_scan'), '200\n');
  t.is(read('run'), '1\n');
  t.is(read('max_kernel_pages'), '2000\n');
  for (const n of ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans']) t.is(read(n), '0\n');
  t.is(k.sysfs.mode('run'), 0o644);
  t.is(k.sysfs.mode('pages_shared'), 0o444);
});

const store = test.macro<[file: string, text: string, expected: number, readBack?: string]>({
  exec(t, file, text, expected, readBack) {
    const k = new V3Kernel();
    const before = k.readSysfs(file);
    t.is(k.writeSysfs(`/sys/kernel/mm/ksm/${file}`, text), expected);
    t.is(k.readSysfs(file), readBack ?? before);
  },
  title: (_p, file, text, expected) => `echo -n ${JSON.stringify(text)} > ${file} returns ${expected}`,
});

// strict_strtoul: digits with at most one trailing newline; the store returns count or -EINVAL.
test(store, 'pages_to_scan', '100\n', 4, '100\n');
test(store, 'pages_to_scan', '100', 3, '100\n');
test(store, 'pages_to_scan', '0\n', 2, '0\n');
test(store, 'pages_to_scan', '4294967295\n', 11, '4294967295\n');
test(store, 'pages_to_scan', '4294967296\n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', '-1\n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', '+5\n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', ' 5\n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', '5 \n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', '5\n\n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', 'abc\n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', '0x10\n', -ERRNO.EINVAL);
test(store, 'pages_to_scan', '\n', -ERRNO.EINVAL);
// simple_strtoul wraps silently at 2^64: 2^64 + 5 parses as 5.
test(store, 'sleep_millisecs', '18446744073709551621\n', 21, '5\n');
test(store, 'run', '3\n', -ERRNO.EINVAL);
test(store, 'run', '0\n', 2, '0\n');
// max_kernel_pages has no upper bound: it is an unsigned long.
test(store, 'max_kernel_pages', '18446744073709551615\n', 21, '18446744073709551615\n');
test(store, 'max_kernel_pages', 'x', -ERRNO.EINVAL);

test('read-only counters refuse writes with EACCES, even from root (sysfs_open_file)', (t) => {
  const k = new V3Kernel();
  for (const n of ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans']) t.is(k.writeSysfs(n, '0\n'), -ERRNO.EACCES);
});

test('a user other than root may read but not write the knobs (mode 0644)', (t) => {
  const k = new V3Kernel();
  const user = k.spawn('user', 1000);
  t.is(k.readSysfs('run', user), '1\n');
  t.is(k.writeSysfs('run', '0\n', user), -ERRNO.EACCES);
  t.is(k.readSysfs('run'), '1\n');
});

test('unknown files are ENOENT', (t) => {
  const k = new V3Kernel();
  t.is(k.readSysfs('/sys/kernel/mm/ksm/merge_across_nodes'), -ERRNO.ENOENT);
  t.is(k.writeSysfs('/sys/kernel/mm/ksm/use_zero_pages', '1\n'), -ERRNO.ENOENT);
});

test('run = 2 unmerges everything, frees every rmap_item and resets full_scans; the slots stay', (t) => {
  const { k, procs } = world([[seed(1), seed(7), seed(7)], [seed(2), seed(7), seed(7)]]);
  pass(k);
  pass(k);
  t.deepEqual(counters(k), { shared: 1, sharing: 3, unshared: 2, volatile: 0, fullScans: 2 });
  t.is(k.writeSysfs('run', '2\n'), 2);
  t.deepEqual(counters(k), { shared: 0, sharing: 0, unshared: 0, volatile: 0, fullScans: 0 });
  t.is(k.ksm.rmapItems, 0);
  t.is(k.ksm.slotList().length, 2);
  t.is(k.memory.pagesSaved(procs.map(({ p, addr }) => ({ mm: p.mm, start: addr, end: addr + 3 * 4096 }))).saved, 0);
  // Writing the current value again is a no-op; run = 1 resumes from scratch.
  t.is(k.writeSysfs('run', '2\n'), 2);
  t.is(k.writeSysfs('run', '1\n'), 2);
  k.sleep(100);
  t.true(k.ksm.scan.seqnr >= 2);
  t.is(counters(k).sharing, 3);
});

test('run = 0 freezes ksmd: virtual time passes and nothing is scanned', (t) => {
  const { k } = world([[seed(7), seed(7)]]);
  t.is(k.writeSysfs('run', '0\n'), 2);
  k.sleep(1000);
  t.is(k.ksm.stats.pagesScanned, 0);
  t.is(k.ksmd.state, 'waiting');
  k.writeSysfs('run', '1\n');
  k.sleep(41); // batches at 0, 20 and 40 ms (sleep_millisecs = 20)
  t.is(k.ksmd.batches, 3);
  t.is(counters(k).sharing, 1);
});

test('max_kernel_pages caps new KSM pages only; stable matches still add sharers', (t) => {
  const { k } = world([[seed(1), seed(1), seed(1), seed(2), seed(2)]]);
  k.writeSysfs('max_kernel_pages', '1\n');
  pass(k);
  pass(k);
  // seed 1: pages 0 and 1 merge (the one KSM page allowed), page 2 joins it
  // through the stable tree; seed 2: page 4 finds page 3 in the unstable
  // tree but try_to_merge_two_pages refuses: page 3 stays unstable, page 4 volatile.
  t.deepEqual(counters(k), { shared: 1, sharing: 2, unshared: 1, volatile: 1, fullScans: 2 });
});
