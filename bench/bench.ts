/**
 * npm run bench: wall-clock figures of the engine on fixed workloads.
 * Prints figures only; nothing here is asserted (tests never assert timings).
 *
 *   node dist/bench/bench.js [--json] [--pages N]
 */
import { memoryFootprint } from '../src/engine/footprint.js';
import { V3Driver } from '../src/workload/drivers/v3.js';
import { parseWorkloadText, type Workload } from '../src/workload/schema.js';

interface Case {
  name: string;
  description: string;
  workload: Workload;
}

interface Result {
  case: string;
  era: string;
  pages: number;
  passesToConverge: number;
  passSeconds: number[];
  setupSeconds: number;
  totalSeconds: number;
  pagesScannedPerSecond: number;
  steadyPagesScannedPerSecond: number;
  metadataBytesPerTrackedPage: number;
  contentBytes: number;
  trackedPages: number;
  peakRssMiB: number;
  counters: Record<string, number>;
}

function workload(name: string, processes: Record<string, unknown>): Workload {
  return parseWorkloadText(JSON.stringify({ name, processes, steps: [] }), name);
}

function cases(pages: number): Case[] {
  return [
    {
      name: 'ksmpages-worst',
      description: `2 x ${pages} pages of tailFrom 0: every page differs from the others only in its last 8 bytes`,
      workload: workload('ksmpages-worst', {
        a: [{ pages, content: { tailFrom: 0 } }],
        b: [{ pages, content: { tailFrom: 0 } }],
      }),
    },
    {
      name: 'all-identical',
      description: `2 x ${pages} pages, all the same content`,
      workload: workload('all-identical', {
        a: [{ pages, content: { seed: 42 } }],
        b: [{ pages, content: { seed: 42 } }],
      }),
    },
  ];
}

/** Runs passes (one ksmd batch larger than the memory each) until a pass changes no counter. */
function runV3(c: Case): Result {
  const t0 = performance.now();
  const d = new V3Driver();
  d.setup(c.workload);
  // The real kernels these figures are compared with have no max_kernel_pages.
  d.kernel.writeSysfs('max_kernel_pages', '0\n');
  const total = c.workload.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0);
  d.kernel.writeSysfs('pages_to_scan', `${total + 1}\n`);
  c.workload.processes.forEach((p) => p.regions.forEach((_, r) => d.register(p.name, r)));
  const setupSeconds = (performance.now() - t0) / 1000;
  const passSeconds: number[] = [];
  let prev = '';
  let passes = 0;
  for (;;) {
    const s = performance.now();
    d.scan(total + 1);
    passSeconds.push((performance.now() - s) / 1000);
    passes++;
    const now = JSON.stringify({ ...d.counters(), full_scans: 0 });
    if (now === prev || passes > 20) break;
    prev = now;
  }
  const scanSeconds = passSeconds.reduce((a, b) => a + b, 0);
  const fp = memoryFootprint(d.memory);
  const tracked = d.kernel.ksm.rmapItems;
  return {
    case: c.name,
    era: 'v3',
    pages: total,
    passesToConverge: passes - 1,
    passSeconds,
    setupSeconds,
    totalSeconds: (performance.now() - t0) / 1000,
    pagesScannedPerSecond: d.pagesScanned() / scanSeconds,
    steadyPagesScannedPerSecond: total / passSeconds[passSeconds.length - 1],
    metadataBytesPerTrackedPage: (fp.memoryMetadata + d.kernel.ksm.memoryBytes()) / Math.max(1, tracked),
    contentBytes: fp.contentBytes,
    trackedPages: tracked,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    counters: d.counters(),
  };
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const pi = args.indexOf('--pages');
const pages = pi >= 0 ? Number(args[pi + 1]) : 65536;
const results: Result[] = [];
for (const c of cases(pages)) {
  const r = runV3(c);
  results.push(r);
  if (!json) {
    console.log(`${r.case} (${r.era}): ${c.description}`);
    console.log(`  pages ${r.pages}, passes to converge ${r.passesToConverge} (+1 to confirm), setup ${r.setupSeconds.toFixed(2)} s, total ${r.totalSeconds.toFixed(2)} s`);
    console.log(`  wall per pass: ${r.passSeconds.map((s) => s.toFixed(3)).join(' s, ')} s`);
    console.log(`  pages scanned per second: ${Math.round(r.pagesScannedPerSecond).toLocaleString('en')} overall, ${Math.round(r.steadyPagesScannedPerSecond).toLocaleString('en')} in the last (steady) pass`);
    console.log(`  engine metadata per tracked page: ${r.metadataBytesPerTrackedPage.toFixed(1)} bytes (${r.trackedPages} tracked); page contents ${(r.contentBytes / 2 ** 20).toFixed(1)} MiB`);
    console.log(`  counters: ${Object.entries(r.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`  peak RSS so far: ${r.peakRssMiB.toFixed(0)} MiB`);
    console.log('');
  }
}
if (json) console.log(JSON.stringify({ node: process.version, results }, null, 2));
