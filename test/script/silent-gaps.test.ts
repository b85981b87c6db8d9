/**
 * The five cases of issue 21 where a script gave a wrong result without an
 * error: a pointer holding MAP_FAILED compared unequal to it, `errno = N`
 * did nothing, `#if`/`#else` ran both branches, a loop polling a counter
 * never let virtual time pass (so it never ended), and ksmd with a sleep of
 * 0 scanned for free (hundreds of thousands of full scans a virtual second).
 */
import test from 'ava';
import { runText } from '../helpers/script.js';

const run = (source: string, opts: Parameters<typeof runText>[2] = {}) => runText('t.ksm', source, { trace: false, ...opts });

test('a pointer holding MAP_FAILED compares equal to MAP_FAILED', (t) => {
  t.is(run('char *p = MAP_FAILED\nprint p == MAP_FAILED\nprint p != MAP_FAILED\n').stdout, '1\n0\n');
  t.is(run('void *p = (void *)-1\nprint p == MAP_FAILED\n').stdout, '1\n');
  // A failing mmap's result, as programs test it.
  const r = run('char *p = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)\nif (p == MAP_FAILED) print "failed", errno == EINVAL\n');
  t.is(r.stdout, 'failed 1\n', r.text);
});

test('errno = N assigns errno', (t) => {
  t.is(run('errno = 5\nprint errno\n').stdout, '5\n');
  t.is(run('errno = 0\nr = open("/nonexistent", O_RDONLY)\nprint errno == ENOENT\nerrno = 0\nprint errno\n', { era: 'v3:6.18' }).stdout, '1\n0\n');
});

test('#if / #else / #endif run one branch', (t) => {
  t.is(run('#if 0\nprint 1\n#else\nprint 2\n#endif\n').stdout, '2\n');
  t.is(run('#define A 3\n#if A > 2 && defined(A)\nprint 1\n#elif A\nprint 2\n#endif\n#ifdef B\nprint 3\n#endif\n#ifndef B\nprint 4\n#endif\n').stdout, '1\n4\n');
});

test('a loop polling full_scans lets virtual time pass, and ends', (t) => {
  const src = [
    '#pragma era v3:2.6.32',
    'char *p = mmap(NULL, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)',
    'pages(p, 64) = {fill: 1}',
    'madvise(p, 64 * PAGE_SIZE, MADV_MERGEABLE)',
    'echo 1 > /sys/kernel/mm/ksm/run',
    'start = cat /sys/kernel/mm/ksm/full_scans',
    'while (cat /sys/kernel/mm/ksm/full_scans < start + 2)',
    '\t;',
    'print ksm_pages(p, 64)',
    '',
  ].join('\n');
  const r = run(src, { maxSteps: 5_000_000 });
  t.is(r.status, 0, r.text.slice(0, 2000));
  t.is(r.stdout, '64\n');
});

for (const era of ['v1:2009', 'v2', 'v3:2.6.32']) {
  test(`${era}: ksmd with a sleep of 0 scans as fast as its pages cost, not for free`, (t) => {
    const start =
      era === 'v1:2009'
        ? ['#include "ksm-2009.h"', 'int fd = open("/dev/ksm", O_RDWR)', 'int sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)', 'ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: 256, addr: p})', 'ksmctl start 100 0']
        : era === 'v2'
          ? ['madvise(p, 256 * PAGE_SIZE, MADV_SHAREABLE)', 'echo 0 > /sys/kernel/mm/ksm/sleep', 'echo 100 > /sys/kernel/mm/ksm/pages_to_scan', 'echo 1 > /sys/kernel/mm/ksm/run']
          : ['madvise(p, 256 * PAGE_SIZE, MADV_MERGEABLE)', 'echo 0 > /sys/kernel/mm/ksm/sleep_millisecs', 'echo 100 > /sys/kernel/mm/ksm/pages_to_scan', 'echo 1 > /sys/kernel/mm/ksm/run'];
    const src = ['char *p = mmap(NULL, 256 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)', 'pages(p, 256) = {tailFrom: 0}', ...start, 'sleep(1)', 'print full_scans()', ''].join('\n');
    const r = run(src, { era, maxBatches: 100_000 });
    t.is(r.status, 0, r.text.slice(0, 2000));
    // 256 pages at 2 µs each: a full scan takes about 512 µs, some 2,000 a second (it was hundreds of thousands).
    const scans = Number(r.stdout.trim().split('\n').pop());
    t.true(scans > 1000 && scans <= 2100, `${scans} full scans in one virtual second`);
  });
}
