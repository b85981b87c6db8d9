/**
 * Shell scripts under `ksmctl exec`: what a shell does to sysfs goes
 * through the C library in ways a program's own calls do not (bash's echo
 * is printf on a stdout dup2'ed onto the opened file, written by stdio's
 * internal write; /bin/echo is another program exec'd with that stdout),
 * and a script's processes sleep side by side. Both reach the simulated
 * era as they would reach the kernel.
 */
import test from 'ava';
import { execHarness, execMissing, stats } from '../helpers/exec-run.js';

const missing = execMissing();
const run = missing === null ? test.serial : test.skip;
const why = missing === null ? '' : ` (skipped: ${missing})`;
const h = execHarness('exec-shell');
test.after.always(() => h.remove());

const KSM = '/sys/kernel/mm/ksm';

for (const shell of ['bash', 'sh']) {
  run(`${shell}: echo > sysfs, /bin/echo > sysfs and a subshell's echo each store into the simulated file; the real one is untouched${why}`, (t) => {
    const script = [
      `echo 0 > ${KSM}/run`,
      `cat ${KSM}/run`,
      `/bin/echo 77 > ${KSM}/pages_to_scan`,
      `cat ${KSM}/pages_to_scan`,
      `(echo 55 > ${KSM}/pages_to_scan; echo 1 > ${KSM}/run)`,
      `cat ${KSM}/pages_to_scan ${KSM}/run`,
      `printf '%s\\n' 33 > ${KSM}/sleep_millisecs`,
      `cat ${KSM}/sleep_millisecs`,
    ].join('; ');
    const r = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', shell, '-c', script]);
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, '0\n77\n55\n1\n33\n');
    h.untouched(t, r);
  });
}

run(`a program reading its stdin redirected from a sysfs file through stdio (sed, scanf) reads the simulated file's text as of the open${why}`, (t) => {
  const r = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', 'sh', '-c', `sed -n p < ${KSM}/pages_to_scan; echo 77 > ${KSM}/pages_to_scan; sed -n p < ${KSM}/pages_to_scan; read x < ${KSM}/run; echo "read $x"`]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '100\n77\nread 0\n');
  h.untouched(t, r);
});

run(`a store the era refuses fails as the kernel's write fails, through echo too: the value stays${why}`, (t) => {
  const r = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', 'bash', '-c', `echo 100 > ${KSM}/pages_to_scan; echo abc > ${KSM}/pages_to_scan; cat ${KSM}/pages_to_scan`]);
  t.is(r.stdout, '100\n');
  h.untouched(t, r);
});

run(`two processes sleeping side by side take the longer sleep of virtual time, not the sum; one after the other, the sum${why}`, (t) => {
  const side = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', 'sh', '-c', 'sleep 30 & sleep 50 & wait']);
  t.is(side.status, 0, side.stderr);
  const s = stats(side).virtualSeconds;
  t.true(s >= 50 && s < 55, `${s} s`);
  const serial = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', 'sh', '-c', 'sleep 30; sleep 50']);
  const v = stats(serial).virtualSeconds;
  t.true(v >= 80 && v < 85, `${v} s`);
});

run(`ls and stat(1) see the era's /sys/kernel/mm/ksm (its files, their modes), not this machine's: 2.6.32's max_kernel_pages, none under v1${why}`, (t) => {
  const names = h.exec(['--era', 'v3:2.6.32', '--stats', '--json', '--', 'sh', '-c', `ls ${KSM}; ls -l ${KSM}/max_kernel_pages ${KSM}/full_scans; stat -c '%a %n' ${KSM}/run`]);
  t.is(names.status, 0, names.stderr);
  t.deepEqual(names.stderr.trim().split('\n').length, 1, `no probe of the real files (xattrs, statx) fails, only the stats line: ${names.stderr}`);
  h.untouched(t, names);
  const lines = names.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 9), ['full_scans', 'max_kernel_pages', 'pages_shared', 'pages_sharing', 'pages_to_scan', 'pages_unshared', 'pages_volatile', 'run', 'sleep_millisecs']);
  t.regex(lines[9], /^-r--r--r-- 1 root root 4096 .* \/sys\/kernel\/mm\/ksm\/full_scans$/);
  t.regex(lines[10], /^-rw-r--r-- 1 root root 4096 .* \/sys\/kernel\/mm\/ksm\/max_kernel_pages$/);
  t.is(lines[11], '644 /sys/kernel/mm/ksm/run');
  const v1 = h.exec(['--era', 'v1:2009', '--stats', '--json', '--', 'sh', '-c', `ls ${KSM}; stat -c '%F %a' /dev/ksm`]);
  t.regex(v1.stderr, /^ls: cannot access '\/sys\/kernel\/mm\/ksm': No such file or directory$/m);
  t.is(v1.stdout, 'character special file 660\n');
  h.untouched(t, v1);
});
