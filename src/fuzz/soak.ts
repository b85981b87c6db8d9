/**
 * The soak: millions of random operations across every era of the registry,
 * each on a small machine driven through its era's adapter (src/fuzz/worlds.ts),
 * with every invariant recomputed from scratch after every operation (or
 * every `checkEvery`): every page of every live process reads what was last
 * written to it, the memory model is consistent, and each merger's counters
 * equal the ones recomputed from its structures.
 *
 * The run is a sequence of worlds of `worldOps` operations each, the era of
 * each drawn from the seed (in the registry's order); world i's generator is
 * seeded from (seed, i), so a failure is replayed alone with `--seed S
 * --world i`. An era added to the registry goes at its end, so that the old
 * eras keep the draws of every seed.
 *
 * Operations: processes spawn (as root or an ordinary user), fork, exit;
 * regions are mapped and partly unmapped; pages are written whole or byte
 * by byte; ranges are registered and unregistered (aligned or not, mapped
 * or not); the scanner runs batches of random budgets, and virtual time
 * passes with the era's knobs set by root, or refused to a user; /dev/ksm
 * SMA fds are closed and dup'ed; and writes land inside merges, in both
 * gaps of try_to_merge_one_page (Memory.mergeWindow).
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO } from '../engine/errno.js';
import type { EraAdapter } from '../eras/adapter.js';
import { ERA_IDS, type EraFamily, type EraId, eraById } from '../eras/registry.js';
import { Rng } from './rng.js';
import { makeWorld, type World, type WorldProc } from './worlds.js';

/** What the soak draws from: every era, in the registry's order. */
export const SOAK_ERA_IDS: readonly EraId[] = ERA_IDS;

export const SOAK_OPS = [
  'spawn', 'mmap', 'munmap', 'write', 'writeBytes', 'register', 'registerOdd', 'unregister', 'scan', 'sleep',
  'fork', 'exit', 'knob', 'knobByUser', 'closeSma', 'dupSma', 'raceOn', 'raceOff',
] as const;
export type SoakOp = (typeof SOAK_OPS)[number];

const WEIGHTS: Record<SoakOp, number> = {
  spawn: 3, mmap: 2, munmap: 1, write: 24, writeBytes: 6, register: 8, registerOdd: 2, unregister: 3, scan: 26, sleep: 4,
  fork: 3, exit: 3, knob: 3, knobByUser: 1, closeSma: 1, dupSma: 1, raceOn: 1, raceOff: 1,
};
const WEIGHT_LIST = SOAK_OPS.map((o) => WEIGHTS[o]);

/** Distinct page images a world writes: few, so that pages merge all the time. */
const POOL = 6;
const MAX_PROCS = 6;
const MAX_REGIONS = 3;
const MAX_PAGES = 6;
/** v1/v2 registrations add slots for good (v2) or until the SMA goes: keep the lists short. */
const MAX_REGISTRATIONS = 4;
/**
 * The eras whose registrations are not capped: 2.6.32's madvise adds no
 * slot. (3.9 and 6.18 came to the soak with the cap, and keep it so that
 * their seeds replay.)
 */
const UNCAPPED: ReadonlySet<EraId> = new Set<EraId>(['v3:2.6.32']);
/** page_hash sizes of the hash merger's worlds (1: every page in one bucket). */
const PAGE_HASH_SIZES = [1, 7, 4099];

export interface SoakOptions {
  seed: number;
  /** Operations in all. */
  ops: number;
  /** Operations per world before a fresh one starts. */
  worldOps?: number;
  /** Check the invariants after every n-th operation (1: after each). */
  checkEvery?: number;
  /** Run only world `world` (a replay). */
  world?: number;
  /** Eras to draw from (default: all). */
  eras?: readonly EraId[];
  /** Called every `progressEvery` operations. */
  onProgress?: (done: number, report: SoakReport) => void;
  progressEvery?: number;
}

export interface SoakReport {
  seed: number;
  ops: number;
  worlds: number;
  checks: number;
  perEra: Record<EraId, { worlds: number; ops: number; merges: number; passes: number }>;
  perOp: Record<SoakOp, number>;
  /** Writes that landed inside a merge (MergeWindow). */
  raceWrites: number;
  /** Calls the era refused with an errno (expected: hostile ranges, users without permission). */
  refused: number;
  ms: number;
}

export class SoakFailure extends Error {
  constructor(
    readonly seed: number,
    readonly world: number,
    readonly era: EraId,
    readonly op: number,
    readonly log: string[],
    readonly problems: string[],
  ) {
    super(
      `soak: invariant violated in world ${world} (${era}) at its operation ${op}, seed ${seed}\n` +
        `  ${problems.slice(0, 10).join('\n  ')}\n` +
        `last operations:\n  ${log.join('\n  ')}\n` +
        `replay: npm run soak -- --seed ${seed} --world ${world}`,
    );
    this.name = 'SoakFailure';
  }
}

/** The seed of world i of a run. */
export function worldSeed(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function emptyReport(seed: number): SoakReport {
  const perEra = {} as SoakReport['perEra'];
  for (const e of SOAK_ERA_IDS) perEra[e] = { worlds: 0, ops: 0, merges: 0, passes: 0 };
  const perOp = {} as Record<SoakOp, number>;
  for (const o of SOAK_OPS) perOp[o] = 0;
  return { seed, ops: 0, worlds: 0, checks: 0, perEra, perOp, raceWrites: 0, refused: 0, ms: 0 };
}

export function runSoak(opts: SoakOptions): SoakReport {
  const report = emptyReport(opts.seed);
  const worldOps = opts.worldOps ?? 1500;
  const eras = opts.eras ?? SOAK_ERA_IDS;
  const t0 = performance.now();
  const progressEvery = opts.progressEvery ?? 100000;
  let nextProgress = progressEvery;
  for (let i = opts.world ?? 0; report.ops < opts.ops; i++) {
    const rng = new Rng(worldSeed(opts.seed, i));
    const era = eras[rng.int(eras.length)];
    const n = Math.min(worldOps, opts.ops - report.ops);
    runWorld(rng, era, n, opts.checkEvery ?? 1, report, opts.seed, i);
    report.worlds++;
    if (opts.world !== undefined) break;
    if (opts.onProgress && report.ops >= nextProgress) {
      report.ms = performance.now() - t0;
      opts.onProgress(report.ops, report);
      nextProgress += progressEvery;
    }
  }
  report.ms = performance.now() - t0;
  return report;
}

interface Ctx {
  w: World;
  rng: Rng;
  pool: number[];
  registrations: Map<WorldProc, number>;
  log: string[];
  report: SoakReport;
}

function runWorld(rng: Rng, era: EraId, ops: number, checkEvery: number, report: SoakReport, seed: number, index: number): void {
  const w = makeWorld(era, eraById(era).algorithm === 'hash-2008' ? { pageHashSize: rng.pick(PAGE_HASH_SIZES) } : {});
  const pool = Array.from({ length: POOL }, (_, k) => w.poolContent(k === 0 ? 0 : 1000 + k));
  const ctx: Ctx = { w, rng, pool, registrations: new Map(), log: [], report };
  setupKnobs(ctx);
  report.perEra[era].worlds++;
  for (let k = 0; k < 2; k++) spawn(ctx);
  for (let op = 0; op < ops; op++) {
    const name = SOAK_OPS[rng.weighted(WEIGHT_LIST)];
    const line = step(ctx, name);
    report.perOp[name]++;
    report.ops++;
    report.perEra[era].ops++;
    ctx.log.push(`${op}: ${line}`);
    if (ctx.log.length > 30) ctx.log.shift();
    if ((op + 1) % checkEvery === 0 || op === ops - 1) {
      report.checks++;
      const bad = w.problems();
      if (bad.length) throw new SoakFailure(seed, index, era, op, ctx.log, bad);
    }
  }
  report.perEra[era].merges += w.merges();
  report.perEra[era].passes += w.passes();
}

/** The scanner thread's knobs at the start of a world: short sleeps, small batches, so virtual time is cheap. */
const SETUP_KNOBS = { run: true, pagesToScan: 20, sleepMicros: 5000 };

/**
 * How each family's worlds start: v1 and v2 set kksmd running; v3 sets the
 * batch and the sleep and leaves run as the kernel boots (2.6.32 running;
 * 3.9 and 6.18 stopped until a knob operation starts ksmd).
 */
const SETUP: Record<EraFamily, (a: EraAdapter) => void> = {
  v1: (a) => a.setKnobs(SETUP_KNOBS),
  v2: (a) => a.setKnobs(SETUP_KNOBS),
  v3: (a) => {
    a.writeSysfs('pages_to_scan', `${SETUP_KNOBS.pagesToScan}\n`);
    a.writeSysfs('sleep_millisecs', `${SETUP_KNOBS.sleepMicros / 1000}\n`);
  },
};

function setupKnobs(ctx: Ctx): void {
  SETUP[ctx.w.era.family](ctx.w.adapter);
}

function live(ctx: Ctx): WorldProc | undefined {
  return ctx.w.procs.length ? ctx.rng.pick(ctx.w.procs) : undefined;
}

function pageOf(ctx: Ctx, wp: WorldProc): number | undefined {
  const addrs = [...wp.shadow.keys()];
  return addrs.length ? ctx.rng.pick(addrs) : undefined;
}

function spawn(ctx: Ctx): string {
  const { w, rng } = ctx;
  if (w.procs.length >= MAX_PROCS) return 'spawn: full';
  const uid = rng.chance(0.3) ? 1000 + rng.int(3) : 0;
  const wp = w.spawn(`p${rng.int(1000)}`, uid);
  const regions = rng.range(1, 2);
  for (let r = 0; r < regions; r++) mmap(ctx, wp);
  return `spawn pid ${wp.p.pid} uid ${uid}`;
}

function mmap(ctx: Ctx, wp: WorldProc): string {
  const { w, rng } = ctx;
  if (wp.regions.length >= MAX_REGIONS) return 'mmap: enough';
  const pages = rng.range(1, MAX_PAGES);
  const addr = w.mmap(wp, pages);
  if (addr < 0) return `mmap = ${addr}`;
  for (let i = 0; i < pages; i++) if (rng.chance(0.8)) w.writePage(wp, addr + i * PAGE_SIZE, rng.pick(ctx.pool));
  return `mmap pid ${wp.p.pid} ${pages} pages at 0x${addr.toString(16)}`;
}

function refused(ctx: Ctx, r: number): void {
  if (r < 0) ctx.report.refused++;
}

function step(ctx: Ctx, op: SoakOp): string {
  const { w, rng } = ctx;
  const wp = live(ctx);
  switch (op) {
    case 'spawn':
      return spawn(ctx);
    case 'mmap':
      return wp ? mmap(ctx, wp) : 'mmap: nobody';
    case 'munmap': {
      if (!wp || !wp.regions.length) return 'munmap: nothing';
      const reg = rng.pick(wp.regions);
      const first = rng.int(reg.pages);
      const n = rng.range(1, reg.pages - first);
      const r = w.munmap(wp, reg.addr + first * PAGE_SIZE, n);
      return `munmap pid ${wp.p.pid} 0x${(reg.addr + first * PAGE_SIZE).toString(16)} ${n} pages = ${r}`;
    }
    case 'write': {
      if (!wp) return 'write: nobody';
      const a = pageOf(ctx, wp);
      if (a === undefined) return 'write: no page';
      const c = rng.pick(ctx.pool);
      const r = w.writePage(wp, a, c);
      return `write pid ${wp.p.pid} 0x${a.toString(16)} content ${c} = ${r}`;
    }
    case 'writeBytes': {
      if (!wp) return 'writeBytes: nobody';
      const a = pageOf(ctx, wp);
      if (a === undefined) return 'writeBytes: no page';
      const off = rng.chance(0.5) ? rng.int(8) : rng.int(PAGE_SIZE);
      const len = Math.min(PAGE_SIZE - off, rng.range(1, 16));
      // Mostly a byte the page may already hold, so that pages converge as often as they diverge.
      const data = rng.chance(0.5) ? new Uint8Array(len) : rng.bytes(len);
      const r = w.writeBytes(wp, a + off, data);
      return `writeBytes pid ${wp.p.pid} 0x${(a + off).toString(16)} ${len} bytes = ${r}`;
    }
    case 'register':
    case 'registerOdd': {
      if (!wp || !wp.regions.length) return `${op}: nothing`;
      const n = ctx.registrations.get(wp) ?? 0;
      if (!UNCAPPED.has(w.era.id) && n >= MAX_REGISTRATIONS) return `${op}: enough`;
      ctx.registrations.set(wp, n + 1);
      const reg = rng.pick(wp.regions);
      let addr = reg.addr;
      let len = reg.pages * PAGE_SIZE;
      if (op === 'registerOdd') {
        // Partly mapped, unaligned, or beyond the region.
        addr += rng.range(-2, reg.pages) * PAGE_SIZE + (rng.chance(0.3) ? rng.range(1, 4095) : 0);
        len = rng.range(0, reg.pages + 3) * PAGE_SIZE + (rng.chance(0.3) ? rng.range(1, 100) : 0);
        if (addr < 0) addr = 0;
      }
      const r = w.register(wp, addr, len);
      refused(ctx, r);
      return `${op} pid ${wp.p.pid} 0x${addr.toString(16)}+${len} = ${r}`;
    }
    case 'unregister': {
      if (!wp || !wp.regions.length) return 'unregister: nothing';
      const reg = rng.pick(wp.regions);
      const r = w.unregister(wp, reg.addr, reg.pages * PAGE_SIZE);
      refused(ctx, r);
      return `unregister pid ${wp.p.pid} 0x${reg.addr.toString(16)} = ${r}`;
    }
    case 'scan': {
      const n = rng.chance(0.8) ? rng.range(1, 12) : rng.range(13, 80);
      w.scan(n);
      return `scan ${n}`;
    }
    case 'sleep': {
      const ms = rng.range(1, 40);
      w.sleep(ms);
      return `sleep ${ms} ms`;
    }
    case 'fork': {
      if (!wp || w.procs.length >= MAX_PROCS) return 'fork: no';
      const c = w.fork(wp);
      if (typeof c !== 'number') ctx.registrations.set(c, ctx.registrations.get(wp) ?? 0);
      return `fork pid ${wp.p.pid} = ${typeof c === 'number' ? c : c.p.pid}`;
    }
    case 'exit': {
      if (!wp) return 'exit: nobody';
      w.exit(wp);
      return `exit pid ${wp.p.pid}`;
    }
    case 'knob':
      return knob(ctx, false);
    case 'knobByUser':
      return knob(ctx, true);
    case 'closeSma': {
      // The v1 SMA fd; eras that register with madvise have no such descriptor.
      const r = wp ? w.adapter.closeRegistrationFd(wp.p) : null;
      return r === null ? 'closeSma: n/a' : `closeSma pid ${wp!.p.pid} = ${r}`;
    }
    case 'dupSma': {
      // The old number goes: the SMA lives on in the new one.
      const fd = wp ? w.adapter.dupRegistrationFd(wp.p) : null;
      return fd === null ? 'dupSma: n/a' : `dupSma pid ${wp!.p.pid} = ${fd}`;
    }
    case 'raceOn': {
      w.onMergeWindow = (e, world) => {
        if (!rng.chance(0.3)) return;
        const o = world.owner(e.vma.mm);
        // Only pages the world tracks (not the v1 C library's own stack page).
        if (o === undefined || !o.shadow.has(e.addr)) return;
        ctx.report.raceWrites++;
        if (rng.chance(0.7)) world.writePage(o, e.addr, rng.pick(ctx.pool));
        else world.writeBytes(o, e.addr + rng.int(PAGE_SIZE), new Uint8Array([rng.int(256)]));
      };
      return 'race on';
    }
    case 'raceOff':
      w.onMergeWindow = null;
      return 'race off';
  }
}

/**
 * The knob files of the eras steered through sysfs, each with a value drawn
 * for it, in this order (the draws are part of every seed); a file the
 * kernel lacks is left out before one is picked.
 */
const SYSFS_KNOBS: Partial<Record<EraFamily, (rng: Rng) => Array<readonly [string, string]>>> = {
  v2: (rng) => [
    ['run', `${rng.pick([0, 1, 1, 1, 2, 3])}\n`],
    ['pages_to_scan', `${rng.range(0, 60)}\n`],
    ['sleep', `${rng.range(1000, 30000)}\n`],
  ],
  v3: (rng) => [
    ['run', `${rng.pick([0, 1, 1, 1, 2])}\n`],
    ['pages_to_scan', `${rng.range(0, 60)}\n`],
    ['sleep_millisecs', `${rng.range(2, 30)}\n`],
    ['max_kernel_pages', `${rng.pick([0, 1, 2, 2000])}\n`],
    ['merge_across_nodes', `${rng.pick([0, 1])}\n`],
    ['use_zero_pages', `${rng.pick([0, 1])}\n`],
    ['smart_scan', `${rng.pick([0, 1])}\n`],
  ],
};

/**
 * The era's control knobs, written by root, or by a user who must be
 * refused (sysfs: EACCES), or, v1, obeyed: any user who can open /dev/ksm
 * retunes or stops kksmd with KSM_START_STOP_KTHREAD.
 */
function knob(ctx: Ctx, byUser: boolean): string {
  const { w, rng } = ctx;
  const user = byUser ? w.procs.find((p) => p.p.uid !== 0) : undefined;
  if (byUser && user === undefined) return 'knob: no user';
  const a = w.adapter;
  const files = SYSFS_KNOBS[w.era.family];
  if (files !== undefined) {
    const [file, value] = rng.pick(files(rng).filter(([f]) => a.sysfs?.has(f)));
    const r = a.writeSysfs(file, value, user?.p);
    if (byUser && r !== -ERRNO.EACCES) throw new Error(`${w.era.id}: a user's write to ${file} returned ${r}, not -EACCES`);
    refused(ctx, r);
    return `${byUser ? 'user ' : ''}echo ${value.trim()} > ${file} = ${r}`;
  }
  const run = rng.chance(0.7);
  const pagesToScan = rng.range(1, 60);
  const sleepMicros = rng.range(1000, 30000);
  const r = a.setKnobs({ run, pagesToScan, sleepMicros }, user?.p);
  return `${user ? 'user ' : ''}KSM_START_STOP_KTHREAD run=${run} = ${r}`;
}
