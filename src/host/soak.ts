/**
 * The soak of the host itself (`npm run soak:host`): one long-lived host
 * machine per world, given thousands of random requests through the same
 * checks and limits as the socket's (requests.ts): scripts that end, fork
 * and exit, register memory, fail (errors, expects, limits, stack
 * overflows) with forked children alive, guests that pause on purpose, the
 * ksmctl verbs, TUI views and controls, sleeps. pid_max and the mm id
 * maximum are lowered so that pids and mm ids wrap again and again.
 *
 * After every request: the live processes are exactly the guests left
 * paused on purpose (everything else was reaped or ended), the machine's
 * memory and merger invariants hold (counters recomputed from the
 * structures), the view's counters are the state's, and the mms still
 * allocated are the live ones plus those KSM holds (no id lost). A
 * violation names the seed and world to replay.
 */
import { RESERVED_PIDS } from '../engine/machine.js';
import { Rng } from '../fuzz/rng.js';
import { eraProblems } from '../eras/invariants.js';
import type { RequestLimits } from './limits.js';
import { HostMachine } from './machine.js';
import { ERA_IDS, type EraId, parseEra } from '../eras/registry.js';
import type { HostInfo, HostRequest, HostResponse } from './protocol.js';
import { checkRequest, runRequest } from './requests.js';

export type HostSoakEra = EraId;
/** Every era of the registry. */
export const HOST_SOAK_ERAS: readonly HostSoakEra[] = ERA_IDS;

/** Requests per world: one host machine lives this long. */
export const WORLD_OPS = 2000;
/** pid_max of a soak machine: 100 pids from RESERVED_PIDS on once they wrap. */
const PID_MAX = RESERVED_PIDS + 100;
/** The mm id maximum of a soak machine. */
const MM_ID_MAX = 48;
/** Guests left paused on purpose, at most. */
const MAX_GUESTS = 4;

const LIMITS: Partial<RequestLimits> = { maxSteps: 5000, maxBatches: 2000, maxScannedPages: 100_000, maxVirtualMicros: 60_000_000, maxOutputBytes: 1 << 20, maxContentBytes: 32 << 20, maxMappedPages: 1 << 16 };

export class HostSoakFailure extends Error {
  constructor(readonly seed: number, readonly world: number, readonly op: number, detail: string, log: string[], worldOps: number) {
    super(`host soak: world ${world}, request ${op}, seed ${seed}: ${detail}\n  last requests:\n${log.map((l) => `    ${l}`).join('\n')}\nreplay: npm run soak:host -- --seed ${seed} --world ${world}${worldOps !== WORLD_OPS ? ` --world-ops ${worldOps}` : ''}`);
    this.name = 'HostSoakFailure';
  }
}

export interface HostSoakReport {
  seed: number;
  worlds: number;
  ops: number;
  /** Requests by kind. */
  kinds: Map<string, number>;
  /** Outcomes: ok, and errors by their first words. */
  outcomes: Map<string, number>;
  processes: number;
  pidWraps: number;
  mmIdReuses: number;
  checks: number;
  /** Requests per world. */
  worldOps: number;
  ms: number;
}

const registerV1 = (abi: '2008' | '2009', pages: number) =>
  `#include "ksm-${abi}.h"\nint fd = open("/dev/ksm", O_RDWR)\nint sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)\nioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: ${pages}, addr: p})\n`;

/** Script text: map `pages`, fill, register as the era does (`register` false: do not), then `tail`. */
function script(era: HostSoakEra, pages: number, fill: string, register: boolean, tail: string): string {
  const head = era.startsWith('v1') ? `#include "ksm-${era.slice(3)}.h"\n` : '';
  const body = `char *p = memalign(4096, ${pages} * 4096)\npages(p, ${pages}) = ${fill}\n`;
  let reg = '';
  if (register) {
    if (era.startsWith('v1')) reg = registerV1(era.slice(3) as '2008' | '2009', pages).replace(/^#include.*\n/, '');
    else reg = `madvise(p, ${pages} * 4096, ${era === 'v2' ? 'MADV_SHAREABLE' : 'MADV_MERGEABLE'})\n`;
  }
  return `${head}${body}${reg}${tail}`;
}

/** The era whose registered exited processes stay pinned forever (the April 2009 patch): it registers only in guests. */
const pins = (era: HostSoakEra) => era === 'v2';

/** One random request for this world, and whether it leaves a guest paused on purpose. */
function nextRequest(r: Rng, era: HostSoakEra, m: HostMachine, guests: number): { kind: string; req: Record<string, unknown>; guest: boolean } {
  const reg = !pins(era);
  const live = m.sys.machine.live();
  const pid = live.length ? r.pick(live).pid : 100 + r.int(300);
  const k = r.weighted([10, 14, 10, 8, 4, 4, 6, 10, 10, 8, 4]);
  switch (k) {
    case 0:
      if (guests < MAX_GUESTS) return { kind: 'guest', req: { op: 'run', file: 'guest.ksm', source: script(era, 8 + r.int(24), r.pick(['{fill: 1}', '{seed: 5}', '{cycle: [{fill: 1}, {fill: 2}]}']), true, 'pause()\n') }, guest: true };
      return { kind: 'verb', req: { op: 'ksmctl', args: ['info'] }, guest: false };
    case 1: {
      const n = 1 + r.int(6);
      const child = script(era, 4, '{seedFrom: 9}', reg && r.chance(0.5), 'exit(0)\n').replace(/^#include.*\n/, '');
      return { kind: 'forks', req: { op: 'run', file: 'forks.ksm', source: `${era.startsWith('v1') ? `#include "ksm-${era.slice(3)}.h"\n` : ''}for (i = 0; i < ${n}; i++) {\n int pid = fork()\n if (pid == 0) {\n${child.replace(/^/gm, '  ')}\n }\n}\nusleep(${r.int(3000)})\n` }, guest: false };
    }
    case 2: {
      // Fails with a child left paused and registered: the run's processes are reaped.
      const child = script(era, 16, '{fill: 4}', reg, 'pause()\n').replace(/^#include.*\n/, '');
      const failure = r.pick(['expect 1 == 2\n', 'print NOPE\n', 'x = 1 / 0\n', 'int f(int n) {\n f(n + 1);\n return 0;\n}\nf(0)\n', 'while (1) { }\n', '*(unsigned long *)0x1000 = 1\n', 'wait_full_scans(1 << 30)\n']);
      return { kind: 'failing', req: { op: 'run', file: 'fails.ksm', source: `${era.startsWith('v1') ? `#include "ksm-${era.slice(3)}.h"\n` : ''}int pid = fork()\nif (pid == 0) {\n${child}}\n${failure}` }, guest: false };
    }
    case 3:
      return { kind: 'script', req: { op: 'run', file: 'plain.ksm', source: script(era, 1 + r.int(16), '{fill: 3}', reg && r.chance(0.3), `print 1\n${r.chance(0.3) ? 'return 3\n' : ''}`) }, guest: false };
    case 4:
      return { kind: 'exit-status', req: { op: 'run', file: 'st.ksm', source: `int main(void) {\n exit(${r.int(256)});\n}\n` }, guest: false };
    case 5:
      return { kind: 'bad-request', req: r.pick([{ op: 'sleep', micros: 1e13 }, { op: 'control', action: 'advance', value: 2 ** 53 - 1 }, { op: 'nope' }, { op: 'run', file: 'x', source: 1 }, { op: 'view', pid: -1 }]), guest: false };
    case 6:
      return { kind: 'verb', req: { op: 'ksmctl', args: r.pick([['start', String(1 + r.int(300)), String(r.int(50))], ['stop'], ['info'], ['start', '10', '1', '5'], ['s', '5', '6']]) }, guest: false };
    case 7:
      return { kind: 'view', req: { op: 'view', pid, since: r.chance(0.5) ? r.int(100) : undefined, limit: r.int(200) }, guest: false };
    case 8: {
      const action = r.pick(['start', 'stop', 'pagesToScan', 'sleep', 'step', 'advance', 'unmerge']);
      const value = action === 'pagesToScan' ? 1 + r.int(500) : action === 'sleep' ? r.int(50) : r.int(500_000);
      return { kind: 'control', req: { op: 'control', action, value, pid, limit: r.int(50) }, guest: false };
    }
    case 9:
      return { kind: 'sleep', req: { op: 'sleep', micros: r.int(300_000) }, guest: false };
    default:
      return { kind: 'state', req: { op: 'state' }, guest: false };
  }
}

function outcome(res: HostResponse): string {
  if (res.ok) return res.status !== undefined && res.status !== 0 ? `ok, status ${res.status > 2 ? 'N' : res.status}` : 'ok';
  return `error: ${res.error.replace(/"[^"]*"|\d[\d,.]*/g, 'N').split(/\s+/).slice(0, 4).join(' ')}`;
}

export interface HostSoakOptions {
  seed: number;
  ops: number;
  /** Replay one world alone. */
  world?: number;
  eras?: readonly HostSoakEra[];
  /** Requests per world (default WORLD_OPS). */
  worldOps?: number;
  onWorld?: (done: number) => void;
}

export function runHostSoak(opts: HostSoakOptions): HostSoakReport {
  const t0 = performance.now();
  const eras = opts.eras ?? HOST_SOAK_ERAS;
  const rep: HostSoakReport = { seed: opts.seed, worlds: 0, ops: 0, kinds: new Map(), outcomes: new Map(), processes: 0, pidWraps: 0, mmIdReuses: 0, checks: 0, worldOps: opts.worldOps ?? WORLD_OPS, ms: 0 };
  const first = opts.world ?? 0;
  for (let w = first; opts.world !== undefined ? w === first : rep.ops < opts.ops; w++) {
    const r = new Rng((opts.seed ^ Math.imul(w + 1, 0x9e3779b1)) >>> 0);
    const era = eras[w % eras.length];
    const m = new HostMachine({ era: parseEra(era).id, clock: 'manual', limits: LIMITS });
    m.sys.machine.pidMax = PID_MAX;
    m.sys.memory.mmIdMax = MM_ID_MAX;
    const info: HostInfo = { pid: 0, socket: '', ...m.info() };
    const kept = new Set<number>();
    const log: string[] = [];
    const per = opts.worldOps ?? WORLD_OPS;
    const n = opts.world !== undefined ? per : Math.min(per, opts.ops - rep.ops);
    for (let i = 0; i < n; i++) {
      const fail = (detail: string): never => {
        throw new HostSoakFailure(opts.seed, w, i, `${era}: ${detail}`, log.slice(-12), per);
      };
      const liveBefore = new Set(m.sys.machine.live());
      const { kind, req, guest } = nextRequest(r, era, m, kept.size);
      const checked = checkRequest({ ...req, id: i }, m.limits);
      const res = checked.ok ? runRequest(m, checked.req as HostRequest, info, m.limits) : checked.reply;
      log.push(`${i}: ${kind} ${JSON.stringify(req).slice(0, 120)} -> ${JSON.stringify(res).slice(0, 160)}`);
      if (log.length > 50) log.shift();
      rep.kinds.set(kind, (rep.kinds.get(kind) ?? 0) + 1);
      const o = outcome(res);
      rep.outcomes.set(o, (rep.outcomes.get(o) ?? 0) + 1);
      if (!res.ok && /internal error/.test(res.error)) fail(`an internal error: ${res.error}`);
      // A guest that ran well is left paused on purpose: its process is the new one alive.
      if (guest && res.ok && res.status === 0) for (const p of m.sys.machine.live()) if (!liveBefore.has(p)) kept.add(p.pid);
      // On v1 the views' controls start the ksmctl program that holds /dev/ksm open on fd 3, and it stays (kernel-view.ts).
      if (kind === 'control' && res.ok) for (const p of m.sys.machine.live()) if (!liveBefore.has(p) && p.name === 'ksmctl') kept.add(p.pid);
      // The check, after every request.
      rep.checks++;
      const live = m.sys.machine.live().map((p) => p.pid).sort((a, b) => a - b);
      const want = [...kept].sort((a, b) => a - b);
      if (live.join(',') !== want.join(',')) fail(`live processes ${live.join(',') || 'none'}, but only the paused guests ${want.join(',') || 'none'} should be`);
      const problems = eraProblems(m.adapter);
      if (problems.length) fail(`invariants violated: ${problems.slice(0, 4).join('; ')}`);
      const mem = m.sys.memory;
      let held = 0;
      for (const mm of mem.mms.values()) if (mm.users === 0) held++;
      const liveMms = new Set(m.sys.machine.live().map((p) => p.mm)).size;
      if (mem.mmCount !== liveMms + held) fail(`${mem.mmCount} mms allocated, ${liveMms} live and ${held} held`);
      if (mem.mmCount > MM_ID_MAX) fail(`${mem.mmCount} mms allocated over the maximum ${MM_ID_MAX}`);
      if (req.op === 'view' || req.op === 'state') {
        const st = m.state();
        const view = m.viewState({});
        for (const c of view.counters) {
          const v = st.counters[c.name];
          if (v !== undefined && c.exposed && c.value !== v) fail(`counter ${c.name}: view ${c.value}, state ${v}`);
        }
      }
    }
    rep.ops += n;
    rep.worlds++;
    const created = m.sys.memory.created;
    rep.processes += created;
    rep.pidWraps += Math.max(0, Math.floor((created - (PID_MAX - 100)) / (PID_MAX - RESERVED_PIDS)) + 1);
    rep.mmIdReuses += Math.max(0, created - MM_ID_MAX);
    opts.onWorld?.(rep.ops);
    if (opts.world !== undefined) break;
  }
  rep.ms = performance.now() - t0;
  return rep;
}

export function formatHostSoak(r: HostSoakReport, top = 14): string {
  const lines = [
    `host soak seed ${r.seed}: ${r.ops.toLocaleString('en-US')} requests in ${r.worlds} worlds, ${r.checks.toLocaleString('en-US')} checks, 0 violations, ${(r.ms / 1000).toFixed(1)} s (${((r.ms * 1000) / Math.max(1, r.ops)).toFixed(0)} µs/request)`,
    `  ${r.processes.toLocaleString('en-US')} processes created (pid_max ${PID_MAX}: pids wrapped about ${r.pidWraps.toLocaleString('en-US')} times; ${MM_ID_MAX} mm ids: ${r.mmIdReuses.toLocaleString('en-US')} reused)`,
    '  requests:',
    ...[...r.kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${String(n).padStart(9)}  ${k}`),
    '  outcomes:',
  ];
  const sorted = [...r.outcomes].sort((a, b) => b[1] - a[1]);
  for (const [o, n] of sorted.slice(0, top)) lines.push(`    ${String(n).padStart(9)}  ${o}`);
  if (sorted.length > top) lines.push(`    ${String(sorted.slice(top).reduce((s, [, n]) => s + n, 0)).padStart(9)}  (${sorted.length - top} other outcomes)`);
  lines.push(`  replay: npm run soak:host -- --seed ${r.seed} --ops ${r.ops}${r.worldOps !== WORLD_OPS ? ` --world-ops ${r.worldOps}` : ''}`);
  return lines.join('\n');
}

function main(): void {
  const argv = process.argv.slice(2);
  let seed = (Date.now() ^ (process.pid << 16)) >>> 0;
  let ops = 1_000_000;
  let world: number | undefined;
  let worldOps: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    const num = () => {
      if (v === undefined || !/^[0-9_]+$/.test(v)) throw new Error(`${argv[i]} needs a number`);
      i++;
      return Number(v.replace(/_/g, ''));
    };
    if (argv[i] === '--seed') seed = num() >>> 0;
    else if (argv[i] === '--ops') ops = num();
    else if (argv[i] === '--world') world = num();
    else if (argv[i] === '--world-ops') worldOps = Math.max(1, num());
    else {
      process.stderr.write(`soak:host: unknown option ${argv[i]} (--seed, --ops, --world, --world-ops)\n`);
      process.exit(2);
    }
  }
  process.stdout.write(`host soak seed ${seed}, ${world !== undefined ? `world ${world}` : `${ops.toLocaleString('en-US')} requests`}\n`);
  try {
    process.stdout.write(`${formatHostSoak(runHostSoak({ seed, ops, world, worldOps, onWorld: (n) => process.stderr.write(`\r${n.toLocaleString('en-US')} requests`) }))}\n`);
  } catch (e) {
    if (e instanceof HostSoakFailure) {
      process.stderr.write(`\n${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
