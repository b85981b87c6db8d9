/**
 * A real run ended from outside, mid-pass: after SIGKILL (nothing of ours
 * runs any more) the recovery file is left and `ksmctl verify --recover`
 * brings /sys/kernel/mm/ksm back to exactly what it read before; after
 * SIGTERM or SIGINT the run itself kills its processes and restores every
 * knob, and exits 128 + the signal. Needs root and KSM (skipped otherwise).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoveryFileIn, stateDir } from '../../src/real/guard.js';
import { KSMCTL, ksmctl } from '../helpers/cli.js';
import { KSM_DIR, readKsmDir, realKernelMissing, WAIT_SECONDS } from '../helpers/real-kernel.js';

const missing = realKernelMissing();
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
    const saved = existsSync(recovery) ? (JSON.parse(readFileSync(recovery, 'utf8')) as { pid: number }) : null;
    if (saved?.pid === child.pid && readFileSync(join(KSM_DIR, 'run'), 'utf8').trim() === '1') break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the run ended or never started a pass: ${stderr}`);
    await sleep(2);
  }
  return { child, exited, stderr: () => stderr };
}

const real = missing === null ? test.serial : test.skip;
const why = missing === null ? '' : ` (skipped: ${missing})`;

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
