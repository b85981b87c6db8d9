/** `ksmctl` and `ksmctl tui`: what they open on a terminal, and what they do without one. */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, type Io } from '../../src/cli/program.js';
import { HostMachine } from '../../src/host/machine.js';
import { HostServer } from '../../src/host/server.js';
import type { AppProps } from '../../src/tui/app.js';
import { AttachedSession } from '../../src/session/attached.js';
import { KSMCTL, ksmctl, STACK } from '../helpers/cli.js';

/** Runs the program in-process on a pretend terminal; the TUI's props are captured instead of opened. */
async function onTerminal(args: string[]): Promise<{ props: AppProps | undefined; out: string[]; err: string[] }> {
  let props: AppProps | undefined;
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: true, tui: async (p) => void (props = p) };
  await buildProgram(io).parseAsync(['node', 'ksmctl', ...args]);
  return { props, out, err };
}

test('ksmctl alone on a terminal opens the TUI on guests-live under v3, with its churn', async (t) => {
  const { props, out } = await onTerminal([]);
  t.deepEqual(out, []);
  t.is(props?.session.info.id, 'v3:2.6.32');
  t.is(props?.workload?.name, 'guests-live');
  t.is(props?.churn?.length, 4);
  t.is(props?.session.processes().length, 4);
  t.regex(props?.loadCalls?.[0]?.text ?? '', /^echo 100 > \/sys\/kernel\/mm\/ksm\/pages_to_scan$/);
});

test('ksmctl tui WORKLOAD --era v2 opens that workload under v2', async (t) => {
  const { props } = await onTerminal(['tui', 'builtin:guests', '--era', 'v2']);
  t.is(props?.session.info.id, 'v2');
  t.is(props?.workload?.name, 'guests');
  t.deepEqual(props?.churn, [], 'only the built-in live workload churns');
  t.regex(props?.loadCalls?.map((c) => c.text).join('\n') ?? '', /MADV_SHAREABLE\) = 0/);
});

test('ksmctl tui takes every era of the registry, in every spelling, and a workload file\'s kernel', async (t) => {
  const cases: Array<[string[], string]> = [
    [['--era', 'v3:6.18'], 'v3:6.18'],
    [['--era', 'v3', '--kernel', '6.18'], 'v3:6.18'],
    [['--era', 'v3-6.18'], 'v3:6.18'],
    [['--era', 'v3:3.9'], 'v3:3.9'],
    [['--kernel', '3.9'], 'v3:3.9'],
    [['--era', 'v1'], 'v1:2008'],
    [['--era', 'v1', '--abi', '2009'], 'v1:2009'],
    [['--era', 'v1:2009'], 'v1:2009'],
    [['--era', 'v2'], 'v2'],
    [['--era', 'v3'], 'v3:2.6.32'],
    [['examples/workloads/numa-guests-618.json'], 'v3:6.18'],
    [['examples/workloads/numa-guests-618.json', '--era', 'v3:3.9'], 'v3:3.9'],
  ];
  for (const [args, id] of cases) {
    const { props } = await onTerminal(['tui', '--no-host', ...args]);
    t.is(props?.session.info.id, id, args.join(' '));
  }
  const { props } = await onTerminal(['tui', '--no-host', '--era', 'v3:6.18']);
  t.deepEqual(props?.loadCalls?.slice(0, 2).map((c) => c.text), ['echo 100 > /sys/kernel/mm/ksm/pages_to_scan', 'echo 1 > /sys/kernel/mm/ksm/run'], '6.18 boots with run 0: the load starts ksmd');
});

test('a bad --era, --abi or --kernel for the TUI is one line and exit 2', (t) => {
  for (const [args, re] of [
    [['--era', 'v3:9.9'], /^ksmctl: unknown --era "v3:9\.9": not one of v1:2008, v1:2009, v2, v3:2\.6\.32, v3:3\.9, v3:6\.18 \(or v1, v3\)\n$/],
    [['--era', 'v3', '--kernel', '5.0'], /^ksmctl: v3 has no kernel "5\.0" \(known: 2\.6\.32, 3\.9, 6\.18\)\n$/],
    [['--era', 'v2', '--abi', '2009'], /^ksmctl: --abi applies to --era v1 only/],
    [['--era', 'v1:2008', '--abi', '2009'], /^ksmctl: --era v1:2008 and --abi 2009 disagree\n$/],
  ] as const) {
    const r = ksmctl(['tui', '--no-host', ...args]);
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, re);
    t.is(r.stderr.split('\n').length, 2, 'one line');
  }
});

test('without a terminal, ksmctl tui says so and prints the workload as a table', (t) => {
  const r = ksmctl(['tui', 'builtin:guests-live']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^ksmctl: the TUI needs a terminal .*`ksmctl workload run builtin:guests-live`/);
  t.regex(r.stdout, /^guests-live under v3/m);
});

test('an unknown era for the TUI exits 2 with a one-line error', (t) => {
  const r = ksmctl(['tui', '--era', 'v9']);
  t.is(r.status, 2);
  t.regex(r.stderr, /--era.*v9/);
  t.notRegex(r.stderr, STACK);
});

// ------------------------------------------------------------ attached to a ksmctl host

async function inProcessHost(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-'));
  const socket = join(dir, 'h.sock');
  const machine = new HostMachine({ era: 'v1:2009', clock: 'manual' });
  const server = new HostServer({ socket, machine, info: machine.info() });
  await server.listen();
  t.teardown(() => {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

/** The built ksmctl, run without waiting synchronously (an in-process host must answer meanwhile). */
function ksmctlAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KSMCTL, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (e, stdout, stderr) => {
      resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

test('with a host running, ksmctl tui attaches to it; a WORKLOAD, --era or --no-host open a private session', async (t) => {
  const socket = await inProcessHost(t);
  const attached = await onTerminal(['tui', '--socket', socket]);
  t.true(attached.props?.session instanceof AttachedSession);
  t.is(attached.props?.session.info.id, 'v1:2009', "the host's era");
  t.is(attached.props?.workload, undefined);
  (attached.props?.session as AttachedSession).close();
  t.true((await onTerminal(['tui', '--socket', socket, '--host'])).props?.session instanceof AttachedSession);
  for (const args of [['--no-host'], ['builtin:guests'], ['--era', 'v2'], ['--era', 'v1', '--abi', '2009']]) {
    const { props } = await onTerminal(['tui', '--socket', socket, ...args]);
    t.false(props?.session instanceof AttachedSession, args.join(' '));
    t.truthy(props?.workload, args.join(' '));
  }
});

// Serial (AVA runs serial tests before the others): it sets $KSMCTL_HOST for this process.
test.serial('ksmctl alone attaches to the host of $KSMCTL_HOST; without a terminal it says so and prints the host status', async (t) => {
  const socket = await inProcessHost(t);
  const before = process.env.KSMCTL_HOST;
  process.env.KSMCTL_HOST = socket;
  t.teardown(() => {
    if (before === undefined) delete process.env.KSMCTL_HOST;
    else process.env.KSMCTL_HOST = before;
  });
  const { props } = await onTerminal([]);
  t.true(props?.session instanceof AttachedSession);
  (props?.session as AttachedSession).close();
  const r = await ksmctlAsync([], { KSMCTL_HOST: socket });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, `ksmctl: the TUI needs a terminal (stdin and stdout must be TTYs); a host runs on ${socket}, \`ksmctl host status\` shows it. Running it:\n`);
  t.regex(r.stdout, /^host pid \d+, v1:2009: \/dev\/ksm ioctls \(Mar 2009 ABI\), tree merger \(seed 002\), manual clock, socket /);
});

test('ksmctl tui --host with no host answering, or with a WORKLOAD, is a one-line error and exit 2', async (t) => {
  const none = join(tmpdir(), 'ksmctl-none', 'no.sock');
  for (const tty of [false, true]) {
    if (tty) {
      const err = await t.throwsAsync(onTerminal(['tui', '--host', '--socket', none]));
      t.is(err?.message, `no ksmctl host on ${none} (start one with: ksmctl host start)`);
      continue;
    }
    const r = await ksmctlAsync(['tui', '--host', '--socket', none]);
    t.is(r.status, 2);
    t.is(r.stderr, `ksmctl: no ksmctl host on ${none} (start one with: ksmctl host start)\n`);
    t.is(r.stdout, '');
  }
  const r = await ksmctlAsync(['tui', 'builtin:guests', '--host']);
  t.is(r.status, 2);
  t.is(r.stderr, "ksmctl: --host shows the host's own era and processes: it takes no WORKLOAD, --era, --abi or --kernel\n");
  t.notRegex(r.stderr, STACK);
});
