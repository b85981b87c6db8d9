/**
 * npm run soak -- [--seed N] [--ops N] [--world I] [--check-every N] [--eras v3:6.18,v2,...]
 *
 * Runs the soak (src/fuzz/soak.ts) and prints what it covered: operations
 * per kind and per era, worlds, merges, passes, writes inside merges,
 * invariant checks, time, and the seed to replay it with. Exits 1 on the
 * first violation, printing the world to replay alone. `--eras` takes the
 * registry's ids and their other spellings (v3 = v3:2.6.32, v1-2009, ...).
 */
import { EraInputError, type EraId, parseEra } from '../eras/registry.js';
import { taskProgress } from '../cli/progress.js';
import { runSoak, SOAK_ERA_IDS, SOAK_OPS, SoakFailure, type SoakReport } from './soak.js';

export interface SoakArgs {
  seed: number;
  ops: number;
  world?: number;
  checkEvery: number;
  eras: EraId[];
}

export function parseSoakArgs(argv: string[], defaultSeed: number): SoakArgs {
  const args: SoakArgs = { seed: defaultSeed, ops: 10_000_000, checkEvery: 1, eras: [...SOAK_ERA_IDS] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = () => {
      const v = val();
      if (!/^[0-9_]+$/.test(v)) throw new Error(`${a}: not a number: ${v}`);
      return Number(v.replace(/_/g, ''));
    };
    if (a === '--seed') args.seed = int() >>> 0;
    else if (a === '--ops') args.ops = int();
    else if (a === '--world') args.world = int();
    else if (a === '--check-every') args.checkEvery = Math.max(1, int());
    else if (a === '--eras') {
      args.eras = val()
        .split(',')
        .map((e) => {
          try {
            return parseEra(e).id;
          } catch (err) {
            if (err instanceof EraInputError) throw new Error(`--eras: no era ${e} (${SOAK_ERA_IDS.join(', ')})`);
            throw err;
          }
        });
    } else throw new Error(`unknown option ${a} (--seed, --ops, --world, --check-every, --eras)`);
  }
  return args;
}

export function formatSoak(r: SoakReport, eras: readonly EraId[] = SOAK_ERA_IDS): string {
  const lines = [
    `soak seed ${r.seed}: ${r.ops.toLocaleString('en-US')} operations in ${r.worlds} worlds, ${r.checks.toLocaleString('en-US')} invariant checks, 0 violations, ${(r.ms / 1000).toFixed(1)} s (${((r.ms * 1000) / Math.max(1, r.ops)).toFixed(1)} µs/op)`,
    'per era:',
  ];
  for (const e of eras) {
    const x = r.perEra[e];
    lines.push(`  ${e.padEnd(10)} ${String(x.worlds).padStart(6)} worlds ${x.ops.toLocaleString('en-US').padStart(12)} ops ${x.merges.toLocaleString('en-US').padStart(10)} merges ${x.passes.toLocaleString('en-US').padStart(12)} passes`);
  }
  lines.push('per operation:');
  for (const o of SOAK_OPS) lines.push(`  ${o.padEnd(12)} ${r.perOp[o].toLocaleString('en-US').padStart(12)}`);
  lines.push(`writes inside a merge: ${r.raceWrites.toLocaleString('en-US')}; calls refused with an errno: ${r.refused.toLocaleString('en-US')}`);
  lines.push(`replay: npm run soak -- --seed ${r.seed} --ops ${r.ops}`);
  return lines.join('\n');
}

function main(): void {
  let args: SoakArgs;
  try {
    args = parseSoakArgs(process.argv.slice(2), (Date.now() ^ (process.pid << 16)) >>> 0);
  } catch (e) {
    process.stderr.write(`soak: ${(e as Error).message}\n`);
    process.exit(2);
  }
  process.stdout.write(`soak seed ${args.seed}, ${args.ops.toLocaleString('en-US')} operations${args.world !== undefined ? `, world ${args.world} only` : ''}, eras ${args.eras.join(', ')}\n`);
  // A bar on stderr when it is a terminal (per world); nothing otherwise.
  const progress = taskProgress('soak');
  try {
    const r = runSoak({
      seed: args.seed,
      ops: args.ops,
      world: args.world,
      checkEvery: args.checkEvery,
      eras: args.eras,
      progressEvery: 1500,
      onProgress: progress ? (done, rep) => progress.update(done, args.ops, `ops, ${rep.worlds.toLocaleString('en-US')} worlds, ${(rep.ms / 1000).toFixed(0)} s`) : undefined,
    });
    progress?.stop();
    process.stdout.write(formatSoak(r, args.eras) + '\n');
  } catch (e) {
    progress?.stop();
    if (e instanceof SoakFailure) {
      const eras = args.eras.length === SOAK_ERA_IDS.length ? '' : ` --eras ${args.eras.join(',')}`;
      process.stderr.write(e.message + eras + '\n');
      process.exit(1);
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
