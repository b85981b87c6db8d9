/**
 * `npm start` (scripts/start.mjs) builds only when dist/ is missing or older
 * than what tsc compiles, then runs ksmctl with the arguments passed through.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/golden.js';

const START = join(ROOT, 'scripts', 'start.mjs');
const { needsBuild } = (await import(pathToFileURL(START).href)) as { needsBuild(root?: string): string | null };

test('a build is needed when dist/ is missing or older than a source, and not otherwise', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ksmctl-start-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const at = (file: string, seconds: number) => {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '');
    utimesSync(join(root, file), seconds, seconds);
  };
  at('tsconfig.json', 1000);
  at('src/cli/program.ts', 1000);
  at('bench/bench.ts', 1000);
  t.is(needsBuild(root), 'dist/src/cli/ksmctl.js is missing');
  at('dist/src/cli/ksmctl.js', 2000);
  t.is(needsBuild(root), null);
  at('bench/notes.md', 3000);
  t.is(needsBuild(root), null, 'a file tsc does not compile is not a source');
  at('src/tui/deep/app.tsx', 3000);
  t.is(needsBuild(root), 'src/tui/deep/app.tsx is newer than dist/src/cli/ksmctl.js');
  at('src/tui/deep/app.tsx', 1000);
  at('tsconfig.json', 3000);
  t.is(needsBuild(root), 'tsconfig.json is newer than dist/src/cli/ksmctl.js');
});

test('npm start runs ksmctl from dist/ with its arguments, without a build once built', (t) => {
  if (needsBuild(ROOT) !== null) {
    // Not this test's place to rebuild dist/ under the other tests' feet (npm test builds first).
    t.log(`skipped: ${needsBuild(ROOT)}`);
    t.pass();
    return;
  }
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const run = (args: string[]) => spawnSync(process.execPath, [START, ...args], { cwd: ROOT, input: '', encoding: 'utf8', timeout: 60_000 });
  const v = run(['--version']);
  t.deepEqual({ status: v.status, stdout: v.stdout, stderr: v.stderr }, { status: 0, stdout: `${version}\n`, stderr: '' });
  const bad = run(['bogus']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^ksmctl: unknown command 'bogus'\n/);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.is(pkg.scripts.start, 'node scripts/start.mjs');
});
