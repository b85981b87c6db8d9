/**
 * `ksmctl exec` and `ksmctl cc` end to end, as a user runs them: real C
 * programs compiled unmodified against their era's headers, run natively
 * with their KSM calls going to the simulated era, their output and exit
 * status checked against what the era's kernel printed (seed 002's mail
 * for ksmpages.c) or KSM's promise (merge-check.c). Serial: every run is
 * also checked to leave the real /sys/kernel/mm/ksm as it found it and to
 * create no real KSM page in the program (its /proc/PID/ksm_merging_pages,
 * read by the simulator at every call, stays 0).
 *
 * They need Linux on x86_64 and a C compiler; elsewhere they are skipped
 * with the reason in their title (the no-compiler test runs everywhere on
 * Linux x86_64).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCompiler } from '../../src/exec/preload-build.js';
import { execHarness, execMissing, stats } from '../helpers/exec-run.js';
import { ROOT } from '../helpers/golden.js';

const platform = process.platform === 'linux' && process.arch === 'x64' ? null : `exec interposes x86_64 Linux programs, this is ${process.platform}/${process.arch}`;
const missing = execMissing();
const run = missing === null ? test.serial : test.skip;
const why = missing === null ? '' : ` (skipped: ${missing})`;

const h = execHarness('exec-test');
const { work, ksmctl, build, exec, untouched } = h;
const PROGRAMS = join(ROOT, 'examples', 'programs');

test.after.always(() => h.remove());

run(`ksmpages.c (seed 002) under v1:2009: it registers and prints what it printed then; alone, nothing merges${why}`, (t) => {
  // The program as mailed on 31 March 2009: 1 GiB, no arguments. Its first copy, with kksmd never started
  // (the mail's first `top`: SHR 328 KiB, nothing shared).
  const exe = build('v1:2009', join(PROGRAMS, 'ksmpages.c'), 'ksmpages');
  const r = exec(['--era', 'v1:2009', '--end-on-pause', '--stats', '--json', '--', exe]);
  t.is(r.stdout, 'registered into ksm, run outside VM\n');
  t.is(r.status, 128 + 15, 'ended by SIGTERM in pause(), as the mail ended it by hand');
  const s = stats(r);
  t.is(s.era, 'v1:2009');
  t.deepEqual([s.settled?.counters.pages_shared, s.settled?.counters.pages_sharing], [0, 0]);
  untouched(t, r);
});

run(`two processes under v1:2009, started by a shell: kksmd merges every page of one with its twin's, as the two ksmpages of the mail did${why}`, (t) => {
  // fork and exec through sh, the shell's wait, both pausing: then kksmd settles and both end.
  const exe = build('v1:2009', join(ROOT, 'test', 'exec', 'fixtures', 'twins.c'), 'twins');
  const r = exec(['--era', 'v1:2009', '--start', '1000', '--end-on-pause', '--stats', '--json', '--', 'sh', '-c', `${exe} 512 & ${exe} 512 & wait`]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'registered 512 pages\nregistered 512 pages\n');
  const s = stats(r);
  t.deepEqual([s.settled?.counters.pages_shared, s.settled?.counters.pages_sharing], [512, 512]);
  untouched(t, r);
});

run(`/proc/meminfo is the simulated machine's: MemTotal its RAM, MemFree growing as ksmd merges (never this machine's figures)${why}`, (t) => {
  const exe = build('v3:2.6.32', join(ROOT, 'test', 'exec', 'fixtures', 'meminfo.c'), 'meminfo');
  const r = exec(['--era', 'v3:2.6.32', '--stats', '--json', '--', exe]);
  t.is(r.status, 0, r.stderr);
  const total = /^MemTotal (\d+) kB$/m.exec(r.stdout);
  const real = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  t.not(total, null, r.stdout);
  t.not(total?.[1], real?.[1], "the simulated machine's RAM, not this one's");
  // 256 pages of one content merge into one KSM page: 255 pages (1020 kB) come free, give or take a page the program touched.
  const grew = /^MemFree grew by (-?\d+) kB$/m.exec(r.stdout);
  t.true(grew !== null && Number(grew[1]) >= 1012 && Number(grew[1]) <= 1020, r.stdout);
  untouched(t, r);
});

const slow = process.env.KSMCTL_SLOW_TESTS === '1' ? run : test.skip;
slow(`two ksmpages.c of 1 GiB under v1:2009 with kksmd at 99999 pages, as the mail's benchmark ran: every page shared (its top: 1.0g SHR each)${missing === null && process.env.KSMCTL_SLOW_TESTS !== '1' ? ' (skipped: 2 GiB and minutes; KSMCTL_SLOW_TESTS=1 runs it)' : why}`, (t) => {
  t.timeout(20 * 60_000);
  const exe = build('v1:2009', join(PROGRAMS, 'ksmpages.c'), 'ksmpages');
  const r = exec(['--era', 'v1:2009', '--start', '99999', '--end-on-pause', '--stats', '--json', '--', 'sh', '-c', `${exe} & ${exe} & wait`], 20 * 60_000);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'registered into ksm, run outside VM\nregistered into ksm, run outside VM\n');
  const s = stats(r);
  t.deepEqual([s.settled?.counters.pages_shared, s.settled?.counters.pages_sharing], [262144, 262144]);
  untouched(t, r);
});

run(`ksmpages.c under v1:2008: the 2009 program's REGISTER is not the 2008 driver's request, and it says so as it did${why}`, (t) => {
  const exe = build('v1:2009', join(PROGRAMS, 'ksmpages.c'), 'ksmpages');
  const r = exec(['--era', 'v1:2008', '--end-on-pause', '--stats', '--json', '--', exe]);
  t.is(r.stdout, 'failed to register into ksm, run inside VM\n');
  t.is(r.status, 128 + 15);
  untouched(t, r);
});

for (const era of ['v3:2.6.32', 'v3:3.9', 'v3:6.18']) {
  run(`merge-check.c under ${era}: madvise(MADV_MERGEABLE), sysfs through fopen/fscanf and open/write, a copy-on-write break${why}`, (t) => {
    const exe = build(era, join(PROGRAMS, 'merge-check.c'), `merge-check-${era.replace(':', '-')}`);
    const r = exec(['--era', era, '--stats', '--json', '--', exe, '8']);
    t.is(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    t.is(lines[0], 'merged: pages_shared 1 pages_sharing 7');
    t.is(lines[1], 'after one write: pages_shared 1 pages_sharing 6');
    // /proc/self/ksm_stat exists from Linux 6.1 on.
    t.is(r.stdout.includes('ksm_stat: ksm_merging_pages 7'), era === 'v3:6.18');
    untouched(t, r);
  });
}

run(`merge-check.c -p under v3:6.18: prctl(PR_SET_MEMORY_MERGE) merges the whole process${why}`, (t) => {
  const exe = build('v3:6.18', join(PROGRAMS, 'merge-check.c'), 'merge-check-618');
  const r = exec(['--era', 'v3:6.18', '--stats', '--json', '--', exe, '-p', '8']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^merged: pages_shared 1 pages_sharing 7\n/);
  t.regex(r.stdout, /ksm_stat: ksm_merge_any: yes\n/);
  untouched(t, r);
});

run(`cc: a 2.6.32 program does not build against April 2009's headers (MADV_MERGEABLE did not exist), nor -p before 6.4${why}`, (t) => {
  const v2 = ksmctl(['cc', '--era', 'v2', '--', join(PROGRAMS, 'merge-check.c'), '-o', join(work, 'mc-v2')]);
  t.not(v2.status, 0);
  t.regex(v2.stderr, /'MADV_MERGEABLE' undeclared|‘MADV_MERGEABLE’ undeclared/);
  const exe = build('v3:2.6.32', join(PROGRAMS, 'merge-check.c'), 'merge-check-2632');
  const r = exec(['--era', 'v3:2.6.32', '--stats', '--json', '--', exe, '-p', '8']);
  t.is(r.status, 2);
  t.is(r.stderr.split('\n')[0], "merge-check: -p: this kernel's headers have no PR_SET_MEMORY_MERGE");
  untouched(t, r);
});

run(`ksmpages.c under v2 (April 2009): there is no /dev/ksm, and the program says so as it did${why}`, (t) => {
  const exe = build('v1:2009', join(PROGRAMS, 'ksmpages.c'), 'ksmpages');
  const r = exec(['--era', 'v2', '--end-on-pause', '--stats', '--json', '--', exe]);
  t.is(r.stdout, 'failed to register into ksm, run inside VM\n');
  t.is(r.status, 128 + 15);
  untouched(t, r);
});

run(`nothing reaches the real KSM: raw syscalls, relative paths and symbolic links to /sys/kernel/mm/ksm${why}`, (t) => {
  const exe = build('v3:6.18', join(ROOT, 'test', 'exec', 'fixtures', 'leak-probe.c'), 'leak-probe');
  for (const era of ['v1:2009', 'v3:6.18']) {
    const links = join(work, `links-${era.replace(':', '-')}`);
    mkdirSync(links, { recursive: true });
    const r = exec(['--era', era, '--stats', '--json', '--', exe, links]);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^syscall\(madvise, 12\) = -1 Operation not permitted$/m);
    t.regex(r.stdout, /^syscall\(madvise, 13\) = -1 Operation not permitted$/m);
    t.regex(r.stdout, /^syscall\(prctl, 67\) = -1 Operation not permitted$/m);
    if (era === 'v1:2009') {
      // No sysfs in the /dev/ksm era, and the 2.6.28 madvise knew no advice 12.
      t.regex(r.stdout, /^madvise\(12\) = -1 Invalid argument$/m);
      t.regex(r.stdout, /^access\(\/sys\/kernel\/mm\/ksm\) = -1 No such file or directory$/m);
      t.regex(r.stdout, /^\/dev\/ksm: char device 660$/m);
      t.regex(r.stdout, /^fopen\(LINK\/run\) = -1 No such file or directory$/m);
    } else {
      t.regex(r.stdout, /^write\(run, 1\) = 1$/m);
      t.regex(r.stdout, /^access\(\/sys\/kernel\/mm\/ksm\) = 0$/m);
      t.regex(r.stdout, /^stat\(\/dev\/ksm\) = -1 No such file or directory$/m);
      t.regex(r.stdout, /^pread\(run\) = 2 1$/m, 'the simulated run file, read back with pread');
      t.regex(r.stdout, /^fprintf\+fclose = 0$/m);
    }
    untouched(t, r);
  }
});

run(`a statically linked program is refused with one line${why}`, (t) => {
  const exe = join(work, 'static-true');
  const cc = spawnSync(findCompiler()!, ['-static', '-x', 'c', '-', '-o', exe], { input: 'int main(void){return 0;}', encoding: 'utf8' });
  if (cc.status !== 0) return t.pass(`no static C library here (${cc.stderr.split('\n')[0]})`);
  const r = exec(['--', exe]);
  t.is(r.status, 2);
  t.regex(r.stderr, /^ksmctl: exec: .*static-true is statically linked: its calls cannot be interposed \(no PT_INTERP\); link it dynamically\n$/);
});

(platform === null ? test.serial : test.skip)(`without a C compiler on PATH and no library built, exec says so in one line${platform === null ? '' : ` (skipped: ${platform})`}`, (t) => {
  const empty = join(work, 'empty-bin');
  mkdirSync(empty, { recursive: true });
  const r = ksmctl(['exec', '--', '/bin/true'], { PATH: empty, CC: '', XDG_CACHE_HOME: join(work, 'no-cache') });
  t.is(r.status, 2);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^ksmctl: exec needs a C compiler \(cc\/gcc\) to build its interposition library: [^\n]+\n$/);
});
