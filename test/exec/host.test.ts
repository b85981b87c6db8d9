/**
 * `ksmctl exec --host` end to end: real programs compiled with `ksmctl cc`
 * run against a running `ksmctl host` (the built binary, manual clock),
 * their processes the host's, their KSM shared with each other and with
 * the host's scripts: two copies of twins.c merge with each other; a
 * merge-check.c merges with a script's guest (and so finds KSM's counts
 * are not its own); the counters go back once they exit and ksmd has been
 * by; nothing is left on the host; the era mismatch and the missing host
 * are one line each. Every run leaves the real /sys/kernel/mm/ksm as it
 * found it (the real KSM's lock held meanwhile) and makes no real KSM page
 * in the program.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostView } from '../../src/host/protocol.js';
import { Guard, stateDir } from '../../src/real/guard.js';
import { SYSTEM_PATHS } from '../../src/real/paths.js';
import { KSMCTL } from '../helpers/cli.js';
import { execHarness, execMissing, KSM_DIR, realKnobs, type Run, stats } from '../helpers/exec-run.js';
import { ROOT } from '../helpers/golden.js';
import { ask, startHost } from '../helpers/host.js';

const platform = process.platform === 'linux' && process.arch === 'x64' ? null : `exec interposes x86_64 Linux programs, this is ${process.platform}/${process.arch}`;
const missing = execMissing();
const run = missing === null ? test.serial : test.skip;
const why = missing === null ? '' : ` (skipped: ${missing})`;

const h = execHarness('exec-host');
test.after.always(() => h.remove());
const work = h.work;
const ksmctl = (args: string[]): Run => h.ksmctl(args);
const build = (era: string, src: string, out: string): string => h.build(era, src, out);
/** The harness's library cache (what its ksmctl runs use), for the runs in the background. */
const ENV = () => ({ ...process.env, XDG_CACHE_HOME: join(work, 'cache') });

/** The real KSM's lock for a whole test (the harness holds it for one exec): the knobs read before and after cannot change meanwhile but by us. */
function lockRealKsm(): { release(): void } | null {
  const real = existsSync(KSM_DIR) && process.getuid?.() === 0;
  return real ? Guard.lockOnly({ paths: SYSTEM_PATHS, dir: stateDir(), waitMs: 90_000 }) : null;
}

/** ksmctl in the background: its handle, and its end. */
function ksmctlBackground(args: string[]): { pid: number; kill: (sig: NodeJS.Signals) => void; done: Promise<Run> } {
  const c = spawn(process.execPath, [KSMCTL, ...args], { cwd: work, env: ENV(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  c.stdout.on('data', (d) => (stdout += d));
  c.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => c.kill('SIGKILL'), 100_000);
  const done = new Promise<Run>((resolve) =>
    c.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status: status ?? (signal ? 128 : null), stdout, stderr });
    }),
  );
  return { pid: c.pid ?? 0, kill: (sig) => c.kill(sig), done };
}

async function view(socket: string): Promise<HostView> {
  const r = (await ask(socket, { id: 1, op: 'view', limit: 5000 })) as { ok: boolean; view: HostView };
  if (!r?.ok) throw new Error(`view: ${JSON.stringify(r)}`);
  return r.view;
}

const counter = (v: HostView, name: string) => v.counters.find((c) => c.name === name)?.value;

/** Polls the host's view until `ok` holds (the host's processes come and go as real processes say hello and exit). */
async function until(socket: string, ok: (v: HostView) => boolean, what: string): Promise<HostView> {
  for (let waited = 0; ; waited += 50) {
    const v = await view(socket);
    if (ok(v)) return v;
    if (waited > 30_000) throw new Error(`the host never showed ${what}: ${JSON.stringify(v.processes)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

(platform === null ? test.serial : test.skip)(`no host running: one line naming the socket, exit 2${platform === null ? '' : ` (skipped: ${platform})`}`, (t) => {
  const sock = join(work, 'nobody.sock');
  const r = ksmctl(['exec', '--host', '--socket', sock, '--', '/bin/true']);
  t.is(r.status, 2);
  t.is(r.stdout, '');
  t.is(r.stderr, `ksmctl: no ksmctl host on ${sock} (start one with: ksmctl host start)\n`);
});

run(`--era must be the host's: another is refused in one line, before the program runs${why}`, (t) => {
  const h = startHost(t, ['--era', 'v1:2009']);
  const r = ksmctl(['exec', '--host', '--socket', h.socket, '--era', 'v3:6.18', '--', 'sh', '-c', 'echo ran']);
  t.is(r.status, 2);
  t.is(r.stdout, '');
  t.is(r.stderr, 'ksmctl: exec --era v3:6.18: the host runs v1:2009 (ksmctl host start --era v3:6.18, or exec without --host)\n');
  // A family asks for any of its versions, as a script's #pragma era does on the host.
  t.is(ksmctl(['exec', '--host', '--socket', h.socket, '--era', 'v3', '--', 'sh', '-c', 'echo ran']).stderr, 'ksmctl: exec --era v3: the host runs v1:2009 (ksmctl host start --era v3, or exec without --host)\n');
  // The host's own era, however spelled, is accepted.
  const ok = ksmctl(['exec', '--host', '--socket', h.socket, '--era', 'v1', '--', 'sh', '-c', 'echo ran']);
  t.is(ok.status, 0, ok.stderr);
  t.is(ok.stdout, 'ran\n');
});

run(`two programs exec'd on a v1:2009 host merge with each other; their processes are the host's, named by their real pids, and leave nothing behind${why}`, async (t) => {
  const twins = build('v1:2009', join(ROOT, 'test', 'exec', 'fixtures', 'twins.c'), 'twins');
  const g = lockRealKsm();
  try {
    const before = realKnobs();
    const h = startHost(t, ['--era', 'v1:2009']);
    t.like(await ask(h.socket, { id: 1, op: 'ksmctl', args: ['start', '1000', '20'] }), { ok: true, status: 0 });
    // The first program registers 64 pages and pauses until it is ended.
    const a = ksmctlBackground(['exec', '--host', '--socket', h.socket, '--', twins, '64']);
    const seen = await until(h.socket, (v) => v.processes.some((p) => /^twins\[\d+\]$/.test(p.name) && p.registeredPages === 64), 'the first twins registered');
    const realA = Number(/\[(\d+)\]/.exec(seen.processes[0].name)?.[1]);
    t.is(spawnSync('cat', [`/proc/${realA}/comm`], { encoding: 'utf8' }).stdout, 'twins\n', "the host's process is named after the real one's pid");
    // The second, from another ksmctl exec: when it pauses, the host's kksmd settles, merging its pages with the first's.
    const b = await ksmctlBackground(['exec', '--host', '--socket', h.socket, '--end-on-pause', '--stats', '--json', '--', twins, '64']).done;
    t.is(b.status, 128 + 15, b.stderr);
    t.is(b.stdout, 'registered 64 pages\n');
    const s = stats(b);
    t.is(s.era, 'v1:2009');
    t.deepEqual([s.settled?.counters.pages_shared, s.settled?.counters.pages_sharing], [64, 64], 'every page of one merged with its twin in the other program');
    t.is(s.realKsmPages, 0);
    // The second has exited on the host (the era's exit); the first still maps the 64 KSM pages, alone now.
    const mid = await until(h.socket, (v) => v.processes.length === 1, 'the second twins gone');
    t.is(mid.processes[0].name, `twins[${realA}]`);
    t.is(mid.processes[0].mergedPages, 64);
    t.is(counter(mid, 'pages_sharing'), 0);
    t.true(mid.trace.lines.some((l) => new RegExp(`^\\[pid \\d+\\] ksmctl exec: real pid ${realA} \\(twins\\)$`).test(l.text)));
    t.true(mid.trace.lines.some((l) => /^\[pid \d+\] ioctl\(\d+, KSM_REGISTER_MEMORY_REGION, 0x[0-9a-f]+\) = 0$/.test(l.text)));
    // Ending the first ends its process on the host too: nothing registered is left.
    a.kill('SIGTERM');
    const ra = await a.done;
    t.is(ra.status, 128 + 15, ra.stderr);
    const end = await until(h.socket, (v) => v.processes.length === 0, 'no process left');
    t.is(counter(end, 'pages_sharing'), 0);
    t.true(end.trace.lines.some((l) => l.text.endsWith(`+++ exited (real pid ${realA}) +++`)));
    t.deepEqual(realKnobs(), before, 'the real /sys/kernel/mm/ksm reads as before');
  } finally {
    g?.release();
  }
});

run(`on a v3:2.6.32 host a program shares KSM with a script's guest, and the counters go back once it exits and ksmd has been by${why}`, async (t) => {
  const mc = build('v3:2.6.32', join(ROOT, 'examples', 'programs', 'merge-check.c'), 'merge-check');
  const g = lockRealKsm();
  try {
    const before = realKnobs();
    const h = startHost(t, ['--era', 'v3:2.6.32']);
    // Alone on the host, merge-check finds what KSM promises (its own run: it starts ksmd through the host's sysfs).
    const alone = ksmctl(['exec', '--host', '--socket', h.socket, '--stats', '--json', '--', mc, '16']);
    t.is(alone.status, 0, alone.stdout + alone.stderr);
    t.is(alone.stdout, 'merged: pages_shared 1 pages_sharing 15\nafter one write: pages_shared 1 pages_sharing 14\n');
    t.is(stats(alone).realKsmPages, 0);
    // It left run 0: its exit is the era's, whose rmap items ksmd drops when it next comes by.
    const on = 'echo 1 > /sys/kernel/mm/ksm/run\nsleep(1)\n';
    t.like(await ask(h.socket, { id: 1, op: 'run', file: 'on.ksm', source: on }), { ok: true, status: 0 });
    const back = await view(h.socket);
    t.deepEqual([counter(back, 'pages_shared'), counter(back, 'pages_sharing'), back.processes.length], [0, 0, 0]);
    // A script's guest with 16 pages of merge-check's bytes ('k'), paused on the host.
    const guest = '#pragma era v3\nchar *p = mmap(NULL, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);\nmemset(p, 107, 16 * PAGE_SIZE);\nmadvise(p, 16 * PAGE_SIZE, MADV_MERGEABLE);\npause();\n';
    t.like(await ask(h.socket, { id: 2, op: 'run', file: 'guest.ksm', source: guest }), { ok: true, status: 0 });
    // merge-check's pages merge with the guest's: KSM's counts are the host's, not its own, and it says so by its status.
    const shared = ksmctl(['exec', '--host', '--socket', h.socket, '--', mc, '16']);
    t.is(shared.status, 1);
    t.is(shared.stdout, 'merged: pages_shared 1 pages_sharing 31\nafter one write: pages_shared 1 pages_sharing 30\n');
    t.like(await ask(h.socket, { id: 3, op: 'run', file: 'on.ksm', source: on }), { ok: true, status: 0 });
    const after = await view(h.socket);
    t.deepEqual(after.processes.map((p) => p.name), ['guest']);
    t.deepEqual([counter(after, 'pages_shared'), counter(after, 'pages_sharing')], [1, 15], "what the guest alone holds");
    t.deepEqual(realKnobs(), before, 'the real /sys/kernel/mm/ksm reads as before');
  } finally {
    g?.release();
  }
});
