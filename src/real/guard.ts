/**
 * The safety of a run on the machine's own KSM, which changes global kernel
 * state:
 *
 * - one run at a time: an exclusive flock on a lock file in the state
 *   directory and on the sysfs directory itself (the lock every copy of the
 *   kernel oracle takes too); the kernel drops both if the process dies;
 * - a run refuses to start while KSM holds pages or other processes are
 *   registered (their pages would be unmerged, and the counters are global)
 *   unless forced;
 * - every knob (every owner-writable file of the directory) is saved in a
 *   recovery file before the first change, and written back after the run
 *   (run=2 first: no KSM page may outlive it), whatever ends it; a run
 *   killed with SIGKILL leaves the file, and `ksmctl verify --recover` (or
 *   the next run) restores from it.
 *
 * Paths are parameters: tests guard a fake sysfs tree in a temporary
 * directory.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { atomicWrite } from '../io/files.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libc, LOCK_EX, LOCK_NB, LOCK_UN } from './libc.js';
import type { RealPaths } from './paths.js';
import { ksmProcesses } from './proc.js';
import { KsmSysfs } from './sysfs.js';

/** The recovery file: what the knobs were before a run. */
export interface Recovery {
  /** The run's process. */
  pid: number;
  /** When it started (ISO 8601). */
  started: string;
  /** The directory the knobs belong to. */
  sysfs: string;
  /** Every knob as found, in writable form. */
  knobs: Record<string, string>;
}

/** Something that stops a run before anything is changed, said in one line (exit 2). */
export class GuardError extends Error {
  override readonly name: string = 'GuardError';
}

/** KSM is in use by others, or another run holds the lock: try again later (or --force / --wait). */
export class BusyError extends GuardError {
  override readonly name = 'BusyError';
}

/**
 * Where the lock and recovery files live: $KSMCTL_STATE_DIR, else /run/ksmctl
 * (root's runtime directory, emptied at boot like the knobs themselves),
 * else $XDG_RUNTIME_DIR/ksmctl, else ksmctl-UID in the temporary directory.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KSMCTL_STATE_DIR) return env.KSMCTL_STATE_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  if (uid === 0 && existsSync('/run')) return '/run/ksmctl';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'ksmctl');
  return join(tmpdir(), `ksmctl-${uid}`);
}

export const recoveryFileIn = (dir: string) => join(dir, 'real-ksm.json');
const lockFileIn = (dir: string) => join(dir, 'real-ksm.lock');

export function readRecovery(path: string): Recovery | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const r = JSON.parse(text) as Recovery;
    if (typeof r.pid !== 'number' || typeof r.sysfs !== 'string' || typeof r.knobs !== 'object' || r.knobs === null) return null;
    return r;
  } catch {
    return null;
  }
}

/** Written whole or not at all (a temporary file, fsync, rename), readable by root only. */
export function writeRecovery(path: string, r: Recovery): void {
  atomicWrite(path, `${JSON.stringify(r, null, 2)}\n`, { force: true, mode: 0o600 });
}

/**
 * Puts knobs back as saved: run=2 (unmerge every KSM page; its store waits
 * until they are gone) and run=0 first, since max_page_sharing and
 * merge_across_nodes refuse to change while KSM pages exist; advisor_mode
 * before pages_to_scan (switching the advisor resets pages_to_scan, and an
 * active advisor refuses writes of it); run last. Then reads everything back:
 * the problems, or none.
 */
export function restoreKnobs(k: KsmSysfs, saved: Record<string, string>): string[] {
  const problems: string[] = [];
  const write = (name: string, value: string) => {
    try {
      k.write(name, value);
    } catch (e) {
      problems.push(`echo ${value} > ${k.root}/${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  if (k.has('run')) {
    if (k.read('run') === '2') write('run', '0');
    write('run', '2');
    write('run', '0');
  }
  const advisorActive = saved.advisor_mode !== undefined && saved.advisor_mode !== 'none';
  const order = Object.keys(saved).filter((n) => n !== 'run' && n !== 'advisor_mode' && !(advisorActive && n === 'pages_to_scan'));
  if (saved.advisor_mode !== undefined && !advisorActive) order.unshift('advisor_mode');
  if (advisorActive) order.push('advisor_mode');
  for (const name of order) {
    if (!k.has(name)) continue;
    if (k.knobValue(name) !== saved[name]) write(name, saved[name]);
  }
  if (saved.run !== undefined && saved.run !== '0') write('run', saved.run);
  const now = k.knobs();
  for (const [name, was] of Object.entries(saved)) {
    // Under an active advisor pages_to_scan is the advisor's to set.
    if (advisorActive && name === 'pages_to_scan') continue;
    if (now[name] !== was) problems.push(`${name} is ${now[name] ?? '(missing)'}, was ${was}`);
  }
  return problems;
}

/**
 * restoreKnobs, again for up to two seconds while something refuses: a
 * process that is still exiting can hold KSM pages for a moment, and
 * max_page_sharing or merge_across_nodes answer EBUSY until they are gone.
 */
export function restoreWithRetries(k: KsmSysfs, saved: Record<string, string>, timeoutMs = 2000): string[] {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems = restoreKnobs(k, saved);
    if (problems.length === 0 || Date.now() >= deadline) return problems;
    sleep(100);
  }
}

export interface GuardOptions {
  paths: RealPaths;
  /** The directory of the lock and recovery files (stateDir()). */
  dir: string;
  /** Run even though KSM holds pages or others are registered (their pages get unmerged). */
  force?: boolean;
  /** How long to wait for the lock and for KSM to be free, ms (default 0: fail at once). */
  waitMs?: number;
  /** Knob files the run will write: each must exist in this kernel. */
  needs?: readonly string[];
  /** The effective uid (tests pass 0 to guard a fake tree as any user). */
  uid?: number;
  /** Told what happens (a stale recovery file restored, waiting). */
  note?: (line: string) => void;
  /** Processes not to count as other users of KSM (tests: none). */
  exclude?: ReadonlySet<number>;
}

/** The files every run reads or writes. */
export const REQUIRED_FILES = ['run', 'pages_to_scan', 'sleep_millisecs', 'full_scans', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile'] as const;

/** Holds the lock and the saved knobs of one run, from acquire() to release(). */
export class Guard {
  readonly recoveryFile: string;
  private readonly lockFds: number[] = [];
  private saved: Record<string, string> | null = null;
  readonly ksm: KsmSysfs;

  private constructor(readonly opts: GuardOptions) {
    this.recoveryFile = recoveryFileIn(opts.dir);
    this.ksm = new KsmSysfs(opts.paths.sysfs);
  }

  /** Checks, locks, recovers a killed run's knobs, refuses a busy KSM, saves every knob: then the run may change them. */
  static acquire(opts: GuardOptions): Guard {
    const g = new Guard(opts);
    g.check();
    try {
      g.lock();
      g.recoverStale();
      g.waitUntilFree();
      g.save();
    } catch (e) {
      g.unlock();
      throw e;
    }
    return g;
  }

  /** The checks and the lock, without the busy check or a save: for --recover. */
  static lockOnly(opts: GuardOptions): Guard {
    const g = new Guard(opts);
    g.check();
    g.lock();
    return g;
  }

  /** Not root, no KSM, a file this kernel lacks: one line each. */
  private check(): void {
    const uid = this.opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0);
    if (uid !== 0) throw new GuardError('the real kernel is driven as root only (it writes /sys/kernel/mm/ksm and reads PFNs from /proc/PID/pagemap)');
    if (!this.ksm.present()) throw new GuardError(`no ${this.ksm.root}: this kernel was built without KSM (CONFIG_KSM)`);
    for (const name of [...REQUIRED_FILES, ...(this.opts.needs ?? [])]) {
      if (!this.ksm.has(name)) throw new GuardError(`this kernel has no ${this.ksm.root}/${name}`);
    }
  }

  private lock(): void {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    const c = libc();
    const deadline = Date.now() + (this.opts.waitMs ?? 0);
    for (const path of [lockFileIn(this.opts.dir), this.ksm.root]) {
      const fd = openSync(path, path === this.ksm.root ? 'r' : 'a', 0o600);
      this.lockFds.push(fd);
      let told = false;
      while (c.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
        if (Date.now() >= deadline) throw new BusyError(`another run drives ${this.ksm.root} (${path} is locked): try again later`);
        if (!told) this.opts.note?.(`waiting for another run to release ${path}`);
        told = true;
        sleep(200);
      }
    }
  }

  private unlock(): void {
    const c = libc();
    for (const fd of this.lockFds.splice(0)) {
      c.flock(fd, LOCK_UN);
      closeSync(fd);
    }
  }

  /** A recovery file left by a killed run: its knobs go back first (they are the machine's real settings). */
  private recoverStale(): void {
    const r = readRecovery(this.recoveryFile);
    if (r === null) return;
    this.opts.note?.(`a run (pid ${r.pid}, started ${r.started}) did not restore ${r.sysfs}: restoring its saved knobs first`);
    const problems = restoreWithRetries(new KsmSysfs(r.sysfs), r.knobs);
    if (problems.length) throw new GuardError(`could not restore the knobs of the earlier run: ${problems.join('; ')}`);
    rmSync(this.recoveryFile, { force: true });
  }

  /** Why KSM is not free for a run, or null. */
  busy(): string | null {
    const k = this.ksm;
    const shared = k.readInt('pages_shared');
    const sharing = k.readInt('pages_sharing');
    if (shared !== 0 || sharing !== 0) return `KSM holds pages now (pages_shared ${shared}, pages_sharing ${sharing})`;
    const users = ksmProcesses(this.opts.paths.proc, new Set([process.pid, ...(this.opts.exclude ?? [])]));
    if (users.length) {
      const list = users.slice(0, 5).map((p) => `${p.pid} (${p.name})`).join(', ');
      return `other processes are registered with KSM: ${list}${users.length > 5 ? ` and ${users.length - 5} more` : ''}`;
    }
    return null;
  }

  private waitUntilFree(): void {
    if (this.opts.force) return;
    const deadline = Date.now() + (this.opts.waitMs ?? 0);
    let told = false;
    for (;;) {
      const why = this.busy();
      if (why === null) return;
      if (Date.now() >= deadline) throw new BusyError(`${why}: nothing was changed (--force runs anyway and unmerges their pages; --wait SECONDS waits)`);
      if (!told) this.opts.note?.(`waiting: ${why}`);
      told = true;
      sleep(500);
    }
  }

  private save(): void {
    this.saved = this.ksm.knobs();
    writeRecovery(this.recoveryFile, { pid: process.pid, started: new Date().toISOString(), sysfs: this.ksm.root, knobs: this.saved });
  }

  /** The knobs as saved. */
  get knobs(): Record<string, string> {
    if (this.saved === null) throw new Error('no knobs saved');
    return this.saved;
  }

  /** Puts every knob back and, when that worked, removes the recovery file; then unlocks. Returns the problems. */
  release(): string[] {
    let problems: string[] = [];
    try {
      if (this.saved !== null) {
        problems = restoreWithRetries(this.ksm, this.saved);
        if (problems.length === 0) rmSync(this.recoveryFile, { force: true });
        this.saved = null;
      }
    } finally {
      this.unlock();
    }
    return problems;
  }
}

/**
 * `ksmctl verify --recover`: the knobs of a run that did not restore them
 * (killed with SIGKILL), put back from the recovery file. Returns what was
 * done, for one line of output.
 */
export function recover(dir: string, opts: { waitMs?: number; uid?: number; paths?: RealPaths } = {}): { restored: Recovery | null } {
  // The lock first: a run in progress has a recovery file too, and it is not ours to undo.
  const g = Guard.lockOnly({ paths: opts.paths ?? { sysfs: '/sys/kernel/mm/ksm', proc: '/proc' }, dir, waitMs: opts.waitMs, uid: opts.uid });
  try {
    const path = recoveryFileIn(dir);
    const r = readRecovery(path);
    if (r === null) {
      if (existsSync(path)) throw new GuardError(`${path} is not a recovery file ksmctl wrote`);
      return { restored: null };
    }
    const problems = restoreWithRetries(new KsmSysfs(r.sysfs), r.knobs);
    if (problems.length) throw new GuardError(`could not restore ${r.sysfs}: ${problems.join('; ')}`);
    rmSync(path, { force: true });
    return { restored: r };
  } finally {
    g.release();
  }
}

const sab = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sab, 0, 0, ms);
}

