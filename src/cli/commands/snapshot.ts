/**
 * `ksmctl snapshot (--pid PID... | --match REGEX | --cgroup PATH | --core
 * FILE... | --raw FILE...) [-o FILE] [--force] [--every 10s --count N]`:
 * captures real memory into a snapshot file (src/snapshot,
 * docs/snapshot-format.md). A process or file that cannot be captured is
 * one line on stderr and the others go on; the exit status is then 2.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SnapshotWriteError } from '../../snapshot/writer.js';
import { takeSnapshot, type TakeResult } from '../../snapshot/take.js';
import { cgroupPids, matchPids, TargetError } from '../../snapshot/targets.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { taskProgress } from '../progress.js';

export interface SnapshotCliOptions {
  pid?: string[];
  match?: string;
  cgroup?: string;
  core?: string[];
  raw?: string[];
  output?: string;
  force?: boolean;
  every?: number;
  count?: number;
}

/** `10s`, `500ms`, `2m`, or plain seconds -> milliseconds. */
export function parseInterval(v: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(v);
  if (m === null) throw new InvalidArgumentError('expected a time such as 10s, 500ms or 2m');
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (n > 86_400_000) throw new InvalidArgumentError('at most a day');
  return n;
}

function parseCount(v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 1000) throw new InvalidArgumentError('expected an integer from 1 to 1000');
  return Number(v);
}

/** The pids the options name, in order, without repeats. */
export function selectPids(opts: SnapshotCliOptions): number[] {
  const pids: number[] = [];
  for (const p of opts.pid ?? []) {
    for (const item of p.split(',')) {
      if (!/^[0-9]+$/.test(item) || Number(item) < 1 || Number(item) > 2 ** 22) throw new CliError(`--pid: not a process id: ${item}`, 2);
      pids.push(Number(item));
    }
  }
  try {
    if (opts.match !== undefined) {
      const found = matchPids(opts.match);
      if (found.length === 0) throw new CliError(`--match: no process's command line matches ${opts.match}`, 2);
      pids.push(...found);
    }
    if (opts.cgroup !== undefined) {
      const found = cgroupPids(opts.cgroup);
      if (found.length === 0) throw new CliError(`--cgroup: no process in ${opts.cgroup}`, 2);
      pids.push(...found);
    }
  } catch (e) {
    if (e instanceof TargetError) throw new CliError(e.message, 2);
    throw e;
  }
  return [...new Set(pids)];
}

function defaultOutput(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `snapshot-${t}.ksnap`;
}

const MiB = 1024 * 1024;

/** The summary `ksmctl snapshot` prints. */
export function formatTake(r: TakeResult): string {
  const s = r.stats;
  const rate = r.seconds > 0 ? r.bytesRead / MiB / r.seconds : 0;
  const captures = new Set(r.processes.map((p) => p.capture)).size;
  return [
    `${r.path}: ${r.processes.length} process${r.processes.length === 1 ? '' : 'es'}${captures > 1 ? ` in ${captures} captures` : ''}`,
    `  pages captured  ${s.pages} (${(s.pages * 4096 / MiB).toFixed(1)} MiB), ${s.zeroPages} zero, ${s.contents} distinct other contents`,
    `  file size       ${(s.bytes / MiB).toFixed(1)} MiB`,
    `  time            ${r.seconds.toFixed(2)} s (${rate.toFixed(0)} MiB/s)`,
  ].join('\n');
}

export async function snapshotCommand(opts: SnapshotCliOptions, io: Io, progress?: (done: number, total: number) => void): Promise<TakeResult> {
  const pids = selectPids(opts);
  const cores = opts.core ?? [];
  const raws = opts.raw ?? [];
  if (pids.length + cores.length + raws.length === 0) throw new CliError('snapshot needs --pid, --match, --cgroup, --core or --raw', 2);
  if (opts.count !== undefined && opts.count > 1 && opts.every === undefined) throw new CliError('--count needs --every', 2);
  let r: TakeResult | null;
  try {
    r = await takeSnapshot({
      pids,
      cores,
      raws,
      output: opts.output ?? defaultOutput(),
      force: opts.force,
      count: opts.count,
      everyMs: opts.every,
      onProblem: (line) => io.err(`ksmctl: ${line}`),
      onProgress: progress,
    });
  } catch (e) {
    if (e instanceof SnapshotWriteError) throw new CliError(e.message, 2);
    throw e;
  }
  // Nothing captured: each process or file said why in its line.
  if (r === null) throw new CliError('', 2);
  return r;
}

export function addSnapshotCommand(program: Command, io: Io): void {
  program
    .command('snapshot')
    .description('capture the memory of real processes (or an ELF core, or a raw memory image) into a snapshot file for `estimate`, `workload run snapshot:FILE`, `compare` and the TUI')
    .option('--pid <pid...>', 'processes to capture (repeatable, or comma-separated)')
    .option('--match <regex>', 'every process whose command line (arguments joined by spaces) matches')
    .option('--cgroup <path>', 'every process of a cgroup v2 and its descendants (a path under its mount, /sys/fs/cgroup, or relative to it)')
    .option('--core <file...>', 'ELF core files (gdb gcore, the kernel, QEMU dump-guest-memory)')
    .option('--raw <file...>', 'raw memory images (a guest RAM file): one process each, every page present')
    .option('-o, --output <file>', 'the snapshot file (default snapshot-DATE-TIME.ksnap)')
    .option('--force', 'replace the output file if it exists')
    .addOption(new Option('--every <interval>', 'with --count: time between captures (10s, 500ms, 2m)').argParser(parseInterval))
    .addOption(new Option('--count <n>', 'captures to take into the file (default 1)').argParser(parseCount))
    .action(async (opts: SnapshotCliOptions) => {
      // A bar on stderr when it is a terminal (src/cli/progress.ts); nothing otherwise.
      const bar = taskProgress('capturing', { percent: true });
      try {
        const r = await snapshotCommand(opts, io, bar ? (done, total) => bar.update(done, total, `${(done / MiB).toFixed(0)} MiB`) : undefined);
        bar?.stop();
        io.out(formatTake(r));
        if (r.failed > 0) throw new CliError('', 2);
      } finally {
        bar?.stop();
      }
    });
}
