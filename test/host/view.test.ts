/**
 * The host's live view (what an attached TUI reads) and its controls: the
 * trace of every program with pids, the era's counters and knobs through
 * the session layer, the processes and page states read from the kernel's
 * own registrations, controls as the era's calls, virtual time only on a
 * manual clock, and the server's checks of view and control requests.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostClient } from '../../src/host/client.js';
import { HostMachine } from '../../src/host/machine.js';
import type { OutputChunk } from '../../src/host/protocol.js';
import { HostServer } from '../../src/host/server.js';
import { HostTrace } from '../../src/host/trace.js';
import { PAGE_MERGED } from '../../src/session/session.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

const text = (out: OutputChunk[], fd?: 1 | 2) => out.filter((c) => fd === undefined || c.fd === fd).map((c) => c.text).join('');

/** A guest that maps 64 pages of one content, registers them through /dev/ksm (2009 ABI) and pauses. */
const GUEST_2009 = '#include "ksm-2009.h"\nint main(void) {\n char *p = memalign(4096, 64 * 4096)\n pages(p, 64) = {fill: 3}\n int fd = open("/dev/ksm", O_RDWR)\n int sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)\n ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: 64, addr: p})\n pause()\n}\n';

test('the trace keeps every call of the host\'s programs with its pid: the verbs, scripts, forks', (t) => {
  const m = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  m.ksmctl(['start', '100', '20']);
  const r = m.run('guest.ksm', GUEST_2009, false);
  t.is(r.status, 0, text(r.output));
  t.is(text(r.output, 2), '', 'the client did not ask for the trace');
  const f = m.run('forks.ksm', 'int pid = fork()\nif (pid == 0) { usleep(1000); exit(0) }\nusleep(2000)\n', true);
  t.is(f.status, 0, text(f.output));
  const lines = m.viewState().trace.lines.map((l) => l.text);
  t.deepEqual(lines.slice(0, 6), [
    '[pid 100] execve("/usr/bin/ksmctl", ["ksmctl", "start", "100", "20"], 0x7ffc0 /* envp */) = 0',
    '[pid 100] open("/dev/ksm", O_RDWR|O_TRUNC) = 3',
    '[pid 100] ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20, pages_to_scan=100, flags=1, pad=0, reserved_bits=0}) = 0',
    '[pid 100] write(1, "created scanner\\n", 16) = 16',
    '[pid 100] exit_group(0) = ?',
    '[pid 100] +++ exited with 0 +++',
  ]);
  t.true(lines.includes('[pid 101] ioctl(4, KSM_REGISTER_MEMORY_REGION, {npages=64, pad=0, addr=0x2aaaaaaab000, reserved_bits=0}) = 0'));
  t.true(lines.includes('[pid 101] pause( <unfinished ...>'));
  t.true(lines.includes('[pid 102] fork() = 103'));
  t.true(lines.every((l) => /^\[pid \d+\] /.test(l)), lines.join('\n'));
  // The same lines the client asked for with --trace.
  t.regex(text(f.output, 2), /^\[pid 102\] fork\(\) = 103$/m);
});

test('the trace ring: lines since a cursor, the newest kept under a limit, and what was dropped', (t) => {
  let now = 0;
  const tr = new HostTrace(() => now++, 8);
  for (let i = 0; i < 20; i++) tr.push(`call ${i} = ${i % 3 === 0 ? '-1 EINVAL (Invalid argument)' : 0}`);
  t.is(tr.next, 20);
  const all = tr.read(undefined, 3);
  t.deepEqual(all.lines.map((l) => l.seq), [17, 18, 19]);
  t.is(all.dropped, 0);
  const since = tr.read(15, 100);
  t.deepEqual(since.lines.map((l) => l.seq), [15, 16, 17, 18, 19]);
  t.deepEqual(since.lines.map((l) => l.ok), [false, true, true, false, true]);
  const old = tr.read(0, 100);
  t.is(old.dropped, old.lines[0].seq, 'lines no longer kept count as dropped');
  t.true(old.dropped >= 10 && old.lines.length <= 10);
  const limited = tr.read(10, 4);
  t.deepEqual(limited.lines.map((l) => l.seq), [16, 17, 18, 19]);
  t.is(limited.dropped, 6);
  t.deepEqual(tr.read(20, 100), { lines: [], next: 20, dropped: 0 });
});

test('v1 host: the view reads the processes the kernel registered, and the controls are ksmctl\'s ioctls on its fd 3', (t) => {
  const m = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  m.ksmctl(['start', '100', '20']);
  m.run('guest.ksm', GUEST_2009, false);
  let v = m.viewState({ pid: 101 });
  t.is(v.era.id, 'v1:2009');
  t.is(v.clock, 'manual');
  t.deepEqual(v.knobs, { run: true, pagesToScan: 100, sleepMicros: 20 });
  t.is(v.ksmd, 'sleeping');
  t.deepEqual(v.processes, [{ pid: 101, name: 'guest', registeredPages: 64, mergedPages: 0, cowBreaks: 0 }]);
  t.is(Buffer.from(v.states!.data, 'base64').length, 64);
  const c = m.control('pagesToScan', 200, undefined, { since: v.trace.next });
  t.deepEqual(c.calls.map((x) => x.text), [
    '[pid 102] open("/dev/ksm", O_RDWR) = 3',
    '[pid 102] ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20, pages_to_scan=200, flags=1, pad=0, reserved_bits=0}) = 0',
  ]);
  t.deepEqual(c.view.trace.lines.map((l) => l.text), c.calls.map((x) => x.text), 'logged in the host\'s trace');
  t.is(text(m.ksmctl(['info']).output, 1), 'flags 1, pages_to_scan 200, sleep_time 20\n');
  // The program keeps its fd: the next control is one ioctl.
  t.deepEqual(m.control('stop', undefined, undefined).calls.map((x) => x.text), ['[pid 102] ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20, pages_to_scan=200, flags=0, pad=0, reserved_bits=0}) = 0']);
  t.is(m.viewState().ksmd, 'stopped');
  m.control('start', undefined, undefined);
  const a = m.control('advance', 2_000_000, undefined, { pid: 101 });
  t.true(a.batches > 0);
  t.is(a.view.now, 2_000_000);
  const states = Buffer.from(a.view.states!.data, 'base64');
  t.true(states.filter((s) => s === PAGE_MERGED).length >= 63, 'the guest\'s pages merged');
  t.true(a.view.pagesSaved >= 63);
  t.is(a.view.processes.find((p) => p.pid === 101)?.mergedPages, states.filter((s) => s === PAGE_MERGED).length);
  t.throws(() => m.control('unmerge', undefined, undefined), { message: 'v1 2009 has no unmerge control' });
});

test('v3 and v2 hosts: a booted workload\'s guests, and the controls are echo to their sysfs files', (t) => {
  const w = builtinWorkload('guests')!;
  const m3 = new HostMachine({ era: 'v3:2.6.32', clock: 'manual', workload: w });
  const v3 = m3.viewState();
  t.deepEqual(v3.processes.map((p) => p.name), w.processes.map((p) => p.name));
  t.true(v3.processes.every((p) => p.registeredPages > 0));
  t.true(v3.trace.lines.some((l) => /^\[pid 100\] madvise\(0x[0-9a-f]+, \d+, MADV_MERGEABLE\) = 0$/.test(l.text)), 'the boot\'s registrations are in the trace');
  t.deepEqual(m3.control('pagesToScan', 200, undefined).calls, [{ text: 'echo 200 > /sys/kernel/mm/ksm/pages_to_scan', ok: true }]);
  t.deepEqual(m3.control('sleep', 50_000, undefined).calls, [{ text: 'echo 50 > /sys/kernel/mm/ksm/sleep_millisecs', ok: true }]);
  m3.control('start', undefined, undefined);
  m3.control('advance', 5_000_000, undefined);
  const merged = m3.viewState();
  t.true(merged.counters.find((c) => c.name === 'pages_sharing')!.value > 0);
  t.true(merged.counters.every((c) => c.exposed));
  t.deepEqual(m3.control('unmerge', undefined, undefined).calls, [{ text: 'echo 2 > /sys/kernel/mm/ksm/run', ok: true }]);
  t.is(m3.viewState().counters.find((c) => c.name === 'pages_sharing')!.value, 0);

  const m2 = new HostMachine({ era: 'v2', clock: 'manual' });
  t.deepEqual(m2.control('sleep', 10_000, undefined).calls, [{ text: 'echo 10000 > /sys/kernel/mm/ksm/sleep', ok: true }], 'v2 sleeps in microseconds');
  t.deepEqual(m2.viewState().counters.map((c) => [c.name, c.exposed]), [['pages_shared', true], ['pages_sharing', false], ['pages_unshared', false], ['pages_volatile', false], ['full_scans', false]]);
});

test('virtual time is the host\'s: step and advance only on a manual clock', (t) => {
  const real = new HostMachine({ era: 'v3:2.6.32', clock: 'real', wallNow: () => 0 });
  t.throws(() => real.control('step', undefined, undefined), { message: /wall clock on this host \(real clock\)/ });
  t.throws(() => real.control('advance', 1000, undefined), { message: /--clock manual/ });
  const manual = new HostMachine({ era: 'v3:2.6.32', clock: 'manual', workload: builtinWorkload('guests')! });
  manual.control('start', undefined, undefined);
  const s = manual.control('step', undefined, undefined);
  t.is(s.batches, 1);
  const a = manual.control('advance', 10_000_000, 3);
  t.is(a.batches, 3, 'at most maxBatches batches');
  t.true(a.view.now < 10_000_000 + s.view.now);
});

// ------------------------------------------------------------ over the socket

async function withServer(t: import('ava').ExecutionContext, m: HostMachine) {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-view-'));
  const socket = join(dir, 'h.sock');
  const server = new HostServer({ socket, machine: m, info: m.info() });
  await server.listen();
  t.teardown(() => {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const c = await HostClient.connect(socket);
  t.teardown(() => c.close());
  return c;
}

test('the server checks view and control requests and answers refusals as errors', async (t) => {
  const c = await withServer(t, new HostMachine({ era: 'v2', clock: 'real' }));
  const bad = async (body: Parameters<HostClient['request']>[0]) => {
    const r = await c.request(body);
    return r.ok ? 'ok' : r.error;
  };
  t.is(await bad({ op: 'view', pid: -1 }), 'view: pid must be an integer >= 0');
  t.is(await bad({ op: 'control', action: 'frob' as 'start' }), 'control: unknown action "frob" (start, stop, unmerge, pagesToScan, sleep, step, advance)');
  t.is(await bad({ op: 'control', action: 'pagesToScan' }), 'control pagesToScan: value must be an integer from 0 to 4294967295');
  t.is(await bad({ op: 'control', action: 'sleep', value: 1.5 }), 'control sleep: value must be an integer from 0 to 4294967295');
  t.is(await bad({ op: 'control', action: 'advance', value: 2 ** 53 - 1 }), 'control advance: value must be an integer from 0 to 86400000000 µs (the virtual time one request may let pass)');
  t.is(await bad({ op: 'control', action: 'unmerge' }), 'v2 2009 has no unmerge control');
  t.regex(await bad({ op: 'control', action: 'step' }), /^virtual time follows the wall clock/);
  const r = await c.request({ op: 'control', action: 'pagesToScan', value: 300, since: 0 });
  t.true(r.ok);
  if (r.ok) {
    t.deepEqual(r.calls, [{ text: 'echo 300 > /sys/kernel/mm/ksm/pages_to_scan', ok: true }]);
    t.is(r.view?.knobs.pagesToScan, 300);
    t.deepEqual(r.view?.trace.lines.map((l) => l.text), ['echo 300 > /sys/kernel/mm/ksm/pages_to_scan']);
  }
});

test('a script and a live view at once: every request is one whole command, the script sees one setting throughout', async (t) => {
  const m = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  const script = await withServer(t, m);
  // A second client on the same host (the TUI), sending controls and polls while the script runs.
  const tui = await HostClient.connect(script.path);
  t.teardown(() => tui.close());
  const loop = 'ksmctl start 111 20\nfor (i = 0; i < 30; i++) {\n ksmctl info\n usleep(1000)\n}\n';
  const run = script.request({ op: 'run', file: 'loop.ksm', source: loop });
  const requests = [];
  for (let i = 0; i < 30; i++) {
    requests.push(tui.request({ op: 'control', action: 'pagesToScan', value: 1000 + i }));
    requests.push(tui.request({ op: 'view', since: 0 }));
  }
  const [r, ...answers] = await Promise.all([run, ...requests]);
  t.true(r.ok);
  const infos = r.ok ? text(r.output ?? [], 1).split('\n').filter((l) => l.startsWith('flags')) : [];
  t.deepEqual(infos, Array(30).fill('flags 1, pages_to_scan 111, sleep_time 20'), 'no control ran inside the script');
  t.true(answers.every((a) => a.ok));
  const last = await tui.request({ op: 'view', since: 0, limit: 5000 });
  const lines = last.ok ? last.view!.trace.lines.map((l) => l.text) : [];
  // The script's calls are one block of the trace, with the controls before or after it.
  const from = lines.findIndex((l) => l.includes('"start", "111"'));
  const to = lines.map((l) => l.includes('nanosleep')).lastIndexOf(true);
  t.true(from >= 0 && to > from);
  const controls = lines.flatMap((l, i) => (/pages_to_scan=10\d\d/.test(l) ? [i] : []));
  t.is(controls.length, 30);
  t.true(controls.every((i) => i < from || i > to), 'no control in the middle of the script');
  t.regex(text(m.ksmctl(['info']).output, 1), /^flags 1, pages_to_scan (111|1029), sleep_time 20\n$/, 'whichever came last won, whole');
});
