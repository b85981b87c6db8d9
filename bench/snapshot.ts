/**
 * The snapshot figures of issue 15: capture speed of real processes' memory,
 * the file size of near-identical processes, and the time of an estimate to
 * convergence. Prints figures only; nothing is asserted.
 *
 *   npm run bench:snapshot --  [--processes 4] [--mib 1024] [--private 5] [--era v3:6.18] [--keep FILE]
 *
 * Each process (test/fixtures/snapshot/pages.c, compiled with cc) holds
 * --mib MiB of pages: all but --private percent seeded alike in every
 * process (one guest image), the rest its own. Seeded pages are random
 * bytes, which no compressor shrinks: the file's size is the distinct
 * contents' size.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEra } from '../src/eras/registry.js';
import { estimate } from '../src/estimate/estimate.js';
import { takeSnapshot } from '../src/snapshot/take.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const N = Number(opt('processes', '4'));
const MIB = Number(opt('mib', '1024'));
const PRIVATE = Number(opt('private', '5'));
const ERA = parseEra(opt('era', 'v3:6.18'));
const keep = opt('keep', '');

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ksm-snapbench-'));
const bin = join(dir, 'pages');
const cc = spawnSync('cc', ['-O2', '-o', bin, join(root, 'test', 'fixtures', 'snapshot', 'pages.c')], { encoding: 'utf8' });
if (cc.status !== 0) {
  console.error(`cannot compile pages.c: ${cc.stderr}`);
  process.exit(1);
}
const pages = (MIB * 1024 * 1024) / 4096;
const priv = Math.round((pages * PRIVATE) / 100);
const shared = pages - priv;
const children = await Promise.all(
  Array.from({ length: N }, (_, id) =>
    new Promise<ReturnType<typeof spawn>>((resolve, reject) => {
      const c = spawn(bin, [id, 1, shared, 0, priv, 0, 0, 0].map(String));
      c.stdout!.on('data', (d: Buffer) => d.toString().startsWith('ready') && resolve(c));
      c.on('exit', (code) => reject(new Error(`pages exited with ${code}`)));
    }),
  ),
);
const out = keep || join(dir, 'bench.ksnap');
try {
  const r = await takeSnapshot({ pids: children.map((c) => c.pid!), cores: [], raws: [], output: out, force: true });
  if (r === null) throw new Error('nothing captured');
  const MiB = 1024 * 1024;
  console.log(`capture: ${N} processes of ${MIB} MiB (${PRIVATE} % private): ${(r.bytesRead / MiB).toFixed(0)} MiB read in ${r.seconds.toFixed(2)} s = ${(r.bytesRead / MiB / r.seconds).toFixed(0)} MiB/s`);
  console.log(`file: ${(statSync(out).size / MiB).toFixed(1)} MiB (${r.stats.contents} distinct contents, ${r.stats.zeroPages} zero pages)`);
  for (const c of children) c.kill('SIGKILL');
  const t0 = performance.now();
  const x = estimate([out], { eras: [ERA] });
  const e = x.eras[0];
  console.log(`estimate (${ERA.id}, to convergence): ${((performance.now() - t0) / 1000).toFixed(1)} s; ${e.replay.passes.length} full scans, ${e.replay.finalSaved} pages saved of ${e.bound.mergeableSaved} within reach, general_profit ${e.replay.profit}`);
  console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
