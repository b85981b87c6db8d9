/**
 * The conventions of a commander CLI: --version / -V, `ksmctl help CMD`,
 * an unknown command named as such, and one `ksmctl:` prefix on every error
 * line (commander's parser errors included), usage errors exiting 2.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageVersion } from '../../src/cli/version.js';
import { ksmctl, STACK } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

for (const flag of ['--version', '-V']) {
  test(`ksmctl ${flag} prints the package version`, (t) => {
    t.deepEqual(ksmctl([flag]), { status: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
}

test('the version is read from the ksm-compat package.json above the file, as in a global install', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-version-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = join(dir, 'lib', 'node_modules', 'ksm-compat');
  mkdirSync(join(pkg, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'ksm-compat', version: '9.8.7' }));
  // A package.json of another package on the way up is passed over.
  writeFileSync(join(pkg, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));
  t.is(packageVersion(join(pkg, 'dist', 'src', 'cli', 'ksmctl.js')), '9.8.7');
  t.is(packageVersion(join(dir, 'elsewhere', 'x.js')), 'unknown');
});

test('ksmctl help compare prints the help of compare and exits 0', (t) => {
  const r = ksmctl(['help', 'compare']);
  t.is(r.status, 0);
  t.regex(r.stdout, /^Usage: ksmctl compare \[options\] <workload>\n/);
  t.regex(r.stdout, /--eras <list>/);
  t.is(r.stderr, '');
  t.is(ksmctl(['compare', '--help']).stdout, r.stdout);
});

test('ksmctl help lists the help command among the commands', (t) => {
  const r = ksmctl(['help']);
  t.is(r.status, 0);
  t.regex(r.stdout, /^ {2}help \[command\]/m);
});

const usage = test.macro({
  exec(t, args: string[], first: string) {
    const r = ksmctl(args);
    t.is(r.status, 2);
    t.is(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    t.is(lines[0], first);
    // The first line is the error; what follows are hints, never another "error:".
    t.false(lines.some((l) => l.startsWith('error:')));
    t.notRegex(r.stderr, STACK);
  },
  title: (_p, args: string[]) => `ksmctl ${args.join(' ')} is a usage error with the ksmctl: prefix, exit 2`,
});

test(usage, ['bogus'], "ksmctl: unknown command 'bogus'");
test(usage, ['bogus', 'more', 'words'], "ksmctl: unknown command 'bogus'");
test(usage, ['workload', 'bogus'], "ksmctl: unknown command 'bogus'");
test(usage, ['--bogus'], "ksmctl: unknown option '--bogus'");
test(usage, ['compare', '--bogus'], "ksmctl: unknown option '--bogus'");
test(usage, ['compare'], "ksmctl: missing required argument 'workload'");
test(usage, ['tui', 'a', 'b'], "ksmctl: too many arguments for 'tui'. Expected 1 argument but got 2.");
test(usage, ['workload', 'run', 'builtin:x', '--abi', '2010'], "ksmctl: option '--abi <abi>' argument '2010' is invalid. Allowed choices are 2008, 2009.");

test('a misspelt command gets commander\'s suggestion', (t) => {
  const r = ksmctl(['comprae']);
  t.is(r.status, 2);
  t.regex(r.stderr, /^ksmctl: unknown command 'comprae'\n\(Did you mean compare\?\)\n/);
});
