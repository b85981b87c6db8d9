/**
 * Programs of the systemd era as a distribution ships them, compiled
 * binaries and all: Debian's ksmtuned package (4.20150326, the ksm.service
 * and ksmtuned.service that came with qemu-kvm from 2009 on) holds
 * /usr/sbin/ksmctl, a compiled C program that starts and stops KSM through
 * sysfs and sizes 2.6.32's max_kernel_pages by the machine's RAM, and
 * /usr/sbin/ksmtuned, Red Hat's 2009 shell daemon. Both run unmodified
 * under `ksmctl exec` (the binary as Debian built it, no compiler
 * involved), with a shell line as the harness a service manager would be.
 *
 * The package is taken with `apt-get download ksmtuned` (never installed:
 * its services would drive this machine's KSM); where apt-get or the
 * package cannot be had the tests are skipped, the reason in their title.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execHarness, execMissing } from '../helpers/exec-run.js';
import { ROOT } from '../helpers/golden.js';

const h = execHarness('ksmtuned-package');
test.after.always(() => h.remove());

/** The package's files under work/pkg, or why they cannot be had. */
function unpack(): { root: string } | { missing: string } {
  const m = execMissing();
  if (m !== null) return { missing: m };
  const debs = join(h.work, 'debs');
  mkdirSync(debs, { recursive: true });
  const dl = spawnSync('apt-get', ['download', 'ksmtuned'], { cwd: debs, encoding: 'utf8', timeout: 120_000 });
  if (dl.error !== undefined) return { missing: `no apt-get here (${dl.error.message})` };
  const deb = readdirSync(debs).find((n) => /^ksmtuned_.*\.deb$/.test(n));
  if (dl.status !== 0 || deb === undefined) return { missing: `apt-get download ksmtuned failed: ${(dl.stderr.trim().split('\n').at(-1) ?? '').slice(0, 120)}` };
  const root = join(h.work, 'pkg');
  const x = spawnSync('dpkg-deb', ['-x', join(debs, deb), root], { encoding: 'utf8' });
  if (x.status !== 0 || !existsSync(join(root, 'usr', 'sbin', 'ksmctl'))) return { missing: `dpkg-deb -x ${deb} failed: ${x.stderr}` };
  return { root };
}

const pkg = unpack();
const run = 'root' in pkg ? test.serial : test.skip;
const skipped = 'root' in pkg ? '' : ` (skipped: ${pkg.missing})`;
const root = 'root' in pkg ? pkg.root : '';
const ksmctlBin = join(root, 'usr', 'sbin', 'ksmctl');

run(`Debian's compiled ksmctl under v3:2.6.32: start sets run and max_kernel_pages (half the simulated RAM, or KSM_MAX_KERNEL_PAGES), stop clears run${skipped}`, (t) => {
  const r = h.exec(['--era', 'v3:2.6.32', '--stats', '--json', '--', 'sh', '-c', [
    `${ksmctlBin} start`,
    'cat /sys/kernel/mm/ksm/run /sys/kernel/mm/ksm/max_kernel_pages',
    "awk '/^MemTotal:/ { print $2 }' /proc/meminfo",
    `KSM_MAX_KERNEL_PAGES=1000 ${ksmctlBin} start`,
    'cat /sys/kernel/mm/ksm/max_kernel_pages',
    `${ksmctlBin} stop`,
    'cat /sys/kernel/mm/ksm/run',
  ].join(' && ')]);
  t.is(r.status, 0, r.stderr);
  const [run1, mkp, memTotalKb, mkp2, run2] = r.stdout.trim().split('\n').map(Number);
  t.is(run1, 1);
  // sysconf(_SC_PHYS_PAGES) / 2 of the simulated machine, whose MemTotal /proc/meminfo gives.
  t.is(mkp, memTotalKb / 4 / 2);
  t.is(mkp2, 1000);
  t.is(run2, 0);
  h.untouched(t, r);
});

run(`Debian's compiled ksmctl under v3:6.18 (no max_kernel_pages since 2.6.33: it writes run only), under v1:2009 (no sysfs: exit 1), and without an argument (its usage)${skipped}`, (t) => {
  const r = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', 'sh', '-c', `${ksmctlBin} start && cat /sys/kernel/mm/ksm/run`]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '1\n');
  h.untouched(t, r);
  const v1 = h.exec(['--era', 'v1:2009', '--stats', '--json', '--', ksmctlBin, 'start']);
  t.is(v1.status, 1);
  h.untouched(t, v1);
  const usage = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', ksmctlBin]);
  t.is(usage.status, 1);
  t.is(usage.stderr.split('\n')[0], `Usage: ${ksmctlBin} {start|stop}`);
  h.untouched(t, usage);
});

run(`Red Hat's ksmtuned (2009, Debian's package) under v3:3.9 on a 40 MB machine with a 32 MiB guest: it starts KSM, boosts pages_to_scan by 300 up to 1250 while free memory is under its threshold, then decays by 50 as ksmd's merges free the guest's memory${skipped}`, (t) => {
  t.timeout(3 * 60_000);
  // The guest: a qemu-system-x86_64 with -enable-kvm as ksmtuned finds it (pgrep -f), 8192 pages of one content.
  const guest = h.build('v3:3.9', join(ROOT, 'examples', 'programs', 'guest.c'), 'guest');
  const pidfile = join(h.work, 'ksmtuned.pid');
  const tuned = join(root, 'usr', 'sbin', 'ksmtuned');
  // The harness a service manager would be: start the guest and the daemon, let 150 s pass, stop both.
  const harness = [
    `bash -c "exec -a qemu-system-x86_64 ${guest} 8192 -enable-kvm" & g=$!`,
    `PIDFILE=${pidfile} KSM_MONITOR_INTERVAL=10 DEBUG=1 bash ${tuned}`,
    'sleep 150',
    'cat /sys/kernel/mm/ksm/run /sys/kernel/mm/ksm/pages_sharing',
    `kill $(cat ${pidfile}) $g`,
  ].join('; ');
  const r = h.exec(['--era', 'v3:3.9', '--ram-pages', '10000', '--stats', '--json', '--', 'bash', '-c', harness], 3 * 60_000);
  t.is(r.status, 0, r.stderr);
  // Its debug lines, without their dates.
  const says = r.stdout.split('\n').filter((l) => / UTC \d{4}: /.test(l)).map((l) => l.replace(/^.* UTC \d{4}: /, ''));
  // MemTotal 40000 kB: sleep 10 ms * 16 GiB / 40000 kB, threshold 20 % of it.
  t.deepEqual(says.slice(0, 3), ['total 40000', 'sleep 4194', 'thres 8000']);
  const starts = says.filter((l) => l.startsWith('KSMCTL start ')).map((l) => Number(l.split(' ')[2]));
  t.deepEqual(starts.slice(0, 5), [300, 600, 900, 1200, 1250], says.join('\n'));
  t.true(starts.length >= 8 && starts.slice(5).every((n, i) => n === 1250 - 50 * (i + 1)), says.join('\n'));
  t.true(says.some((l) => /^\d+ > 8000, decay$/.test(l)));
  const [run1, sharing] = r.stdout.trim().split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  t.is(run1, 1);
  t.is(sharing, 8191, "every page of the guest but one shares the KSM page");
  h.untouched(t, r);
});
