/**
 * Where the ksmctl host listens: `--socket PATH`, else $KSMCTL_HOST, else
 * host.sock in a per-user runtime directory ($XDG_RUNTIME_DIR/ksmctl, or
 * ksmctl-UID in the temporary directory, made private: mode 0700).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOCKET_ENV = 'KSMCTL_HOST';

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = runtime ? join(runtime, 'ksmctl') : join(tmpdir(), `ksmctl-${uid}`);
  return join(dir, 'host.sock');
}

/** The socket path a command uses. */
export function socketPath(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return option ?? env[SOCKET_ENV] ?? defaultSocketPath(env);
}

/** Makes the default directory (private) if the path is the default one. */
export function ensureSocketDir(path: string): void {
  const dir = path.slice(0, Math.max(1, path.lastIndexOf('/')));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
