/**
 * `ksmctl tui --real`'s session over a made-up sysfs tree and /proc: the
 * counters this kernel has (and ksmd's CPU), the knobs, controls that write
 * the files as the era's calls, the processes with KSM activity, and what
 * does not apply to the machine's own processes; then the TUI rendering it.
 */
import test from 'ava';
import { render } from 'ink-testing-library';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { KSMD_CPU, RealSession } from '../../src/real/session.js';
import { App } from '../../src/tui/app.js';
import { COUNTERS_519, COUNTERS_618, FakeKernel, KNOBS_519, KNOBS_618, ksmStat618 } from '../helpers/fake-kernel.js';

function kernel(): FakeKernel {
  const k = new FakeKernel(KNOBS_618, COUNTERS_618);
  k.process({ pid: 40, comm: 'ksmd', ticks: [0, 100] });
  k.process({ pid: 1234, comm: 'qemu', ksmStat: ksmStat618({ rmap: 300, merging: 200, profit: 1 }) });
  return k;
}

test('the counters are the kernel\'s read-only files and ksmd\'s CPU share; pages saved is pages_sharing (+ zero pages)', (t) => {
  const k = kernel();
  t.teardown(() => k.remove());
  let now = 0;
  const s = new RealSession(k.paths, () => now);
  t.deepEqual(s.counterNames, [...Object.keys(COUNTERS_618), KSMD_CPU]);
  k.file('pages_sharing', '12');
  k.file('ksm_zero_pages', '3');
  k.file('pages_scanned', '500');
  k.process({ pid: 40, comm: 'ksmd', ticks: [0, 125] });
  now = 1000;
  s.advance(1_000_000);
  t.is(s.now(), 1_000_000);
  const c = Object.fromEntries(s.counters().map((x) => [x.name, x.value]));
  t.is(c.pages_sharing, 12);
  t.is(c[KSMD_CPU], 25, '0.25 s of CPU in a second');
  t.is(s.pagesSaved(), 15);
  t.deepEqual(s.work(), { pagesScanned: 500, merges: 12, batches: 0 });
  t.is(s.step(), 0, 'a batch of the real ksmd cannot be run from here');
});

test('an older kernel: only its files', (t) => {
  const k = new FakeKernel(KNOBS_519, COUNTERS_519);
  t.teardown(() => k.remove());
  t.deepEqual(new RealSession(k.paths).counterNames, [...Object.keys(COUNTERS_519), KSMD_CPU]);
});

test('controls write the real files as the era\'s calls; what does not apply says so', (t) => {
  const k = kernel();
  t.teardown(() => k.remove());
  const s = new RealSession(k.paths);
  t.deepEqual(s.start(), { text: `echo 1 > ${k.paths.sysfs}/run`, ok: true });
  t.is(readFileSync(join(k.paths.sysfs, 'run'), 'utf8'), '1');
  t.true(s.knobs().run);
  t.is(s.ksmdState(), 'sleeping');
  s.setPagesToScan(1000);
  s.setSleep(50_000);
  t.deepEqual(s.knobs(), { run: true, pagesToScan: 1000, sleepMicros: 50_000 });
  t.deepEqual(s.unmerge(), { text: `echo 2 > ${k.paths.sysfs}/run`, ok: true });
  t.is(s.ksmdState(), 'stopped');
  t.false(s.churn(1234).ok);
  t.false(s.exit(1234).ok);
  t.false(s.spawnGuest().calls[0].ok);
  t.deepEqual(s.processes(), [{ pid: 1234, name: 'qemu', registeredPages: 300, mergedPages: 200, cowBreaks: 0 }]);
  t.is(s.pageStates(1234).length, 300);
  rmSync(k.paths.sysfs, { recursive: true });
  t.deepEqual(s.setPagesToScan(5), { text: `echo 5 > ${k.paths.sysfs}/pages_to_scan: ENOENT`, ok: false }, 'a refused write is logged with its error');
});

test('the TUI renders the session: the kernel\'s counters and the processes', async (t) => {
  const k = kernel();
  t.teardown(() => k.remove());
  const r = render(<App session={new RealSession(k.paths)} eras={[]} tickMs={0} columns={120} rows={40} />);
  t.teardown(() => r.unmount());
  await new Promise((res) => setTimeout(res, 50));
  const frame = stripVTControlCharacters(r.lastFrame() ?? '');
  t.regex(frame, /general_profit/);
  t.regex(frame, /ksmd_cpu_percent/);
  t.regex(frame, /1234 qemu/);
});
