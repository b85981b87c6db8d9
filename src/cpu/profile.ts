/**
 * A CPU profile: what each kind of ksmd work costs on one machine, in
 * nanoseconds, with where the figures come from (the machine, the kernel,
 * the date, the workloads they were fitted on and how well they fit). The
 * model (model.ts) multiplies them by a merger's work record.
 *
 * Profiles are JSON files. `default` ships with the package
 * (profiles/default.json, measured on the project's machine); `ksmctl
 * calibrate --profile NAME` writes NAME.json in the user's profile
 * directory ($XDG_CONFIG_HOME/ksmctl/profiles, else
 * ~/.config/ksmctl/profiles), which is searched before the shipped one; a
 * value with a slash or ending in .json is a file path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_NAME } from '../cli/version.js';
import { atomicWrite, FileError, readRegularFile } from '../io/files.js';

/** The work fields priced, in their order (fields of MergeWork). */
export const PRICED_WORK = [
  'pagesScanned',
  'bytesHashed',
  'bytesCompared',
  'stableLevels',
  'unstableLevels',
  'chainDups',
  'mergeAttempts',
  'merges',
  'itemAllocs',
  'stableNodeAllocs',
] as const;
export type PricedWork = (typeof PRICED_WORK)[number];

/** Every cost of a profile: the priced work, and the overheads of a pass and of a wake-up of ksmd. */
export const COST_NAMES = [...PRICED_WORK, 'pass', 'wakeup'] as const;
export type CostName = (typeof COST_NAMES)[number];

export const PROFILE_FORMAT = 'ksm-compat-cpu-profile/1';

/** One pass of a fitting workload, as fitted. */
export interface Residual {
  workload: string;
  pass: number;
  measuredNs: number;
  predictedNs: number;
}

export interface CpuProfile {
  format: typeof PROFILE_FORMAT;
  name: string;
  /** ns per unit of each cost. */
  costsNs: Record<CostName, number>;
  machine: { cpu: string; cores: number; memoryBytes: number; arch: string };
  /** uname -r of the kernel measured. */
  kernel: string;
  /** The simulated era whose work counts were fitted. */
  era: string;
  /** ISO 8601, when it was measured. */
  date: string;
  fit: {
    workloads: string[];
    residuals: Residual[];
    /** Root mean square of (predicted - measured) / measured over the passes. */
    rmsRelativeError: number;
    /** The costs the data could not tell apart from others (fixed, with the reason). */
    notes: string[];
  };
}

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** The directory of the package (the nearest package.json named ksm-compat above this file). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === PACKAGE_NAME) return dir;
    } catch {
      // none here
    }
    const up = dirname(dir);
    if (up === dir) throw new ProfileError(`cannot find the ${PACKAGE_NAME} package above ${fileURLToPath(from)}`);
    dir = up;
  }
}

export const DEFAULT_PROFILE = 'default';

/** Where the user's named profiles live. */
export function userProfileDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'ksmctl', 'profiles');
}

/** The shipped profiles. */
export const shippedProfileDir = () => join(packageRoot(), 'profiles');

const isPath = (s: string) => s.includes('/') || s.endsWith('.json');

/** A profile's file: the path given, the user's NAME.json, or the shipped one. */
export function profilePath(nameOrPath: string, env: NodeJS.ProcessEnv = process.env): string {
  if (isPath(nameOrPath)) return nameOrPath;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(nameOrPath)) throw new ProfileError(`${nameOrPath}: a profile name is letters, digits, '.', '_' and '-'`);
  const user = join(userProfileDir(env), `${nameOrPath}.json`);
  if (existsSync(user)) return user;
  const shipped = join(shippedProfileDir(), `${nameOrPath}.json`);
  if (existsSync(shipped)) return shipped;
  throw new ProfileError(`no CPU profile named ${nameOrPath} (neither ${user} nor ${shipped}): ksmctl calibrate --profile ${nameOrPath} measures one`);
}

/** The profile as checked: every cost a finite number >= 0, the descriptive fields of their types. One-line ProfileError naming the file otherwise. */
export function parseProfile(text: string, path: string): CpuProfile {
  const bad = (what: string): never => {
    throw new ProfileError(`${path}: not a CPU profile: ${what}`);
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return bad(`not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('not a JSON object');
  const p = v as Record<string, unknown>;
  if (p.format !== PROFILE_FORMAT) bad(`"format" is ${JSON.stringify(p.format)}, expected "${PROFILE_FORMAT}"`);
  for (const k of ['name', 'kernel', 'era', 'date'] as const) if (typeof p[k] !== 'string') bad(`"${k}" must be a string`);
  const costs = p.costsNs as Record<string, unknown> | undefined;
  if (typeof costs !== 'object' || costs === null || Array.isArray(costs)) return bad('"costsNs" must be an object of costs in ns');
  for (const name of COST_NAMES) {
    const c = costs[name];
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) bad(`costsNs.${name} must be a number >= 0 (ns), not ${JSON.stringify(c)}`);
  }
  for (const name of Object.keys(costs)) if (!(COST_NAMES as readonly string[]).includes(name)) bad(`costsNs.${name} is not a cost the model knows (${COST_NAMES.join(', ')})`);
  const m = p.machine as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null || typeof m.cpu !== 'string' || typeof m.cores !== 'number' || typeof m.memoryBytes !== 'number' || typeof m.arch !== 'string') bad('"machine" must be {cpu, cores, memoryBytes, arch}');
  const f = p.fit as Record<string, unknown> | undefined;
  if (typeof f !== 'object' || f === null || !Array.isArray(f.workloads) || !Array.isArray(f.residuals) || typeof f.rmsRelativeError !== 'number' || !Array.isArray(f.notes)) {
    bad('"fit" must be {workloads, residuals, rmsRelativeError, notes}');
  }
  return v as CpuProfile;
}

const cache = new Map<string, CpuProfile>();

/** Reads a profile by name or path (cached per path). */
export function loadProfile(nameOrPath: string = DEFAULT_PROFILE, env: NodeJS.ProcessEnv = process.env): CpuProfile {
  const path = profilePath(nameOrPath, env);
  const hit = cache.get(path);
  if (hit !== undefined) return hit;
  let text: string;
  try {
    text = readRegularFile(path, 1 << 20, 'CPU profile').toString('utf8');
  } catch (e) {
    if (e instanceof FileError) throw new ProfileError(e.message);
    throw e;
  }
  const p = parseProfile(text, path);
  cache.set(path, p);
  return p;
}

/** Writes a profile whole (temporary file, rename); an existing file only with force. */
export function saveProfile(path: string, p: CpuProfile, force = false): void {
  try {
    atomicWrite(path, `${JSON.stringify(p, null, 2)}\n`, { force });
  } catch (e) {
    if (e instanceof FileError) throw new ProfileError(e.message);
    throw e;
  }
}
