/**
 * The live view of a kernel that runs elsewhere (the ksmctl host's), over
 * the era's adapter: every era of the registry, 6.18's files and
 * /proc/PID/ksm_stat included, and controls as the era's own calls (v1:
 * the ksmctl program's open() and ioctl, each a line of its own, with its
 * pid).
 */
import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { ERAS, eraById } from '../../src/eras/registry.js';
import { KernelView } from '../../src/session/kernel-view.js';
import { PAGE_MERGED } from '../../src/session/session.js';

/** An adapter of the era with two processes of 64 equal pages each, registered through the era's calls. */
function machine(id: (typeof ERAS)[number]['id']) {
  const a = eraById(id).boot();
  const region = { pages: 64, runs: [{ pages: 64, content: { kind: 'fill' as const, value: 7 } }] };
  const pids: number[] = [];
  for (const name of ['one', 'two']) {
    const p = a.spawn(name);
    const addr = a.mmap(p, 64);
    a.fill(p, addr, region);
    if (a.register(p, addr, 64) < 0) throw new Error(`${id}: register failed`);
    pids.push(p.pid);
  }
  return { a, pids };
}

for (const era of ERAS) {
  test(`${era.id}: the view reads the kernel's registrations, and its controls merge the pages`, (t) => {
    const { a, pids } = machine(era.id);
    const v = new KernelView(a);
    t.is(v.session.info.id, era.id);
    t.deepEqual(v.processes().map((p) => [p.name, p.registeredPages]), [['one', 64], ['two', 64]]);
    // Knobs as a user of the era set them (the 2009 eras boot with every knob 0).
    const calls = [...v.act('pagesToScan', 200).calls, ...v.act('sleep', 20_000).calls, ...v.act('start').calls];
    t.true(calls.every((c) => c.ok), calls.map((c) => c.text).join('\n'));
    t.true(calls.every((c) => !c.text.includes('\n')), 'one call a line');
    v.act('advance', 3_000_000, 1000);
    const states = v.pageStates(pids[0]);
    t.is(states.length, 64);
    t.is(states.filter((s) => s === PAGE_MERGED).length, v.processes()[0].mergedPages);
    t.true(v.pagesSaved() > 0, `${era.id}: pages saved`);
    t.true(v.nodes()[0].ksmPages > 0);
  });
}

test('v1: the first control starts ksmctl, whose open() and ioctl are lines of their own with its pid', (t) => {
  const { a } = machine('v1:2009');
  const v = new KernelView(a);
  t.deepEqual(v.act('pagesToScan', 200).calls.map((c) => c.text), [
    '[pid 102] open("/dev/ksm", O_RDWR) = 3',
    '[pid 102] ioctl(3, KSM_START_STOP_KTHREAD, {sleep=0, pages_to_scan=200, flags=0, pad=0, reserved_bits=0}) = 0',
  ]);
  t.deepEqual(v.act('start').calls.map((c) => c.text), ['[pid 102] ioctl(3, KSM_START_STOP_KTHREAD, {sleep=0, pages_to_scan=200, flags=1, pad=0, reserved_bits=0}) = 0']);
});

test('6.18: the view has its files and each process\'s /proc/PID/ksm_stat; controls are echo lines without a pid', (t) => {
  const { a } = machine('v3:6.18');
  const v = new KernelView(a);
  t.deepEqual(v.act('start').calls, [{ text: 'echo 1 > /sys/kernel/mm/ksm/run', ok: true }]);
  v.act('advance', 3_000_000, 1000);
  const files = Object.fromEntries(v.files().map((f) => [f.name, f.value]));
  t.true(Number(files.general_profit) > 0);
  t.is(files.use_zero_pages, '0');
  const p = v.processes()[0];
  t.is(Number(p.stat?.ksm_merging_pages), p.mergedPages);
  t.is(p.stat?.ksm_merge_any, 'no');
  t.is(p.registeredPages * PAGE_SIZE, 64 * PAGE_SIZE);
});
