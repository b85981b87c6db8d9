/**
 * `ksmctl snapshot` on real processes this test starts (pages.c): every
 * page's bytes and flags come back from the file, the static counts are
 * exact, and the estimate's replay is the run of the same contents given as
 * a workload file, under every era.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eraById, ERAS } from '../../src/eras/registry.js';
import { bootDefaults, replay } from '../../src/estimate/replay.js';
import { staticBound } from '../../src/estimate/static-bound.js';
import { FIRST_CONTENT, PF_FILE, PF_PRESENT, REF_ABSENT, REF_ZERO } from '../../src/snapshot/format.js';
import { SnapshotReader } from '../../src/snapshot/reader.js';
import { takeSnapshot } from '../../src/snapshot/take.js';
import { processNames, snapshotWorkload } from '../../src/snapshot/workload.js';
import { WorkloadDriver } from '../../src/workload/driver.js';
import { runWorkload } from '../../src/workload/runner.js';
import { parseWorkloadText } from '../../src/workload/schema.js';
import { type Layout, pagesBinary, type PagesProcess, seedBytes, startPages } from '../helpers/pages-process.js';

const L: Layout = { s: 8, z: 4, p: 5, u: 6, d: 3, h: 2, mergeable: true };
const N = 3;
const dir = mkdtempSync(join(tmpdir(), 'ksm-snap-'));
const file = join(dir, 'three.ksnap');
let procs: PagesProcess[] = [];
const skip = pagesBinary() === null;

test.before(async () => {
  if (skip) return;
  procs = await Promise.all(Array.from({ length: N }, (_, i) => startPages(i, L)));
  const r = await takeSnapshot({ pids: procs.map((p) => p.pid), cores: [], raws: [], output: file });
  if (r === null) throw new Error('nothing captured');
});

test.after.always(() => {
  for (const p of procs) p.kill();
  rmSync(dir, { recursive: true, force: true });
});

const hex = (n: number) => `0x${n.toString(16)}`;

/** Mapping index of the range starting at addr. */
function mappingAt(r: SnapshotReader, seq: number, addr: number): number {
  const i = r.processes[seq].mappings.findIndex((m) => m.start === hex(addr));
  if (i < 0) throw new Error(`no mapping at ${hex(addr)}`);
  return i;
}

const maybe = skip ? test.skip : test;

function same(t: ExecutionContext, got: Uint8Array, want: Uint8Array, what: string): void {
  t.true(Buffer.compare(got, want) === 0, `${what}: bytes differ`);
}

maybe('every page of the three mappings comes back with its bytes and flags', (t) => {
  const r = SnapshotReader.open(file);
  try {
    t.is(r.processes.length, N);
    const sharedRefs: number[][] = [];
    r.processes.forEach((rec, seq) => {
      const p = procs[seq];
      t.is(rec.pid, p.pid);
      t.is(rec.comm, 'pages');
      t.deepEqual(rec.cmdline.slice(1), [p.id, 1, L.s, L.z, L.p, L.u, L.d, L.h].map(String));
      t.deepEqual(rec.problems, []);
      const a = mappingAt(r, seq, p.a);
      const ma = rec.mappings[a];
      t.is(ma.perms, 'rw-p');
      t.is(ma.kind, 'anon');
      t.true(ma.vmFlags!.includes('mg'), 'mapping A is MADV_MERGEABLE');
      t.is(ma.end, hex(p.a + (L.s + L.z + L.p + L.u) * 4096));
      const ta = r.pageTable(seq, a);
      const refs: number[] = [];
      for (let i = 0; i < L.s; i++) {
        t.true(ta.refs[i] >= FIRST_CONTENT);
        same(t, r.content(ta.refs[i]), seedBytes(1000 + i), `A page ${i}`);
        t.is(ta.flags[i] & (PF_PRESENT | PF_FILE), PF_PRESENT);
        t.not(ta.frames[i], 0, 'root sees the frame');
        refs.push(ta.refs[i]);
      }
      sharedRefs.push(refs);
      for (let i = L.s; i < L.s + L.z; i++) t.is(ta.refs[i], REF_ZERO, `A page ${i} is zero`);
      for (let i = 0; i < L.p; i++) same(t, r.content(ta.refs[L.s + L.z + i]), seedBytes(0x10000000 + p.id * L.p + i), `A page ${L.s + L.z + i}`);
      for (let i = L.s + L.z + L.p; i < ta.refs.length; i++) {
        t.is(ta.refs[i], REF_ABSENT, `A page ${i} was never touched`);
        t.is(ta.flags[i] & PF_PRESENT, 0);
      }
      const b = mappingAt(r, seq, p.b);
      t.false(rec.mappings[b].vmFlags!.includes('mg'));
      const tb = r.pageTable(seq, b);
      for (let i = 0; i < L.d; i++) same(t, r.content(tb.refs[i]), seedBytes(1000 + i), `B page ${i}`);
      const c = mappingAt(r, seq, p.c);
      t.is(rec.mappings[c].perms, 'rw-s');
      t.is(rec.mappings[c].kind, 'shmem');
      const tc = r.pageTable(seq, c);
      for (let i = 0; i < L.h; i++) {
        same(t, r.content(tc.refs[i]), seedBytes(1000 + i), `C page ${i}`);
        t.is(tc.flags[i] & (PF_PRESENT | PF_FILE), PF_PRESENT | PF_FILE, 'shmem pages are file-or-shared pages');
      }
    });
    // Each distinct content is stored once: the shared pages have the same numbers in every process.
    t.deepEqual(sharedRefs[1], sharedRefs[0]);
    t.deepEqual(sharedRefs[2], sharedRefs[0]);
  } finally {
    r.close();
  }
});

maybe('the static counts of the three mappings are exact', (t) => {
  const r = SnapshotReader.open(file);
  try {
    const ours = new Set(r.processes.flatMap((rec, seq) => [procs[seq].a, procs[seq].b, procs[seq].c].map((addr) => `${seq}:${mappingAt(r, seq, addr)}`)));
    const b = staticBound(r, r.processes, processNames(r.processes), { policy: 'captured', maxPageSharing: null, useZeroPages: false, only: (seq, m) => ours.has(`${seq}:${m}`) });
    const perProcess = L.s + L.z + L.p + L.d + L.h;
    t.is(b.present, N * perProcess);
    t.is(b.zero, N * L.z);
    t.is(b.distinctContents, L.s + 1 + N * L.p);
    t.is(b.distinctFrames, N * perProcess);
    t.is(b.alreadyShared, 0);
    t.is(b.perfectSaved, N * perProcess - (L.s + 1 + N * L.p));
    t.is(b.mergeable, N * (L.s + L.z + L.p));
    t.is(b.mergeableSaved, L.s * (N - 1) + (N * L.z - 1));
    t.is(b.lost['not-registered'], N * L.d);
    t.is(b.lost.shared, N * L.h);
    t.is(b.perfectSaved - b.mergeableSaved, N * L.d + N * L.h);
    // Attribution: the first process keeps, the others save across; zero pages within the first.
    t.deepEqual(b.byProcess.map((p) => [p.saved, p.within, p.across]), [[L.z - 1, L.z - 1, 0], [L.s + L.z, 0, L.s + L.z], [L.s + L.z, 0, L.s + L.z]]);
  } finally {
    r.close();
  }
});

/** The same memory as a workload file: mapping A of each process, as seeded runs. */
function sameAsWorkload(pagesToScan: number, passes: number) {
  return parseWorkloadText(
    JSON.stringify({
      name: 'same-contents',
      pagesToScan,
      processes: Object.fromEntries(
        procs.map((p) => [
          `p${p.id}`,
          [{ runs: [{ pages: L.s, content: { seedFrom: 1000 } }, { pages: L.z, content: 'zero' }, { pages: L.p, content: { seedFrom: 0x10000000 + p.id * L.p } }] }],
        ]),
      ),
      steps: [...procs.map((p) => ({ register: `p${p.id}` })), { fullScans: passes }],
    }),
  );
}

for (const era of ERAS) {
  maybe(`the estimate's replay under ${era.id} is the run of the same contents as a workload`, (t) => {
    const sw = snapshotWorkload(file, { register: 'captured' });
    t.is(sw.regions.length, N);
    t.deepEqual(sw.regions.map((r) => r.pages), Array(N).fill(L.s + L.z + L.p), 'untouched pages at the end are left out');
    const rp = replay(sw, era, { maxPasses: 6 });
    t.deepEqual(rp.errors, []);
    const w = sameAsWorkload(100, rp.passes.length);
    const run = runWorkload(w, new WorkloadDriver(era, { sysfs: bootDefaults(era) }));
    t.deepEqual(
      rp.passes.map((p) => [p.pagesShared, p.pagesSharing, p.pagesUnshared, p.pagesVolatile, p.pagesSaved]),
      run.snapshots.slice(0, rp.passes.length).map((s) => [s.pages_shared, s.pages_sharing, s.pages_unshared, s.pages_volatile, s.pages_saved]),
    );
    t.true(rp.finalSaved > 0 || era.family === 'v1');
  });
}

maybe('the writes of a later capture are made between scans: rewritten shared pages stop being saved', (t) => {
  const sw = snapshotWorkload(file, { register: 'captured' });
  const era = eraById('v3:6.18');
  const before = replay(sw, era, { maxPasses: 10 });
  const passMs = before.passes[0].virtualMs;
  // The first process rewrites its first two shared pages after the second pass: the other two still share them.
  const writes = [0, 1].map((page) => ({ proc: sw.regions[0].proc, region: 0, page, bytes: seedBytes(777000 + page) }));
  const after = replay(sw, era, { maxPasses: 20, changes: [{ atMs: 2 * passMs, writes }] });
  t.is(before.finalSaved, L.s * (N - 1) + N * L.z - 1);
  t.is(after.finalSaved, before.finalSaved - 2);
  t.true(after.converged !== null && after.passes.length > 3);
  t.deepEqual(after.errors, []);
});

maybe('the file is compact: the shared pages are stored once', (t) => {
  const r = SnapshotReader.open(file);
  try {
    t.true(statSync(file).size < r.processes.length * 600 * 1024);
  } finally {
    r.close();
  }
});
