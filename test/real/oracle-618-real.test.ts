/**
 * `--era real` on this machine's kernel reproduces the recorded real-6.18
 * runs of test/fixtures/oracle-618 (made with the kernel oracle), snapshot
 * for snapshot, through the built ksmctl; /sys/kernel/mm/ksm reads as
 * before afterwards. Needs root and KSM, and a 6.18 kernel for the
 * recordings to apply: skipped otherwise, with the reason in the title.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { ksmctl } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';
import { readKsmDir, realKernelMissing, WAIT_SECONDS } from '../helpers/real-kernel.js';

const DIR = join(FIXTURES, 'oracle-618');
const missing = realKernelMissing() ?? (release().startsWith('6.18.') ? null : `the recordings are of Linux 6.18, this is ${release()}`);

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.expected.json')).sort()) {
  const expected = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { workload: string; knobs: Record<string, string>; snapshots: unknown[] };
  const knobs = Object.entries(expected.knobs);
  const title = `${file.replace(/\.expected\.json$/, '')}${knobs.length ? ` (${knobs.map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}: --era real gives what the real kernel gave`;
  if (missing !== null) {
    test.skip(`${title} (skipped: ${missing})`, () => {});
    continue;
  }
  test.serial(title, (t) => {
    const before = readKsmDir();
    const r = ksmctl(['workload', 'run', join(DIR, expected.workload), '--era', 'real', '--json', '--wait', WAIT_SECONDS, ...knobs.flatMap(([k, v]) => ['--sysfs', `${k}=${v}`])]);
    t.is(r.status, 0, r.stderr);
    t.deepEqual(JSON.parse(r.stdout).snapshots, expected.snapshots);
    t.deepEqual(readKsmDir(), before, '/sys/kernel/mm/ksm as before the run');
  });
}
