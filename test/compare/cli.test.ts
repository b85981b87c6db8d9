/** `ksmctl compare` and `ksmctl workloads` end to end: the built binary, as a user runs it. */
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ksmctl, STACK } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'ksmctl-compare-'));
const SMALL = 'builtin:identical-guests:n=2,pages=128,passes=1';

test('the same comparison twice gives the same numbers (--json)', (t) => {
  const args = ['compare', 'builtin:volatile-churn:n=2,pages=96,rounds=2', '--json'];
  const a = ksmctl(args);
  const b = ksmctl(args);
  t.is(a.status, 0, a.stderr);
  t.is(a.stdout, b.stdout);
  const doc = JSON.parse(a.stdout);
  t.deepEqual(
    doc.configurations.map((c: { label: string }) => c.label),
    ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'],
  );
  t.deepEqual(Object.keys(doc), ['workload', 'plan', 'configurations']);
  t.is(doc.plan.mode, 'until-converged');
});

test('the table has one column per configuration and one row per metric, then the chart', (t) => {
  const r = ksmctl(['compare', SMALL, '--eras', 'v3,v1:2008', '--passes', '3']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^metric\s+v3:2\.6\.32\s+v1:2008$/m);
  for (const row of [
    'pages saved \\(end\\)',
    'passes to converge',
    'virtual time to converge',
    'pages scanned',
    'checksums computed',
    'bytes hashed',
    'page comparisons',
    'bytes compared',
    'stable tree depth max / mean',
    'unstable tree depth max / mean',
    'hash chain length max / mean',
    'false hash matches',
    'copy-on-write breaks',
    'metadata',
    'profit \\(saved - metadata\\)',
  ]) {
    t.regex(r.stdout, new RegExp(`^${row}\\s+\\S`, 'm'), row);
  }
  t.regex(r.stdout, /^pages saved after pass\s+1\s+2\s+3\s+4$/m);
  t.regex(r.stdout, /^pages saved per pass$/m);
  t.regex(r.stdout, /┤/);
  t.is(r.stderr, '', 'no progress bars without a terminal');
});

test('--checksum runs every era once per checksum', (t) => {
  const r = ksmctl(['compare', SMALL, '--eras', 'v2,v3', '--checksum', 'lookup3,xxhash', '--passes', '1', '--json']);
  t.is(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.deepEqual(
    doc.configurations.map((c: { label: string; checksum: string }) => [c.label, c.checksum]),
    [
      ['v2+lookup3', 'lookup3'],
      ['v2+xxhash', 'xxhash'],
      ['v3:2.6.32+lookup3', 'lookup3'],
      ['v3:2.6.32+xxhash', 'xxhash'],
    ],
  );
});

test('a workload file compares too, and --report writes the HTML page', (t) => {
  const out = join(tmp, 'two-guests.html');
  const r = ksmctl(['compare', join(FIXTURES, 'workloads', 'two-guests.json'), '--eras', 'v1:2009,v3', '--passes', '0', '--report', out]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /HTML report: .*two-guests\.html/);
  const html = readFileSync(out, 'utf8');
  t.regex(html, /^<!doctype html>/);
  t.regex(html, /Chart\.js v4/);
  t.notRegex(html, /<script[^>]+src=/, 'nothing loaded from elsewhere');
});

const bad = test.macro({
  exec(t, args: string[], status: number, message: RegExp, hint = false) {
    const r = ksmctl(args);
    t.is(r.status, status, r.stderr);
    t.is(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    t.regex(lines[0], message);
    t.notRegex(r.stderr, STACK);
    // Errors of the command line itself come with commander's hint to --help.
    t.deepEqual(lines.slice(1), hint ? ['(ksmctl --help lists the commands)'] : [], r.stderr);
  },
  title: (given) => `a bad compare (${given}) is one line and an exit status`,
});
test('unknown era', bad, ['compare', SMALL, '--eras', 'v3,v9'], 2, /unknown era "v9" in --eras/);
test('unknown checksum', bad, ['compare', SMALL, '--checksum', 'crc32'], 2, /unknown checksum "crc32"/);
test('unknown built-in', bad, ['compare', 'builtin:nope'], 2, /no built-in workload "nope" \(built-in: guests, .*from-files\)/);
test('bad parameter', bad, ['compare', 'builtin:zero-heavy:zero=101'], 2, /zero must be in 0\.\.100, got 101/);
test('--passes with --until-converged', bad, ['compare', SMALL, '--passes', '2', '--until-converged'], 2, /cannot be used with option '--until-converged'/, true);
test('--passes not a number', bad, ['compare', SMALL, '--passes', 'lots'], 2, /expected an integer/, true);
// Checked before the comparison runs: exit 2 at once, nothing lost.
test('unwritable report', bad, ['compare', SMALL, '--eras', 'v3', '--passes', '1', '--report', '/no/such/dir/r.html'], 2, /cannot write \/no\/such\/dir\/r\.html: \/no\/such\/dir: no such file or directory/);

test('ksmctl workloads lists every built-in with its parameters', (t) => {
  const r = ksmctl(['workloads']);
  t.is(r.status, 0, r.stderr);
  for (const name of ['guests', 'identical-guests', 'ksmpages-worst', 'zero-heavy', 'volatile-churn', 'many-sharers', 'from-files']) t.regex(r.stdout, new RegExp(`^${name}  `, 'm'));
  t.regex(r.stdout, /^ {2}path=\/usr\/bin\s+repeatable/m);
  const json = JSON.parse(ksmctl(['workloads', '--json']).stdout);
  t.deepEqual(json.find((w: { name: string }) => w.name === 'zero-heavy').params.map((p: { name: string }) => p.name), ['n', 'pages', 'zero', 'batch', 'passes']);
});

test('workload run takes the parameterized built-ins too', (t) => {
  const r = ksmctl(['workload', 'run', 'builtin:many-sharers:n=3,pages=4,passes=2', '--json']);
  t.is(r.status, 0, r.stderr);
  const last = JSON.parse(r.stdout).snapshots.at(-1);
  t.like(last, { pages_shared: 1, pages_sharing: 11, pages_saved: 11 });
});
