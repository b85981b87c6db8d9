/**
 * ksmctl snapshot and estimate as a user runs them: the commands, snapshot:FILE
 * as a workload of workload run, compare and the TUI, ELF cores written by
 * gdb's gcore, raw images, captures taken apart in time, and bad input as
 * one line naming the file or pid with exit status 2.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareTui } from '../../src/cli/commands/tui.js';
import { resolveWorkload } from '../../src/cli/commands/workload-run.js';
import { staticBound } from '../../src/estimate/static-bound.js';
import { volatility } from '../../src/estimate/volatility.js';
import { REF_ABSENT, REF_ZERO } from '../../src/snapshot/format.js';
import { SnapshotReader } from '../../src/snapshot/reader.js';
import { cgroupRoot } from '../../src/snapshot/targets.js';
import { processNames } from '../../src/snapshot/workload.js';
import { writePageBytes } from '../../src/engine/pages.js';
import { ksmctl, STACK } from '../helpers/cli.js';
import { type Layout, pagesBinary, type PagesProcess, seedBytes, startPages } from '../helpers/pages-process.js';

const L: Layout = { s: 6, z: 3, p: 4, u: 2, d: 2, h: 1, mergeable: true };
const dir = mkdtempSync(join(tmpdir(), 'ksm-snapcli-'));
const snap = join(dir, 'two.ksnap');
let procs: PagesProcess[] = [];
const skip = pagesBinary() === null;
const maybe = skip ? test.skip : test;

test.before(async () => {
  if (skip) return;
  procs = await Promise.all([0, 1].map((i) => startPages(i, L)));
  const r = ksmctl(['snapshot', '--pid', String(procs[0].pid), String(procs[1].pid), '-o', snap]);
  if (r.status !== 0) throw new Error(`snapshot failed: ${r.stderr}`);
});

test.after.always(() => {
  for (const p of procs) p.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** One line on stderr naming `what`, exit status 2, no stack trace. */
function oneLine(t: import('ava').ExecutionContext, r: { status: number | null; stderr: string }, what: string | RegExp): void {
  t.is(r.status, 2, r.stderr);
  t.notRegex(r.stderr, STACK);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  if (typeof what === 'string') t.true(lines[0].includes(what), lines[0]);
  else t.regex(lines[0], what);
}

maybe('snapshot prints what it captured; the file is not replaced without --force', (t) => {
  t.true(existsSync(snap));
  const again = ksmctl(['snapshot', '--pid', String(procs[0].pid), '-o', snap]);
  oneLine(t, again, `${snap} exists (--force replaces it)`);
  const forced = ksmctl(['snapshot', '--pid', String(procs[0].pid), '-o', join(dir, 'one.ksnap')]);
  t.is(forced.status, 0, forced.stderr);
  t.regex(forced.stdout, /1 process\n\s+pages captured\s+\d+/);
  t.is(ksmctl(['snapshot', '--pid', String(procs[0].pid), '-o', join(dir, 'one.ksnap'), '--force']).status, 0);
});

maybe('a pid that is gone is one line, the others are captured, exit 2', (t) => {
  const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  const out = join(dir, 'partial.ksnap');
  const r = ksmctl(['snapshot', '--pid', String(procs[0].pid), gone, '-o', out]);
  oneLine(t, r, `pid ${gone}: no such process`);
  t.true(existsSync(out), 'what could be captured is written');
  const r2 = ksmctl(['snapshot', '--pid', gone, '-o', join(dir, 'none.ksnap')]);
  t.is(r2.status, 2);
  t.true(r2.stderr.includes(`pid ${gone}: no such process`));
  t.false(existsSync(join(dir, 'none.ksnap')), 'nothing captured, no file');
});

maybe('--match finds the processes by command line', (t) => {
  const out = join(dir, 'match.ksnap');
  const r = ksmctl(['snapshot', '--match', `${pagesBinary()} [01] 1 ${L.s} `, '-o', out]);
  t.is(r.status, 0, r.stderr);
  const rd = SnapshotReader.open(out);
  t.deepEqual(rd.processes.map((p) => p.pid).sort(), procs.map((p) => p.pid).sort());
  rd.close();
});

maybe('--cgroup takes the processes of a cgroup v2 and its descendants', async (t) => {
  const cg = join(cgroupRoot(), `ksm-snap-test-${process.pid}`);
  try {
    mkdirSync(join(cg, 'child'), { recursive: true });
    if (!existsSync(join(cg, 'child', 'cgroup.controllers'))) throw new Error('a plain directory, not a cgroup');
  } catch {
    rmSync(cg, { recursive: true, force: true });
    t.pass('no writable cgroup v2 here');
    return;
  }
  const p = await startPages(20, L);
  try {
    writeFileSync(join(cg, 'child', 'cgroup.procs'), String(p.pid));
    const out = join(dir, 'cgroup.ksnap');
    const r = ksmctl(['snapshot', '--cgroup', cg.slice(cgroupRoot().length + 1), '-o', out]);
    t.is(r.status, 0, r.stderr);
    const rd = SnapshotReader.open(out);
    t.deepEqual(rd.processes.map((x) => x.pid), [p.pid]);
    rd.close();
  } finally {
    p.kill();
    await new Promise((res) => p.child.once('exit', res));
    for (const d of [join(cg, 'child'), cg]) {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(d);
          break;
        } catch {
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    }
  }
  oneLine(t, ksmctl(['snapshot', '--cgroup', 'no-such-cgroup-here', '-o', join(dir, 'x.ksnap')]), '--cgroup: no cgroup no-such-cgroup-here');
});

maybe('bad snapshot files are one line naming the file, exit 2', (t) => {
  const bytes = readFileSync(snap);
  const cut = join(dir, 'cut.ksnap');
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  oneLine(t, ksmctl(['estimate', cut]), new RegExp(`${cut}: truncated`));
  const foreign = join(dir, 'notes.txt');
  writeFileSync(foreign, 'hello\n'.repeat(100));
  oneLine(t, ksmctl(['estimate', foreign]), `${foreign}: not a ksmctl snapshot`);
  oneLine(t, ksmctl(['workload', 'run', `snapshot:${foreign}`]), `${foreign}: not a ksmctl snapshot`);
  oneLine(t, ksmctl(['estimate', join(dir, 'missing.ksnap')]), 'missing.ksnap: cannot read');
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 40] ^= 0xff; // inside the index record
  const bad = join(dir, 'flipped.ksnap');
  writeFileSync(bad, flipped);
  oneLine(t, ksmctl(['estimate', bad]), bad);
});

test('an ELF file that is not a core is one line naming it, exit 2', (t) => {
  const r = ksmctl(['snapshot', '--core', process.execPath, '-o', join(dir, 'exe.ksnap')]);
  t.is(r.status, 2);
  t.notRegex(r.stderr, STACK);
  t.regex(r.stderr, new RegExp(`${process.execPath}: an ELF (executable|shared object), not a core dump`));
});

maybe('snapshot:FILE is a workload of workload run, compare and the TUI', (t) => {
  const run = ksmctl(['workload', 'run', `snapshot:${snap}`, '--era', 'v3:6.18', '--json']);
  t.is(run.status, 0, run.stderr);
  const snaps = JSON.parse(run.stdout).snapshots;
  // Mapping A of two processes: the shared pages, and the zero pages into one.
  t.is(snaps[snaps.length - 1].pages_saved, L.s + 2 * L.z - 1);
  const cmp = ksmctl(['compare', `snapshot:${snap}`, '--eras', 'v2,v3:6.18', '--json']);
  t.is(cmp.status, 0, cmp.stderr);
  for (const c of JSON.parse(cmp.stdout).configurations) t.is(c.end.pagesSaved, L.s + 2 * L.z - 1, c.label);
  const anon = ksmctl(['workload', 'run', `snapshot:${snap}`, '--register', 'anon', '--json']);
  t.is(anon.status, 0, anon.stderr);
  oneLine(t, ksmctl(['workload', 'run', `snapshot:${snap}`, '--register', 'everything']), '--register: expected one of auto, captured, anon, all-private');
  const props = prepareTui(resolveWorkload(`snapshot:${snap}`, existsSync), { era: 'v3:6.18' });
  t.is(props.session.processes().length, 2);
  t.is(props.session.processes()[0].registeredPages, L.s + L.z + L.p);
});

maybe('estimate: the table, --json and --report', (t) => {
  const r = ksmctl(['estimate', snap]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /static bound/);
  t.regex(r.stdout, /general_profit \(the era's own file\)/);
  t.regex(r.stdout, /time to 50 % \/ 90 % \/ 100 %/);
  const report = join(dir, 'estimate.html');
  const j = ksmctl(['estimate', snap, '--era', 'v3:6.18,v3:2.6.32', '--json', '--report', report]);
  t.is(j.status, 0, j.stderr);
  const x = JSON.parse(j.stdout);
  t.deepEqual(x.eras.map((e: { replay: { era: string } }) => e.replay.era), ['v3:6.18', 'v3:2.6.32']);
  for (const e of x.eras) {
    t.is(e.replay.finalSaved, L.s + 2 * L.z - 1);
    t.is(e.bound.mergeableSaved, L.s + 2 * L.z - 1);
    t.is(e.notReached, 0);
  }
  t.true(readFileSync(report, 'utf8').includes('<canvas id="saved"'));
  oneLine(t, ksmctl(['estimate', snap, '--era', 'v9']), '--era');
});

maybe('captures apart in time: --every/--count, and the pages that changed between them', async (t) => {
  const multi = join(dir, 'multi.ksnap');
  const r = ksmctl(['snapshot', '--pid', String(procs[0].pid), '--every', '10ms', '--count', '2', '-o', multi]);
  t.is(r.status, 0, r.stderr);
  const rd = SnapshotReader.open(multi);
  t.is(rd.index.captures.length, 2);
  t.deepEqual(rd.processes.map((p) => p.capture), [0, 1]);
  rd.close();
  // Processes of its own: their private pages are rewritten between two snapshots.
  const mine = await Promise.all([10, 11].map((i) => startPages(i, L)));
  try {
    const pids = mine.map((p) => String(p.pid));
    const before = join(dir, 'before.ksnap');
    const after = join(dir, 'after.ksnap');
    t.is(ksmctl(['snapshot', '--pid', ...pids, '-o', before]).status, 0);
    await Promise.all(mine.map((p) => p.rewrite()));
    t.is(ksmctl(['snapshot', '--pid', ...pids, '-o', after]).status, 0);
    const x = JSON.parse(ksmctl(['estimate', before, after, '--json']).stdout);
    t.is(x.snapshot.captures, 2);
    const b = SnapshotReader.open(before);
    const a = SnapshotReader.open(after);
    try {
      const v = volatility({ reader: b, capture: 0 }, [{ reader: a, capture: 0 }]);
      t.is(x.snapshot.volatilePages, v.changed);
      mine.forEach((p, seq) => {
        const mi = b.processes[seq].mappings.findIndex((m) => BigInt(m.start) === BigInt(p.a));
        const marks = v.pages.get(`${seq}:${mi}`)!;
        t.deepEqual([...marks], [...Array(L.s + L.z).fill(0), ...Array(L.p).fill(1), ...Array(L.u).fill(0)], 'the private pages of mapping A changed, nothing else there');
      });
    } finally {
      a.close();
      b.close();
    }
  } finally {
    for (const p of mine) p.kill();
  }
});

const gcore = spawnSync('sh', ['-c', 'command -v gcore']).status === 0;
(gcore && !skip ? test : test.skip)('an ELF core written by gdb\'s gcore reads as the process it was', (t) => {
  const p = procs[0];
  const base = join(dir, 'core');
  const g = spawnSync('gcore', ['-o', base, String(p.pid)], { encoding: 'utf8', timeout: 60_000 });
  t.is(g.status, 0, g.stderr);
  const core = `${base}.${p.pid}`;
  const out = join(dir, 'core.ksnap');
  const r = ksmctl(['snapshot', '--core', core, '-o', out]);
  t.is(r.status, 0, r.stderr);
  const rd = SnapshotReader.open(out);
  try {
    const rec = rd.processes[0];
    t.is(rec.source, 'core');
    t.is(rec.pid, p.pid);
    t.is(rec.comm, 'pages');
    const a = rec.mappings.findIndex((m) => BigInt(m.start) === BigInt(p.a));
    t.true(a >= 0, 'mapping A is a segment of the core');
    const ta = rd.pageTable(0, a);
    for (let i = 0; i < L.s; i++) t.true(Buffer.compare(rd.content(ta.refs[i]), seedBytes(1000 + i)) === 0, `page ${i}`);
    for (let i = L.s; i < L.s + L.z; i++) t.is(ta.refs[i], REF_ZERO);
    for (let i = 0; i < L.p; i++) t.true(Buffer.compare(rd.content(ta.refs[L.s + L.z + i]), seedBytes(0x10000000 + L.p * p.id + i)) === 0);
    // gcore writes every page of a writable anonymous segment: the untouched ones as zeros.
    for (let i = L.s + L.z + L.p; i < ta.refs.length; i++) t.true(ta.refs[i] === REF_ZERO || ta.refs[i] === REF_ABSENT);
    const b = staticBound(rd, rd.processes, processNames(rd.processes), { policy: 'anon', maxPageSharing: null, useZeroPages: false, only: (_s, m) => m === a });
    t.is(b.mergeable, ta.refs.filter((x) => x !== REF_ABSENT).length);
    t.is(b.distinctContents, L.s + L.p + 1);
  } finally {
    rd.close();
  }
});

test('a raw memory image is one process of present pages', (t) => {
  const img = join(dir, 'guest.img');
  const pages = 10;
  const data = new Uint8Array(pages * 4096);
  for (const [i, seed] of [[0, 7], [1, 8], [2, 7], [5, 9], [6, 7]] as const) writePageBytes({ kind: 'seed', seed }, data, i * 4096);
  writeFileSync(img, data.subarray(0, pages * 4096 - 100)); // a last page cut short reads zero-padded
  const out = join(dir, 'raw.ksnap');
  const r = ksmctl(['snapshot', '--raw', img, '-o', out]);
  t.is(r.status, 0, r.stderr);
  const rd = SnapshotReader.open(out);
  try {
    const b = staticBound(rd, rd.processes, processNames(rd.processes), { policy: 'anon', maxPageSharing: null, useZeroPages: false });
    t.is(b.present, pages);
    t.is(b.zero, 5);
    t.is(b.distinctContents, 4);
    t.is(b.perfectSaved, 6);
    t.is(b.mergeableSaved, 6);
  } finally {
    rd.close();
  }
  oneLine(t, ksmctl(['snapshot', '--raw', join(dir, 'nope.img'), '-o', join(dir, 'x.ksnap')]), 'nope.img: cannot read');
});
