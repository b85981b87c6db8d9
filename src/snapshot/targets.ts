/**
 * Which processes a capture takes: pids given, every process whose command
 * line matches a regular expression, or every process of a cgroup (v2)
 * and its descendants. ksmctl's own process is never among them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host). */
export function cgroupRoot(): string {
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[2] === 'cgroup2') return f[1];
    }
  } catch {
    // no /proc/mounts: the usual place
  }
  return '/sys/fs/cgroup';
}

/** Every pid in /proc, in numeric order. */
export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** A process's command line as one string (arguments joined by spaces), or null when it is gone or has none (kernel threads). */
export function commandLine(pid: number): string | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return null;
    return raw.replace(/\0$/, '').split('\0').join(' ');
  } catch {
    return null;
  }
}

/** The pids whose command line matches `pattern` (a JavaScript regular expression). */
export function matchPids(pattern: string): number[] {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new TargetError(`--match: not a regular expression: ${pattern} (${(e as Error).message})`);
  }
  const self = new Set([process.pid, process.ppid]);
  return allPids().filter((pid) => {
    if (self.has(pid)) return false;
    const cmd = commandLine(pid);
    return cmd !== null && re.test(cmd);
  });
}

/** The pids of a cgroup v2 (a path under its mount, or relative to it) and of its descendants. */
export function cgroupPids(path: string): number[] {
  const root = cgroupRoot();
  const dir = path === root || path.startsWith(`${root}/`) ? path : join(root, path);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    throw new TargetError(`--cgroup: no cgroup ${path} (no ${join(dir, 'cgroup.procs')})`);
  }
  const out = new Set<number>();
  const walk = (d: string) => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (/^[0-9]+$/.test(l)) out.add(Number(l));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // a cgroup removed meanwhile
    }
  };
  walk(dir);
  out.delete(process.pid);
  return [...out].sort((a, b) => a - b);
}

/** VmRSS of a process in bytes (0 when unknown): the progress bar's total. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
