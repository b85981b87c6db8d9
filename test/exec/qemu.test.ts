/**
 * qemu's own registration path, run for real: Debian's qemu-system-x86_64
 * (7.2), unmodified, allocates its guest's RAM and, with the machine's
 * mem-merge property (on unless turned off, since qemu 1.2; qemu 0.12
 * called madvise(MADV_MERGEABLE) in qemu_ram_alloc unconditionally),
 * gives it to KSM with madvise(MADV_MERGEABLE) (memory_try_enable_merging,
 * qemu_madvise). Under `ksmctl exec` that call goes to the simulated era,
 * the guest's RAM is mirrored as the guest (SeaBIOS under TCG) writes it,
 * and the era merges it: within one guest, and between two. A shell line
 * is the harness (start, 5 s, read the counters, stop), as a management
 * daemon would be. The guests run under TCG, so no /dev/kvm is opened.
 *
 * Skipped, with the reason in the title, where qemu-system-x86_64 is not
 * installed (`apt-get install qemu-system-x86` on Debian 12, as .ci/run does).
 */
import test from 'ava';
import { onPath } from '../../src/exec/preload-build.js';
import { execHarness, execMissing } from '../helpers/exec-run.js';

const missing = execMissing() ?? (onPath('qemu-system-x86_64', process.env) === null ? 'no qemu-system-x86_64 on PATH (Debian: apt-get install qemu-system-x86)' : null);
const run = missing === null ? test.serial : test.skip;
const why = missing === null ? '' : ` (skipped: ${missing})`;
const h = execHarness('exec-qemu');
test.after.always(() => h.remove());

const QEMU = 'qemu-system-x86_64 -machine pc,accel=tcg -m 32 -display none -nodefaults -no-user-config -serial none -monitor none';
const KSM = '/sys/kernel/mm/ksm';

/** Runs `guests` (qemu command lines) side by side for 5 s of the harness, and the counters read then. */
function guests(era: string, lines: string[]): { shared: number; sharing: number; status: number | null; stderr: string; r: ReturnType<typeof h.exec> } {
  const start = lines.map((l, i) => `${l} & g${i}=$!`).join('; ');
  const kill = lines.map((_, i) => `$g${i}`).join(' ');
  const r = h.exec(['--era', era, '--start', '2000', '--stats', '--json', '--', 'sh', '-c', `${start}; sleep 5; cat ${KSM}/pages_shared ${KSM}/pages_sharing 2>/dev/null || echo 0 0; kill ${kill}; wait`], 120_000);
  const [shared, sharing] = r.stdout.trim().split(/\s+/).map(Number);
  return { shared, sharing, status: r.status, stderr: r.stderr, r };
}

run(`qemu 7.2 under v3:2.6.32: its guest's RAM, given to KSM by qemu's own madvise(MADV_MERGEABLE), merges${why}`, (t) => {
  t.timeout(3 * 60_000);
  const one = guests('v3:2.6.32', [QEMU]);
  t.is(one.status, 0, one.stderr);
  t.true(one.shared > 0 && one.sharing > one.shared, `pages_shared ${one.shared}, pages_sharing ${one.sharing}`);
  h.untouched(t, one.r);
});

run(`two qemu guests under v3:2.6.32 share pages with each other; with mem-merge=off qemu registers nothing${why}`, (t) => {
  t.timeout(3 * 60_000);
  const two = guests('v3:2.6.32', [QEMU, QEMU]);
  t.is(two.status, 0, two.stderr);
  // Two guests running the same firmware: each of the other's pages has its twin.
  t.true(two.shared > 0 && two.sharing > 2 * two.shared, `pages_shared ${two.shared}, pages_sharing ${two.sharing}`);
  h.untouched(t, two.r);
  const off = guests('v3:2.6.32', [`${QEMU} -machine mem-merge=off`]);
  t.deepEqual([off.shared, off.sharing], [0, 0]);
  h.untouched(t, off.r);
});

run(`qemu under v1:2009: the 2.6.28 madvise knows no advice 12 (EINVAL, which qemu ignores): the guest runs, nothing is registered${why}`, (t) => {
  t.timeout(3 * 60_000);
  const r = h.exec(['--era', 'v1:2009', '--trace', '--stats', '--json', '--', 'sh', '-c', `${QEMU} & g=$!; sleep 3; kill $g; wait`], 120_000);
  t.is(r.status, 0, r.stderr);
  // The 32 MiB of guest RAM: MADV_MERGEABLE refused as 2.6.28's madvise refused an advice it did not know.
  t.regex(r.stderr, /MADVISE\(\d+, 33554432, 12\) = -22$/m);
  t.notRegex(r.stderr, /MADVISE\(\d+, \d+, 12\) = 0$/m);
  h.untouched(t, r);
});
