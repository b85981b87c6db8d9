/**
 * The host's socket as OpenSSH's agent and tmux treat theirs, tried as a
 * hostile local user (uid 65534) would against a root-started host: the
 * runtime directory another user made first is refused, a link planted
 * there is not followed, the socket is 0600 whatever the umask, a
 * connection from another uid is refused by its peer credentials (unless
 * --allow-uid), the socket cannot be unlinked or replaced, and a root
 * client will not talk to a socket another user serves. These tests switch
 * to uid 65534 in child processes, so they run only as root (skipped, with
 * the reason in their titles, otherwise).
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveHost } from '../../src/host/serve.js';
import { STACK } from '../helpers/cli.js';
import { asRoot, ask, asUser, clientCode, ksmctlAsync, OTHER_UID, rootTest, snapshot, startHost, warmUp } from '../helpers/host.js';

function scratch(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-sock-'));
  t.teardown(() => {
    spawnSync('sh', ['-c', `for p in $(cat ${dir}/*.pid 2>/dev/null); do kill -9 $p; done`]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** `ksmctl host start` with the default socket (XDG_RUNTIME_DIR unset, TMPDIR=tmp). */
function startDefault(tmp: string, extra: string[] = [], shell = '') {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.XDG_RUNTIME_DIR;
  delete env.KSMCTL_HOST;
  const cmd = `${shell}exec "${process.execPath}" "${join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'ksmctl.js')}" host start --clock manual ${extra.join(' ')}`;
  return spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env, timeout: 60_000 });
}

function stopDefault(tmp: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.XDG_RUNTIME_DIR;
  delete env.KSMCTL_HOST;
  spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'ksmctl.js'), 'host', 'stop'], { env, timeout: 60_000 });
}

rootTest(asRoot('a runtime directory another user made first is refused, naming it, and the log link planted there is not followed'), (t) => {
  const tmp = scratch(t);
  const dir = join(tmp, 'ksmctl-0');
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o777);
  chownSync(dir, OTHER_UID, OTHER_UID);
  const victim = join(tmp, 'root-only');
  writeFileSync(victim, 'secret', { mode: 0o600 });
  symlinkSync(victim, join(dir, 'host.sock.log'));
  const r = startDefault(tmp);
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr, `ksmctl: the host's runtime directory ${dir} is owned by uid ${OTHER_UID}, not by you (uid 0): refusing to use it (remove it, or set XDG_RUNTIME_DIR or --socket)\n`);
  t.is(readFileSync(victim, 'utf8'), 'secret');
  t.false(existsSync(join(dir, 'host.sock')));
});

rootTest(asRoot('a runtime directory of the wrong mode, or a link in its place, is refused'), (t) => {
  const tmp = scratch(t);
  const dir = join(tmp, 'ksmctl-0');
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  t.regex(startDefault(tmp).stderr, /ksmctl-0 has mode 0755, not 0700: refusing to use it/);
  rmSync(dir, { recursive: true });
  const elsewhere = join(tmp, 'elsewhere');
  mkdirSync(elsewhere, { mode: 0o700 });
  symlinkSync(elsewhere, dir);
  const r = startDefault(tmp);
  t.is(r.status, 2);
  t.regex(r.stderr, /ksmctl-0 is a symbolic link: refusing to use it/);
  t.notRegex(r.stderr, STACK);
});

rootTest(asRoot('the default runtime directory is made 0700, and the socket and its log are 0600 even under umask 000'), (t) => {
  const tmp = scratch(t);
  const r = startDefault(tmp, [], 'umask 000; ');
  t.teardown(() => stopDefault(tmp));
  t.is(r.status, 0, r.stderr);
  const dir = join(tmp, 'ksmctl-0');
  t.is(statSync(dir).mode & 0o7777, 0o700);
  t.is(statSync(join(dir, 'host.sock')).mode & 0o777, 0o600);
  t.is(statSync(join(dir, 'host.sock.log')).mode & 0o777, 0o600);
});

rootTest(asRoot('another user who reaches the socket anyway is refused by its peer credentials, and cannot stop the host'), async (t) => {
  const h = startHost(t);
  await warmUp(h.socket);
  // As if the umask or a chmod had opened the way: the directory searchable, the socket writable by all.
  chmodSync(h.dir, 0o711);
  chmodSync(h.socket, 0o666);
  const before = await snapshot(h.socket);
  for (const body of [{ id: 1, op: 'state' }, { id: 2, op: 'run', file: 'x.ksm', source: 'print 1\n' }, { id: 3, op: 'shutdown' }]) {
    const r = await asUser(OTHER_UID, clientCode(h.socket, body));
    t.is(r.stderr, '');
    const reply = JSON.parse(r.stdout.trim()) as { ok: boolean; error: string };
    t.false(reply.ok);
    t.regex(reply.error, new RegExp(`^permission denied: uid ${OTHER_UID} may not use this host`));
  }
  t.deepEqual(await snapshot(h.socket), before, 'the host runs on, its counters as they were');
});

rootTest(asRoot('--allow-uid lets that user in'), async (t) => {
  const h = startHost(t, ['--era', 'v1:2009', '--allow-uid', String(OTHER_UID)]);
  chmodSync(h.dir, 0o711);
  chmodSync(h.socket, 0o666);
  const r = await asUser(OTHER_UID, clientCode(h.socket, { id: 1, op: 'ksmctl', args: ['start', '100', '20'] }));
  const reply = JSON.parse(r.stdout.trim()) as { ok: boolean; status: number };
  t.true(reply.ok, r.stdout);
  t.is(reply.status, 0);
  t.like(await ask(h.socket, { id: 1, op: 'ping' }), { ok: true });
});

rootTest(asRoot('another user can neither unlink the socket in the runtime directory nor listen in its place, and root will not talk to a socket that user serves'), async (t) => {
  const tmp = scratch(t);
  // Others may pass through the temporary directory (as through /tmp); the runtime directory in it is 0700.
  chmodSync(tmp, 0o711);
  t.is(startDefault(tmp).status, 0);
  t.teardown(() => stopDefault(tmp));
  const sock = join(tmp, 'ksmctl-0', 'host.sock');
  const unlink = await asUser(OTHER_UID, `import { unlinkSync } from 'node:fs'; try { unlinkSync(${JSON.stringify(sock)}); console.log('UNLINKED'); } catch (e) { console.log(e.code); }`);
  t.is(unlink.stdout.trim(), 'EACCES');
  const listen = await asUser(OTHER_UID, `import { createServer } from 'node:net'; const s = createServer(); s.on('error', (e) => { console.log(e.code); process.exit(0); }); s.listen(${JSON.stringify(sock)}, () => { console.log('LISTENING'); process.exit(0); });`);
  t.is(listen.stdout.trim(), 'EACCES');
  // The user serves a socket of its own, where root can reach it: root's client refuses to talk to it.
  const theirs = join(tmp, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  chownSync(theirs, OTHER_UID, OTHER_UID);
  const evil = join(theirs, 'host.sock');
  const server = spawn(process.execPath, ['--input-type=module', '-e', `import { createServer } from 'node:net'; createServer((c) => c.on('data', () => c.write('{"id":1,"ok":true,"output":[{"fd":1,"text":"\\u001b]0;pwned\\u0007"}],"status":0}\\n'))).listen(${JSON.stringify(evil)}, () => console.log('READY'));`], { uid: OTHER_UID, gid: OTHER_UID, cwd: '/', env: { PATH: process.env.PATH ?? '' } });
  writeFileSync(join(tmp, 'server.pid'), String(server.pid));
  await new Promise<void>((resolve) => {
    server.stdout.on('data', () => resolve());
    server.on('exit', () => resolve());
  });
  const r = await ksmctlAsync(['info', '--socket', evil]);
  server.kill('SIGKILL');
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr, `ksmctl: ${evil} is served by uid ${OTHER_UID}, not by you (uid 0) or root: not talking to it\n`);
  t.is(r.stdout, '');
});

test('without SO_PEERCRED (koffi not loading) the host refuses to start rather than serve unchecked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-nopc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const err = await t.throwsAsync(
    serveHost({ era: 'v1', clock: 'manual', socket: join(dir, 'h.sock') }, () => {}, {
      loadPeerCred: () => {
        throw new (class extends Error {})('x');
      },
    }),
  );
  t.regex(err?.message ?? '', /^cannot check who connects to the host socket \(SO_PEERCRED\): .*: the host does not start without it$/);
  t.false(existsSync(join(dir, 'h.sock')));
});
