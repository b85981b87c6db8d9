/**
 * Every option that writes a file is checked before the work starts: an
 * existing file without --force, a missing directory, a path under a
 * regular file or on a read-only file system is one line and exit 2, and
 * nothing is computed or printed first.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { checkWritable, FileError } from '../../src/io/files.js';
import { ksmctl, STACK } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ksmctl-outputs-'));
const SMALL = ['compare', 'builtin:identical-guests:n=2,pages=64', '--eras', 'v3', '--passes', '1'];

function oneLine(t: import('ava').ExecutionContext, r: { status: number | null; stdout: string; stderr: string }, re: RegExp): void {
  t.is(r.status, 2, r.stderr);
  t.is(r.stdout, '');
  t.notRegex(r.stderr, STACK);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, re);
}

test('checkWritable: the directory must exist, be a directory and take a file', (t) => {
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  t.notThrows(() => checkWritable(join(dir, 'new.html')));
  t.throws(() => checkWritable(join(dir, 'none', 'r.html')), { instanceOf: FileError, message: /none: no such file or directory/ });
  t.throws(() => checkWritable(join(file, 'r.html')), { instanceOf: FileError, message: /plain is not a directory/ });
  // /proc takes no new files, even from root: the kernel's answer decides.
  t.throws(() => checkWritable('/proc/ksmctl-report.html'), { instanceOf: FileError, message: /^cannot write \/proc\/ksmctl-report\.html: / });
  t.throws(() => checkWritable(file), { instanceOf: FileError, message: /exists: not replaced/ });
  t.notThrows(() => checkWritable(file, true));
});

test('compare --report: a path that cannot be written is refused before the comparison', (t) => {
  const file = join(dir, 'plain2');
  writeFileSync(file, 'x');
  oneLine(t, ksmctl([...SMALL, '--report', join(file, 'r.html')]), /^ksmctl: cannot write .*plain2\/r\.html: .*plain2 is not a directory$/m);
  oneLine(t, ksmctl([...SMALL, '--report', '/proc/r.html']), /^ksmctl: cannot write \/proc\/r\.html: /);
});

test('estimate --report: an existing report is kept without --force, checked before the estimate; replaced with it', (t) => {
  const raw = join(dir, 'guest.raw');
  writeFileSync(raw, Buffer.concat([Buffer.alloc(4096 * 4, 7), Buffer.alloc(4096 * 4, 0)]));
  const snap = join(dir, 'guest.ksnap');
  const s = ksmctl(['snapshot', '--raw', raw, '-o', snap]);
  t.is(s.status, 0, s.stderr);
  const report = join(dir, 'estimate.html');
  writeFileSync(report, 'old');
  oneLine(t, ksmctl(['estimate', snap, '--report', report]), /estimate\.html exists: not replaced \(--force replaces it\)/);
  t.is(readFileSync(report, 'utf8'), 'old');
  oneLine(t, ksmctl(['estimate', snap, '--report', join(dir, 'no', 'estimate.html')]), /cannot write .*no\/estimate\.html: .*no: no such file or directory/);
  const r = ksmctl(['estimate', snap, '--report', report, '--force']);
  t.is(r.status, 0, r.stderr);
  t.regex(readFileSync(report, 'utf8'), /^<!doctype html>/i);
});

test('snapshot -o: an existing file or an unwritable directory is refused before anything is captured', (t) => {
  const raw = join(dir, 'g2.raw');
  writeFileSync(raw, Buffer.alloc(4096 * 2, 1));
  const out = join(dir, 'exists.ksnap');
  writeFileSync(out, 'old');
  oneLine(t, ksmctl(['snapshot', '--raw', raw, '-o', out]), /exists\.ksnap exists/);
  t.is(readFileSync(out, 'utf8'), 'old');
  const r = ksmctl(['snapshot', '--raw', raw, '-o', '/proc/x.ksnap']);
  t.is(r.status, 2);
  t.regex(r.stderr, /^ksmctl: .*\/proc\/x\.ksnap/);
});
