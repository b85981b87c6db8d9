/**
 * The kernel's own KSM selftest, compiled unmodified and run under
 * `ksmctl exec`: tools/testing/selftests/vm/ksm_tests.c (mm/ from Linux
 * 6.3 on) with its kselftest.h, built as its Makefile builds it (-Wall,
 * the tree's top directory on the include path, -lrt -lpthread -lnuma)
 * through `ksmctl cc --era v3:6.18`, and run with the arguments
 * run_vmtests.sh gives it (plus -C and -P, the timed ones). Its stdout and
 * exit status are compared with what the same program printed on this
 * project machine's real Linux 6.18 KSM (fixtures/ksm_tests-real-6.18.json,
 * timing figures left out); under the older eras it fails as it would on
 * those kernels (no max_page_sharing before 4.13, no sysfs in the /dev/ksm
 * era), and every run leaves the real KSM untouched.
 *
 * The source is not part of this repository (it is the kernel's): the test
 * takes it from $KSMCTL_LINUX_SOURCE (a kernel tree or its .tar.xz) or from
 * Debian's and Ubuntu's linux-source package (/usr/src/linux-source-*.tar.xz;
 * `apt-get install linux-source-6.1 libnuma-dev` on Debian 12, as .ci/run
 * does), and needs libnuma's header. Without them it is skipped, with the
 * reason in its title.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execHarness, execMissing, stats } from '../helpers/exec-run.js';
import { ROOT } from '../helpers/golden.js';

/** A kernel tree, or the newest linux-source tarball of the distribution. */
function kernelSource(): string | null {
  const env = process.env.KSMCTL_LINUX_SOURCE;
  if (env !== undefined && env !== '') return env;
  const dir = '/usr/src';
  if (!existsSync(dir)) return null;
  const tarballs = readdirSync(dir)
    .filter((n) => /^linux-source-[\d.]+\.tar\.xz$/.test(n))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return tarballs.length === 0 ? null : join(dir, tarballs.at(-1)!);
}

const NUMA_H = ['/usr/include/numa.h', '/usr/local/include/numa.h'];

function why(): string | null {
  const m = execMissing();
  if (m !== null) return m;
  const src = kernelSource();
  if (src === null) return 'no kernel source: set KSMCTL_LINUX_SOURCE or install linux-source-6.1 (Debian 12)';
  if (!existsSync(src)) return `KSMCTL_LINUX_SOURCE=${src} does not exist`;
  if (!NUMA_H.some((p) => existsSync(p))) return "no numa.h: ksm_tests links libnuma (install libnuma-dev)";
  return null;
}

const missing = why();
const run = missing === null ? test.serial : test.skip;
const skipped = missing === null ? '' : ` (skipped: ${missing})`;
const h = execHarness('selftests');
test.after.always(() => h.remove());

/** The files ksm_tests.c needs, from the tree or the tarball: the tree's top directory under work/linux. */
function extract(): string {
  const src = kernelSource()!;
  if (statSync(src).isDirectory()) return src;
  const top = join(h.work, 'linux');
  mkdirSync(top, { recursive: true });
  const wanted = ['tools/testing/selftests/vm/*', 'tools/testing/selftests/mm/*', 'tools/testing/selftests/kselftest.h', 'include/vdso/time64.h'];
  const r = spawnSync('tar', ['-xJf', src, '-C', top, '--strip-components=1', '--wildcards', '--no-wildcards-match-slash', ...wanted.map((w) => `*/${w}`)], { encoding: 'utf8' });
  // tar exits 2 for the patterns a version lacks (vm/ before 6.3, mm/ after): ksmTests() checks what came out.
  if (r.status !== 0 && !/Not found in archive/.test(r.stderr)) throw new Error(`tar -xJf ${src}: ${r.stderr}`);
  return top;
}

let exe: string | null = null;
/** ksm_tests, built once with `ksmctl cc` as the selftests' Makefile builds it. */
function ksmTests(): string {
  if (exe !== null) return exe;
  const top = extract();
  const dir = ['mm', 'vm'].map((d) => join(top, 'tools', 'testing', 'selftests', d)).find((d) => existsSync(join(d, 'ksm_tests.c')));
  if (dir === undefined) throw new Error(`no tools/testing/selftests/{mm,vm}/ksm_tests.c in ${kernelSource()}`);
  exe = h.build('v3:6.18', join(dir, 'ksm_tests.c'), 'ksm_tests', ['-Wall', '-I', top], ['-lrt', '-lpthread', '-lnuma']);
  return exe;
}

interface RealRun {
  args: string[];
  stdout: string;
  status: number;
}
const REAL: { runs: RealRun[] } = JSON.parse(readFileSync(join(ROOT, 'test', 'exec', 'fixtures', 'ksm_tests-real-6.18.json'), 'utf8'));

/** The timed lines' figures (seconds, MiB/s) are the machine's, not KSM's: compared as N. */
const untimed = (s: string): string => s.replace(/^(Total time:|Average speed:)(\s+)[\d.]+/gm, '$1$2N');

for (const real of REAL.runs) {
  run(`ksm_tests ${real.args.join(' ')} under v3:6.18 prints what it printed on the real 6.18 kernel and exits ${real.status}${skipped}`, (t) => {
    t.timeout(5 * 60_000);
    const r = h.exec(['--era', 'v3:6.18', '--stats', '--json', '--', ksmTests(), ...real.args], 4 * 60_000);
    t.is(untimed(r.stdout), untimed(real.stdout));
    t.is(r.status, real.status, r.stderr);
    h.untouched(t, r);
    // The program restores every tunable it changed: the simulated run is 0 again, nothing stays merged.
    t.is(stats(r).counters.pages_shared, 0);
  });
}

run(`ksm_tests -M under v3:3.9 and v3:2.6.32: no max_page_sharing before Linux 4.13, so it cannot save the tunables and fails, as it would on those kernels${skipped}`, (t) => {
  for (const era of ['v3:3.9', 'v3:2.6.32']) {
    const r = h.exec(['--era', era, '--stats', '--json', '--', ksmTests(), '-M', '-p', '10']);
    t.is(r.stdout, 'Cannot save default tunables\n', era);
    t.is(r.status, 1, era);
    t.regex(r.stderr, /^f \/sys\/kernel\/mm\/ksm\/max_page_sharing\nfopen: No such file or directory\n/, era);
    h.untouched(t, r);
  }
});

run(`ksm_tests -M under v1:2009: no /sys/kernel/mm/ksm in the /dev/ksm era, so the selftest skips (exit 4) as on a kernel without CONFIG_KSM${skipped}`, (t) => {
  const r = h.exec(['--era', 'v1:2009', '--stats', '--json', '--', ksmTests(), '-M', '-p', '10']);
  t.is(r.stdout, 'Config KSM not enabled\n');
  t.is(r.status, 4);
  h.untouched(t, r);
});
