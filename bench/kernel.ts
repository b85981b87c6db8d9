/**
 * The real kernel's KSM on the bench's worst case, measured in the same
 * bench run as the simulator: N child processes (kernel-child.ts) map and
 * fill 2 x PAGES pages and register them; ksmd is then driven one whole
 * pass at a time through /sys/kernel/mm/ksm and each pass is timed.
 *
 * It runs only where it may, and says why not otherwise: as root, with
 * /sys/kernel/mm/ksm present, koffi loadable (the children map memory
 * through it), no other run holding the KSM lock (flock on the sysfs
 * directory, as the project's kernel oracle takes it) and KSM idle (run 0,
 * nothing in pages_shared or pages_sharing, no process registered).
 *
 * A pass: pages_to_scan above the number of registered pages, so that one
 * ksmd batch is exactly one full scan (ksm_do_scan returns at the end of a
 * pass); smart_scan 0, use_zero_pages 0 and the advisor off, as the
 * simulator's 6.18 runs; sleep_millisecs long, and rewritten before each
 * pass to wake ksmd out of its sleep; run=1, poll full_scans until it moves,
 * run=0. Each pass must add exactly one full scan.
 *
 * Every writable knob is saved first, and written to a state file so that a
 * run killed with SIGKILL is undone by the next one. Whatever happens (the
 * end, an error, SIGINT, SIGTERM, SIGHUP, an uncaught exception), the
 * children are killed, KSM is unmerged (run=2), stopped, and every knob that
 * differs is written back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KSM = '/sys/kernel/mm/ksm';
const STATE_FILE = join(tmpdir(), 'ksm-compat-bench-ksm-knobs.json');
/** The knobs a run changes; the others are only checked at the end. */
const CHANGED = ['sleep_millisecs', 'pages_to_scan', 'smart_scan', 'use_zero_pages', 'advisor_mode', 'run'];
const SLEEP_MS = 2000;
const PASS_TIMEOUT_MS = 300_000;

export interface KernelResult {
  release: string;
  /** Wall time of each pass, from run=1 to full_scans moving. */
  passSeconds: number[];
  /** The counters after the last pass. */
  counters: Record<string, number>;
}

export type KernelOutcome = { ok: true; result: KernelResult } | { ok: false; reason: string };

function read(name: string): string {
  return readFileSync(join(KSM, name), 'utf8').trim();
}

function readInt(name: string): number {
  return Number(read(name));
}

function write(name: string, value: string | number): void {
  writeFileSync(join(KSM, name), String(value));
}

/** A knob's value as it is written back (advisor_mode shows every mode, the current one in brackets). */
function knobValue(name: string): string {
  const v = read(name);
  if (name !== 'advisor_mode') return v;
  return /\[([^\]]+)\]/.exec(v)?.[1] ?? v;
}

function writableKnobs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(KSM).sort()) {
    const st = statSync(join(KSM, name));
    if (st.isFile() && (st.mode & 0o200) !== 0) out[name] = knobValue(name);
  }
  return out;
}

/** Processes registered with KSM (from /proc/PID/ksm_stat), other than ours. */
function otherUsers(own: Set<number>): string[] {
  const users: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || own.has(Number(name))) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/ksm_stat`, 'utf8');
    } catch {
      continue;
    }
    const f = Object.fromEntries(text.split('\n').map((l) => l.split(/\s+/)).map(([k, v]) => [k, v]));
    if (f.ksm_mergeable === 'yes' || f.ksm_merge_any === 'yes' || (f.ksm_rmap_items ?? '0') !== '0') users.push(name);
  }
  return users;
}

/** Sleeps ms milliseconds without giving up the thread (the passes are timed by polling). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface Libc {
  flock(fd: number, op: number): number;
}

async function loadLibc(): Promise<Libc | string> {
  try {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    const flock = libc.func('int flock(int fd, int op)');
    return { flock: (fd, op) => flock(fd, op) as number };
  } catch (e) {
    return `koffi is not available (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

/** Why the real kernel cannot be measured here, or null. */
function unavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (!existsSync(KSM)) return `${KSM} is absent (a kernel without KSM)`;
  if (process.getuid?.() !== 0) return 'not root (the KSM knobs are root-only)';
  return null;
}

/**
 * Runs the worst case (procs processes of `pages` pages, tailFrom 0) on the
 * real KSM, `passes` passes, or says why it cannot.
 */
export async function measureKernel(pages: number, procs: number, passes: number): Promise<KernelOutcome> {
  const why = unavailable();
  if (why !== null) return { ok: false, reason: why };
  const libc = await loadLibc();
  if (typeof libc === 'string') return { ok: false, reason: libc };
  const lockFd = openSync(KSM, 'r');
  const LOCK_EX = 2;
  const LOCK_NB = 4;
  if (libc.flock(lockFd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(lockFd);
    return { ok: false, reason: `another run holds the lock on ${KSM} (the kernel oracle, or another bench)` };
  }
  const children: ChildProcess[] = [];
  let saved: Record<string, string> | null = null;
  const problems: string[] = [];

  const restore = (): void => {
    for (const c of children) {
      if (c.exitCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    children.length = 0;
    if (saved === null) return;
    const was = saved;
    saved = null;
    const attempt = (fn: () => void, what: string) => {
      try {
        fn();
      } catch (e) {
        problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    attempt(() => {
      if (read('run') === '2') write('run', 0);
    }, 'run');
    attempt(() => write('run', 2), 'run=2');
    attempt(() => write('run', 0), 'run=0');
    for (const name of CHANGED) {
      if (name === 'run' || !(name in was)) continue;
      attempt(() => {
        if (knobValue(name) !== was[name]) write(name, was[name]);
      }, name);
    }
    if ((was.run ?? '0') !== '0') attempt(() => write('run', was.run), 'run');
    const now = writableKnobs();
    for (const [name, v] of Object.entries(was)) if (now[name] !== v) problems.push(`knob ${name} is ${now[name]}, was ${v}`);
    if (problems.length === 0 && existsSync(STATE_FILE)) unlinkSync(STATE_FILE);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    restore();
    process.stderr.write(`bench: ${sig}: KSM restored${problems.length ? ` with problems: ${problems.join('; ')}` : ''}\n`);
    process.exit(130);
  };
  const onCrash = (e: unknown) => {
    restore();
    throw e;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', restore);
  process.on('uncaughtException', onCrash);
  try {
    // A run killed with SIGKILL left its saved knobs behind: put them back first.
    if (existsSync(STATE_FILE)) {
      saved = JSON.parse(readFileSync(STATE_FILE, 'utf8')).knobs as Record<string, string>;
      restore();
      if (problems.length) return { ok: false, reason: `could not restore the knobs an earlier bench left: ${problems.join('; ')}` };
    }
    const users = otherUsers(new Set([process.pid]));
    if (read('run') !== '0' || readInt('pages_shared') !== 0 || readInt('pages_sharing') !== 0 || users.length > 0) {
      return {
        ok: false,
        reason: `KSM is busy (run ${read('run')}, pages_shared ${read('pages_shared')}, pages_sharing ${read('pages_sharing')}${users.length ? `, registered processes ${users.join(' ')}` : ''}): nothing was changed`,
      };
    }
    saved = writableKnobs();
    writeFileSync(STATE_FILE, JSON.stringify({ pid: process.pid, knobs: saved }));
    write('run', 2);
    write('run', 0);
    if (existsSync(join(KSM, 'advisor_mode')) && knobValue('advisor_mode') !== 'none') write('advisor_mode', 'none');
    if (existsSync(join(KSM, 'smart_scan'))) write('smart_scan', 0);
    if (existsSync(join(KSM, 'use_zero_pages'))) write('use_zero_pages', 0);
    write('pages_to_scan', 2 * pages * procs + 64);
    write('sleep_millisecs', SLEEP_MS);

    const child = fileURLToPath(new URL('./kernel-child.js', import.meta.url));
    for (let i = 0; i < procs; i++) {
      const c = spawn(process.execPath, [child, String(pages)], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(c);
      await new Promise<void>((resolve, reject) => {
        let out = '';
        c.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) resolve();
        });
        c.on('exit', (code) => reject(new Error(`a kernel-child exited with ${code} before it was ready`)));
      });
    }

    const passSeconds: number[] = [];
    let toggle = 0;
    for (let k = 0; k < passes; k++) {
      const before = readInt('full_scans');
      const scannedBefore = readInt('pages_scanned');
      // Wake a ksmd still in its sleep after the last batch, so that run=1 starts the pass at once.
      toggle ^= 1;
      write('sleep_millisecs', SLEEP_MS + toggle);
      const t0 = performance.now();
      write('run', 1);
      let nextPoke = t0 + 100;
      while (readInt('full_scans') === before) {
        const now = performance.now();
        if (now - t0 > PASS_TIMEOUT_MS) throw new Error(`ksmd completed no pass within ${PASS_TIMEOUT_MS / 1000} s`);
        if (now > nextPoke && readInt('pages_scanned') === scannedBefore) {
          // run=1 landed as ksmd went into its timed sleep: poke it again.
          toggle ^= 1;
          write('sleep_millisecs', SLEEP_MS + toggle);
          nextPoke = now + 100;
        }
        sleep(0.5);
      }
      passSeconds.push((performance.now() - t0) / 1000);
      write('run', 0);
      const after = readInt('full_scans');
      if (after !== before + 1) throw new Error(`full_scans went from ${before} to ${after}: ksmd ran more than one pass`);
    }
    const counters: Record<string, number> = {};
    for (const name of ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans']) counters[name] = readInt(name);
    return { ok: true, result: { release: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), passSeconds, counters } };
  } catch (e) {
    return { ok: false, reason: `the kernel run failed: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    restore();
    for (const s of signals) process.off(s, onSignal);
    process.off('exit', restore);
    process.off('uncaughtException', onCrash);
    closeSync(lockFd);
    if (problems.length) process.stderr.write(`bench: KSM restore problems: ${problems.join('; ')}\n`);
  }
}
