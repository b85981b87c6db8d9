/**
 * Inputs are read as regular files within a size limit, outputs are
 * written whole and replace nothing unasked: /dev/zero, a FIFO, a directory
 * or an oversized file is one line and exit 2 (never a read without end);
 * compare --report refuses an existing file without --force, replaces a
 * symbolic link instead of following it, and leaves the old report whole
 * when the new one cannot be written (`ulimit -f`). A region larger than
 * the engine maps is refused at its place.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite, FileError, readRegularFile } from '../../src/io/files.js';
import { KSMCTL, ksmctl, STACK } from '../helpers/cli.js';

function tmp(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function oneLine(t: import('ava').ExecutionContext, r: { status: number | null; stderr: string }, message: RegExp): void {
  t.is(r.status, 2, r.stderr);
  t.regex(r.stderr, message);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.notRegex(r.stderr, STACK);
}

test('workload run /dev/zero and run /dev/zero: one line, exit 2', (t) => {
  oneLine(t, ksmctl(['workload', 'run', '/dev/zero']), /^ksmctl: \/dev\/zero: cannot read: Not a regular file but a character device/);
  oneLine(t, ksmctl(['run', '/dev/zero']), /^ksmctl: \/dev\/zero: not a regular file but a character device: a script file must be a regular file$/m);
});

test('a FIFO or a directory given as a script or a workload is refused without reading it', (t) => {
  const dir = tmp(t);
  const fifo = join(dir, 'fifo');
  t.is(spawnSync('mkfifo', [fifo]).status, 0);
  oneLine(t, ksmctl(['run', fifo]), /not a regular file but a FIFO/);
  oneLine(t, ksmctl(["workload", "run", fifo]), /[Nn]ot a regular file but a FIFO/);
  oneLine(t, ksmctl(['run', dir]), /not a regular file but a directory/);
});

test('a script file over 1 MiB (a 2,000,000-term expression) is refused by its size', (t) => {
  const dir = tmp(t);
  const f = join(dir, 'terms.ksm');
  writeFileSync(f, `x = ${Array(2_000_000).fill('1').join('+')}\n`);
  oneLine(t, ksmctl(['run', f]), /terms\.ksm: 4,000,004 bytes: more than a script file may have \(1 MiB\)/);
});

test('readRegularFile: the size limit holds even for a file that grows, and truncate gives the first bytes', (t) => {
  const dir = tmp(t);
  const f = join(dir, 'f');
  writeFileSync(f, 'x'.repeat(5000));
  t.is(readRegularFile(f, 4096, 'file', true).length, 4096);
  t.throws(() => readRegularFile(f, 4096), { instanceOf: FileError, message: /5,000 bytes: more than a file may have \(4,096 bytes\)/ });
  t.is(readRegularFile(f, 5000).toString(), 'x'.repeat(5000));
});

test('a region over 2^26 pages is refused at its place, as the engine would refuse the mapping', (t) => {
  const dir = tmp(t);
  const f = join(dir, 'big.json');
  writeFileSync(f, JSON.stringify({ processes: { a: [{ pages: 2 ** 26 + 1, content: 'zero' }] }, steps: [] }));
  oneLine(t, ksmctl(['workload', 'run', f]), /big\.json: processes\.a\[0\]: a region of 67108865 pages is more than one mapping of the simulated machine may hold/);
  writeFileSync(f, JSON.stringify({ processes: { a: [{ runs: [{ pages: 2 ** 40, content: 'zero' }] }] }, steps: [] }));
  oneLine(t, ksmctl(['workload', 'run', f]), /processes\.a\[0\]: a region of 1099511627776 pages/);
});

test('from-files with a device path is refused, not read without end', (t) => {
  const r = ksmctl(['compare', 'builtin:from-files:path=/dev/zero']);
  t.is(r.status, 2, r.stderr);
  t.regex(r.stderr, /cannot read \/dev\/zero: not a regular file or a directory/);
});

const SMALL = ['compare', 'builtin:identical-guests:n=2,pages=16', '--eras', 'v3', '--passes', '1'];

test('compare --report: an existing file is refused before the run, and replaced with --force', (t) => {
  const dir = tmp(t);
  const out = join(dir, 'r.html');
  writeFileSync(out, 'old');
  oneLine(t, ksmctl([...SMALL, '--report', out]), /r\.html exists: not replaced \(--force replaces it\)/);
  t.is(readFileSync(out, 'utf8'), 'old');
  const r = ksmctl([...SMALL, '--report', out, '--force']);
  t.is(r.status, 0, r.stderr);
  t.regex(readFileSync(out, 'utf8'), /^<!doctype html>/i);
  t.deepEqual(readdirSync(dir), ['r.html'], 'no temporary file left');
});

test('compare --report --force replaces a symbolic link at the path, and the file it pointed to is untouched', (t) => {
  const dir = tmp(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious');
  const out = join(dir, 'r.html');
  symlinkSync(victim, out);
  oneLine(t, ksmctl([...SMALL, '--report', out]), /exists: not replaced/);
  t.is(ksmctl([...SMALL, '--report', out, '--force']).status, 0);
  t.is(readFileSync(victim, 'utf8'), 'precious');
  t.false(lstatSync(out).isSymbolicLink());
});

test('a report that cannot be written whole (ulimit -f) leaves the old one as it was', (t) => {
  const dir = tmp(t);
  const out = join(dir, 'r.html');
  writeFileSync(out, 'old report');
  const args = [...SMALL, '--report', out, '--force'].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit -f 1; exec "${process.execPath}" "${KSMCTL}" ${args}`], { encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /cannot write the report .*r\.html: file too large/);
  t.is(readFileSync(out, 'utf8'), 'old report');
  t.deepEqual(readdirSync(dir), ['r.html']);
});

test('atomicWrite: without force, a file that appears meanwhile is not replaced; with force, it is', (t) => {
  const dir = tmp(t);
  const f = join(dir, 'f');
  atomicWrite(f, 'one');
  t.throws(() => atomicWrite(f, 'two'), { instanceOf: FileError, message: /exists: not replaced/ });
  atomicWrite(f, 'two', { force: true });
  t.is(readFileSync(f, 'utf8'), 'two');
  t.throws(() => atomicWrite(dir, 'x', { force: true }), { instanceOf: FileError, message: /is a directory/ });
  t.false(existsSync(join(dir, '.f.tmp')));
});
