/**
 * Everything that drives this machine's own KSM, in one file and one test
 * after another (test.serial), so that no two of them drive it at once and
 * the reads of /sys/kernel/mm/ksm before and after each are undisturbed.
 * They need root and a kernel with KSM (the recordings and the model: Linux
 * 6.18), and are registered as skipped elsewhere with the reason in their
 * title. They wait for KSM to be free (another run, a benchmark) rather
 * than force.
 *
 * - the recorded real-6.18 runs of test/fixtures/oracle-618 (made with the
 *   kernel oracle), reproduced by --era real through the built ksmctl;
 * - verify on the ten workloads of examples/workloads/verify (chains, zero
 *   pages, smart scan, unregister, exit), an agreement and a difference;
 * - runs ended from outside mid-pass: SIGKILL (then verify --recover),
 *   SIGTERM and SIGINT (restored by the run itself);
 * - a small check of the ksmd CPU model (calibrate --check on the two
 *   workloads of test/fixtures/cpu-check, which the default profile was
 *   not fitted on).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecovery, recoveryFileIn, stateDir } from '../../src/real/guard.js';
import type { CheckRow } from '../../src/cpu/calibrate.js';
import type { Verification } from '../../src/real/verify.js';
import { KSMCTL, ksmctl } from '../helpers/cli.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';
import { KSM_DIR, readKsmDir, realKernelMissing, WAIT_SECONDS } from '../helpers/real-kernel.js';

const missing = realKernelMissing() ?? (release().startsWith('6.18.') ? null : `the recordings and the model are of Linux 6.18, this is ${release()}`);
const real = missing === null ? test.serial : test.skip;
const why = missing === null ? '' : ` (skipped: ${missing})`;

// ---------------------------------------------------------------- the recorded runs

const ORACLE = join(FIXTURES, 'oracle-618');
for (const file of readdirSync(ORACLE).filter((f) => f.endsWith('.expected.json')).sort()) {
  const expected = JSON.parse(readFileSync(join(ORACLE, file), 'utf8')) as { workload: string; knobs: Record<string, string>; snapshots: unknown[] };
  const knobs = Object.entries(expected.knobs);
  const title = `${file.replace(/\.expected\.json$/, '')}${knobs.length ? ` (${knobs.map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}: --era real gives what the real kernel gave`;
  real(`${title}${why}`, (t) => {
    const before = readKsmDir();
    const r = ksmctl(['workload', 'run', join(ORACLE, expected.workload), '--era', 'real', '--json', '--wait', WAIT_SECONDS, ...knobs.flatMap(([k, v]) => ['--sysfs', `${k}=${v}`])]);
    t.is(r.status, 0, r.stderr);
    t.deepEqual(JSON.parse(r.stdout).snapshots, expected.snapshots);
    t.deepEqual(readKsmDir(), before, '/sys/kernel/mm/ksm as before the run');
  });
}

// ---------------------------------------------------------------- verify

const VERIFY = join(ROOT, 'examples', 'workloads', 'verify');

test.serial('there are ten of them', (t) => {
  t.is(readdirSync(VERIFY).filter((f) => f.endsWith('.json')).length, 10);
});

for (const file of readdirSync(VERIFY).filter((f) => f.endsWith('.json')).sort()) {
  const title = `verify agrees on ${file}`;
  real(`${title}${why}`, (t) => {
    const before = readKsmDir();
    const r = ksmctl(['verify', join(VERIFY, file), '--json', '--wait', WAIT_SECONDS]);
    t.is(r.status, 0, r.stderr || r.stdout.slice(0, 2000));
    const v = JSON.parse(r.stdout) as Verification;
    t.true(v.agree);
    t.true(v.snapshots > 0);
    t.deepEqual(readKsmDir(), before);
  });
}


real(`verify agrees on worked-example (exit 0), and its JSON has both runs${why}`, (t) => {
  const w = join(FIXTURES, 'workloads', 'worked-example.json');
  const r = ksmctl(['verify', w, '--wait', WAIT_SECONDS]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^worked-example: Linux .* against v3:\d/m);
  t.regex(r.stdout, /^all 3 snapshots agree \(real kernel .*, simulator .*\)$/m);
  const j = ksmctl(['verify', w, '--json', '--wait', WAIT_SECONDS]);
  const v = JSON.parse(j.stdout) as Verification;
  t.true(v.agree);
  t.deepEqual(v.real.snapshots, v.simulated.snapshots);
  t.is(v.snapshots, 3);
});

real(`verify against another era names the first difference (exit 1)${why}`, (t) => {
  const r = ksmctl(['verify', join(FIXTURES, 'workloads', 'two-guests.json'), '--era', 'v3:2.6.32', '--wait', WAIT_SECONDS]);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stdout, /^snapshot \d+ \(.*\) differs first in \w+: \d+ on the real kernel, \d+ in v3:2\.6\.32 /m);
});

real(`workload run --era real --json has exactly the simulator's shape${why}`, (t) => {
  const w = join(FIXTURES, 'workloads', 'worked-example.json');
  const realDoc = JSON.parse(ksmctl(['workload', 'run', w, '--era', 'real', '--json', '--wait', WAIT_SECONDS]).stdout);
  const simDoc = JSON.parse(ksmctl(['workload', 'run', w, '--era', 'v3:6.18', '--json']).stdout);
  t.deepEqual(realDoc, simDoc);
});

// ---------------------------------------------------------------- runs ended from outside

const dir = mkdtempSync(join(tmpdir(), 'ksmctl-kill-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Long passes: two processes of 12,000 identical pages each, three passes. */
const WORKLOAD = join(dir, 'long.json');
writeFileSync(
  WORKLOAD,
  JSON.stringify({
    name: 'long',
    description: 'passes long enough to be interrupted',
    processes: { a: [{ pages: 12000, content: { seedFrom: 1 } }], b: [{ pages: 12000, content: { seedFrom: 1 } }] },
    steps: [{ register: 'a' }, { register: 'b' }, { fullScans: 3 }],
  }),
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a real run and resolves once ksmd is in one of its passes (run=1, the knobs saved). */
async function runUntilMidPass() {
  const child = spawn(process.execPath, [KSMCTL, 'workload', 'run', WORKLOAD, '--era', 'real', '--wait', WAIT_SECONDS], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const recovery = recoveryFileIn(stateDir());
  const deadline = Date.now() + Number(WAIT_SECONDS) * 1000 + 30_000;
  for (;;) {
    const saved = readRecovery(recovery);
    if (saved?.pid === child.pid && readFileSync(join(KSM_DIR, 'run'), 'utf8').trim() === '1') break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the run ended or never started a pass: ${stderr}`);
    await sleep(2);
  }
  return { child, exited, stderr: () => stderr };
}


real(`SIGKILL mid-pass leaves the recovery file; verify --recover restores /sys/kernel/mm/ksm exactly${why}`, async (t) => {
  const before = readKsmDir();
  const { child, exited } = await runUntilMidPass();
  child.kill('SIGKILL');
  t.is((await exited).signal, 'SIGKILL');
  t.not(readKsmDir().pages_to_scan, before.pages_to_scan, 'the killed run left its knobs (the test is meaningful)');
  t.true(existsSync(recoveryFileIn(stateDir())));
  const r = ksmctl(['verify', '--recover', '--wait', '10']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^restored ${KSM_DIR} as it was before the run of pid ${child.pid} `));
  t.deepEqual(readKsmDir(), before);
  t.false(existsSync(recoveryFileIn(stateDir())));
  t.is(ksmctl(['verify', '--recover']).stdout.trim(), 'nothing to recover: no run left /sys/kernel/mm/ksm changed');
});

for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  real(`${signal} mid-pass: the run kills its processes and restores every knob itself, exit ${status}${why}`, async (t) => {
    const before = readKsmDir();
    const { child, exited, stderr } = await runUntilMidPass();
    child.kill(signal);
    t.is((await exited).code, status);
    t.regex(stderr(), new RegExp(`^ksmctl: interrupted by ${signal}: the workload's processes were killed and ${KSM_DIR} restored$`, 'm'));
    t.deepEqual(readKsmDir(), before);
    t.false(existsSync(recoveryFileIn(stateDir())));
  });
}

// ---------------------------------------------------------------- the ksmd CPU model

// The figures are CPU times on a shared machine, so the bound asserted is
// looser than the full check's 25 % (docs/cpu-model.md): a model off by more
// than half is broken, not noisy.
real(`calibrate --check predicts ksmd's CPU per pass on the real kernel for workloads it was not fitted on${why}`, (t) => {
  const before = readKsmDir();
  const r = ksmctl(['calibrate', '--check', '--workloads', join(FIXTURES, 'cpu-check'), '--json', '--wait', WAIT_SECONDS]);
  t.true(r.status === 0 || r.status === 1, r.stderr);
  const doc = JSON.parse(r.stdout) as { profile: string; tolerance: number; rows: CheckRow[] };
  t.is(doc.profile, 'default');
  t.is(doc.tolerance, 0.25);
  t.deepEqual(doc.rows.map((x) => x.workload), ['small-distinct-8k', 'small-pairs-4k']);
  for (const row of doc.rows) {
    t.is(row.skipped, null, `${row.workload}: the simulator and the kernel agree on every snapshot`);
    t.is(row.passes, 3);
    t.true(row.measuredMsPerPass > 0 && row.predictedMsPerPass > 0, JSON.stringify(row));
    t.true(Math.abs(row.errorPercent) < 50, `${row.workload}: predicted ${row.predictedMsPerPass} ms/pass, measured ${row.measuredMsPerPass}`);
  }
  t.is(r.status, doc.rows.every((x) => x.within) ? 0 : 1);
  t.regex(r.stderr, /1\/2 small-distinct-8k: ksmd CPU per pass/);
  t.deepEqual(readKsmDir(), before, '/sys/kernel/mm/ksm as before the check');
});
