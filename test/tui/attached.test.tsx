/**
 * The TUI attached to a ksmctl host (ink-testing-library): a HostServer in
 * this process on a temporary socket, a script's processes and calls on it,
 * and the TUI reading and steering it through the protocol like `ksmctl tui`
 * does. Every server is stopped in teardown.
 */
import test, { type ExecutionContext } from 'ava';
import { render } from 'ink-testing-library';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { HostMachine, type HostMachineOptions } from '../../src/host/machine.js';
import type { OutputChunk } from '../../src/host/protocol.js';
import { HostServer } from '../../src/host/server.js';
import { App } from '../../src/tui/app.js';
import { AttachedSession } from '../../src/session/attached.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

const text = (out: OutputChunk[], fd?: 1 | 2) => out.filter((c) => fd === undefined || c.fd === fd).map((c) => c.text).join('');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const GUEST_2009 = '#include "ksm-2009.h"\nint main(void) {\n char *p = memalign(4096, 256 * 4096)\n pages(p, 256) = {fill: 3}\n int fd = open("/dev/ksm", O_RDWR)\n int sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)\n ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: 256, addr: p})\n pause()\n}\n';

async function host(t: ExecutionContext, opts: HostMachineOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-'));
  const socket = join(dir, 'h.sock');
  const machine = new HostMachine(opts);
  const server = new HostServer({ socket, machine, info: machine.info() });
  await server.listen();
  t.teardown(() => {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { socket, machine, server };
}

/** The TUI attached to the host on `socket`, at 80×24, polling every 20 ms. */
async function attach(t: ExecutionContext, socket: string) {
  const session = await AttachedSession.connect(socket);
  const r = render(<App session={session} tickMs={20} columns={80} rows={24} />);
  t.teardown(() => {
    r.unmount();
    session.close();
  });
  const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
  /** The frame once `re` matches it (within 15 s: a loaded machine polls the host slowly). */
  const waitFor = async (re: RegExp, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!re.test(frame())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in\n${frame()}`);
      await sleep(10);
    }
    return frame();
  };
  const press = async (key: string, re: RegExp) => {
    r.stdin.write(key);
    return waitFor(re);
  };
  return { session, frame, waitFor, press };
}

function counter(frame: string, name: string): number {
  const m = new RegExp(`^│${name}\\*?\\s+(\\d+) `, 'm').exec(frame);
  if (!m) throw new Error(`no ${name} row in\n${frame}`);
  return Number(m[1]);
}

test.serial('attached to a v1 host with a manual clock: its processes, counters and trace; + is ksmctl\'s ioctl on the host', async (t) => {
  const { socket, machine } = await host(t, { era: 'v1:2009', clock: 'manual' });
  t.is(text(machine.ksmctl(['start', '100', '20']).output), 'created scanner\n');
  t.is(machine.run('guest.ksm', GUEST_2009, false).status, 0);
  const tui = await attach(t, socket);
  let f = await tui.waitFor(/Processes · 1 live/);
  t.regex(f, new RegExp(`^ (ksmctl · )?v1 2009 · attached to host ${socket.replace(/[.]/g, '\\.')} · (t )?0\\.000s (· )?(manual )?(clock )?×1 +PAUSED\\s*$`, 'm'), 'the socket whole');
  t.regex(f, /▶\s+101 guest\s+256\s+0\s+0/);
  t.regex(f, /Memory map · guest · 256 pages/);
  t.is(/│(·+)\s*│$/m.exec(f)?.[1].length, 38, 'its pages, not yet scanned');
  t.regex(f, /ksmd sleeping · 100 pages every 20 µs/);
  t.regex(f, /Calls · the host's trace · v1 2009/);
  t.regex(f, /│\[pid 101\] pause\( <unfinished \.\.\.>\s+│/);
  t.regex(f, / \? all keys {2}q quit {2}s start\/stop {2}\+\/- pages {2}\[\/\] sleep {2}space pause {2}n step/, 'the manual clock\'s keys are there; churn, exit, guest and era are not');
  t.notRegex(f, /c write|w churn|x exit|g guest|e era/);

  f = await tui.press('+', /pages_to_scan=200,/);
  t.regex(f, /│\[pid 102\] open\("\/dev\/ksm", O_RDWR\) = 3\s+│\n│\[pid 102\] ioctl\(3, KSM_START_STOP_KTHREAD, \{sleep=20, pages_to_scan=200, [^│\n]*= 0│/);
  t.regex(f, /ksmd sleeping · 200 pages every 20 µs/);
  t.is(text(machine.ksmctl(['info']).output, 1), 'flags 1, pages_to_scan 200, sleep_time 20\n', 'the host\'s own ksmctl sees it');

  // n runs the host's next batch: the guest's pages are met.
  f = await tui.press('n', /pages_volatile\*\s+[1-9]/);
  t.is(counter(f, 'pages_volatile') + counter(f, 'pages_unshared') + counter(f, 'pages_shared') + counter(f, 'pages_sharing') > 0, true);
  // space lets the host's virtual time run from here; the merges come.
  await tui.press(' ', / ×1 +sleeping\s*$/m);
  f = await tui.waitFor(/▶\s+101 guest\s+256\s+2\d\d\s+0/);
  t.true(machine.sys.machine.clock.now > 0);
  t.true(counter(f, 'full_scans') > 0);
  t.regex(f, /Pages saved · now [1-9]/);
  t.regex(f, /█{38}/, 'the memory map shows merged pages');
  f = await tui.press('p', /PAUSED\s*$/m);
  const now = machine.sys.machine.clock.now;
  await sleep(200);
  t.is(machine.sys.machine.clock.now, now, 'paused: the TUI lets no time pass on the host');
});

test.serial('attached to a v3 host with a real clock: echo to sysfs, time shown unavailable, the host\'s era and processes not the TUI\'s', async (t) => {
  const { socket, machine } = await host(t, { era: 'v3:2.6.32', clock: 'real', workload: builtinWorkload('guests')! });
  const tui = await attach(t, socket);
  let f = await tui.waitFor(/Processes · 4 live/);
  t.regex(f, new RegExp(`^ (ksmctl · )?v3 2\\.6\\.32 · attached to host ${socket.replace(/[.]/g, '\\.')} · (t )?\\d+\\.\\d+s`, 'm'));
  t.regex(f, /Counters · v3 2\.6\.32/);
  t.regex(f, /│\[pid 103\] madvise\(0x[0-9a-f]+, \d+, MADV_MERGEABLE\) = 0\s+│/, 'the guests\' registrations at boot');
  t.notRegex(f, /space pause|n step|<\/> speed/, 'a real clock: no pause, step or speed in the footer');
  const before = Number(/ksmd \w+ · (\d+) pages every/.exec(f)![1]);
  f = await tui.press('+', /│echo \d+ > \/sys\/kernel\/mm\/ksm\/pages_to_scan\s+│/);
  const n = Number(/│echo (\d+) > \/sys\/kernel\/mm\/ksm\/pages_to_scan/.exec(f)![1]);
  t.true(n > before);
  t.regex(f, new RegExp(`${n} pages every 20 ms`));
  t.is(machine.viewState().knobs.pagesToScan, n);
  f = await tui.press(' ', /virtual time follows the host's real clock/);
  f = await tui.press('e', /the era is the host's \(v3 2\.6\.32\)/);
  t.notRegex(f, /Restart .* under another era/);
  f = await tui.press('c', /churn is not available attached to a host/);
  t.is(machine.viewState().processes.length, 4);
  // The real clock moves on its own; polling the host shows it.
  const time = (frame: string) => /h\.sock · (t )?(\d+\.\d+)s/.exec(frame)![2];
  const t0 = time(f);
  for (const end = Date.now() + 5000; time(tui.frame()) === t0 && Date.now() < end; ) await sleep(20);
  t.not(time(tui.frame()), t0, 'the real clock moves on its own, and polling shows it');
  f = await tui.press('?', /Keys · \? or esc closes this help/);
  t.regex(f, /\(attached: unavailable\) pause or resume/);
});

test.serial('a script runs on the host while the TUI watches: its calls appear, and the host going away is shown', async (t) => {
  const { socket, machine, server } = await host(t, { era: 'v2', clock: 'manual' });
  const tui = await attach(t, socket);
  await tui.waitFor(/Processes · 0 live/);
  const src = 'char *p = memalign(4096, 64 * 4096)\npages(p, 64) = {fill: 9}\nmadvise(p, 64 * 4096, MADV_SHAREABLE)\npause()\n';
  t.is(machine.run('v2guest.ksm', src, false).status, 0);
  let f = await tui.waitFor(/│\[pid 100\] madvise\(0x2aaaaaaab000, 262144, MADV_SHAREABLE\) = 0\s+│/);
  f = await tui.waitFor(/▶\s+100 v2guest\s+64\s+0\s+0/);
  f = await tui.waitFor(/Memory map · v2guest · 64 pages/);
  f = await tui.press(']', /│echo 1000 > \/sys\/kernel\/mm\/ksm\/sleep\s+│/);
  f = await tui.press('u', /v2 2009 has no unmerge control/);
  server.stop();
  f = await tui.waitFor(/HOST GONE\s*$/m);
  t.regex(f, /host: the host closed the connection/);
});
