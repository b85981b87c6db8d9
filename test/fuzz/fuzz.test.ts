/**
 * The fuzzers' bounded run in CI (npm run fuzz does 100,000 inputs per
 * target): every target, a fixed seed, a few seconds in all.
 */
import test from 'ava';
import { FuzzFailure, formatFuzz, runFuzz } from '../../src/fuzz/fuzz.js';
import { parseFuzzArgs } from '../../src/fuzz/fuzz-main.js';
import { HOST_TARGET, runHostFuzz } from '../../src/fuzz/host-target.js';
import { Rng } from '../../src/fuzz/rng.js';
import { ERAS, eraById } from '../../src/eras/registry.js';
import { findTarget, type FuzzTarget, FuzzViolation, TARGETS, targetsOf } from '../../src/fuzz/targets.js';

for (const target of TARGETS) {
  const inputs = target.name === 'workload-json' || target.name === 'script' ? 300 : 1000;
  test(`fuzz ${target.name}: ${inputs} inputs, only the era's answers, invariants intact`, (t) => {
    const r = runFuzz({ seed: 20090416, inputs, targets: [target] });
    t.log(formatFuzz(r, 6));
    t.is(r.targets[0].inputs, inputs);
    t.true(r.targets[0].outcomes.size >= 3, 'the inputs reach several different answers');
  });
}

test('a wrong answer is reported with the seed, target and session that replay it', (t) => {
  const bad: FuzzTarget = {
    name: 'bad',
    what: 'a target that finds a bug at its 5th input',
    session: () => {
      let n = 0;
      return {
        run: () => {
          if (++n === 5) throw new FuzzViolation('input 5', 'madvise returned +3');
          return 'ok';
        },
        problems: () => [],
      };
    },
  };
  const e = t.throws(() => runFuzz({ seed: 9, inputs: 50, targets: [bad] }), { instanceOf: FuzzFailure });
  t.regex(e!.message, /target bad, session 0, input 4, seed 9: madvise returned \+3/);
  t.regex(e!.message, /npm run fuzz -- --seed 9 --target bad --session 0/);
});

test('a session replays alone, the same', (t) => {
  const a = runFuzz({ seed: 3, inputs: 400, targets: [TARGETS[0]] });
  const b = runFuzz({ seed: 3, inputs: 0, targets: [TARGETS[0]], session: 1 });
  t.is(b.targets[0].inputs, 200);
  t.true(a.targets[0].outcomes.size > 0);
  const r1 = new Rng(5);
  const r2 = new Rng(5);
  t.deepEqual([r1.u32(), r1.int(10), r1.float()], [r2.u32(), r2.int(10), r2.float()]);
});

test('targets by era: madvise and sysfs for every era that registers with madvise, ioctl for each v1 era; every era has its own', (t) => {
  t.deepEqual(
    TARGETS.map((x) => x.name),
    ['ioctl', 'madvise-v2', 'madvise-v3:2.6.32', 'madvise-v3:3.9', 'madvise-v3:6.18', 'sysfs-v2', 'sysfs-v3:2.6.32', 'sysfs-v3:3.9', 'sysfs-v3:6.18', 'workload-json', 'script'],
  );
  for (const era of ERAS) t.true(targetsOf(era).length > 0, era.id);
  t.deepEqual(targetsOf(eraById('v1:2009')).map((x) => x.name), ['ioctl-v1:2009']);
  t.deepEqual(targetsOf(eraById('v3:6.18')).map((x) => x.name), ['madvise-v3:6.18', 'sysfs-v3:6.18']);
});

test('the old target names still find their targets, whose sessions keep the old seeds (replays stay valid)', (t) => {
  t.is(findTarget('madvise-v3')?.name, 'madvise-v3:2.6.32');
  t.is(findTarget('sysfs-v3')?.seedName, 'sysfs-v3');
  t.is(findTarget('madvise-v2')?.seedName, undefined);
  t.is(findTarget('sysfs-v3-6.18')?.name, 'sysfs-v3:6.18');
  t.is(findTarget('madvise-v1:2008'), undefined);
  t.is(findTarget('sysfs-v9'), undefined);
  const renamed = runFuzz({ seed: 11, inputs: 200, targets: [findTarget('sysfs-v3')!] });
  const byOldName = runFuzz({ seed: 11, inputs: 200, targets: [{ ...findTarget('sysfs-v3')!, name: 'sysfs-v3', seedName: undefined }] });
  t.deepEqual([...renamed.targets[0].outcomes], [...byOldName.targets[0].outcomes]);
});

test('fuzz host: 300 frames against a live host, each followed by ping, state and the invariants', async (t) => {
  const r = await runHostFuzz({ seed: 20090416, inputs: 300 });
  t.log(formatFuzz({ seed: 20090416, targets: [r], ms: r.ms }, 8));
  t.is(r.inputs, 300);
  t.is(r.checks, 300);
  t.true(r.outcomes.size >= 8, 'the frames reach many different answers');
  t.true(r.outcomes.has('ok'));
});

test('a host-target failure names the host target in its replay line', (t) => {
  const e = new FuzzFailure(7, HOST_TARGET.name, 3, 9, 'the host did not answer');
  t.regex(e.message, /^fuzz: target host, session 3, input 9, seed 7: the host did not answer\nreplay: npm run fuzz -- --seed 7 --target host --session 3$/);
});

test('fuzz arguments', (t) => {
  t.like(parseFuzzArgs(['--seed', '4', '--inputs', '10_000', '--target', 'ioctl,sysfs-v3'], 1), { seed: 4, inputs: 10000, host: false });
  t.deepEqual(parseFuzzArgs(['--target', 'ioctl'], 1).targets.map((x) => x.name), ['ioctl']);
  t.like(parseFuzzArgs(['--target', 'host'], 1), { targets: [], host: true });
  t.true(parseFuzzArgs([], 1).host, 'every target by default, the host\'s included');
  t.throws(() => parseFuzzArgs(['--target', 'nope'], 1), { message: /no target nope/ });
});
