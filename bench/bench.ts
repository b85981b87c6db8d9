/**
 * npm run bench: wall-clock figures of the engine on fixed workloads, one
 * child process per case so that each peak RSS is its own. Prints figures
 * only; nothing here is asserted (tests never assert timings).
 *
 *   node dist/bench/bench.js [--quick] [--json] [--case NAME] [--era ERA]
 *
 * Eras are named by their registry ids (ksmctl eras); --era takes any
 * spelling of one.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { memoryFootprint } from '../src/engine/footprint.js';
import { ERA_IDS, eraById, type EraId, parseEra } from '../src/eras/registry.js';
import { createDriver } from '../src/workload/eras.js';
import { parseWorkloadText, type Workload } from '../src/workload/schema.js';

interface Case {
  name: string;
  target: string;
  description: string;
  eras: readonly EraId[];
  workload: () => Workload;
}

interface Result {
  case: string;
  target: string;
  era: string;
  /** The merge algorithm (and its seed) the era runs: a regression shows under its own name. */
  algorithm: string;
  pages: number;
  passesToConverge: number;
  passSeconds: number[];
  setupSeconds: number;
  convergeSeconds: number;
  pagesScannedPerSecond: number;
  steadyPagesScannedPerSecond: number;
  metadataBytesPerTrackedPage: number | null;
  trackedPages: number | null;
  contentMiB: number;
  peakRssMiB: number;
  counters: Record<string, number>;
}

function doc(name: string, processes: Record<string, unknown>): Workload {
  return parseWorkloadText(JSON.stringify({ name, processes, steps: [] }), name);
}

function guests(n: number, pages: number): Workload {
  const img = Math.round(pages * 0.95);
  const priv = pages - img;
  const processes: Record<string, unknown> = {};
  for (let g = 0; g < n; g++) {
    processes[`guest-${g}`] = [{ runs: [{ pages: img, content: { seedFrom: 1 } }, { pages: priv, content: { seedFrom: 10_000_000 + g * priv } }] }];
  }
  return doc(`guests-${n}x${pages}`, processes);
}

/** The merge algorithm (and its seed) an era runs, and the knobs its run writes first (6.18: smart_scan 0, use_zero_pages 0). */
function algorithm(id: EraId): string {
  const e = eraById(id);
  const knobs = e.workloadKnobs.map(([name, value]) => `${name} ${value}`).join(', ');
  return knobs ? `${e.merger} (${knobs})` : e.merger;
}

function cases(quick: boolean): Case[] {
  const worst = quick ? 65536 : 262144;
  const eras = ERA_IDS;
  return [
    {
      name: 'ksmpages-worst',
      target: 'worst case: converge (pass 3 equals pass 2) fast; mainline under 13 s, 2008/2009 mergers under 40 s',
      description: `2 x ${worst} pages of tailFrom 0: every page differs from the others only in its last 8 bytes`,
      eras,
      workload: () => doc('ksmpages-worst', { a: [{ pages: worst, content: { tailFrom: 0 } }], b: [{ pages: worst, content: { tailFrom: 0 } }] }),
    },
    {
      name: 'all-identical',
      target: 'steady state: at least 2 M pages scanned per second (last pass)',
      description: `2 x ${worst} pages, all the same content`,
      eras: ['v3:2.6.32'],
      workload: () => doc('all-identical', { a: [{ pages: worst, content: { seed: 42 } }], b: [{ pages: worst, content: { seed: 42 } }] }),
    },
    {
      name: 'guests-dedup',
      target: 'memory and scale: at most 64 B of metadata per tracked page, under 4 GiB RSS, converge under 60 s',
      description: quick ? '4 guests x 65536 pages, 95 % one image, 5 % private' : '32 guests x 262144 pages (8 Mi pages), 95 % one image, 5 % private',
      eras: ['v3:2.6.32'],
      workload: () => (quick ? guests(4, 65536) : guests(32, 262144)),
    },
  ];
}

/** Sets up, registers everything, then runs passes until one changes no counter. */
function runCase(c: Case, era: EraId): Result {
  const t0 = performance.now();
  const w = c.workload();
  const d = createDriver(era);
  d.setup(w);
  const total = w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0);
  const a = d.adapter;
  // The real kernels these figures are compared with have no max_kernel_pages (2.6.32's limit of KSM pages).
  if (a.files().some((f) => f.name === 'max_kernel_pages')) a.writeFile('max_kernel_pages', '0');
  // ksmd's batch knob, where sysfs has one: a whole pass, as each scan call below takes.
  if (a.sysfs !== null) a.setPagesToScan(total + 1);
  for (const p of w.processes) p.regions.forEach((_, r) => d.register(p.name, r));
  const setupSeconds = (performance.now() - t0) / 1000;
  const passSeconds: number[] = [];
  let prev = '';
  for (;;) {
    const before = d.passes();
    const s = performance.now();
    while (d.passes() === before) d.scan(total + 1);
    passSeconds.push((performance.now() - s) / 1000);
    const now = JSON.stringify({ ...d.counters(), full_scans: 0 });
    if (now === prev || passSeconds.length > 20) break;
    prev = now;
  }
  const convergeSeconds = passSeconds.reduce((a, b) => a + b, 0);
  const fp = memoryFootprint(d.memory);
  const m = a.merger;
  const tracked = m.algorithm === 'mainline-2632' || m.algorithm === 'mainline-39' || m.algorithm === 'mainline-618' ? m.rmapItems : null;
  return {
    case: c.name,
    target: c.target,
    era,
    algorithm: algorithm(era),
    pages: total,
    passesToConverge: passSeconds.length - 1,
    passSeconds,
    setupSeconds,
    convergeSeconds,
    pagesScannedPerSecond: d.pagesScanned() / convergeSeconds,
    steadyPagesScannedPerSecond: total / passSeconds[passSeconds.length - 1],
    metadataBytesPerTrackedPage: tracked ? (fp.memoryMetadata + m.memoryBytes()) / tracked : null,
    trackedPages: tracked,
    contentMiB: fp.contentBytes / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    counters: d.counters(),
  };
}

function print(r: Result, description: string): void {
  const f = (n: number) => Math.round(n).toLocaleString('en');
  console.log(`${r.case} under ${r.era}, ${r.algorithm}: ${description}`);
  console.log(`  target: ${r.target}`);
  console.log(`  pages ${f(r.pages)}; setup ${r.setupSeconds.toFixed(2)} s; converged after ${r.passesToConverge} passes in ${r.convergeSeconds.toFixed(2)} s (the last pass only confirms)`);
  console.log(`  wall per pass: ${r.passSeconds.map((s) => `${s.toFixed(3)} s`).join(', ')}`);
  console.log(`  pages scanned per second: ${f(r.pagesScannedPerSecond)} overall, ${f(r.steadyPagesScannedPerSecond)} in the last (steady) pass`);
  if (r.metadataBytesPerTrackedPage !== null) console.log(`  engine metadata: ${r.metadataBytesPerTrackedPage.toFixed(1)} bytes per tracked page (${f(r.trackedPages ?? 0)} tracked)`);
  console.log(`  page contents ${r.contentMiB.toFixed(0)} MiB; peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
  console.log(`  counters: ${Object.entries(r.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log('');
}

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const json = args.includes('--json');
const only = arg('--case');
const eraArg = arg('--era');
const onlyEra = eraArg === undefined ? undefined : parseEra(eraArg).id;
const all = cases(quick);

if (only !== undefined && onlyEra !== undefined) {
  // A child: run one case under one era and print its result as JSON.
  const c = all.find((x) => x.name === only);
  if (c === undefined) throw new Error(`no case ${only}`);
  process.stdout.write(JSON.stringify(runCase(c, onlyEra)));
} else {
  const results: Result[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const c of all) {
    if (only !== undefined && c.name !== only) continue;
    for (const era of c.eras) {
      if (onlyEra !== undefined && era !== onlyEra) continue;
      const out = execFileSync(process.execPath, ['--max-old-space-size=8192', self, '--case', c.name, '--era', era, ...(quick ? ['--quick'] : [])], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      const r = JSON.parse(out) as Result;
      results.push(r);
      if (!json) print(r, c.description);
    }
  }
  if (json) console.log(JSON.stringify({ node: process.version, quick, results }, null, 2));
}
