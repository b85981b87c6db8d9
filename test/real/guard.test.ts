/**
 * The guard of real runs over a made-up sysfs tree (the paths are
 * parameters; the uid is passed as root's): every knob saved before the
 * first change and written back after, the recovery file, refusals (not
 * root, no KSM, a knob this kernel lacks, KSM busy), the lock.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusyError, Guard, GuardError, readRecovery, recover, recoveryFileIn, restoreKnobs, writeRecovery } from '../../src/real/guard.js';
import { KsmSysfs } from '../../src/real/sysfs.js';
import { COUNTERS_618, FakeKernel, KNOBS_618, ksmStat618 } from '../helpers/fake-kernel.js';

function setup(t: { teardown(f: () => void): void }) {
  const k = new FakeKernel(KNOBS_618, COUNTERS_618);
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-guard-'));
  t.teardown(() => {
    k.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  return { k, dir, ksm: new KsmSysfs(k.paths.sysfs), opts: { paths: k.paths, dir, uid: 0 } };
}

test('every knob is saved in the recovery file before a change, and written back on release', (t) => {
  const { ksm, dir, opts } = setup(t);
  const before = ksm.knobs();
  const g = Guard.acquire(opts);
  const saved = readRecovery(recoveryFileIn(dir));
  t.is(saved?.pid, process.pid);
  t.deepEqual(saved?.knobs, before);
  t.is(saved?.knobs.advisor_mode, 'none', 'a choice file is saved in its written form');
  ksm.write('pages_to_scan', '10064');
  ksm.write('smart_scan', '0');
  ksm.write('advisor_mode', 'scan-time');
  ksm.write('run', '1');
  t.deepEqual(g.release(), []);
  t.deepEqual(ksm.knobs(), before);
  t.false(existsSync(recoveryFileIn(dir)), 'the recovery file goes once the knobs are back');
});

test('restoring starts with run=2 then run=0 (no KSM page outlives the run), and puts run back last', (t) => {
  const { k, ksm } = setup(t);
  k.file('run', '1');
  const writes: string[] = [];
  const spy = Object.assign(Object.create(KsmSysfs.prototype) as KsmSysfs, ksm, {
    write(name: string, value: string) {
      writes.push(`${name}=${value}`);
      ksm.write(name, value);
    },
  });
  ksm.write('pages_to_scan', '5000');
  ksm.write('advisor_mode', 'scan-time');
  t.deepEqual(restoreKnobs(spy, { ...ksm.knobs(), run: '1', pages_to_scan: '100', advisor_mode: 'none' }), []);
  t.deepEqual(writes, ['run=2', 'run=0', 'advisor_mode=none', 'pages_to_scan=100', 'run=1']);
});

test('a killed run (its recovery file left behind) is undone by recover(), once', (t) => {
  const { ksm, dir, k } = setup(t);
  const before = ksm.knobs();
  writeRecovery(recoveryFileIn(dir), { pid: 999999, started: '2025-01-01T00:00:00.000Z', sysfs: k.paths.sysfs, knobs: before });
  ksm.write('pages_to_scan', '10064');
  ksm.write('sleep_millisecs', '2001');
  ksm.write('run', '1');
  t.is(recover(dir, { uid: 0, paths: k.paths }).restored?.pid, 999999);
  t.deepEqual(ksm.knobs(), before);
  t.false(existsSync(recoveryFileIn(dir)));
  t.is(recover(dir, { uid: 0, paths: k.paths }).restored, null, 'nothing left to recover');
});

test('a run that finds a recovery file restores it before saving its own', (t) => {
  const { ksm, dir, k, opts } = setup(t);
  const before = ksm.knobs();
  writeRecovery(recoveryFileIn(dir), { pid: 999999, started: '2025-01-01T00:00:00.000Z', sysfs: k.paths.sysfs, knobs: before });
  ksm.write('use_zero_pages', '1');
  const notes: string[] = [];
  const g = Guard.acquire({ ...opts, note: (l) => notes.push(l) });
  t.regex(notes[0], /^a run \(pid 999999, started 2025-01-01T00:00:00\.000Z\) did not restore .*: restoring its saved knobs first$/);
  t.deepEqual(readRecovery(recoveryFileIn(dir))?.knobs, before, 'the knobs saved are the real ones, not the killed run\'s');
  t.deepEqual(g.release(), []);
});

test('KSM holding pages, or another process registered: refused before any change, unless forced', (t) => {
  const { k, dir, opts } = setup(t);
  k.file('pages_sharing', '7');
  const e = t.throws(() => Guard.acquire(opts), { instanceOf: BusyError });
  t.regex(e?.message ?? '', /^KSM holds pages now \(pages_shared 0, pages_sharing 7\): nothing was changed \(--force runs anyway/);
  t.false(existsSync(recoveryFileIn(dir)));
  k.file('pages_sharing', '0');
  k.process({ pid: 4242, comm: 'qemu-kvm', ksmStat: ksmStat618({ rmap: 0, merging: 0, profit: 0, mergeable: true }) });
  t.throws(() => Guard.acquire(opts), { instanceOf: BusyError, message: /^other processes are registered with KSM: 4242 \(qemu-kvm\)/ });
  const g = Guard.acquire({ ...opts, force: true });
  t.deepEqual(g.release(), []);
});

test('not root, no KSM, a knob this kernel lacks: one line each (GuardError)', (t) => {
  const { k, opts } = setup(t);
  t.throws(() => Guard.acquire({ ...opts, uid: 1000 }), { instanceOf: GuardError, message: /^the real kernel is driven as root only/ });
  t.throws(() => Guard.acquire({ ...opts, paths: { ...k.paths, sysfs: join(k.dir, 'none') } }), { instanceOf: GuardError, message: /^no .*none: this kernel was built without KSM \(CONFIG_KSM\)$/ });
  t.throws(() => Guard.acquire({ ...opts, needs: ['max_kernel_pages'] }), { instanceOf: GuardError, message: /^this kernel has no .*\/max_kernel_pages$/ });
});

test('one run at a time: a second guard finds the lock taken', (t) => {
  const { opts } = setup(t);
  const g = Guard.acquire(opts);
  t.throws(() => Guard.acquire(opts), { instanceOf: BusyError, message: /^another run drives .* is locked\): try again later$/ });
  t.deepEqual(g.release(), []);
  Guard.acquire(opts).release();
});

test('restoring reports what it could not put back', (t) => {
  const { ksm } = setup(t);
  const problems = restoreKnobs(ksm, { ...ksm.knobs(), no_such_knob: '1' });
  t.deepEqual(problems, ['no_such_knob is (missing), was 1']);
  t.true(readFileSync(join(ksm.root, 'run'), 'utf8').startsWith('0'));
});
