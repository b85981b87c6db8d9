/**
 * Every attack of issue 17 against a real `ksmctl host` process (the built
 * binary, started as a user starts it): the host survives or refuses
 * cleanly, and the next good request finds the same counters, virtual time
 * and live processes as before the attack. The socket attacks that need
 * another user are in socket.test.ts.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostMachine } from '../../src/host/machine.js';
import { KSMCTL, STACK } from '../helpers/cli.js';
import { ask, ksmctlAsync, Raw, rss, snapshot, startHost, warmUp } from '../helpers/host.js';

/** The host most attacks share (serial tests): a paused guest merged by kksmd. */
let shared: ReturnType<typeof startHost> | null = null;
test.before(async () => {
  shared = startHost(null);
  await warmUp(shared.socket);
});
test.after.always(() => shared?.stop());

/** Runs `attack`, then checks the host answers and its state is what it was. */
async function survives(t: import('ava').ExecutionContext, attack: (socket: string) => Promise<void>): Promise<void> {
  const h = shared!;
  const before = await snapshot(h.socket);
  await attack(h.socket);
  t.deepEqual(await snapshot(h.socket), before, 'the next good request sees the same counters');
}

const text = (r: Record<string, unknown> | null) => JSON.stringify(r);

test.serial('a request line null (or any JSON that is not an object) is answered with an error, and the host serves on', async (t) => {
  await survives(t, async (socket) => {
    for (const line of ['null', '42', '"ping"', '[]', 'true', '{"op": null}', '{}', 'nonsense']) {
      const r = await ask(socket, `${line}\n`);
      t.is(r?.ok, false, `${line}: ${text(r)}`);
      t.is(typeof r?.error, 'string');
    }
    // An id that is no integer is answered as -1 (never null or Infinity in the reply).
    t.like(await ask(socket, '{"id": 1e400, "op": "ping"}\n'), { id: -1, ok: true });
  });
});

test.serial('sleep of 1e13 µs or 1e400 and control advance of 2^53-1 are refused; the clock stays finite', async (t) => {
  await survives(t, async (socket) => {
    t.regex(String((await ask(socket, { id: 1, op: 'sleep', micros: 1e13 }))?.error), /^sleep: micros must be an integer from 0 to 86400000000/);
    t.regex(String((await ask(socket, '{"id": 1, "op": "sleep", "micros": 1e400}\n'))?.error), /^sleep: micros must be an integer/);
    t.regex(String((await ask(socket, { id: 1, op: 'control', action: 'advance', value: 2 ** 53 - 1 }))?.error), /^control advance: value must be an integer from 0 to 86400000000/);
    t.regex(String((await ask(socket, { id: 1, op: 'control', action: 'advance', value: 1000, maxBatches: 1e12 }))?.error), /^control: maxBatches must be an integer from 1 to 1000000/);
  });
  const s = (await ask(shared!.socket, { id: 1, op: 'state' })) as { state: { now: number } };
  t.true(Number.isFinite(s.state.now));
});

test.serial('a script that spins forever (while (1) { }) fails alone at the statement limit', async (t) => {
  await survives(t, async (socket) => {
    const r = (await ask(socket, { id: 1, op: 'run', file: 'spin.ksm', source: 'int x = 1\nwhile (1) { }\n' })) as { ok: boolean; status: number; output: Array<{ text: string }> };
    t.true(r.ok);
    t.is(r.status, 2);
    t.regex(r.output.map((o) => o.text).join(''), /^spin\.ksm:2:1: more than 10,000,000 statements run \(the limit of this run\)/m);
  });
});

test.serial('unbounded recursion written as a statement is the program\'s stack overflow, not a V8 abort of the host', async (t) => {
  await survives(t, async (socket) => {
    const r = (await ask(socket, { id: 1, op: 'run', file: 'rec.ksm', source: 'int f(int n) {\n f(n + 1);\n return 0;\n}\nint main(void) {\n f(0);\n return 0;\n}\n' })) as { status: number; output: Array<{ text: string }> };
    t.is(r.status, 2);
    t.regex(r.output.map((o) => o.text).join(''), /rec\.ksm:2:2: segmentation fault: stack overflow/);
  });
});

test.serial('a script that fails leaves nothing behind: its forked child holding 64 GiB and registered is reaped', async (t) => {
  await survives(t, async (socket) => {
    const src = [
      '#include "ksm-2009.h"',
      'int pid = fork()',
      'if (pid == 0) {',
      ' char *p = memalign(4096, 64 << 30)',
      ' pages(p, 16) = {fill: 9}',
      ' int fd = open("/dev/ksm", O_RDWR)',
      ' int sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)',
      ' ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: 16, addr: p})',
      ' pause()',
      '}',
      // The child ran first (and paused): the parent fails here.
      'expect pid == 0',
    ].join('\n');
    const r = (await ask(socket, { id: 1, op: 'run', file: 'leaky.ksm', source: `${src}\n`, trace: true })) as { status: number; output: Array<{ text: string }> };
    t.is(r.status, 1, JSON.stringify(r.output));
    t.regex(r.output.map((o) => o.text).join(''), /expect failed/);
  });
  const v = (await ask(shared!.socket, { id: 1, op: 'view', limit: 20 })) as { view: { trace: { lines: Array<{ text: string }> } } };
  t.true(v.view.trace.lines.some((l) => /\+\+\+ killed by SIGKILL \+\+\+/.test(l.text)), 'the reaping is in the trace');
});

test.serial('the internal errors of the issue are the program\'s own errors on the host', async (t) => {
  await survives(t, async (socket) => {
    const run = async (source: string) => {
      const r = (await ask(socket, { id: 1, op: 'run', file: 't.ksm', source })) as { ok: boolean; status?: number; error?: string; output?: Array<{ text: string }> };
      return { ...r, text: r.error ?? (r.output ?? []).map((o) => o.text).join('') };
    };
    t.regex((await run(`x = ${'('.repeat(100_000)}1${')'.repeat(100_000)}\n`)).text, /^t\.ksm:1:105: more than 100 parentheses/);
    t.regex((await run('printf("%999999999d\\n", 1)\n')).text, /^t\.ksm:1:1: printf: a field width of 999999999/);
    t.regex((await run('char *p = memalign(4096, 4096)\nmemset(p, 1, 1 << 40)\n')).text, /^t\.ksm:2:1: segmentation fault: memset of 1099511627776 bytes/);
    // 2,000,000 terms do not fit the 1 MiB a script may have.
    const big = await run(`x = ${Array(2_000_000).fill('1').join('+')}\n`);
    t.false(big.ok);
    t.is(big.text, 'run: the source is more than a script may have (1 MiB)');
    for (const r of [await run('int main(void) {\n exit(3);\n}\n'), await run('int main(void) {\n return 4;\n}\n')]) t.true(r.ok);
  });
});

test.serial('exit(3) and return 4 in a script run with --host are the exit status of ksmctl run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-exit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'e.ksm'), 'int main(void) {\n exit(3);\n}\n');
  writeFileSync(join(dir, 'r.ksm'), 'int main(void) {\n return 4;\n}\n');
  t.is((await ksmctlAsync(['run', '--host', '--socket', shared!.socket, join(dir, 'e.ksm')])).status, 3);
  t.is((await ksmctlAsync(['run', '--host', '--socket', shared!.socket, join(dir, 'r.ksm')])).status, 4);
  t.is((await ksmctlAsync(['run', join(dir, 'e.ksm')])).status, 3);
});

test.serial('a client that never reads 20,000 pipelined view requests does not grow the host, and others are served meanwhile', async (t) => {
  const h = shared!;
  const before = await snapshot(h.socket);
  const rss0 = rss(h.pid);
  const flood = await Raw.open(h.socket);
  flood.s.pause();
  const line = `${JSON.stringify({ id: 7, op: 'view', pid: 101, limit: 5000 })}\n`;
  flood.write(line.repeat(20_000));
  // Another client is served (it waits for at most the flooder's one queued request).
  for (let i = 0; i < 20; i++) t.like(await ask(h.socket, { id: 1, op: 'ping' }), { ok: true });
  t.deepEqual(await snapshot(h.socket), before);
  const grown = rss(h.pid) - rss0;
  t.log(`host RSS ${(rss0 / 2 ** 20).toFixed(0)} MiB before, grown by ${(grown / 2 ** 20).toFixed(0)} MiB with 20,000 unread view requests pipelined`);
  t.true(grown < 200 * 2 ** 20, `grew by ${grown} bytes`);
  flood.close();
  t.deepEqual(await snapshot(h.socket), before);
});

test.serial('what held keeps holding: 2,882 idle connections and 50 clients at once, all served, the counters as they were', async (t) => {
  await survives(t, async (socket) => {
    // Opened a hundred at a time: the listen backlog is finite (a unix connect past it is EAGAIN, not the host's doing).
    const idle: Raw[] = [];
    while (idle.length < 2882) idle.push(...(await Promise.all(Array.from({ length: Math.min(100, 2882 - idle.length) }, () => Raw.open(socket)))));
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(socket, { id: i, op: i % 2 ? 'state' : 'view', limit: 10 })));
    t.true(replies.every((r) => r?.ok === true));
    for (const c of idle) c.close();
  });
});

test.serial('a host that has run 140,000 processes (past the 131,071 mm ids it had) still answers every command', async (t) => {
  await survives(t, async (socket) => {
    const r = (await ask(socket, { id: 1, op: 'run', file: 'forks.ksm', source: 'for (i = 0; i < 140000; i++) {\n int pid = fork()\n if (pid == 0) exit(0)\n}\nprint i\n' })) as { ok: boolean; status: number; output: Array<{ text: string }> };
    t.is(r.status, 0, JSON.stringify(r).slice(0, 300));
    t.is(r.output.map((o) => o.text).join(''), '140000\n');
    t.like(await ask(socket, { id: 2, op: 'ksmctl', args: ['info'] }), { ok: true, status: 0 });
  });
});

test.serial('a 17 MB request line is refused and its client disconnected; the host serves on', async (t) => {
  await survives(t, async (socket) => {
    const c = await Raw.open(socket);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 17; i++) c.write(chunk);
    const r = await c.next();
    t.like(r, { ok: false, error: 'a request line is at most 8 MiB: disconnected' });
    t.is(await c.next(), null, 'disconnected');
  });
});

test.serial('a request cut off mid-line, and a client that hangs up mid-command, change nothing', async (t) => {
  await survives(t, async (socket) => {
    const c = await Raw.open(socket);
    c.write('{"id": 1, "op": "ksmctl", "args": ["st');
    c.close();
    const d = await Raw.open(socket);
    d.write(`${JSON.stringify({ id: 2, op: 'state' })}\n`);
    d.close();
  });
});

test('the client says in one line that a reply is malformed, where it crashed with a stack trace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-fake-'));
  const socket = join(dir, 'fake.sock');
  for (const reply of ['null', 'not json', '{"ok": true}', '[1, 2]']) {
    const server = createServer((s) => s.on('data', () => s.write(`${reply}\n`)));
    await new Promise<void>((r) => server.listen(socket, r));
    // Spawned without blocking: the fake server answers from this process.
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [KSMCTL, 'info', '--socket', socket]);
      let stderr = '';
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (status) => resolve({ status, stderr }));
    });
    await new Promise<void>((r) => server.close(() => r()));
    t.is(r.status, 2, String(r.stderr));
    t.regex(String(r.stderr), /^ksmctl: host: the host sent a malformed reply \(not (JSON|a response object)\)\n$/);
    t.notRegex(String(r.stderr), STACK);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('--socket or $KSMCTL_HOST naming a regular file: host start refuses, and neither the file nor FILE.log is touched', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'precious');
  writeFileSync(file, 'keep me');
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'root only', { mode: 0o600 });
  symlinkSync(victim, `${file}.log`);
  for (const r of await Promise.all([ksmctlAsync(['host', 'start', '--socket', file]), ksmctlAsync(['host', 'start'], { KSMCTL_HOST: file })])) {
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, /precious exists and is a regular file, not a socket: not replaced/);
    t.notRegex(r.stderr, STACK);
  }
  t.is(readFileSync(file, 'utf8'), 'keep me');
  t.is(readFileSync(victim, 'utf8'), 'root only');
});

test('an empty, directory or over-long $KSMCTL_HOST is one line and exit 2, for a verb and for the host commands', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /\$KSMCTL_HOST is empty/],
    [tmpdir(), /is a directory, not a socket/],
    [`/tmp/${'x'.repeat(200)}`, /longer than a unix socket path may be \(107\)/],
  ];
  for (const [value, message] of cases) {
    const all = [['info'], ['host', 'status'], ['host', 'start'], ['run', '--host', 'examples/scripts/ksmpages.ksm']];
    for (const [i, r] of (await Promise.all(all.map((args) => ksmctlAsync(args, { KSMCTL_HOST: value })))).entries()) {
      t.is(r.status, 2, `${all[i].join(' ')}: ${r.stderr}`);
      t.regex(r.stderr, message);
      t.is(r.stderr.trim().split('\n').length, 1);
    }
  }
});

/** A request that keeps the host busy for its whole time limit (a minute): each statement writes 4 Mi pages. */
const BUSY = 'char *p = memalign(4096, 1 << 34)\nwhile (1) { memset(p, 1, 1 << 34) }\n';

test('SIGTERM ends a host in the middle of a request: the socket goes, the client is told', async (t) => {
  const h = startHost(t);
  const c = await Raw.open(h.socket);
  c.write(`${JSON.stringify({ id: 1, op: 'run', file: 'busy.ksm', source: BUSY })}\n`);
  // The host answers a ping while the script runs (its machine runs in a worker).
  t.like(await ask(h.socket, { id: 2, op: 'ping' }), { ok: true });
  process.kill(h.pid, 'SIGTERM');
  t.is(await c.next(), null, 'the connection closed without an answer');
  for (let i = 0; i < 500 && existsSync(h.socket); i++) await new Promise((r) => setTimeout(r, 20));
  t.false(existsSync(h.socket), 'the socket file is removed');
});

test('host stop ends a host in the middle of a request', async (t) => {
  const h = startHost(t);
  const c = await Raw.open(h.socket);
  c.write(`${JSON.stringify({ id: 1, op: 'run', file: 'busy.ksm', source: BUSY })}\n`);
  t.like(await ask(h.socket, { id: 2, op: 'ping' }), { ok: true });
  const r = await ksmctlAsync(['host', 'stop', '--socket', h.socket]);
  t.is(r.status, 0, r.stderr);
  t.is(await c.next(), null);
  t.false(existsSync(h.socket));
});

test('a request that keeps the host busy ends at the time limit, as its own error', (t) => {
  const m = new HostMachine({ era: 'v1:2009', clock: 'manual', limits: { maxRequestMs: 300 } });
  const r = m.run('busy.ksm', BUSY, false);
  t.is(r.status, 2);
  t.regex(r.output.map((o) => o.text).join(''), /^busy\.ksm:2:\d+: this request has taken more than 0\.3 s of the host's time \(the limit of a request\)/);
  t.deepEqual(m.sys.machine.live(), [], 'its process reaped');
});

test('a fork-then-exit loop runs past the 131,071 mm ids an engine had (they are reused)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-forks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'forks.ksm');
  writeFileSync(f, 'for (i = 0; i < 140000; i++) {\n int pid = fork()\n if (pid == 0) exit(0)\n}\nprint i\n');
  const r = await ksmctlAsync(['run', f]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '140000\n');
});
