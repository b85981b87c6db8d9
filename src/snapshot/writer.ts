/**
 * Writes a snapshot file as a stream (format.ts, docs/snapshot-format.md):
 * pages are handed in as they are read, each distinct content is kept once
 * (ContentIndex) and compressed in blocks on libuv's thread pool while the
 * caller reads on, page tables and process records follow as each mapping
 * and process is done, and the index and trailer close the file.
 *
 * Memory stays bounded whatever the size of the processes: the blocks in
 * flight (MAX_INFLIGHT of 1 MiB), one page table run, and the content index
 * (about 40 bytes per distinct content).
 *
 * The file is written under a temporary name beside the target and moved
 * into place only once complete, so a capture that fails or is interrupted
 * leaves no half-written snapshot; an existing file is never replaced unless
 * `force` is given.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zc, deflateRawSync } from 'node:zlib';
import { ContentIndex } from './content-index.js';
import {
  type CaptureRecord,
  CODEC_BROTLI,
  CODEC_DEFLATE,
  CODEC_RAW,
  CONTENTS_PER_RECORD,
  FIRST_CONTENT,
  HEADER_BYTES,
  type IndexRecord,
  MAGIC,
  PAGES_HEADER_BYTES,
  type ProcessRecord,
  RECORD_CONTENTS,
  RECORD_HEADER_BYTES,
  RECORD_INDEX,
  RECORD_PAGES,
  RECORD_PROCESS,
  REF_ZERO,
  SNAPSHOT_PAGE_SIZE,
  TRAILER_BYTES,
  TRAILER_MAGIC,
  VERSION_MAJOR,
  VERSION_MINOR,
} from './format.js';
import { pageHash128 } from './hash128.js';

const PAGE = SNAPSHOT_PAGE_SIZE;
const brotli = promisify(brotliCompress);
/** Blocks being compressed at once: enough to keep the thread pool busy while the caller reads. */
const MAX_INFLIGHT = 6;
const ZERO_PAGE = Buffer.alloc(PAGE);

/** A snapshot that cannot be written (the target exists, the directory is not writable): one line. */
export class SnapshotWriteError extends Error {
  override readonly name = 'SnapshotWriteError';
}

export interface WriterOptions {
  /** Replace an existing file. */
  force?: boolean;
  /** What the file says wrote it. */
  tool?: string;
}

export interface WriterStats {
  /** Pages handed in with a content (present and readable). */
  pages: number;
  zeroPages: number;
  /** Distinct non-zero contents stored. */
  contents: number;
  /** Bytes of the file so far. */
  bytes: number;
}

interface Block {
  first: number;
  count: number;
  done: Promise<{ codec: number; payload: Uint8Array }>;
}

export class SnapshotWriter {
  private pos = 0;
  private readonly index = new ContentIndex();
  private readonly hash = new Int32Array(4);
  private nextContent = FIRST_CONTENT;
  private pending = Buffer.allocUnsafe(CONTENTS_PER_RECORD * PAGE);
  private pendingCount = 0;
  private readonly inflight: Block[] = [];
  private readonly captures: CaptureRecord[] = [];
  private readonly processOffsets: number[] = [];
  private readonly pagesIndex: IndexRecord['pages'] = [];
  private readonly contentsIndex: IndexRecord['contents'] = [];
  private closed = false;
  readonly stats: WriterStats = { pages: 0, zeroPages: 0, contents: 0, bytes: 0 };

  private constructor(
    readonly path: string,
    private readonly temp: string,
    private readonly fd: number,
    private readonly opts: WriterOptions,
  ) {
    const h = Buffer.alloc(HEADER_BYTES);
    h.set(MAGIC, 0);
    h.writeUInt16LE(VERSION_MAJOR, 8);
    h.writeUInt16LE(VERSION_MINOR, 10);
    h.writeUInt32LE(PAGE, 12);
    h.writeUInt32LE(HEADER_BYTES, 16);
    this.write(h);
  }

  /** Opens a writer for `path` (its temporary file beside it); refuses an existing file unless opts.force. */
  static open(path: string, opts: WriterOptions = {}): SnapshotWriter {
    if (!opts.force && existsSync(path)) throw new SnapshotWriteError(`${path} exists (--force replaces it)`);
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    let fd: number;
    try {
      fd = openSync(temp, 'wx', 0o600);
    } catch (e) {
      throw new SnapshotWriteError(`cannot write ${path}: ${errText(e)}`);
    }
    return new SnapshotWriter(path, temp, fd, opts);
  }

  /** Starts a capture (one for a plain snapshot; --every takes several into one file); its index. */
  beginCapture(label?: string): number {
    const c: CaptureRecord = { index: this.captures.length, time: new Date().toISOString() };
    if (label !== undefined) c.label = label;
    this.captures.push(c);
    return c.index;
  }

  /**
   * Files `count` pages of `buf` from byte `offset` and writes each one's
   * reference to refs[at ...]: REF_ZERO, or the number of its content (stored
   * now if it is new). Resolves once the blocks in flight are few enough.
   */
  async addPages(buf: Uint8Array, offset: number, count: number, refs: Uint32Array, at: number): Promise<void> {
    if (offset % 4 !== 0 || (buf.byteOffset + offset) % 4 !== 0) throw new Error('addPages: unaligned buffer');
    const words = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
    const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let k = 0; k < count; k++) {
      const off = offset + k * PAGE;
      this.stats.pages++;
      if (bytes.compare(ZERO_PAGE, 0, PAGE, off, off + PAGE) === 0) {
        this.stats.zeroPages++;
        refs[at + k] = REF_ZERO;
        continue;
      }
      pageHash128(words, off >> 2, this.hash);
      let n = this.index.get(this.hash);
      if (n === 0) {
        n = this.nextContent++;
        this.index.add(this.hash, n);
        this.pending.set(bytes.subarray(off, off + PAGE), this.pendingCount * PAGE);
        this.stats.contents++;
        if (++this.pendingCount === CONTENTS_PER_RECORD) await this.flushBlock();
      }
      refs[at + k] = n;
    }
  }

  /** A run of one mapping's page table: refs, physical frame numbers (0: unknown) and flags of pages first..first+count-1. */
  writePages(seq: number, mapping: number, first: number, refs: Uint32Array, frames: Uint32Array, flags: Uint8Array): void {
    const count = refs.length;
    const raw = Buffer.alloc(PAGES_HEADER_BYTES + count * 9);
    raw.writeUInt32LE(seq, 0);
    raw.writeUInt32LE(mapping, 4);
    raw.writeBigUInt64LE(BigInt(first), 8);
    raw.writeUInt32LE(count, 16);
    raw.set(new Uint8Array(refs.buffer, refs.byteOffset, count * 4), PAGES_HEADER_BYTES);
    raw.set(new Uint8Array(frames.buffer, frames.byteOffset, count * 4), PAGES_HEADER_BYTES + count * 4);
    raw.set(flags.subarray(0, count), PAGES_HEADER_BYTES + count * 8);
    this.pagesIndex.push([seq, mapping, first, count, this.pos]);
    this.record(RECORD_PAGES, CODEC_DEFLATE, deflateRawSync(raw, { level: 1 }), raw.length, seq);
  }

  /** A process record (after its page tables); its seq must be the next one. */
  writeProcess(p: ProcessRecord): void {
    if (p.seq !== this.processOffsets.length) throw new Error(`process seq ${p.seq} out of order`);
    const raw = Buffer.from(JSON.stringify(p));
    this.processOffsets.push(this.pos);
    this.record(RECORD_PROCESS, CODEC_DEFLATE, deflateRawSync(raw), raw.length, p.seq);
  }

  /** The next process's seq. */
  get nextSeq(): number {
    return this.processOffsets.length;
  }

  /** Completes the file and moves it into place. */
  async finish(): Promise<WriterStats> {
    if (this.pendingCount > 0) await this.flushBlock();
    while (this.inflight.length) await this.writeOldest();
    const index: IndexRecord = {
      tool: this.opts.tool ?? 'ksmctl',
      created: new Date().toISOString(),
      captures: this.captures,
      processes: this.processOffsets,
      pages: this.pagesIndex,
      contents: this.contentsIndex,
      contentCount: this.nextContent - FIRST_CONTENT,
    };
    const raw = Buffer.from(JSON.stringify(index));
    const at = this.pos;
    this.record(RECORD_INDEX, CODEC_DEFLATE, deflateRawSync(raw), raw.length, 0);
    const t = Buffer.alloc(TRAILER_BYTES);
    t.set(TRAILER_MAGIC, 0);
    t.writeBigUInt64LE(BigInt(at), 8);
    t.writeBigUInt64LE(BigInt(this.pos + TRAILER_BYTES), 16);
    this.write(t);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    try {
      if (this.opts.force) renameSync(this.temp, this.path);
      else {
        // link(2) refuses an existing name: a file that appeared meanwhile is not replaced.
        linkSync(this.temp, this.path);
        unlinkSync(this.temp);
      }
    } catch (e) {
      this.removeTemp();
      throw new SnapshotWriteError(`cannot write ${this.path}: ${errText(e)}`);
    }
    return this.stats;
  }

  /** Gives up: the temporary file goes, nothing is left at the target. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inflight.map((b) => b.done));
    this.inflight.length = 0;
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    this.removeTemp();
  }

  private removeTemp(): void {
    try {
      unlinkSync(this.temp);
    } catch {
      // already gone
    }
  }

  private async flushBlock(): Promise<void> {
    const count = this.pendingCount;
    const first = this.nextContent - count;
    const data = this.pending.subarray(0, count * PAGE);
    this.pending = Buffer.allocUnsafe(CONTENTS_PER_RECORD * PAGE);
    this.pendingCount = 0;
    const done = brotli(data, {
      params: { [zc.BROTLI_PARAM_QUALITY]: 1, [zc.BROTLI_PARAM_LGWIN]: 20, [zc.BROTLI_PARAM_SIZE_HINT]: data.length },
    }).then((c) => (c.length < data.length ? { codec: CODEC_BROTLI, payload: c as Uint8Array } : { codec: CODEC_RAW, payload: data as Uint8Array }));
    this.inflight.push({ first, count, done });
    while (this.inflight.length >= MAX_INFLIGHT) await this.writeOldest();
  }

  private async writeOldest(): Promise<void> {
    const b = this.inflight[0];
    const { codec, payload } = await b.done;
    this.inflight.shift();
    this.contentsIndex.push([b.first, b.count, this.pos]);
    this.record(RECORD_CONTENTS, codec, payload, b.count * PAGE, b.first);
  }

  private record(type: number, codec: number, payload: Uint8Array, rawLength: number, aux: number): void {
    const h = Buffer.alloc(RECORD_HEADER_BYTES);
    h.writeUInt32LE(type, 0);
    h.writeUInt32LE(codec, 4);
    h.writeBigUInt64LE(BigInt(payload.length), 8);
    h.writeBigUInt64LE(BigInt(rawLength), 16);
    h.writeBigUInt64LE(BigInt(aux), 24);
    this.write(h);
    this.write(payload);
  }

  private write(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done);
    this.pos += b.length;
    this.stats.bytes = this.pos;
  }
}

/** "ENOENT: no such file or directory, open 'x'" -> "no such file or directory". */
export function errText(e: unknown): string {
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec((e as Error)?.message ?? '');
  return m ? m[1] : String((e as Error)?.message ?? e);
}
