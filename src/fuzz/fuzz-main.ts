/**
 * npm run fuzz -- [--seed N] [--inputs N] [--target a,b] [--session K] [--check-every N]
 *
 * Runs every fuzz target (src/fuzz/targets.ts, and the host protocol's,
 * src/fuzz/host-target.ts; `--target` to choose, e.g. `madvise-v3:6.18`,
 * `sysfs-v2`, `ioctl-v1:2009`, `host`) with N inputs each (default
 * 100,000) and prints what it covered: inputs, sessions, invariant checks
 * and the outcome histogram of each target, the time and the seed. Exits 1
 * on the first failure, printing the session to replay alone.
 */
import { taskProgress } from '../cli/progress.js';
import { FuzzFailure, type FuzzReport, formatFuzz, runFuzz } from './fuzz.js';
import { HOST_TARGET, runHostFuzz } from './host-target.js';
import { findTarget, type FuzzTarget, TARGETS } from './targets.js';

export interface FuzzArgs {
  seed: number;
  inputs: number;
  targets: FuzzTarget[];
  /** The host-protocol target (asynchronous: a live host), run after the others. */
  host: boolean;
  session?: number;
  checkEvery: number;
}

export function parseFuzzArgs(argv: string[], defaultSeed: number): FuzzArgs {
  const args: FuzzArgs = { seed: defaultSeed, inputs: 100_000, targets: [...TARGETS], host: true, checkEvery: 20 };
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
    else if (a === '--inputs') args.inputs = int();
    else if (a === '--session') args.session = int();
    else if (a === '--check-every') args.checkEvery = Math.max(1, int());
    else if (a === '--target') {
      const names = val().split(',');
      args.host = names.includes(HOST_TARGET.name);
      args.targets = names
        .filter((n) => n !== HOST_TARGET.name)
        .map((n) => {
          const t = findTarget(n);
          if (t === undefined) throw new Error(`--target: no target ${n} (${[...TARGETS.map((x) => x.name), HOST_TARGET.name].join(', ')})`);
          return t;
        });
    } else throw new Error(`unknown option ${a} (--seed, --inputs, --target, --session, --check-every)`);
  }
  return args;
}

/** Every target asked for: the synchronous ones, then the host's. Throws a FuzzFailure. */
export async function runAllFuzz(args: FuzzArgs, onHostSession?: (done: number) => void, onProgress?: (target: string, done: number) => void): Promise<FuzzReport> {
  const t0 = performance.now();
  const r = args.targets.length ? runFuzz({ seed: args.seed, inputs: args.inputs, targets: args.targets, session: args.session, checkEvery: args.checkEvery, onProgress }) : { seed: args.seed, targets: [], ms: 0 };
  const before = r.targets.reduce((n, t) => n + t.inputs, 0);
  if (args.host) r.targets.push(await runHostFuzz({ seed: args.seed, inputs: args.inputs, session: args.session, onSession: (done) => {
    onHostSession?.(done);
    onProgress?.(HOST_TARGET.name, before + done);
  } }));
  return { ...r, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  let args: FuzzArgs;
  try {
    args = parseFuzzArgs(process.argv.slice(2), (Date.now() ^ (process.pid << 16)) >>> 0);
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const names = [...args.targets.map((t) => t.name), ...(args.host ? [HOST_TARGET.name] : [])];
  process.stdout.write(`fuzz seed ${args.seed}, ${args.session !== undefined ? `session ${args.session} of` : `${args.inputs.toLocaleString('en-US')} inputs for`} each of ${names.join(', ')}\n`);
  // A bar on stderr when it is a terminal (per session); nothing otherwise.
  const progress = args.session === undefined ? taskProgress('fuzz') : null;
  const total = args.inputs * names.length;
  try {
    const r = await runAllFuzz(args, undefined, progress ? (target, done) => progress.update(done, total, `inputs (${target})`) : undefined);
    progress?.stop();
    process.stdout.write(formatFuzz(r) + '\n');
  } catch (e) {
    progress?.stop();
    if (e instanceof FuzzFailure) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
  // The host target's sockets and timers are gone; nothing else keeps the process.
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
