/**
 * npm run bench: wall-clock figures of the engine on fixed workloads, one
 * child process per case so that each peak RSS is its own, then the whole
 * `ksmctl workload run` of the worst case timed as a command, and the real
 * kernel's passes on the same workload where this machine allows it
 * (kernel.ts says why not otherwise). Prints figures only; nothing here is
 * asserted (tests never assert timings).
 *
 *   node dist/bench/bench.js [--quick] [--json] [--case NAME] [--era ERA] [--no-kernel]
 *
 * Cases (--case): ksmpages-worst, all-identical, guests-dedup, setup-distinct,
 * setup-identical, host-64g (full size only without --quick), end-to-end
 * (the command and the kernel), compare (`ksmctl compare` of the six eras
 * on the worst case, against each era alone).
 *
 * Eras are named by their registry ids (ksmctl eras); --era takes any
 * spelling of one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { memoryFootprint } from '../src/engine/footprint.js';
import { ERA_IDS, eraById, type EraId, parseEra } from '../src/eras/registry.js';
import { createDriver } from '../src/workload/eras.js';
import { parseWorkloadText, type Workload } from '../src/workload/schema.js';
import { childrenCpuSeconds } from './child-cpu.js';
import { measureKernel, type KernelOutcome } from './kernel.js';
import { taskProgress } from '../src/cli/progress.js';

interface Case {
  name: string;
  target: string;
  description: string;
  eras: readonly EraId[];
  workload: () => Workload;
  /** Only set the workload up (a setup-rate case): no registration, no pass. */
  setupOnly?: boolean;
}

interface Result {
  case: string;
  target: string;
  era: string;
  /** The merge algorithm (and its seed) the era runs: a regression shows under its own name. */
  algorithm: string;
  pages: number;
  /** Distinct page contents after setup. */
  distinctContents: number;
  passesToConverge: number;
  passSeconds: number[];
  setupSeconds: number;
  /** GiB of page contents written per second of setup. */
  setupGiBPerSecond: number;
  /** The same per second of CPU (user + system) the fill used: steadier than wall time on a shared machine. */
  setupGiBPerCpuSecond: number;
  convergeSeconds: number;
  /** From the process's start (Node's own start-up and module loading included) to the result. */
  processSeconds: number;
  /** CPU time (user + system) of the whole process, for the same span. */
  processCpuSeconds: number;
  pagesScannedPerSecond: number;
  steadyPagesScannedPerSecond: number;
  metadataBytesPerTrackedPage: number | null;
  trackedPages: number | null;
  contentMiB: number;
  peakRssMiB: number;
  counters: Record<string, number>;
}

interface EndToEnd {
  era: string;
  args: string[];
  seconds: number;
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
    {
      name: 'setup-distinct',
      target: 'setup: distinct contents at 1 GiB/s or more (262,144 distinct 4 KiB pages a second)',
      description: `${worst} pages of distinct seeded (random) contents, in one process`,
      eras: ['v3:2.6.32'],
      setupOnly: true,
      workload: () => doc('setup-distinct', { a: [{ pages: worst, content: { seedFrom: 1 } }] }),
    },
    {
      name: 'setup-identical',
      target: 'setup: identical contents at 4 GiB/s or more',
      description: `4 x ${worst} pages of one seeded content`,
      eras: ['v3:2.6.32'],
      setupOnly: true,
      workload: () => doc('setup-identical', Object.fromEntries(['a', 'b', 'c', 'd'].map((p) => [p, [{ pages: worst, content: { seed: 42 } }]]))),
    },
    {
      name: 'host-64g',
      target: 'a 64 GiB host: end to end to convergence under 60 s, peak RSS under 8 GiB',
      description: quick ? '8 guests x 65536 pages (the full case, 64 x 262144, runs without --quick)' : '64 guests x 262144 pages (16 Mi pages, 64 GiB), 95 % one image, 5 % private (~1 Mi distinct contents)',
      eras: ['v3:2.6.32', 'v3:6.18'],
      workload: () => (quick ? guests(8, 65536) : guests(64, 262144)),
    },
  ];
}

/** Sets up, registers everything, then runs passes until one changes no counter. */
function runCase(c: Case, era: EraId): Result {
  const t0 = performance.now();
  const w = c.workload();
  const d = createDriver(era);
  const total = w.processes.reduce((n, p) => n + p.regions.reduce((m, r) => m + r.pages, 0), 0);
  const s0 = performance.now();
  const c0 = process.cpuUsage();
  d.setup(w);
  const fillSeconds = (performance.now() - s0) / 1000;
  const fillCpu = cpuSeconds(process.cpuUsage(c0));
  const a = d.adapter;
  // The real kernels these figures are compared with have no max_kernel_pages (2.6.32's limit of KSM pages).
  if (a.files().some((f) => f.name === 'max_kernel_pages')) a.writeFile('max_kernel_pages', '0');
  // ksmd's batch knob, where sysfs has one: a whole pass, as each scan call below takes.
  if (a.sysfs !== null) a.setPagesToScan(total + 1);
  const passSeconds: number[] = [];
  let setupSeconds = fillSeconds;
  if (!c.setupOnly) {
    for (const p of w.processes) p.regions.forEach((_, r) => d.register(p.name, r));
    setupSeconds = (performance.now() - t0) / 1000;
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
  }
  const convergeSeconds = passSeconds.reduce((x, y) => x + y, 0);
  const fp = memoryFootprint(d.memory);
  const m = a.merger;
  const tracked = !c.setupOnly && (m.algorithm === 'mainline-2632' || m.algorithm === 'mainline-39' || m.algorithm === 'mainline-618') ? m.rmapItems : null;
  return {
    case: c.name,
    target: c.target,
    era,
    algorithm: algorithm(era),
    pages: total,
    distinctContents: d.memory.contents.live,
    passesToConverge: Math.max(0, passSeconds.length - 1),
    passSeconds,
    setupSeconds,
    setupGiBPerSecond: (total * 4096) / 2 ** 30 / fillSeconds,
    setupGiBPerCpuSecond: (total * 4096) / 2 ** 30 / fillCpu,
    convergeSeconds,
    processSeconds: performance.now() / 1000,
    processCpuSeconds: cpuSeconds(process.cpuUsage()),
    pagesScannedPerSecond: convergeSeconds > 0 ? d.pagesScanned() / convergeSeconds : 0,
    steadyPagesScannedPerSecond: passSeconds.length ? total / passSeconds[passSeconds.length - 1] : 0,
    metadataBytesPerTrackedPage: tracked ? (fp.memoryMetadata + m.memoryBytes()) / tracked : null,
    trackedPages: tracked,
    contentMiB: fp.contentBytes / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    counters: d.counters(),
  };
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

const f = (n: number) => Math.round(n).toLocaleString('en');

function print(r: Result, c: Case): void {
  console.log(`${r.case} under ${r.era}, ${r.algorithm}: ${c.description}`);
  console.log(`  target: ${r.target}`);
  if (c.setupOnly) {
    console.log(`  pages ${f(r.pages)} (${f(r.distinctContents)} distinct contents); filled in ${r.setupSeconds.toFixed(2)} s: ${r.setupGiBPerSecond.toFixed(2)} GiB/s, ${f(r.pages / r.setupSeconds)} pages/s (${r.setupGiBPerCpuSecond.toFixed(2)} GiB per CPU second)`);
  } else {
    console.log(`  pages ${f(r.pages)} (${f(r.distinctContents)} distinct contents); setup ${r.setupSeconds.toFixed(2)} s (fill ${r.setupGiBPerSecond.toFixed(2)} GiB/s); converged after ${r.passesToConverge} pass${r.passesToConverge === 1 ? '' : 'es'} in ${r.convergeSeconds.toFixed(2)} s (the last pass only confirms)`);
    console.log(`  end to end (process start to result): ${r.processSeconds.toFixed(2)} s (CPU ${r.processCpuSeconds.toFixed(2)} s)`);
    console.log(`  wall per pass: ${r.passSeconds.map((s) => `${s.toFixed(3)} s`).join(', ')}`);
    console.log(`  pages scanned per second: ${f(r.pagesScannedPerSecond)} overall, ${f(r.steadyPagesScannedPerSecond)} in the last (steady) pass`);
    if (r.metadataBytesPerTrackedPage !== null) console.log(`  engine metadata: ${r.metadataBytesPerTrackedPage.toFixed(1)} bytes per tracked page (${f(r.trackedPages ?? 0)} tracked)`);
  }
  console.log(`  page contents ${r.contentMiB.toFixed(0)} MiB; peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
  console.log(`  counters: ${Object.entries(r.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log('');
}

interface CompareTiming {
  /** The eras of one `ksmctl compare` run. */
  eras: string[];
  seconds: number;
  /** The command's CPU time (user + system, every worker thread), or null where it cannot be read. */
  cpuSeconds: number | null;
}

/**
 * `ksmctl compare builtin:ksmpages-worst:pages=N --eras ... --json` timed
 * from spawn to exit (passes until converged, as by default).
 */
function compareRun(pages: number, eras: readonly string[]): CompareTiming {
  const cli = fileURLToPath(new URL('../src/cli/ksmctl.js', import.meta.url));
  const args = ['compare', `builtin:ksmpages-worst:pages=${pages}`, '--eras', eras.join(','), '--json'];
  const c0 = childrenCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  const c1 = childrenCpuSeconds();
  if (r.status !== 0) throw new Error(`ksmctl ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  JSON.parse(r.stdout);
  return { eras: [...eras], seconds, cpuSeconds: c0 !== null && c1 !== null ? c1 - c0 : null };
}

/** The whole `ksmctl workload run` of the worst case, timed from spawn to exit, its JSON output read in full. */
function endToEnd(pages: number, era: string, extra: string[]): EndToEnd {
  const cli = fileURLToPath(new URL('../src/cli/ksmctl.js', import.meta.url));
  const args = ['workload', 'run', `builtin:ksmpages-worst:pages=${pages}`, '--json', '--era', era, ...extra];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ksmctl ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { snapshots: Array<Record<string, number | string>> };
  const last = out.snapshots[out.snapshots.length - 1];
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(last)) if (typeof v === 'number' && k !== 'step') counters[k] = v;
  return { era: `${era}${extra.length ? ` ${extra.join(' ')}` : ''}`, args, seconds, counters };
}

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const json = args.includes('--json');
const noKernel = args.includes('--no-kernel');
const only = arg('--case');
const eraArg = arg('--era');
const onlyEra = eraArg === undefined ? undefined : parseEra(eraArg).id;
const all = cases(quick);

if (only !== undefined && onlyEra !== undefined && only !== 'end-to-end' && only !== 'compare') {
  // A child: run one case under one era and print its result as JSON.
  const c = all.find((x) => x.name === only);
  if (c === undefined) throw new Error(`no case ${only}`);
  process.stdout.write(JSON.stringify(runCase(c, onlyEra)));
} else {
  const results: Result[] = [];
  const self = fileURLToPath(import.meta.url);
  // A bar on stderr when it is a terminal: the cases and eras run so far (each a child process).
  const runs = all.filter((c) => only === undefined || c.name === only).flatMap((c) => c.eras.filter((e) => onlyEra === undefined || e === onlyEra).map((e) => `${c.name} ${e}`));
  const progress = taskProgress('bench');
  let ran = 0;
  for (const c of all) {
    if (only !== undefined && c.name !== only) continue;
    for (const era of c.eras) {
      if (onlyEra !== undefined && era !== onlyEra) continue;
      progress?.update(ran, runs.length, `${c.name} under ${era}`);
      // The bar leaves the line to the result printed next, and comes back for the next run.
      const out = execFileSync(process.execPath, ['--max-old-space-size=8192', self, '--case', c.name, '--era', era, ...(quick ? ['--quick'] : [])], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      const r = JSON.parse(out) as Result;
      results.push(r);
      ran++;
      if (!json) {
        progress?.clear();
        print(r, c);
      }
    }
  }
  progress?.stop();
  let e2e: EndToEnd[] = [];
  let kernel: KernelOutcome | null = null;
  const worst = quick ? 65536 : 262144;
  if (only === undefined || only === 'end-to-end') {
    e2e = [endToEnd(worst, 'v3:2.6.32', ['--sysfs', 'max_kernel_pages=0']), endToEnd(worst, 'v3:6.18', [])];
    // Two passes merge everything on the real kernel; a third confirms, as the simulator's runs do.
    kernel = noKernel ? { ok: false, reason: '--no-kernel' } : await measureKernel(worst, 2, 3);
    if (!json) {
      console.log(`end-to-end: ksmctl workload run builtin:ksmpages-worst:pages=${worst} --json (2 x ${worst} pages, 3 passes), the whole command as a child process`);
      console.log('  target: at most half of the real kernel\'s two merging passes on the same machine');
      const kernelTwo = kernel.ok ? kernel.result.passSeconds[0] + kernel.result.passSeconds[1] : null;
      for (const e of e2e) {
        const ratio = kernelTwo !== null ? `; ${(e.seconds / kernelTwo).toFixed(2)} of the kernel's two passes` : '';
        console.log(`  --era ${e.era}: ${e.seconds.toFixed(2)} s${ratio} (pages_sharing ${e.counters.pages_sharing})`);
      }
      if (kernel.ok) {
        const k = kernel.result;
        console.log(`  real kernel ${k.release}: passes ${k.passSeconds.map((s) => `${s.toFixed(2)} s`).join(', ')}; two passes ${kernelTwo!.toFixed(2)} s (pages_sharing ${k.counters.pages_sharing})`);
      } else {
        console.log(`  real kernel: not measured: ${kernel.reason}`);
      }
      console.log('');
    }
  }
  let compare: { together: CompareTiming; alone: CompareTiming[] } | null = null;
  if (only === 'compare' || (only === undefined && !quick)) {
    const eras = onlyEra !== undefined ? [onlyEra] : ERA_IDS;
    const alone = eras.map((e) => compareRun(worst, [e]));
    const together = compareRun(worst, eras);
    compare = { together, alone };
    if (!json) {
      console.log(`compare: ksmctl compare builtin:ksmpages-worst:pages=${worst} --json (until converged), the whole command as a child process`);
      console.log('  target: the eras together at most the slowest era alone (which pays one setup)');
      const cpu = (t: CompareTiming) => (t.cpuSeconds === null ? '' : ` (CPU ${t.cpuSeconds.toFixed(2)} s)`);
      for (const a of alone) console.log(`  --eras ${a.eras[0]}: ${a.seconds.toFixed(2)} s${cpu(a)}`);
      const slowest = Math.max(...alone.map((a) => a.seconds));
      console.log(`  --eras ${together.eras.join(',')}: ${together.seconds.toFixed(2)} s${cpu(together)}; ${(together.seconds / slowest).toFixed(2)} of the slowest era alone`);
      console.log('');
    }
  }
  if (json) console.log(JSON.stringify({ node: process.version, quick, results, endToEnd: e2e, kernel, compare }, null, 2));
}
