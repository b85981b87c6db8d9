/**
 * The smaller points of issue 19, each as a user meets it: a --node that
 * names no process, the unknown-key message, a bad sysfs key in a file, a
 * binary file or a directory run as a script, a script whose #pragma era
 * is not the host's.
 */
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ksmctl, STACK } from '../helpers/cli.js';
import { startHost } from '../helpers/host.js';

const dir = mkdtempSync(join(tmpdir(), 'ksmctl-smaller-'));
const TWO = 'examples/workloads/two-guests.json';
// Control characters other than the line ends: none may reach the terminal raw.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function oneLine(t: import('ava').ExecutionContext, r: { status: number | null; stdout: string; stderr: string }, re: RegExp): void {
  t.is(r.status, 2, r.stderr);
  t.notRegex(r.stderr, STACK);
  t.notRegex(r.stderr, CONTROL);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, re);
}

test('--node naming no process, or a region it does not have, is refused', (t) => {
  oneLine(t, ksmctl(['workload', 'run', TWO, '--node', 'x=1']), /^ksmctl: --node x=1: no process "x" in two-guests \(its processes: guest-a, guest-b\)$/m);
  oneLine(t, ksmctl(['workload', 'run', TWO, '--node', 'guest-a:3=1']), /^ksmctl: --node guest-a:3=1: process "guest-a" has 3 regions \(0\.\.2\)$/m);
  t.is(ksmctl(['workload', 'run', TWO, '--era', 'v3:3.9', '--node', 'guest-a:2=1']).status, 0);
});

test('an unknown top-level key: the message lists kernel and sysfs too', (t) => {
  const f = join(dir, 'unknown.json');
  writeFileSync(f, JSON.stringify({ name: 'u', kernal: '6.18', processes: { a: [{ pages: 1, content: 'zero' }] }, steps: [] }));
  oneLine(t, ksmctl(['workload', 'run', f]), /unknown key "kernal" \(allowed: name, description, pagesToScan, hashTables, processes, steps, kernel, sysfs/);
});

test('a sysfs key the kernel does not have is reported with the file and its place', (t) => {
  const f = join(dir, 'knob.json');
  writeFileSync(f, JSON.stringify({ name: 'k', kernel: '6.18', sysfs: { bogus_knob: 1 }, processes: { a: [{ pages: 1, content: 'zero' }] }, steps: [] }));
  oneLine(t, ksmctl(['workload', 'run', f]), new RegExp(`^ksmctl: ${f.replace(/[.]/g, '\\.')}: sysfs\\.bogus_knob: echo 1 > /sys/kernel/mm/ksm/bogus_knob failed with ENOENT`, 'm'));
});

test('a binary file run as a script is one line with no raw bytes', (t) => {
  const elf = join(dir, 'prog.ksm');
  // A small compiled program (node itself is over the 1 MiB a script may have).
  const bin = ['/bin/true', '/usr/bin/true'].find((p) => existsSync(p));
  if (bin === undefined) return t.pass('no /bin/true to copy');
  copyFileSync(bin, elf);
  oneLine(t, ksmctl(['run', elf]), /prog\.ksm: not a script but a binary file \(an ELF executable\)/);
  const nul = join(dir, 'nul.ksm');
  writeFileSync(nul, 'int x = 1;\n\u0000\u0001\u0002');
  oneLine(t, ksmctl(['run', nul]), /nul\.ksm: not a script but a binary file \(a NUL byte at offset 11\)/);
  const latin = join(dir, 'latin.ksm');
  writeFileSync(latin, Buffer.from([0x69, 0x6e, 0x74, 0x20, 0xe9, 0xff, 0x0a]));
  oneLine(t, ksmctl(['run', latin]), /latin\.ksm: not a script: not text in UTF-8/);
  // A stray control character in a text script: the error shows it escaped, the line with '?'.
  const ctl = join(dir, 'ctl.ksm');
  writeFileSync(ctl, 'int x = 1;\n\u007f\u0001 x\n');
  const r = ksmctl(['run', ctl]);
  t.is(r.status, 2);
  t.notRegex(r.stderr, CONTROL);
  t.regex(r.stderr, /ctl\.ksm:2:1: unexpected character "\\u007f"\n\?\? x\n\^/);
});

test('a directory run as a script: one line saying so', (t) => {
  oneLine(t, ksmctl(['run', tmpdir()]), /^ksmctl: .*: not a regular file but a directory/);
});

test('run --host: a script for another era than the host\'s is refused at its #pragma, before it runs', (t) => {
  const h = startHost(t, ['--era', 'v1:2009']);
  try {
    const r = ksmctl(['run', '--host', '--socket', h.socket, 'examples/scripts/prctl-6.18.ksm']);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, /^examples\/scripts\/prctl-6\.18\.ksm:\d+:1: #pragma era v3:6\.18: this script is for v3:6\.18, and the host runs v1:2009 \(ksmctl host start --era v3:6\.18, or run it without --host\)\n#pragma era v3:6\.18\n\^\n$/);
    t.is(r.stdout, '');
    // The host's own era runs as before.
    t.is(ksmctl(['run', '--host', '--socket', h.socket, 'examples/scripts/ksmpages.ksm']).status, 0);
  } finally {
    h.stop();
  }
});
