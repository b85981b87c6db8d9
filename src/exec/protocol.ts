/**
 * The wire format between the interposition library (native/ksm-preload.c)
 * and the simulator (session.ts): one stream socket per process, a request
 * per intercepted call, answered before the call returns. Little-endian,
 * the x86_64 layouts of the C structs:
 *
 *   struct req { u32 len; u32 op; i32 pid; i32 pad; i64 a[6]; }   64 bytes, then len bytes of data
 *   struct rep { u32 len; u32 pad; i64 ret; i64 b[3]; }           40 bytes, then len bytes of data
 *
 * `ret` is what the call returns (>= 0) or -errno. b[0] says, for IOCTL,
 * that ret is a new descriptor of the driver (the library then binds a
 * placeholder to it) and, for PAUSE, that the program is to end (SIGTERM);
 * b[2] is how far the virtual clock runs ahead of the real one, in ns, which
 * the library adds to every clock it reads.
 */

export const OP = {
  /** a0 = ppid, a1 = how the process came: 0 a new connection of a running image, 1 forked child, 2 a new image (start or exec); a2 = the zero page's frame; data = comm. Answer data: i32 placeholders still held. */
  HELLO: 1,
  /** a0 = the child's pid (sent by the parent right after fork returns). */
  FORK: 2,
  /** a0 = open flags, a1 = the placeholder fd; data = the canonical path. */
  OPEN: 3,
  CLOSE: 4,
  /** a0 = old fd, a1 = new fd (already a real duplicate). */
  DUP: 5,
  /** a0 = fd, a1 = count, and for pread a2 = offset, a3 = 1. Answer data: the bytes read. */
  READ: 6,
  /** a0 = fd; data = the bytes. */
  WRITE: 7,
  /** a0 = fd, a1 = offset, a2 = whence. */
  LSEEK: 8,
  /** a0 = fd, a1 = request, a2 = arg address, a3 = _IOC_SIZE; data = the argument's bytes. Answer data: them after the call. */
  IOCTL: 9,
  /** a0 = placeholder fd, a1 = the driver's fd it stands for. */
  BIND: 10,
  /** a0 = addr, a1 = length, a2 = advice. */
  MADVISE: 11,
  /** a0 = option, a1..a4 = arg2..arg5. */
  PRCTL: 12,
  /** a0 = addr, a1 = length (the real munmap succeeded). */
  MUNMAP: 13,
  /** a0 = ns. */
  SLEEP: 14,
  PAUSE: 15,
  /** The process waits for a child (wait family; a0 = its pid, or -1: any child or a signal, as sigsuspend) / no longer does. */
  BLOCK: 16,
  UNBLOCK: 17,
  /** data = a canonical path, or none and a0 = fd: the simulated file's st_mode, or -errno. */
  STAT: 18,
  /** data = a canonical directory path. Answer data: its entries' names, each ended by a NUL; or -errno. */
  LIST: 19,
} as const;

export const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k]));

export const REQ_HEADER = 64;
export const REP_HEADER = 40;

export interface Request {
  op: number;
  pid: number;
  a: bigint[];
  data: Buffer;
}

export interface Reply {
  ret: number | bigint;
  b0?: number;
  data?: Uint8Array;
}

/**
 * Splits a connection's byte stream into requests. Push chunks in; complete
 * requests come out in order.
 */
export class RequestReader {
  private buf: Buffer = Buffer.alloc(0);

  /** `maxData`: the most data bytes a request may declare (the host's streams); past it push() throws RequestTooLarge. */
  constructor(private readonly maxData = Infinity) {}

  push(chunk: Buffer): Request[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Request[] = [];
    while (this.buf.length >= REQ_HEADER) {
      const len = this.buf.readUInt32LE(0);
      if (len > this.maxData) throw new RequestTooLarge(`a request of ${len} bytes of data (at most ${this.maxData})`);
      if (this.buf.length < REQ_HEADER + len) break;
      const a: bigint[] = [];
      for (let i = 0; i < 6; i++) a.push(this.buf.readBigInt64LE(16 + 8 * i));
      out.push({ op: this.buf.readUInt32LE(4), pid: this.buf.readInt32LE(8), a, data: Buffer.from(this.buf.subarray(REQ_HEADER, REQ_HEADER + len)) });
      this.buf = this.buf.subarray(REQ_HEADER + len);
    }
    return out;
  }
}

/** A request declaring more data than its reader takes. */
export class RequestTooLarge extends Error {}

/** The bytes of a reply; `leadNs` is b[2]. */
export function encodeReply(r: Reply, leadNs: bigint): Buffer {
  const data = r.data ?? new Uint8Array(0);
  const out = Buffer.alloc(REP_HEADER + data.length);
  out.writeUInt32LE(data.length, 0);
  out.writeBigInt64LE(BigInt(r.ret), 8);
  out.writeBigInt64LE(BigInt(r.b0 ?? 0), 16);
  out.writeBigInt64LE(leadNs, 32);
  out.set(data, REP_HEADER);
  return out;
}
