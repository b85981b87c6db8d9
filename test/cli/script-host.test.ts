/**
 * End to end with the built binary: `ksmctl run`, and a shell script of
 * the 2009 kind run unchanged against `ksmctl host` (a `ksmctl` on PATH,
 * the host's socket in $KSMCTL_HOST). Every host is started on a temporary
 * socket and stopped in teardown.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KSMCTL, ksmctl, STACK } from '../helpers/cli.js';

test('ksmctl run prints the script output on stdout and the trace on stderr', (t) => {
  const r = ksmctl(['run', 'examples/scripts/ksmpages.ksm', '--trace']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'registered into ksm, run outside VM\n');
  t.regex(r.stderr, /^ioctl\(4, KSM_REGISTER_MEMORY_REGION, \{npages=4096, pad=0, addr=0x2aaaaaaab000, reserved_bits=0\}\) = 0$/m);
});

test('ksmctl run: a script error is file:line:col, the line and a caret, status 2, no stack trace', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'bad.ksm');
  writeFileSync(f, 'x = 1\nprint FOO_BAR\n');
  const r = ksmctl(['run', f]);
  t.is(r.status, 2);
  t.is(r.stderr, `${f}:2:7: unknown constant FOO_BAR\nprint FOO_BAR\n      ^\n`);
  t.notRegex(r.stderr, STACK);
  writeFileSync(f, 'expect 1 + 1 == 3\n');
  t.is(ksmctl(['run', f]).status, 1);
});

test('without a host there is no /dev/ksm: the verbs say what the original said', (t) => {
  const r = ksmctl(['info', '--socket', join(tmpdir(), 'ksmctl-none', 'no.sock')]);
  t.is(r.status, 1);
  t.is(r.stderr, 'could not open /dev/ksm\n');
});

test('a 2009 shell script run against ksmctl host prints what the original ksmctl printed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-host-'));
  const sock = join(dir, 'host.sock');
  t.teardown(() => {
    ksmctl(['host', 'stop', '--socket', sock]);
    rmSync(dir, { recursive: true, force: true });
  });
  const start = ksmctl(['host', 'start', '--era', 'v1:2009', '--socket', sock, '--clock', 'manual']);
  t.is(start.status, 0, start.stderr);
  t.true(existsSync(`${sock}.log`), 'the running host has its log');
  t.regex(start.stdout, /^host started: pid \d+, v1:2009: \/dev\/ksm ioctls \(Mar 2009 ABI\), tree merger \(seed 002\), manual clock, socket /);
  // The script of 2009, unchanged, with ksmctl on PATH.
  const bin = join(dir, 'bin');
  rmSync(bin, { recursive: true, force: true });
  spawnSync('mkdir', [bin]);
  writeFileSync(join(bin, 'ksmctl'), `#!/bin/sh\nexec "${process.execPath}" "${KSMCTL}" "$@"\n`);
  chmodSync(join(bin, 'ksmctl'), 0o755);
  const sh = spawnSync('sh', ['-c', 'ksmctl start 100 20; ksmctl info; ksmctl stop; ksmctl info'], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KSMCTL_HOST: sock },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(sh.stderr, '');
  t.is(sh.stdout, 'created scanner\nflags 1, pages_to_scan 100, sleep_time 20\nstopped scanner\nflags 0, pages_to_scan 0, sleep_time 0\n');
  const stop = ksmctl(['host', 'stop', '--socket', sock]);
  t.is(stop.status, 0, stop.stderr);
  t.regex(stop.stdout, /^host stopped: pid \d+\n$/);
  t.false(existsSync(`${sock}.log`), 'host stop removes the host\'s log');
});

test('ksmctl run --era takes every registry spelling; a bad one is one line, exit 2', (t) => {
  const r = ksmctl(['run', 'examples/scripts/prctl-6.18.ksm', '--era', 'v3', '--kernel', '6.18']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^ksm_merge_any: yes$/m);
  const old = ksmctl(['run', 'examples/scripts/mergeable-v3.ksm', '--era', 'v3-2.6.32']);
  t.is(old.status, 0, old.stderr);
  const bad = ksmctl(['run', 'examples/scripts/mergeable-v3.ksm', '--era', 'v9']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^ksmctl: unknown --era "v9": not one of v1:2008, v1:2009, v2, v3:2\.6\.32, v3:3\.9, v3:6\.18 \(or v1, v3\)\n$/);
  const clash = ksmctl(['host', 'start', '--era', 'v3:6.18', '--abi', '2009', '--socket', join(tmpdir(), 'ksmctl-none', 'no.sock')]);
  t.is(clash.status, 2);
  t.regex(clash.stderr, /^ksmctl: --abi applies to --era v1 only/);
});

test('a Linux 6.18 host: a prctl script runs on it, its status shows 6.18\'s files, the verbs find no /dev/ksm', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-host-'));
  const sock = join(dir, 'host.sock');
  t.teardown(() => {
    ksmctl(['host', 'stop', '--socket', sock]);
    rmSync(dir, { recursive: true, force: true });
  });
  const start = ksmctl(['host', 'start', '--era', 'v3:6.18', '--socket', sock, '--clock', 'manual']);
  t.is(start.status, 0, start.stderr);
  t.regex(start.stdout, /^host started: pid \d+, v3:6\.18: madvise\(MADV_MERGEABLE\) or prctl\(PR_SET_MEMORY_MERGE\)/);
  const run = ksmctl(['run', '--host', '--socket', sock, 'examples/scripts/prctl-6.18.ksm']);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^ksm_merge_any: yes$/m);
  const status = ksmctl(['host', 'status', '--socket', sock]);
  t.is(status.status, 0, status.stderr);
  t.regex(status.stdout, /^sleep_millisecs 10, .*, use_zero_pages 1, general_profit \d+, smart_scan 1/m);
  const info = ksmctl(['info', '--socket', sock]);
  t.deepEqual([info.status, info.stdout, info.stderr], [1, '', 'could not open /dev/ksm\n']);
});
