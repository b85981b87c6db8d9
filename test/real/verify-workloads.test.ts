/**
 * `ksmctl verify` on this machine agrees, snapshot for snapshot, on the ten
 * workloads of examples/workloads/verify/ (chains, zero pages, smart scan,
 * unregister, exit): the real kernel against the simulated era closest to
 * it. Needs root and KSM (skipped otherwise, with the reason); on a kernel
 * other than 6.18 the closest era may differ from it, and that is what
 * verify is for, so it is not asserted there.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { Verification } from '../../src/real/verify.js';
import { ksmctl } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';
import { readKsmDir, realKernelMissing, WAIT_SECONDS } from '../helpers/real-kernel.js';

const DIR = join(ROOT, 'examples', 'workloads', 'verify');
const missing = realKernelMissing() ?? (release().startsWith('6.18.') ? null : `the model is checked against Linux 6.18, this is ${release()}`);

test('there are ten of them', (t) => {
  t.is(readdirSync(DIR).filter((f) => f.endsWith('.json')).length, 10);
});

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()) {
  const title = `verify agrees on ${file}`;
  if (missing !== null) {
    test.skip(`${title} (skipped: ${missing})`, () => {});
    continue;
  }
  test.serial(title, (t) => {
    const before = readKsmDir();
    const r = ksmctl(['verify', join(DIR, file), '--json', '--wait', WAIT_SECONDS]);
    t.is(r.status, 0, r.stderr || r.stdout.slice(0, 2000));
    const v = JSON.parse(r.stdout) as Verification;
    t.true(v.agree);
    t.true(v.snapshots > 0);
    t.deepEqual(readKsmDir(), before);
  });
}
