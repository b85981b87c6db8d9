/** Runs the built ksmctl binary as a user would (npm test builds it first). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './golden.js';

export const KSMCTL = join(ROOT, 'dist', 'src', 'cli', 'ksmctl.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function ksmctl(args: string[], opts: { cwd?: string; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [KSMCTL, ...args], { cwd: opts.cwd ?? ROOT, input: opts.input ?? '', encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A stack trace line, which users must never see. */
export const STACK = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at .+:\d+:\d+$/m;
