/**
 * Files ksmctl reads and writes on the user's machine, handled so that no
 * input can make it read without end and no output can lose a file:
 *
 * - an input (a script, a workload, a file from-files loads) is read only
 *   if it is a regular file, and only up to a size limit: /dev/zero, a FIFO
 *   or a directory is one clear line, never a read that does not end (the
 *   open does not block on a FIFO: O_NONBLOCK);
 * - an output (compare --report) is written to a temporary file in the
 *   same directory and renamed over the target, so the old file stays whole
 *   until the new one is complete (a full disk or `ulimit -f` leaves the old
 *   one); an existing target is replaced only when asked (--force), and a
 *   symbolic link there is replaced, never followed.
 */
import { closeSync, constants, fstatSync, fsyncSync, linkSync, lstatSync, openSync, readSync, renameSync, type Stats, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The largest script file ksmctl runs (a script's source travels to the host in one request line). */
export const MAX_SCRIPT_BYTES = 1 << 20;
/** The largest workload file ksmctl reads. */
export const MAX_WORKLOAD_BYTES = 16 << 20;

/** A file that cannot be read or written as asked; the message is one line naming it. */
export class FileError extends Error {
  constructor(
    message: string,
    /** What went wrong, without the path (for callers that word the line themselves). */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'FileError';
  }
}

/** "ENOENT: no such file or directory, open 'x'" -> "no such file or directory". */
export function errnoReason(e: unknown): string {
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec((e as Error)?.message ?? '');
  return m ? m[1] : String((e as Error)?.message ?? e);
}

/** What kind of file st is, for a refusal: "a directory", "a character device", ... */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function sizeText(n: number): string {
  return n >= 1 << 20 && n % (1 << 20) === 0 ? `${n >> 20} MiB` : `${n.toLocaleString('en-US')} bytes`;
}

/**
 * The bytes of a regular file, at most `maxBytes` of them. With `truncate`,
 * a longer file gives its first maxBytes bytes; without, it is refused.
 * Throws a FileError for anything else (missing, unreadable, a device, a
 * FIFO, a directory, too large): `what` names the file in the message
 * (`script file`, `workload file`).
 */
export function readRegularFile(path: string, maxBytes: number, what = 'file', truncate = false): Buffer {
  const fail = (reason: string): never => {
    throw new FileError(`${path}: ${reason}`, reason);
  };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return fail(errnoReason(e));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) fail(`not a regular file but ${fileKind(st)}: a ${what} must be a regular file`);
    if (!truncate && st.size > maxBytes) fail(`${sizeText(st.size)}: more than a ${what} may have (${sizeText(maxBytes)})`);
    // Read to the end, or one byte past the limit: the file may have grown since fstat.
    const cap = truncate ? maxBytes : maxBytes + 1;
    const buf = Buffer.alloc(Math.min(cap, Math.max(st.size, 0) + 1));
    let n = 0;
    let grown = buf;
    for (;;) {
      if (n === grown.length) {
        if (grown.length >= cap) break;
        const bigger = Buffer.alloc(Math.min(cap, grown.length * 2 + 4096));
        grown.copy(bigger, 0, 0, n);
        grown = bigger;
      }
      let r: number;
      try {
        r = readSync(fd, grown, n, grown.length - n, null);
      } catch (e) {
        return fail(errnoReason(e));
      }
      if (r === 0) break;
      n += r;
    }
    if (!truncate && n > maxBytes) fail(`more than a ${what} may have (${sizeText(maxBytes)})`);
    return grown.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

let tmpCounter = 0;

/**
 * Refuses (FileError) to write `path` when something is there and `force`
 * is not given (a directory is refused always), and when its directory
 * cannot take the file: missing, not a directory, not writable, a
 * read-only file system. The last is found by creating (and removing) a
 * file there, as atomicWrite will: what decides is the kernel's answer,
 * not a guess from modes (root writes a 0555 directory; nobody writes a
 * read-only mount). So a command checks its outputs before its work.
 */
export function checkWritable(path: string, force = false): void {
  let st: Stats | null = null;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Missing, or under something that is not a directory: the directory's checks below say which.
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new FileError(`${path}: ${errnoReason(e)}`, errnoReason(e));
  }
  if (st !== null) {
    if (st.isDirectory()) throw new FileError(`${path}: is a directory`, 'is a directory');
    if (!force) throw new FileError(`${path} exists: not replaced (--force replaces it)`, 'exists');
  }
  const dir = dirname(path);
  let d: Stats;
  try {
    d = lstatSync(dir);
    if (d.isSymbolicLink()) d = statSync(dir);
  } catch (e) {
    throw new FileError(`cannot write ${path}: ${dir}: ${errnoReason(e)}`, errnoReason(e));
  }
  if (!d.isDirectory()) throw new FileError(`cannot write ${path}: ${dir} is not a directory`, 'not a directory');
  const probe = join(dir, `.${basename(path)}.${process.pid}.${++tmpCounter}.probe`);
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
  } catch (e) {
    throw new FileError(`cannot write ${path}: ${errnoReason(e)}`, errnoReason(e));
  }
  try {
    unlinkSync(probe);
  } catch {
    // gone already
  }
}


/**
 * Writes `data` to `path` through a temporary file in the same directory
 * and a rename: the target is the old file or the new one, never a part.
 * An existing target (file or symbolic link, which is replaced, not
 * followed) is refused unless `force`; without force the new file is put in
 * place with link(2), which fails if something appeared there meanwhile.
 * Throws a FileError, and leaves no temporary file behind.
 */
export function atomicWrite(path: string, data: string | Uint8Array, opts: { force?: boolean; mode?: number } = {}): void {
  const force = opts.force === true;
  checkWritable(path, force);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, opts.mode ?? 0o666);
  } catch (e) {
    throw new FileError(`cannot write ${path}: ${errnoReason(e)}`, errnoReason(e));
  }
  try {
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (force) {
      renameSync(tmp, path);
    } else {
      linkSync(tmp, path);
      unlinkSync(tmp);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed, or never there
    }
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FileError(`${path} exists: not replaced (--force replaces it)`, 'exists');
    throw new FileError(`cannot write ${path}: ${errnoReason(e)}`, errnoReason(e));
  }
}

/**
 * Standard input (`-` as a file), at most `maxBytes` of it: more is refused
 * (FileError) without reading to the end; a terminal is refused too, as a
 * workload or script is piped or redirected in, not typed.
 */
export function readStdin(maxBytes: number, what = 'file', fd = 0): Buffer {
  const fail = (reason: string): never => {
    throw new FileError(`<stdin>: ${reason}`, reason);
  };
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    return fail(errnoReason(e));
  }
  if (st.isCharacterDevice() && process.stdin.isTTY === true && fd === 0) fail(`standard input is a terminal: pipe or redirect a ${what} into it (- < FILE)`);
  const chunks: Buffer[] = [];
  let n = 0;
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const buf = Buffer.alloc(64 * 1024);
    let r: number;
    try {
      r = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      // A non-blocking pipe with nothing in it yet: wait a little and read again.
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(wait, 0, 0, 10);
        continue;
      }
      return fail(errnoReason(e));
    }
    if (r === 0) break;
    chunks.push(buf.subarray(0, r));
    n += r;
    if (n > maxBytes) fail(`more than a ${what} may have (${sizeText(maxBytes)})`);
  }
  return Buffer.concat(chunks, n);
}
