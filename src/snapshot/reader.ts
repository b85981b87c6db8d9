/**
 * Reads a snapshot file (format.ts, docs/snapshot-format.md): the trailer
 * gives the index, the index every record. Every check a damaged or foreign
 * file can fail is a SnapshotError naming the file in one line.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { brotliDecompressSync, inflateRawSync } from 'node:zlib';
import {
  CODEC_BROTLI,
  CODEC_DEFLATE,
  CODEC_RAW,
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
  SNAPSHOT_PAGE_SIZE,
  TRAILER_BYTES,
  TRAILER_MAGIC,
  VERSION_MAJOR,
} from './format.js';
import { errText } from './writer.js';

const PAGE = SNAPSHOT_PAGE_SIZE;

/** A file that is not a readable snapshot: its one-line reason names the file. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** One mapping's page table: per page its reference, physical frame number (0: unknown) and flags. */
export interface PageTable {
  refs: Uint32Array;
  frames: Uint32Array;
  flags: Uint8Array;
}

/** A snapshot file, opened and checked (docs/snapshot-format.md). */
export class SnapshotReader {
  readonly index: IndexRecord;
  readonly processes: ProcessRecord[];
  readonly size: number;
  private readonly pagesBy = new Map<string, Array<[first: number, count: number, offset: number]>>();
  private cachedBlock: { first: number; data: Uint8Array } | null = null;

  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    this.size = fstatSync(fd).size;
    if (this.size < HEADER_BYTES) this.fail(this.size === 0 ? 'empty file, not a snapshot' : 'too short to be a snapshot');
    const h = this.read(0, HEADER_BYTES);
    if (!sameBytes(h.subarray(0, 8), MAGIC)) this.fail(looksLike(h));
    const major = h.readUInt16LE(8);
    if (major !== VERSION_MAJOR) this.fail(`snapshot format version ${major}.${h.readUInt16LE(10)}; this ksmctl reads version ${VERSION_MAJOR}`);
    if (h.readUInt32LE(12) !== PAGE) this.fail(`page size ${h.readUInt32LE(12)}; this ksmctl reads ${PAGE}-byte pages`);
    if (this.size < HEADER_BYTES + TRAILER_BYTES) this.fail('truncated (no trailer: the capture did not finish)');
    const t = this.read(this.size - TRAILER_BYTES, TRAILER_BYTES);
    if (!sameBytes(t.subarray(0, 8), TRAILER_MAGIC) || Number(t.readBigUInt64LE(16)) !== this.size) this.fail('truncated (no trailer at the end: the file was cut short or the capture did not finish)');
    const at = Number(t.readBigUInt64LE(8));
    const idx = this.recordAt(at, RECORD_INDEX);
    this.index = this.json(idx, 'index') as IndexRecord;
    if (!Array.isArray(this.index.processes) || !Array.isArray(this.index.pages) || !Array.isArray(this.index.contents)) this.fail('corrupt index');
    this.processes = this.index.processes.map((off, seq) => {
      const p = this.json(this.recordAt(off, RECORD_PROCESS), `process ${seq}`) as ProcessRecord;
      if (p.seq !== seq || !Array.isArray(p.mappings)) this.fail(`corrupt process record ${seq}`);
      return p;
    });
    for (const [seq, mapping, first, count, offset] of this.index.pages) {
      const key = `${seq}:${mapping}`;
      const list = this.pagesBy.get(key) ?? [];
      list.push([first, count, offset]);
      this.pagesBy.set(key, list);
    }
  }

  /** Opens and checks a snapshot; a SnapshotError when it is none, or damaged. */
  static open(path: string): SnapshotReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new SnapshotError(path, `cannot read: ${errText(e)}`);
    }
    try {
      if (fstatSync(fd).isDirectory()) throw new SnapshotError(path, 'is a directory, not a snapshot');
      return new SnapshotReader(path, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Distinct non-zero contents stored. */
  get contentCount(): number {
    return this.index.contentCount;
  }

  /** The page table of mapping `m` of process `seq` (pages of a run never written read as absent). */
  pageTable(seq: number, m: number): PageTable {
    const p = this.processes[seq];
    const map = p.mappings[m];
    const pages = pageCount(map.start, map.end);
    const t: PageTable = { refs: new Uint32Array(pages), frames: new Uint32Array(pages), flags: new Uint8Array(pages) };
    for (const [first, count, offset] of this.pagesBy.get(`${seq}:${m}`) ?? []) {
      const raw = this.payload(this.recordAt(offset, RECORD_PAGES));
      if (raw.length !== PAGES_HEADER_BYTES + count * 9 || raw.readUInt32LE(0) !== seq || raw.readUInt32LE(4) !== m || first + count > pages) this.fail(`corrupt page table of process ${seq} mapping ${m}`);
      const copy = (dst: Uint32Array, from: number) => dst.set(new Uint32Array(raw.buffer.slice(raw.byteOffset + from, raw.byteOffset + from + count * 4)), first);
      copy(t.refs, PAGES_HEADER_BYTES);
      copy(t.frames, PAGES_HEADER_BYTES + count * 4);
      t.flags.set(raw.subarray(PAGES_HEADER_BYTES + count * 8, PAGES_HEADER_BYTES + count * 9), first);
    }
    for (const r of t.refs) if (r >= FIRST_CONTENT + this.index.contentCount) this.fail(`page reference ${r} past the ${this.index.contentCount} contents stored`);
    return t;
  }

  /** Calls fn with each CONTENTS record in content order: its first content number and its pages' bytes. */
  forEachBlock(fn: (first: number, bytes: Uint8Array) => void): void {
    for (const [first, count, offset] of this.index.contents) {
      const data = this.payload(this.recordAt(offset, RECORD_CONTENTS));
      if (data.length !== count * PAGE) this.fail(`corrupt contents record at ${offset}`);
      fn(first, data);
    }
  }

  /** The bytes of content `n` (>= FIRST_CONTENT), read from its block (the last block read is kept). */
  content(n: number): Uint8Array {
    const c = this.cachedBlock;
    if (c !== null && n >= c.first && n < c.first + c.data.length / PAGE) return c.data.subarray((n - c.first) * PAGE, (n - c.first + 1) * PAGE);
    const list = this.index.contents;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid][0] <= n) lo = mid;
      else hi = mid - 1;
    }
    const [first, count, offset] = list[lo] ?? [0, 0, 0];
    if (n < first || n >= first + count) this.fail(`content ${n} is not stored`);
    const data = this.payload(this.recordAt(offset, RECORD_CONTENTS));
    this.cachedBlock = { first, data };
    return data.subarray((n - first) * PAGE, (n - first + 1) * PAGE);
  }

  // ------------------------------------------------------------ records

  private recordAt(offset: number, type: number): { codec: number; offset: number; stored: number; raw: number } {
    if (!Number.isSafeInteger(offset) || offset < HEADER_BYTES || offset + RECORD_HEADER_BYTES > this.size - TRAILER_BYTES) this.fail(`corrupt index (record offset ${offset})`);
    const h = this.read(offset, RECORD_HEADER_BYTES);
    const got = h.readUInt32LE(0);
    if (got !== type) this.fail(`corrupt (record at ${offset} is of type ${got}, expected ${type})`);
    const stored = Number(h.readBigUInt64LE(8));
    const raw = Number(h.readBigUInt64LE(16));
    if (offset + RECORD_HEADER_BYTES + stored > this.size - TRAILER_BYTES || raw > 1 << 30) this.fail(`corrupt (record at ${offset} runs past the end)`);
    return { codec: h.readUInt32LE(4), offset: offset + RECORD_HEADER_BYTES, stored, raw };
  }

  private payload(r: { codec: number; offset: number; stored: number; raw: number }): Buffer {
    const stored = this.read(r.offset, r.stored);
    let out: Buffer;
    try {
      if (r.codec === CODEC_RAW) out = stored;
      else if (r.codec === CODEC_DEFLATE) out = inflateRawSync(stored, { maxOutputLength: r.raw + 1 });
      else if (r.codec === CODEC_BROTLI) out = brotliDecompressSync(stored, { maxOutputLength: r.raw + 1 });
      else this.fail(`unknown codec ${r.codec} at ${r.offset}`);
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      this.fail(`corrupt (a record at ${r.offset} does not decompress: ${errText(e)})`);
    }
    if (out.length !== r.raw) this.fail(`corrupt (a record at ${r.offset} decompresses to ${out.length} bytes, not ${r.raw})`);
    return out;
  }

  private json(r: { codec: number; offset: number; stored: number; raw: number }, what: string): unknown {
    try {
      return JSON.parse(this.payload(r).toString('utf8'));
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      this.fail(`corrupt ${what} record`);
    }
  }

  private read(offset: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, b, done, length - done, offset + done);
      if (n === 0) this.fail('truncated');
      done += n;
    }
    return b;
  }

  private fail(detail: string): never {
    throw new SnapshotError(this.path, detail);
  }
}

/** Pages between two 0x hex addresses. */
export function pageCount(start: string, end: string): number {
  return Number((BigInt(end) - BigInt(start)) / BigInt(PAGE));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What a foreign file looks like, for the one line. */
function looksLike(h: Buffer): string {
  if (h[0] === 0x7f && h.toString('latin1', 1, 4) === 'ELF') return 'an ELF file, not a snapshot (ksmctl snapshot --core FILE converts a core dump)';
  return 'not a ksmctl snapshot (no snapshot magic at the start)';
}
