/**
 * /sys/kernel/mm/ksm of the April 2009 patch (seed 000): the four files,
 * their read formats, and the stores' parsing with its quirks: a value
 * strict_strtoul refuses makes write() return 0 (no errno), and values go
 * into `int` variables with no range check.
 */
import test from 'ava';
import { ERRNO } from '../../src/engine/errno.js';
import { V2Kernel } from '../../src/v2-madvise/kernel.js';

test('four files in the order of ksm_attrs, all 0 at module load', (t) => {
  const k = new V2Kernel();
  t.deepEqual(k.sysfs.names(), ['sleep', 'pages_to_scan', 'run', 'pages_shared']);
  for (const n of k.sysfs.names()) t.is(k.readSysfs(`/sys/kernel/mm/ksm/${n}`), '0\n');
  t.is(k.sysfs.mode('sleep'), 0o644);
  t.is(k.sysfs.mode('pages_to_scan'), 0o644);
  t.is(k.sysfs.mode('run'), 0o644);
  t.is(k.sysfs.mode('pages_shared'), 0o444);
});

const store = test.macro({
  exec(t, file: string, text: string, expected: number, readBack?: string) {
    const k = new V2Kernel();
    const before = k.readSysfs(file);
    t.is(k.writeSysfs(`/sys/kernel/mm/ksm/${file}`, text), expected);
    t.is(k.readSysfs(file), readBack ?? before);
  },
  title: (_p, file: string, text: string, expected: number, readBack?: string) =>
    `echo -n ${JSON.stringify(text)} > ${file} returns ${expected}${readBack ? ` and reads back ${JSON.stringify(readBack)}` : ', changing nothing'}`,
});

// strict_strtoul: digits with at most one trailing newline; count on success.
test(store, 'pages_to_scan', '100\n', 4, '100\n');
test(store, 'pages_to_scan', '100', 3, '100\n');
test(store, 'sleep', '500\n', 4, '500\n');
test(store, 'run', '1\n', 2, '1\n');
// A value that does not parse: the store returns 0 bytes, not -EINVAL.
test(store, 'pages_to_scan', '-1\n', 0);
test(store, 'pages_to_scan', '+5\n', 0);
test(store, 'pages_to_scan', ' 5\n', 0);
test(store, 'pages_to_scan', '5 \n', 0);
test(store, 'pages_to_scan', '5\n\n', 0);
test(store, 'pages_to_scan', 'abc\n', 0);
test(store, 'pages_to_scan', '0x10\n', 0);
test(store, 'sleep', '1.5\n', 0);
test(store, 'run', 'on\n', 0);
test(store, 'run', '\n', 0);
// An empty write never reaches the store.
test(store, 'run', '', 0);
// The text is a C string: the store sees it up to the first NUL.
test(store, 'pages_to_scan', '7\0garbage', 9, '7\n');
// run stores the whole number; bit 0 decides whether kksmd scans.
test(store, 'run', '2\n', 2, '2\n');
test(store, 'run', '3\n', 2, '3\n');
test(store, 'run', '4294967297\n', 11, '1\n');
// No range check: the unsigned long goes into an int (low 32 bits) ...
test(store, 'pages_to_scan', '4294967296\n', 11, '0\n');
test(store, 'pages_to_scan', '4294967301\n', 11, '5\n');
// ... which "%lu" prints sign-extended on a 64-bit kernel ...
test(store, 'pages_to_scan', '2147483648\n', 11, '18446744071562067968\n');
test(store, 'pages_to_scan', '4294967295\n', 11, '18446744073709551615\n');
test(store, 'run', '2147483649\n', 11, '18446744071562067969\n');
// ... and "%u" (sleep) as unsigned 32 bits.
test(store, 'sleep', '4294967295\n', 11, '4294967295\n');
test(store, 'sleep', '4294967296\n', 11, '0\n');
test(store, 'sleep', '2147483648\n', 11, '2147483648\n');
// simple_strtoul wraps silently at 2^64: 2^64 + 5 parses as 5.
test(store, 'sleep', '18446744073709551621\n', 21, '5\n');

test('pages_shared is read-only: a write is refused at open with EACCES, even for root', (t) => {
  const k = new V2Kernel();
  t.is(k.writeSysfs('pages_shared', '5\n'), -ERRNO.EACCES);
  t.is(k.readSysfs('pages_shared'), '0\n');
});

test('a user other than root may read the files but not write them (0644)', (t) => {
  const k = new V2Kernel();
  const user = k.spawn('user', 1000);
  t.is(k.readSysfs('run', user), '0\n');
  t.is(k.writeSysfs('run', '1\n', user), -ERRNO.EACCES);
  t.is(k.readSysfs('pages_shared', user), '0\n');
});

test('files of later kernels do not exist: ENOENT', (t) => {
  const k = new V2Kernel();
  for (const n of ['sleep_millisecs', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans', 'max_kernel_pages']) {
    t.is(k.readSysfs(`/sys/kernel/mm/ksm/${n}`), -ERRNO.ENOENT);
    t.is(k.writeSysfs(`/sys/kernel/mm/ksm/${n}`, '1\n'), -ERRNO.ENOENT);
  }
});

test('a refused write leaves the old value: the store parses before it takes the lock', (t) => {
  const k = new V2Kernel();
  t.is(k.writeSysfs('pages_to_scan', '64\n'), 3);
  t.is(k.writeSysfs('pages_to_scan', 'x\n'), 0);
  t.is(k.readSysfs('pages_to_scan'), '64\n');
  t.is(k.kthreadPagesToScan, 64);
});
