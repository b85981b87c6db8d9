/** `ksmctl` and `ksmctl tui`: what they open on a terminal, and what they do without one. */
import test from 'ava';
import { buildProgram, type Io } from '../../src/cli/program.js';
import type { AppProps } from '../../src/tui/app.js';
import { ksmctl, STACK } from '../helpers/cli.js';

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
  t.is(props?.session.info.id, 'v3');
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
