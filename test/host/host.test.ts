/**
 * The ksmctl host in-process: the original ksmctl programs on its machine
 * (both ABIs, prefixes, failure messages), scripts that leave processes
 * behind, and the socket server under two clients at once and a client
 * that drops mid-command.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERAS } from '../../src/eras/registry.js';
import { HostClient } from '../../src/host/client.js';
import { HostMachine } from '../../src/host/machine.js';
import type { OutputChunk } from '../../src/host/protocol.js';
import { HostServer } from '../../src/host/server.js';
import { atoi, matchVerbs } from '../../src/script/ksmctl.js';

const text = (out: OutputChunk[], fd?: 1 | 2) => out.filter((c) => fd === undefined || c.fd === fd).map((c) => c.text).join('');

function ksmctl(m: HostMachine, ...args: string[]) {
  const r = m.ksmctl(args);
  return { stdout: text(r.output, 1), stderr: text(r.output, 2), status: r.status };
}

test('verbs match by prefix as strncmp(argv[1], verb, strlen(argv[1])) did', (t) => {
  t.deepEqual(matchVerbs('s'), ['start', 'stop']);
  t.deepEqual(matchVerbs('st'), ['start', 'stop']);
  t.deepEqual(matchVerbs('sta'), ['start']);
  t.deepEqual(matchVerbs('sto'), ['stop']);
  t.deepEqual(matchVerbs('i'), ['info']);
  t.deepEqual(matchVerbs(''), ['start', 'stop', 'info']);
  t.deepEqual(matchVerbs('startx'), []);
  t.deepEqual(matchVerbs('Start'), []);
});

test('atoi is glibc atoi: leading blanks and sign, junk after the digits ignored, no digits 0, 32-bit wrap', (t) => {
  t.is(atoi(' 42abc'), 42);
  t.is(atoi('-7'), -7);
  t.is(atoi('x1'), 0);
  t.is(atoi('4294967297'), 1);
  t.is(atoi('99999999999999999999'), -1);
});

test('the 2009 ksmctl on a 2009 host: start, info, stop, info print what the original printed', (t) => {
  const m = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  t.deepEqual(ksmctl(m, 'start', '100', '20'), { stdout: 'created scanner\n', stderr: '', status: 0 });
  t.deepEqual(ksmctl(m, 'info'), { stdout: 'flags 1, pages_to_scan 100, sleep_time 20\n', stderr: '', status: 0 });
  t.deepEqual(ksmctl(m, 'stop'), { stdout: 'stopped scanner\n', stderr: '', status: 0 });
  // The stop struct is uninitialized but for flags (zeros here), and all of it is stored.
  t.deepEqual(ksmctl(m, 'info'), { stdout: 'flags 0, pages_to_scan 0, sleep_time 0\n', stderr: '', status: 0 });
});

test('the 2009 ksmctl: failure messages and the prefix quirks', (t) => {
  const m = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  t.deepEqual(ksmctl(m), { stdout: '', stderr: 'usage: ksmctl {start npages sleep | stop | info}\n', status: 1 });
  t.deepEqual(ksmctl(m, 'start', '100'), { stdout: '', stderr: 'usage: ksmctl start npages_to_scan sleep\n', status: 1 });
  t.deepEqual(ksmctl(m, 'frob'), { stdout: '', stderr: 'unknown command frob\n', status: 0 });
  // `s` is a prefix of start and of stop: both run, stop keeping start's values.
  t.deepEqual(ksmctl(m, 's', '5', '6'), { stdout: 'created scanner\nstopped scanner\n', stderr: '', status: 0 });
  t.is(ksmctl(m, 'i').stdout, 'flags 0, pages_to_scan 5, sleep_time 6\n');
  // pages_to_scan 0 with the run flag: the driver returns +EPERM, which ioctl() hands over as success.
  t.deepEqual(ksmctl(m, 'start', '0', '20'), { stdout: 'created scanner\n', stderr: '', status: 0 });
  t.is(ksmctl(m, 'info').stdout, 'flags 0, pages_to_scan 5, sleep_time 6\n');
});

test('the Nov 2008 ksmctl on a 2008 host: start N M S, and its argc check that lets start N S read a NULL argv[4]', (t) => {
  const m = new HostMachine({ era: 'v1:2008', clock: 'manual' });
  t.deepEqual(ksmctl(m, 'start', '100', '5', '20'), { stdout: 'created scanner\n', stderr: '', status: 0 });
  t.deepEqual(ksmctl(m, 'info'), { stdout: 'flags 1, pages_to_scan 100 npages_merge 5, sleep_time 20\n', stderr: '', status: 0 });
  t.deepEqual(ksmctl(m, 'start', '100', '20'), { stdout: '', stderr: 'Segmentation fault\n', status: 139 });
  t.deepEqual(ksmctl(m, 'start', '100'), { stdout: '', stderr: 'usage: ksmctl start npages_to_scan max_pages_to_merge sleep\n', status: 1 });
  // max_pages_to_merge 0 with the run flag: +EPERM, success to the program, nothing stored.
  t.is(ksmctl(m, 'start', '7', '0', '9').stdout, 'created scanner\n');
  t.is(ksmctl(m, 'info').stdout, 'flags 1, pages_to_scan 100 npages_merge 5, sleep_time 20\n');
});

test('ksmctl on a kernel without /dev/ksm says so, as the original did', (t) => {
  for (const era of ERAS.filter((e) => e.family !== 'v1')) {
    const m = new HostMachine({ era: era.id, clock: 'manual' });
    t.deepEqual(ksmctl(m, 'info'), { stdout: '', stderr: 'could not open /dev/ksm\n', status: 1 }, era.id);
  }
});

test('a script run on the host leaves its paused processes there, registered and scanned by later commands', (t) => {
  const m = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  const src = '#include "ksm-2009.h"\nint main(void) {\n char *p = memalign(4096, 64 * 4096);\n pages(p, 64) = {fill: 3};\n int fd = open("/dev/ksm", O_RDWR);\n int sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA);\n ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: 64, addr: p});\n pause();\n}\n';
  const r = m.run('guest.ksm', src, false);
  t.is(r.status, 0, text(r.output));
  t.true(m.state().processes.some((p) => p.name === 'guest' && p.alive));
  ksmctl(m, 'start', '100', '20');
  const check = m.run('check.ksm', 'wait_full_scans(3)\nprint full_scans()\n', false);
  t.is(check.status, 0, text(check.output));
  t.true(m.state().fullScans >= 3);
});

test('a workload boots into the host: its processes mapped, filled and registered', (t) => {
  const w = { name: 'w', description: '', pagesToScan: 100, hashTables: { pageHash: 4099, rmapHash: 4099, sha1Cache: 1031 }, processes: [{ name: 'a', regions: [{ pages: 8, runs: [{ pages: 8, content: { kind: 'zero' as const } }] }] }], steps: [{ index: 0, kind: 'register' as const, proc: 'a' }] };
  const m = new HostMachine({ era: 'v3:2.6.32', clock: 'manual', workload: w });
  m.sleep(1_000_000);
  const s = m.state();
  t.true(s.processes.some((p) => p.name === 'a' && p.alive));
  t.is(s.counters.pages_shared, 1);
  t.is(s.counters.pages_sharing, 7);
});

// ------------------------------------------------------------ the socket server

async function withServer(t: import('ava').ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-host-'));
  const socket = join(dir, 'h.sock');
  const machine = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  const server = new HostServer({ socket, machine, info: machine.info() });
  await server.listen();
  t.teardown(() => {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { socket, machine, server };
}

test('two clients at once: their commands run one after the other, each whole', async (t) => {
  const { socket } = await withServer(t);
  const a = await HostClient.connect(socket);
  const b = await HostClient.connect(socket);
  t.teardown(() => {
    a.close();
    b.close();
  });
  const script = (n: number) => `for (i = 0; i < 20; i++) {\n ksmctl start ${n} ${n}\n ksmctl info\n}\n`;
  const [ra, rb] = await Promise.all([a.request({ op: 'run', file: 'a.ksm', source: script(111), trace: false }), b.request({ op: 'run', file: 'b.ksm', source: script(222), trace: false })]);
  t.true(ra.ok && rb.ok);
  const outA = ra.ok ? text(ra.output ?? [], 1) : '';
  const outB = rb.ok ? text(rb.output ?? [], 1) : '';
  // Each client saw only its own settings: no command of the other ran in between.
  t.is(outA, 'created scanner\nflags 1, pages_to_scan 111, sleep_time 111\n'.repeat(20));
  t.is(outB, 'created scanner\nflags 1, pages_to_scan 222, sleep_time 222\n'.repeat(20));
});

test('a client that drops mid-command leaves the host consistent and serving', async (t) => {
  const { socket, machine } = await withServer(t);
  const a = await HostClient.connect(socket);
  // A long command, and the client goes away before its answer.
  void a.request({ op: 'run', file: 'long.ksm', source: 'ksmctl start 50 4000\nfor (i = 0; i < 200; i++) usleep(100000)\n', trace: true });
  a.destroy();
  const b = await HostClient.connect(socket);
  t.teardown(() => b.close());
  const r = await b.request({ op: 'ksmctl', args: ['info'] });
  t.true(r.ok);
  t.is(r.ok ? text(r.output ?? [], 1) : '', 'flags 1, pages_to_scan 50, sleep_time 4000\n');
  // The dropped command ran whole: its 20 s of virtual time passed.
  t.is(machine.sys.machine.clock.now, 20_000_000);
  // A request cut off mid-line is ignored.
  const c = await HostClient.connect(socket);
  (c as unknown as { socket: import('node:net').Socket }).socket.write('{"id": 1, "op": "ksmctl", "args": ["st');
  c.destroy();
  const s = await b.request({ op: 'state' });
  t.true(s.ok && s.state !== undefined && s.state.commands === 2);
});
