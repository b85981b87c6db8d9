/**
 * The fuzz runner: every target (src/fuzz/targets.ts) gets `inputs` inputs,
 * in sessions of SESSION inputs on a fresh kernel each; the invariants are
 * recomputed every `checkEvery` inputs and at the end of each session. An
 * exception from the simulator, a wrong errno, an invariant violation or an
 * input that takes longer than `slowMs` is a failure, reported with the
 * seed, target and session that replay it.
 */
import { cpuMs } from './cpu-time.js';
import { Rng } from './rng.js';
import { FuzzViolation, type FuzzTarget, type Outcome, SESSION, TARGETS } from './targets.js';

export interface FuzzOptions {
  seed: number;
  /** Inputs per target. */
  inputs: number;
  targets?: readonly FuzzTarget[];
  /** Replay: only this session of each target. */
  session?: number;
  checkEvery?: number;
  /** An input taking more CPU time than this, ms, is a hang (the simulator is synchronous: it is measured, not interrupted). */
  slowMs?: number;
  /** Called after each session: the target, and the inputs run so far over all targets. */
  onProgress?: (target: string, done: number) => void;
}

export interface TargetReport {
  name: string;
  what: string;
  inputs: number;
  sessions: number;
  checks: number;
  /** Outcome -> count. */
  outcomes: Map<Outcome, number>;
  slowestMs: number;
  ms: number;
}

export interface FuzzReport {
  seed: number;
  targets: TargetReport[];
  ms: number;
}

export class FuzzFailure extends Error {
  constructor(readonly seed: number, readonly target: string, readonly session: number, readonly index: number, detail: string) {
    super(`fuzz: target ${target}, session ${session}, input ${index}, seed ${seed}: ${detail}\nreplay: npm run fuzz -- --seed ${seed} --target ${target} --session ${session}`);
    this.name = 'FuzzFailure';
  }
}

/** The seed of session k of a target. */
export function sessionSeed(seed: number, target: string, k: number): number {
  let h = seed >>> 0;
  for (const c of `${target}/${k}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 12)) >>> 0;
}

export function runFuzz(opts: FuzzOptions): FuzzReport {
  const t0 = performance.now();
  const checkEvery = opts.checkEvery ?? 20;
  const slowMs = opts.slowMs ?? 5000;
  const reports: TargetReport[] = [];
  for (const target of opts.targets ?? TARGETS) {
    const rep: TargetReport = { name: target.name, what: target.what, inputs: 0, sessions: 0, checks: 0, outcomes: new Map(), slowestMs: 0, ms: 0 };
    const t1 = performance.now();
    const first = opts.session ?? 0;
    for (let k = first; opts.session !== undefined ? k === first : rep.inputs < opts.inputs; k++) {
      const rng = new Rng(sessionSeed(opts.seed, target.seedName ?? target.name, k));
      let index = 0;
      const fail = (detail: string): never => {
        throw new FuzzFailure(opts.seed, target.name, k, index, detail);
      };
      let session;
      try {
        session = target.session(rng);
      } catch (e) {
        fail(`setting up the session threw ${(e as Error).stack ?? e}`);
      }
      const n = opts.session !== undefined ? SESSION : Math.min(SESSION, opts.inputs - rep.inputs);
      for (index = 0; index < n; index++) {
        const s = cpuMs();
        let o: Outcome;
        try {
          o = session!.run(rng);
        } catch (e) {
          if (e instanceof FuzzViolation) fail(e.message);
          fail(`the simulator threw ${(e as Error).stack ?? e}\n  input: ${session!.lastInput ?? '?'}`);
        }
        const dt = cpuMs() - s;
        if (dt > rep.slowestMs) rep.slowestMs = dt;
        if (dt > (target.slowMs ?? slowMs)) fail(`an input took ${dt.toFixed(0)} ms of CPU time (a hang)\n  input: ${session!.lastInput ?? '?'}`);
        rep.outcomes.set(o!, (rep.outcomes.get(o!) ?? 0) + 1);
        rep.inputs++;
        if ((index + 1) % checkEvery === 0 || index === n - 1) {
          rep.checks++;
          const bad = session!.problems();
          if (bad.length) fail(`invariants violated: ${bad.slice(0, 5).join('; ')}`);
        }
      }
      rep.sessions++;
      opts.onProgress?.(target.name, reports.reduce((n, x) => n + x.inputs, 0) + rep.inputs);
      if (opts.session !== undefined) break;
    }
    rep.ms = performance.now() - t1;
    reports.push(rep);
  }
  return { seed: opts.seed, targets: reports, ms: performance.now() - t0 };
}

export function formatFuzz(r: FuzzReport, top = 12): string {
  const lines = [`fuzz seed ${r.seed}: ${r.targets.reduce((n, t) => n + t.inputs, 0).toLocaleString('en-US')} inputs over ${r.targets.length} targets, 0 failures, ${(r.ms / 1000).toFixed(1)} s`];
  for (const t of r.targets) {
    lines.push(`  ${t.name}: ${t.inputs.toLocaleString('en-US')} inputs, ${t.sessions} sessions, ${t.checks} invariant checks, ${t.outcomes.size} distinct outcomes, slowest input ${t.slowestMs.toFixed(1)} ms${t.name === 'host' ? '' : ' of CPU'}, ${(t.ms / 1000).toFixed(1)} s`);
    lines.push(`    ${t.what}`);
    const sorted = [...t.outcomes].sort((a, b) => b[1] - a[1]);
    for (const [o, n] of sorted.slice(0, top)) lines.push(`    ${String(n).padStart(9)}  ${o}`);
    if (sorted.length > top) lines.push(`    ${String(sorted.slice(top).reduce((m, [, n]) => m + n, 0)).padStart(9)}  (${sorted.length - top} other outcomes)`);
  }
  lines.push(`replay: npm run fuzz -- --seed ${r.seed} --inputs ${r.targets[0]?.inputs ?? 0}`);
  return lines.join('\n');
}
