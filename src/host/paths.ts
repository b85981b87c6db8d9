/**
 * Where the ksmctl host listens, and how its files are made safe, as
 * OpenSSH's agent and tmux treat theirs:
 *
 * - the socket: `--socket PATH`, else $KSMCTL_HOST, else host.sock in a
 *   per-user runtime directory ($XDG_RUNTIME_DIR/ksmctl, or ksmctl-UID in
 *   the temporary directory); a path that is empty, too long for a unix
 *   socket (107 bytes) or a directory is refused in one line;
 * - the runtime directory is created 0700 and then verified before any
 *   use: a real directory (not a symbolic link), owned by the caller, mode
 *   0700; anything else (another user made it first, a link planted there)
 *   is refused, naming it. The directory of a socket given explicitly must
 *   be owned by the caller or root and writable by nobody else unless
 *   sticky (as /tmp is);
 * - a path that exists and is not a socket is never deleted; a socket
 *   nobody answers on is stale and replaced;
 * - the log (`SOCKET.log`) is opened without following a link, and only if
 *   it is a regular file of the caller's with no other link to it.
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, type Stats, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from '../cli/errors.js';
import { errnoReason, fileKind } from '../io/files.js';

export const SOCKET_ENV = 'KSMCTL_HOST';

/** sun_path holds 108 bytes, the terminating NUL included. */
export const MAX_SOCKET_PATH = 107;

/** The socket's files refused for safety: a one-line error (exit 2) that names the path. */
export class UnsafePathError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UnsafePathError';
  }
}

function uid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

/** The per-user runtime directory the default socket lives in. */
export function defaultSocketDir(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime ? join(runtime, 'ksmctl') : join(tmpdir(), `ksmctl-${uid()}`);
}

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultSocketDir(env), 'host.sock');
}

/** The socket path a command uses; an unusable --socket or $KSMCTL_HOST is a one-line error. */
export function socketPath(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined) return checkSocketPath(option, '--socket');
  const v = env[SOCKET_ENV];
  if (v !== undefined) return checkSocketPath(v, `$${SOCKET_ENV}`);
  return defaultSocketPath(env);
}

function checkSocketPath(path: string, from: string): string {
  if (path === '') throw new UnsafePathError(`${from} is empty: give the path of a host socket${from.startsWith('$') ? `, or unset ${SOCKET_ENV}` : ''}`);
  if (path.includes('\0')) throw new UnsafePathError(`${from}: a socket path cannot hold a NUL byte`);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH) throw new UnsafePathError(`${from}: ${bytes} bytes is longer than a unix socket path may be (${MAX_SOCKET_PATH})`);
  let st: Stats | null = null;
  try {
    st = statSync(path);
  } catch {
    // nothing there (yet): fine
  }
  if (st?.isDirectory()) throw new UnsafePathError(`${from}: ${path} is a directory, not a socket`);
  return path;
}

function describeMode(st: Stats): string {
  return `0${(st.mode & 0o7777).toString(8)}`;
}

/**
 * The runtime directory, verified: a directory (not a link), owned by the
 * caller, mode 0700. Throws UnsafePathError naming it otherwise; returns
 * false when it does not exist.
 */
export function verifyPrivateDir(dir: string): boolean {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UnsafePathError(`${dir}: ${errnoReason(e)}`);
  }
  const why = st.isSymbolicLink()
    ? 'is a symbolic link'
    : !st.isDirectory()
      ? `is ${fileKind(st)}, not a directory`
      : st.uid !== uid()
        ? `is owned by uid ${st.uid}, not by you (uid ${uid()})`
        : (st.mode & 0o777) !== 0o700
          ? `has mode ${describeMode(st)}, not 0700`
          : null;
  if (why !== null) throw new UnsafePathError(`the host's runtime directory ${dir} ${why}: refusing to use it (remove it, or set XDG_RUNTIME_DIR or --socket)`);
  return true;
}

/**
 * The directory of an explicitly given socket: a directory owned by the
 * caller or root, that nobody else can write to unless it is sticky (where
 * nobody can remove or rename another's files).
 */
export function verifySocketParent(dir: string): void {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new UnsafePathError(`${dir}: ${errnoReason(e)}`);
  }
  const me = uid();
  const why = !st.isDirectory()
    ? 'is not a directory'
    : st.uid !== me && st.uid !== 0
      ? `is owned by uid ${st.uid}, not by you (uid ${me}) or root`
      : (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0
        ? `is writable by others (mode ${describeMode(st)}) and not sticky`
        : null;
  if (why !== null) throw new UnsafePathError(`the socket's directory ${dir} ${why}: refusing to use it`);
}

/** Whether `path` is under the default runtime directory (which is then made and verified strictly). */
function isDefault(path: string, env: NodeJS.ProcessEnv): boolean {
  return dirname(path) === defaultSocketDir(env);
}

/**
 * Before a host listens on `path` (or a client trusts it): the default
 * runtime directory is created 0700 if missing and verified; an explicit
 * path's directory is checked (verifySocketParent).
 */
export function prepareSocketDir(path: string, env: NodeJS.ProcessEnv = process.env): void {
  const dir = dirname(path);
  if (isDefault(path, env)) {
    if (!verifyPrivateDir(dir)) {
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (e) {
        // Someone made it in between: verified below like any other.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UnsafePathError(`cannot create the host's runtime directory ${dir}: ${errnoReason(e)}`);
      }
      verifyPrivateDir(dir);
    }
    return;
  }
  verifySocketParent(dir);
}

/** A client about to connect: the default directory, if it exists, must pass the same checks (a stranger's directory is never trusted). */
export function checkClientPath(path: string, env: NodeJS.ProcessEnv = process.env): void {
  if (isDefault(path, env)) verifyPrivateDir(dirname(path));
}

/**
 * Makes way for a host on `path`: nothing there, or a socket nobody answers
 * on (stale: removed). Anything else that is not a socket is refused and
 * left alone. `answers` tells whether a host answers there.
 */
export async function clearStaleSocket(path: string, answers: (path: string) => Promise<boolean>): Promise<void> {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UnsafePathError(`${path}: ${errnoReason(e)}`);
  }
  if (!st.isSocket()) throw new UnsafePathError(`${path} exists and is ${fileKind(st)}, not a socket: not replaced (remove it, or choose another --socket)`);
  if (await answers(path)) return;
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UnsafePathError(`cannot remove the stale socket ${path}: ${errnoReason(e)}`);
  }
}

/**
 * Opens the host's log for writing, truncated: never through a symbolic
 * link (O_NOFOLLOW), and only a regular file of the caller's with one link
 * (checked on the open file, so nothing can be swapped in between). Returns
 * the fd; throws UnsafePathError naming the file.
 */
export function openHostLog(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UnsafePathError(`the host's log ${path}: ${code === 'ELOOP' ? 'is a symbolic link: not followed' : errnoReason(e)}`);
  }
  const st = fstatSync(fd);
  const why = !st.isFile() ? `is ${fileKind(st)}` : st.uid !== uid() ? `is owned by uid ${st.uid}, not by you` : st.nlink !== 1 ? `has ${st.nlink} links (a hard link to another file?)` : null;
  if (why !== null) {
    closeSync(fd);
    throw new UnsafePathError(`the host's log ${path} ${why}: refusing to write it`);
  }
  ftruncateSync(fd, 0);
  return fd;
}
