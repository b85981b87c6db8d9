/**
 * Colour is decided in one place (src/cli/color.ts): FORCE_COLOR, then
 * NO_COLOR (any non-empty value), then whether stdout is a terminal. compare's
 * chart follows it; the TUI's chalk, which reads FORCE_COLOR but not NO_COLOR,
 * is handed NO_COLOR as FORCE_COLOR=0 before it loads.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyNoColor, wantColor } from '../../src/cli/color.js';
import { KSMCTL } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

test('wantColor: a terminal colours unless NO_COLOR says otherwise; FORCE_COLOR wins either way', (t) => {
  t.true(wantColor(true, {}));
  t.false(wantColor(false, {}));
  t.false(wantColor(true, { NO_COLOR: '1' }));
  t.false(wantColor(true, { NO_COLOR: 'anything' }));
  t.true(wantColor(true, { NO_COLOR: '' }), 'an empty NO_COLOR is as if unset');
  t.true(wantColor(false, { FORCE_COLOR: '1' }));
  t.true(wantColor(false, { FORCE_COLOR: '3' }));
  t.true(wantColor(false, { FORCE_COLOR: 'true' }));
  t.true(wantColor(true, { FORCE_COLOR: '1', NO_COLOR: '1' }));
  t.false(wantColor(true, { FORCE_COLOR: '0' }));
  t.false(wantColor(true, { FORCE_COLOR: 'false' }));
  t.false(wantColor(false, { FORCE_COLOR: '' }), 'an empty FORCE_COLOR is as if unset');
});

test('applyNoColor turns NO_COLOR into FORCE_COLOR=0 only when FORCE_COLOR is unset', (t) => {
  const a: Record<string, string | undefined> = { NO_COLOR: '1' };
  applyNoColor(a);
  t.is(a.FORCE_COLOR, '0');
  const b: Record<string, string | undefined> = { NO_COLOR: '1', FORCE_COLOR: '2' };
  applyNoColor(b);
  t.is(b.FORCE_COLOR, '2');
  const c: Record<string, string | undefined> = {};
  applyNoColor(c);
  t.false('FORCE_COLOR' in c);
});

/** The environment without either variable, plus `extra`. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.NO_COLOR;
  delete e.FORCE_COLOR;
  return { ...e, ...extra };
}

test("with NO_COLOR the TUI's chalk, loaded after applyNoColor, has no colour", (t) => {
  const color = pathToFileURL(join(ROOT, 'dist', 'src', 'cli', 'color.js')).href;
  const code = `const m = await import(${JSON.stringify(color)}); m.applyNoColor(); const chalk = (await import('chalk')).default; console.log(chalk.level);`;
  const run = (extra: Record<string, string>) => spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env: env(extra), encoding: 'utf8' }).stdout.trim();
  t.is(run({ NO_COLOR: '1' }), '0');
  t.not(run({ FORCE_COLOR: '1' }), '0');
});

const SMALL = 'builtin:identical-guests:n=2,pages=8';
const compare = (extra: Record<string, string>) => spawnSync(process.execPath, [KSMCTL, 'compare', SMALL, '--eras', 'v2,v3', '--passes', '1'], { cwd: ROOT, env: env(extra), encoding: 'utf8', timeout: 60_000 });

test('compare colours its chart off a terminal with FORCE_COLOR, and not with NO_COLOR or FORCE_COLOR=0', (t) => {
  const forced = compare({ FORCE_COLOR: '1' });
  t.is(forced.status, 0);
  t.regex(forced.stdout, /\x1b\[/);
  for (const extra of [{ NO_COLOR: '1' }, { FORCE_COLOR: '0' }, {}] as Record<string, string>[]) {
    const r = compare(extra);
    t.is(r.status, 0);
    t.notRegex(r.stdout, /\x1b\[/, JSON.stringify(extra));
    t.regex(r.stdout, /pages saved per pass/);
  }
});
