/**
 * Every command of README.md and docs/*.md runs as written and exits as it
 * should (test/helpers/doc-blocks.ts has the convention: ```sh blocks run,
 * `<!-- no-run: why -->` and `<!-- slow -->` mark the few that do not).
 *
 * Each block runs in a scratch directory whose entries link to the
 * repository's (package.json, node_modules, dist, examples, ...), so
 * `npx ksmctl` and the relative paths resolve as in a clone while the files a
 * block writes (reports, snapshots) land in the scratch directory. Each block
 * gets its own host socket ($KSMCTL_HOST), so a block that starts a host
 * meets no other; a host a failed block left running is stopped.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { allShellBlocks, code, type DocBlock, placeholder, shellBlocks } from '../helpers/doc-blocks.js';
import { ROOT } from '../helpers/golden.js';

const SLOW = process.env.KSMCTL_DOCS_SLOW === '1';
const blocks = allShellBlocks(ROOT);

interface Ran {
  status: number | null;
  output: string;
}

/** One shell command line in `cwd`, its status and its output (the tail, for a failure's message). */
function sh(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let output = '';
    const keep = (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (status) => resolve({ status, output }));
  });
}

/** At most this many blocks at once: each line starts npm and node. */
let free = Math.max(2, availableParallelism());
const waiting: (() => void)[] = [];
async function slot<T>(f: () => Promise<T>): Promise<T> {
  while (free === 0) await new Promise<void>((r) => waiting.push(r));
  free--;
  try {
    return await f();
  } finally {
    free++;
    waiting.shift()?.();
  }
}

/** A scratch directory that looks like the repository's root. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ksm-docs-'));
  for (const e of readdirSync(ROOT)) if (e !== '.git') symlinkSync(join(ROOT, e), join(dir, e));
  return dir;
}

/** Paths into the repository that a line names and that do not exist. */
function missingPaths(command: string): string[] {
  const tops = new Set(readdirSync(ROOT).filter((e) => e !== '.git'));
  const missing: string[] = [];
  for (const word of code(command).split(/[\s;&|>]+/)) {
    const path = word.replace(/^['"]|['",]$/g, '');
    if (!tops.has(path.split('/')[0]) || !path.includes('/')) continue;
    const checked = path.includes('*') ? dirname(path.slice(0, path.indexOf('*') + 1)) : path;
    if (!existsSync(join(ROOT, checked))) missing.push(path);
  }
  return missing;
}

const where = (b: DocBlock, line = b.line) => `${b.file}:${line}`;

test('the pages have shell blocks, and every block kept from running says why', (t) => {
  t.true(blocks.filter((b) => b.file === 'README.md' && b.run === 'yes').length >= 1);
  t.true(blocks.filter((b) => b.run === 'yes').length >= 8);
  for (const b of blocks.filter((x) => x.run === 'no')) t.true((b.reason ?? '').length > 3, `${where(b)}: no-run without a reason`);
});

test('no runnable line is a placeholder or names a file the repository lacks', (t) => {
  for (const b of blocks.filter((x) => x.run !== 'no'))
    for (const l of b.lines) {
      t.is(placeholder(l.command), null, `${where(b, l.line)}: ${l.command}`);
      t.deepEqual(missingPaths(l.command), [], `${where(b, l.line)}: ${l.command}`);
    }
});

test('the block reader follows the convention', (t) => {
  const md = [
    'text',
    '```sh',
    'npx ksmctl eras   # the eras',
    '# a comment line',
    'npx ksmctl workload run \\',
    '  examples/workloads/two-guests.json',
    'npx ksmctl host status   # no host: (exit 1)',
    '```',
    '<!-- no-run: interactive -->',
    '```sh',
    'npx ksmctl tui',
    '```',
    '<!-- slow -->',
    '```sh',
    'npm run soak',
    '```',
    '```text',
    'not run',
    '```',
  ].join('\n');
  const b = shellBlocks('x.md', md);
  t.deepEqual(
    b.map((x) => [x.line, x.run, x.reason]),
    [
      [2, 'yes', undefined],
      [10, 'no', 'interactive'],
      [14, 'slow', undefined],
    ],
  );
  t.deepEqual(
    b[0].lines.map((l) => [l.line, l.command, l.exit]),
    [
      [3, 'npx ksmctl eras   # the eras', 0],
      [5, 'npx ksmctl workload run  examples/workloads/two-guests.json', 0],
      [7, 'npx ksmctl host status   # no host: (exit 1)', 1],
    ],
  );
  t.not(placeholder('npx ksmctl workload run FILE'), null);
  t.not(placeholder('npx ksmctl bench [--no-kernel]'), null);
  t.is(placeholder('NO_COLOR=1 npx ksmctl run examples/scripts/ksmpages.ksm -D SIZE=65536'), null);
  t.deepEqual(missingPaths('npx ksmctl workload run examples/workloads/no-such.json'), ['examples/workloads/no-such.json']);
});

for (const b of blocks) {
  const title = `${where(b)}: ${b.lines.map((l) => code(l.command)).join(' ; ')}`.slice(0, 200);
  if (b.run === 'no' || (b.run === 'slow' && !SLOW)) continue;
  test(title, async (t) => {
    const timeoutMs = b.run === 'slow' ? 3_600_000 : 90_000;
    t.timeout(timeoutMs * b.lines.length + 60_000);
    await slot(async () => {
      const dir = scratch();
      const socket = join(dir, 'host.sock');
      const env = { ...process.env, KSMCTL_HOST: socket, NO_COLOR: '1', npm_config_update_notifier: 'false' };
      try {
        for (const l of b.lines) {
          const r = await sh(l.command, dir, env, timeoutMs);
          t.is(r.status, l.exit, `${where(b, l.line)}: ${l.command}\n${r.output}`);
        }
      } finally {
        if (existsSync(socket)) await sh('npx ksmctl host stop', dir, env, 30_000);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
