/**
 * `ksmctl status --real` over a made-up sysfs tree and /proc in a temporary
 * directory (the paths are parameters): a 6.18 layout and a 5.19 one that
 * lacks the newer files; rates and ksmd's CPU share between samples.
 */
import test from 'ava';
import { runStatus, type StatusEnv } from '../../src/cli/commands/status.js';
import { CliError } from '../../src/cli/errors.js';
import { cpuShare, parseKsmStat, sortProcesses, statFields } from '../../src/real/proc.js';
import { KsmSysfs } from '../../src/real/sysfs.js';
import { COUNTERS_519, COUNTERS_618, FakeKernel, KNOBS_519, KNOBS_618, ksmStat618 } from '../helpers/fake-kernel.js';
import { KSMCTL, ksmctl, STACK } from '../helpers/cli.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SYSTEM_PATHS } from '../../src/real/paths.js';

/** A status environment over the fake tree: a clock that moves only when the test sleeps, and a hook run at each sleep. */
function fakeEnv(k: FakeKernel, onSleep: (n: number) => void = () => {}): StatusEnv & { slept: number[] } {
  let now = 1000;
  const slept: number[] = [];
  return {
    paths: k.paths,
    kernel: '6.18.0-test',
    clock: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms / 1000;
      onSleep(slept.length);
    },
    cpuWindow: 0.5,
    onInterrupt: () => () => {},
    slept,
  };
}

function kernel618(): FakeKernel {
  const k = new FakeKernel(KNOBS_618, COUNTERS_618);
  k.process({ pid: 40, comm: 'ksmd', ticks: [0, 100] });
  k.process({ pid: 1234, comm: 'qemu-system-x86', ksmStat: ksmStat618({ rmap: 300, merging: 200, profit: 200 * 4096 - 300 * 64 }) });
  k.process({ pid: 999, comm: 'idle-app', ksmStat: ksmStat618({ rmap: 0, merging: 0, profit: 0, mergeable: false }) });
  k.process({ pid: 77, comm: 'small', ksmStat: ksmStat618({ rmap: 10, merging: 5, profit: 5 * 4096 - 640, any: true }) });
  return k;
}

test('one sample of a 6.18 tree: counters, knobs in written form, ksmd, the active processes by merging pages', async (t) => {
  const k = kernel618();
  t.teardown(() => k.remove());
  k.file('pages_shared', '3');
  k.file('general_profit', '811008');
  const env = fakeEnv(k, () => k.process({ pid: 40, comm: 'ksmd', ticks: [0, 150] }));
  const out: string[] = [];
  await runStatus({ real: true, json: true }, (s) => out.push(s), env);
  t.is(out.length, 1);
  const s = JSON.parse(out[0]);
  t.deepEqual(Object.keys(s.counters), Object.keys(COUNTERS_618));
  t.is(s.counters.pages_shared, 3);
  t.is(s.general_profit, 811008);
  t.is(s.knobs.advisor_mode, 'none', 'the bracketed choice');
  t.is(s.knobs.smart_scan, 1);
  t.deepEqual(s.ksmd, { pid: 40, cpu_seconds: 1.5, cpu_share: 1 }, '50 ticks (0.5 s) of CPU over the 0.5 s between the reads: one whole core');
  t.deepEqual(
    s.processes.map((p: { pid: number }) => p.pid),
    [1234, 77],
    'sorted by merging pages; a process with nothing registered is left out',
  );
  t.deepEqual(s.processes[1], { pid: 77, name: 'small', merging_pages: 5, profit: 5 * 4096 - 640, merge_any: true, mergeable: true, rmap_items: 10, zero_pages: 0 });
  t.false('rates' in s, 'a single sample has no rates');
  t.deepEqual(env.slept, [500]);
});

test('an older kernel (5.19): only its files are shown, no general_profit, processes from ksm_merging_pages', async (t) => {
  const k = new FakeKernel(KNOBS_519, COUNTERS_519);
  t.teardown(() => k.remove());
  k.process({ pid: 40, comm: 'ksmd' });
  k.process({ pid: 500, comm: 'qemu', merging: 42 });
  k.process({ pid: 501, comm: 'bash', merging: 0 });
  const out: string[] = [];
  await runStatus({ real: true }, (s) => out.push(s), fakeEnv(k));
  const text = out.join('\n');
  t.regex(text, /^general_profit: not exposed by this kernel$/m);
  t.regex(text, /^pages_sharing +0$/m);
  for (const absent of ['pages_scanned', 'smart_scan', 'advisor_mode', 'ksm_zero_pages', 'pages_skipped']) t.notRegex(text, new RegExp(`^${absent} `, 'm'));
  t.regex(text, /^1 process with KSM activity:$/m);
  t.regex(text, /^ *500 +qemu +42 +- +- +- +- +-$/m, 'fields the kernel lacks are dashes');
  const json: string[] = [];
  await runStatus({ real: true, json: true }, (s) => json.push(s), fakeEnv(k));
  const s = JSON.parse(json[0]);
  t.is(s.general_profit, null);
  t.deepEqual(s.processes, [{ pid: 500, name: 'qemu', merging_pages: 42, profit: null, merge_any: null, mergeable: null, rmap_items: null, zero_pages: null }]);
});

test('--watch prints rates per second between samples and ends after --count', async (t) => {
  const k = kernel618();
  t.teardown(() => k.remove());
  const env = fakeEnv(k, (n) => {
    // Two seconds pass per sleep: 1000 more pages scanned and one more full scan each time.
    k.file('pages_scanned', `${1000 * n}`);
    k.file('full_scans', `${n}`);
    k.file('pages_sharing', `${10 - n}`);
    k.process({ pid: 40, comm: 'ksmd', ticks: [0, 100 + 50 * n] });
  });
  const out: string[] = [];
  await runStatus({ real: true, json: true, watch: 2, count: 3 }, (s) => out.push(s), env);
  t.is(out.length, 3);
  const [a, b, c] = out.map((l) => JSON.parse(l));
  t.false('rates' in a);
  t.is(b.rates.pages_scanned, 500);
  t.is(b.rates.full_scans, 0.5);
  t.is(c.rates.pages_sharing, -0.5, 'a counter that falls has a negative rate');
  t.is(b.ksmd.cpu_share, 0.25, '0.5 s of CPU in 2 s');
  t.deepEqual(env.slept, [2000, 2000]);
  const text: string[] = [];
  await runStatus({ real: true, watch: 2, count: 2 }, (s) => text.push(s), fakeEnv(k));
  t.regex(text[1], /^counter +value +per second$/m);
});

test('--watch ends cleanly when interrupted (Ctrl-C)', async (t) => {
  const k = kernel618();
  t.teardown(() => k.remove());
  let abort: () => void = () => {};
  const env = { ...fakeEnv(k), onInterrupt: (a: () => void) => ((abort = a), () => {}) };
  const out: string[] = [];
  let n = 0;
  env.sleep = async () => {
    if (++n === 2) abort();
  };
  await runStatus({ real: true, json: true, watch: 1 }, (s) => out.push(s), env);
  t.is(out.length, 2, 'the samples before the interrupt, then the end');
});

test('no KSM directory, or no --real: one line, exit 2', async (t) => {
  const k = kernel618();
  t.teardown(() => k.remove());
  const env = { ...fakeEnv(k), paths: { ...k.paths, sysfs: `${k.paths.sysfs}-missing` } };
  const e = await t.throwsAsync(runStatus({ real: true }, () => {}, env), { instanceOf: CliError });
  t.is(e?.exitCode, 2);
  t.regex(e?.message ?? '', /^no .*-missing: this kernel was built without KSM \(CONFIG_KSM\)$/);
  await t.throwsAsync(runStatus({}, () => {}, fakeEnv(k)), { instanceOf: CliError, message: /say --real/ });
});

test('the readers: a comm with spaces and parentheses, ksm_stat both forms, knob modes, sorting', (t) => {
  t.deepEqual(statFields('7 (a (b) c) S 1 2').slice(0, 2), ['S', '1']);
  t.deepEqual([...parseKsmStat('ksm_rmap_items 3\nksm_merge_any: yes\n')], [['ksm_rmap_items', '3'], ['ksm_merge_any', 'yes']]);
  t.is(cpuShare({ pid: 1, cpuSeconds: 1, at: 10 }, { pid: 2, cpuSeconds: 2, at: 11 }), null, 'ksmd restarted');
  const k = kernel618();
  t.teardown(() => k.remove());
  const files = new KsmSysfs(k.paths.sysfs).files();
  t.deepEqual(files.filter((f) => f.knob).map((f) => f.name).slice(0, 3), ['run', 'pages_to_scan', 'sleep_millisecs']);
  t.false(files.find((f) => f.name === 'full_scans')!.knob);
  const p = (pid: number, name: string, merging: number, profit: number | null) => ({ pid, name, merging_pages: merging, profit, merge_any: null, mergeable: null, rmap_items: null, zero_pages: null });
  const list = [p(3, 'c', 5, null), p(1, 'b', 5, 10), p(2, 'a', 9, 1)];
  t.deepEqual(sortProcesses(list, 'merging').map((x) => x.pid), [2, 1, 3]);
  t.deepEqual(sortProcesses(list, 'profit').map((x) => x.pid), [1, 2, 3]);
  t.deepEqual(sortProcesses(list, 'name').map((x) => x.pid), [2, 1, 3]);
  t.deepEqual(sortProcesses(list, 'pid').map((x) => x.pid), [1, 2, 3]);
});

test('ksmctl status --real on this machine: read-only, exit 0 (or exit 2 in one line without KSM)', (t) => {
  const r = ksmctl(['status', '--real', '--json']);
  if (r.status === 2) {
    t.regex(r.stderr, /^ksmctl: no \/sys\/kernel\/mm\/ksm: this kernel was built without KSM/);
    return;
  }
  t.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  t.true(typeof s.counters.full_scans === 'number');
  t.notRegex(r.stderr, STACK);
});

test('ksmctl status --real works unprivileged (run as nobody where this test runs as root)', (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/runuser') || !existsSync(SYSTEM_PATHS.sysfs)) {
    t.pass('skipped: needs root (to become nobody), runuser and a kernel with KSM');
    return;
  }
  const r = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, KSMCTL, 'status', '--real'], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^counter +value$/m);
});

test('ksmctl status --real --watch: Ctrl-C (SIGINT) ends it with status 0', async (t) => {
  if (!existsSync(SYSTEM_PATHS.sysfs)) {
    t.pass('skipped: this kernel has no KSM');
    return;
  }
  const child = spawn(process.execPath, [KSMCTL, 'status', '--real', '--json', '--watch', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > 2) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  t.is(code, 0);
  t.true(out.trim().split('\n').every((l) => typeof JSON.parse(l).counters === 'object'));
});
