/**
 * Progress goes to stderr when stderr is a terminal, whatever stdout is (a
 * file, a pipe, --json), and nowhere otherwise. The terminal is a real
 * pseudo-terminal from util-linux's script(1), with stdout redirected to a
 * file inside it, as a user's `ksmctl ... > out.json` on a terminal.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { KSMCTL, ksmctl } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'ksmctl-progress-'));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `args` (node and a script) on a terminal with stdout to a file: what the terminal showed, and the file. */
function onTerminal(name: string, args: string[]): { terminal: string; stdout: string; status: number | null } {
  const out = join(dir, `${name}.out`);
  const typescript = join(dir, `${name}.tty`);
  const r = spawnSync('script', ['-qec', `${[process.execPath, ...args].map(q).join(' ')} > ${q(out)}`, typescript], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
  return { terminal: readFileSync(typescript, 'utf8'), stdout: readFileSync(out, 'utf8'), status: r.status };
}

const ESC = /\u001b/;

test('workload run --json > file: the bar on the terminal, the JSON clean in the file', (t) => {
  if (!hasScript) return t.pass('script(1) is not installed: no pseudo-terminal to test with');
  const r = onTerminal('workload', [KSMCTL, 'workload', 'run', 'examples/workloads/two-guests.json', '--json']);
  t.is(r.status, 0);
  t.regex(r.terminal, /workload run .* \d+\/9 /);
  t.notRegex(r.stdout, ESC);
  t.notThrows(() => JSON.parse(r.stdout));
  // The cursor comes back.
  t.true(r.terminal.lastIndexOf('\u001b[?25h') > r.terminal.lastIndexOf('\u001b[?25l'));
});

test('compare > file: the bars on the terminal although stdout is a file', (t) => {
  if (!hasScript) return t.pass('script(1) is not installed: no pseudo-terminal to test with');
  const r = onTerminal('compare', [KSMCTL, 'compare', 'builtin:identical-guests:n=2,pages=64', '--eras', 'v2,v3', '--json']);
  t.is(r.status, 0);
  t.regex(r.terminal, /v3:2\.6\.32 .*(converged|pass)/);
  t.notRegex(r.stdout, ESC);
  t.notThrows(() => JSON.parse(r.stdout));
});

test('fuzz and soak: a bar on the terminal, the report on stdout', (t) => {
  if (!hasScript) return t.pass('script(1) is not installed: no pseudo-terminal to test with');
  const f = onTerminal('fuzz', [join(ROOT, 'dist', 'src', 'fuzz', 'fuzz-main.js'), '--seed', '1', '--inputs', '400', '--target', 'sysfs-v2,madvise-v2']);
  t.is(f.status, 0);
  t.regex(f.terminal, /fuzz .* \d+\/800 inputs/);
  t.regex(f.stdout, /0 failures/);
  t.notRegex(f.stdout, ESC);
  const s = onTerminal('soak', [join(ROOT, 'dist', 'src', 'fuzz', 'soak-main.js'), '--seed', '1', '--ops', '3000']);
  t.is(s.status, 0);
  t.regex(s.terminal, /soak .* \d+\/3000 ops/);
  t.regex(s.stdout, /0 violations/);
});

test('stderr not a terminal: no progress at all', (t) => {
  const r = ksmctl(['workload', 'run', 'examples/workloads/two-guests.json', '--json']);
  t.is(r.status, 0);
  t.is(r.stderr, '');
  const c = ksmctl(['compare', 'builtin:identical-guests:n=2,pages=64', '--eras', 'v3', '--passes', '1']);
  t.is(c.status, 0);
  t.is(c.stderr, '');
});
