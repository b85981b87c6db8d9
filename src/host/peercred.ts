/**
 * The credentials of the process at the other end of a unix socket:
 * getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &ucred, &len), which Node has no
 * API for, called through koffi (a C FFI). On an accepted socket it is the
 * client as it was when it connected; on a connected one, the server as it
 * was when it listened. The kernel fills it in: a peer cannot lie.
 *
 * Linux only (the option numbers are Linux's). Where koffi or libc cannot
 * be loaded, `loadPeerCred` throws and says why: the host then refuses to
 * start rather than serve unchecked connections.
 */
import { createRequire } from 'node:module';

/** struct ucred (include/linux/socket.h). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** The credentials of the peer of a socket's fd (throws if the kernel gives none). */
export type PeerCredOf = (fd: number) => PeerCred;

/** asm-generic/socket.h */
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const UCRED_SIZE = 12;

/** Why peer credentials cannot be read here. */
export class PeerCredUnavailable extends Error {
  constructor(why: string) {
    super(`cannot check who connects to the host socket (SO_PEERCRED): ${why}`);
    this.name = 'PeerCredUnavailable';
  }
}

let loaded: PeerCredOf | null = null;

/** getsockopt(SO_PEERCRED) through koffi, loaded once; throws PeerCredUnavailable. */
export function loadPeerCred(): PeerCredOf {
  if (loaded !== null) return loaded;
  if (process.platform !== 'linux') throw new PeerCredUnavailable(`SO_PEERCRED is Linux's, and this is ${process.platform}`);
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch (e) {
    throw new PeerCredUnavailable(`the koffi package does not load (${(e as Error).message.split('\n')[0]})`);
  }
  let lib: ReturnType<typeof koffi.load> | null = null;
  const errors: string[] = [];
  for (const name of ['libc.so.6', 'libc.so']) {
    try {
      lib = koffi.load(name);
      break;
    } catch (e) {
      errors.push((e as Error).message.split('\n')[0]);
    }
  }
  if (lib === null) throw new PeerCredUnavailable(`libc does not load (${errors.join('; ')})`);
  let getsockopt: (fd: number, level: number, name: number, val: Buffer, len: number[]) => number;
  try {
    getsockopt = lib.func('int getsockopt(int fd, int level, int optname, _Out_ uint8_t *optval, _Inout_ uint32_t *optlen)') as typeof getsockopt;
  } catch (e) {
    throw new PeerCredUnavailable(`getsockopt cannot be bound (${(e as Error).message.split('\n')[0]})`);
  }
  loaded = (fd: number) => {
    const buf = Buffer.alloc(UCRED_SIZE);
    const len = [UCRED_SIZE];
    const r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf, len);
    if (r !== 0 || len[0] !== UCRED_SIZE) throw new Error(`getsockopt(${fd}, SOL_SOCKET, SO_PEERCRED) failed`);
    return { pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8) };
  };
  return loaded;
}

/** The fd under a net.Socket of a unix socket (libuv's pipe handle), or null. */
export function socketFd(s: import('node:net').Socket): number | null {
  const fd = (s as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
